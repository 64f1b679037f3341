"""The package keeps the layer map that docs/architecture.md declares, and has no import circles.

The map is the `## Layers` table of docs/architecture.md, read here, so the picture and the check cannot
drift apart. An AST walk over every module (imports inside functions included) finds each import of a
judgebench module; an import from a higher layer fails, naming the file, the line and the import, and
so does any circle of modules importing each other (at any layer).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "judgebench"


def declared_layers(text: str | None = None) -> dict[str, int]:
    """{part: layer} from the `## Layers` table: a part is a top-level module ("errors") or folder ("stats/")."""
    text = (ROOT / "docs" / "architecture.md").read_text() if text is None else text
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    layers = {}
    for layer, parts in re.findall(r"^\|\s*(\d+)\s*\|\s*([^|]+?)\s*\|\s*$", section, flags=re.M):
        for part in parts.split(","):
            layers[part.strip().rstrip("/")] = int(layer)
    assert layers, "docs/architecture.md has no `## Layers` table"
    return layers


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, dotted module.name) for every import of judgebench in a file, relative ones resolved."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    package = parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text() if source is None else source)):
        if isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            target = ".".join(base + (node.module.split(".") if node.module else []))
            # each name: a submodule (`from judgebench.report import charts`) or a name in `target`
            found.extend((node.lineno, f"{target}.{a.name}") for a in node.names)
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names)
    return [(line, m) for line, m in found if m == "judgebench" or m.startswith("judgebench.")]


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(target: str, known: dict[str, Path]) -> str | None:
    """The module a dotted import lands in: `judgebench.store.Store` -> judgebench.store."""
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def part_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else ""


def test_every_module_is_on_a_declared_layer():
    layers = declared_layers()
    lost = [
        f"{p.relative_to(ROOT)}"
        for m, p in modules().items()
        if m != "judgebench" and part_of(m) not in layers
    ]
    assert not lost, "modules on no layer of docs/architecture.md:\n" + "\n".join(lost)


def upward_imports(layers: dict[str, int]) -> list[str]:
    known, offences = modules(), []
    for name, path in known.items():
        if name == "judgebench":
            continue
        own = layers.get(part_of(name), -1)
        for line, target in imports_of(path):
            landed = resolve(target, known)
            if landed and landed != "judgebench" and layers.get(part_of(landed), -1) > own:
                offences.append(
                    f"{path.relative_to(ROOT)}:{line} imports {target} "
                    f"(layer {layers[part_of(landed)]} > {part_of(name)}'s {own})"
                )
    return sorted(set(offences))


def test_no_module_imports_from_a_higher_layer():
    offences = upward_imports(declared_layers())
    assert not offences, "imports against docs/architecture.md's layers:\n" + "\n".join(offences)


def circles() -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan), each a circle of imports."""
    known = modules()
    graph = {
        m: sorted({r for _, t in imports_of(p) if (r := resolve(t, known)) and r != m and r != "judgebench"})
        for m, p in known.items()
    }
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_circles():
    found = circles()
    assert not found, "import circles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_check_catches_an_upward_import_inside_a_function():
    """The checker itself: a relative import inside a function body is resolved, and a stats module taking
    the leaderboard (layer 5 over 2) is an offence; the table parser reads the declared form."""
    probe = PACKAGE / "stats" / "_layer_probe.py"  # never written: its text is given
    source = "def f():\n    from ..leaderboard.board import make_leaderboard\n    return make_leaderboard\n"
    assert (2, "judgebench.leaderboard.board.make_leaderboard") in imports_of(probe, source)
    table = "## Layers\n\n| layer | parts |\n|---|---|\n| 0 | errors, settings |\n| 2 | stats/, store/ |\n"
    assert declared_layers(table) == {"errors": 0, "settings": 0, "stats": 2, "store": 2}
    assert (
        resolve("judgebench.leaderboard.board.make_leaderboard", modules()) == "judgebench.leaderboard.board"
    )
    assert declared_layers()["leaderboard"] > declared_layers()["stats"]
