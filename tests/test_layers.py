"""The layers keep their contracts: the lower ones never import the ones built on top of them.

stats, judges and backends are libraries; leaderboard, evaluate, annotate, audit, report, suite and the CLI
are built from them. An AST walk over every module (imports inside functions included) holds the line.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "judgebench"
LOWER = ("stats", "judges", "backends")
UPPER = ("leaderboard", "runs", "cli", "report", "audit")


def imported_modules(path: Path, source: str | None = None) -> set[str]:
    """Dotted judgebench modules a file imports (its text, or `source` as if it stood there), resolved
    from relative imports."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = parts[:-1] if parts[-1] != "__init__" else parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text() if source is None else source)):
        if isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            target = ".".join(base + (node.module.split(".") if node.module else []))
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m.startswith("judgebench")}


def test_lower_layers_never_import_upper_ones():
    offences = []
    for layer in LOWER:
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            for module in imported_modules(path):
                top = module.split(".")[1] if "." in module else ""
                if top in UPPER:
                    offences.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    assert not offences, "\n".join(offences)


def test_the_walk_sees_imports_inside_functions():
    """The checker itself: a relative import inside a function body is found and resolved."""
    probe = PACKAGE / "stats" / "_layer_probe.py"  # never written: its text is given
    source = "def f():\n    from ..leaderboard.board import make_leaderboard\n    return make_leaderboard\n"
    assert "judgebench.leaderboard.board.make_leaderboard" in imported_modules(probe, source)


def test_judge_specs_and_config_loaders_form_no_cycle():
    spec = imported_modules(PACKAGE / "judges" / "spec.py")
    configs = imported_modules(PACKAGE / "judges" / "alpaca_eval_configs.py")
    assert not ({m for m in spec if "alpaca_eval_configs" in m} and {m for m in configs if ".spec" in m})
