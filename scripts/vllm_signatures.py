"""Read the vLLM API surface judgebench uses from vLLM's own source, without importing vLLM.

    python scripts/vllm_signatures.py 0.33.0                 # downloads the wheel (~336 MB, no deps)
    python scripts/vllm_signatures.py 0.33.0 --wheel W.whl   # or reads a wheel already here

vLLM needs a GPU and ~30 dependencies, so the tests use a stand-in module (tests/fake_vllm). To keep
the stand-in honest, this script parses (AST) the signatures and fields the vLLM backend touches
from the wheel's sources and writes them to tests/data/vllm_api_snapshot.json, which names the
version; tests/backends/test_vllm_backend.py holds the stand-in and the backend's calls against it.
Re-run it after bumping the `vllm` extra's pin.
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "vllm_api_snapshot.json"

# (source file in the wheel, class, what to read): "methods" are signatures, "fields" class-level annotations
WANTED = [
    ("vllm/entrypoints/llm.py", "LLM", {"methods": ["__init__", "chat", "generate", "get_tokenizer"]}),
    ("vllm/sampling_params.py", "SamplingParams", {"fields": True}),
    ("vllm/outputs.py", "CompletionOutput", {"fields": True}),
    ("vllm/outputs.py", "RequestOutput", {"methods": ["__init__"]}),
    ("vllm/logprobs.py", "Logprob", {"fields": True}),
    ("vllm/config/model.py", "ModelConfig", {"fields": True}),
    ("vllm/engine/arg_utils.py", "EngineArgs", {"fields": True}),
    ("vllm/engine/arg_utils.py", "AsyncEngineArgs", {"fields": True}),  # EngineArgs' fields and these
    # the engine Ray Data's vLLM stage drives (vllm.AsyncLLMEngine is an alias of it)
    (
        "vllm/v1/engine/async_llm.py",
        "AsyncLLM",
        {"methods": ["from_engine_args", "generate", "do_log_stats", "shutdown"]},
    ),
]
CONSTANTS = [("vllm/sampling_params.py", "MAX_LOGPROB_TOKEN_IDS")]
# Only these ModelConfig fields are kept (the class has ~100); the backend reads them from llm.model_config.
MODEL_CONFIG_FIELDS = {"max_model_len", "max_logprobs", "seed"}


def _signature(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[dict]:
    a = fn.args
    params = []
    positional = a.posonlyargs + a.args
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    for arg, default in zip(positional, defaults, strict=True):
        kind = "positional_only" if arg in a.posonlyargs else "positional_or_keyword"
        params.append(
            {
                "name": arg.arg,
                "kind": kind,
                **({"default": ast.unparse(default)} if default is not None else {}),
            }
        )
    if a.vararg:
        params.append({"name": a.vararg.arg, "kind": "var_positional"})
    for arg, default in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        params.append(
            {
                "name": arg.arg,
                "kind": "keyword_only",
                **({"default": ast.unparse(default)} if default is not None else {}),
            }
        )
    if a.kwarg:
        params.append({"name": a.kwarg.arg, "kind": "var_keyword"})
    return params


def _fields(cls: ast.ClassDef) -> dict[str, str | None]:
    """Class-level annotated attributes (dataclass / msgspec / pydantic fields) -> default source or None."""
    out = {}
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = ast.unparse(node.value) if node.value is not None else None
    return out


def read_sources(read) -> dict:
    snapshot: dict = {"classes": {}, "constants": {}}
    trees: dict[str, ast.Module] = {}
    for path, name, what in WANTED:
        tree = trees.setdefault(path, ast.parse(read(path)))
        cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
        entry: dict = {"source": path, "bases": [ast.unparse(b) for b in cls.bases]}
        if "methods" in what:
            fns = {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
            entry["methods"] = {m: _signature(fns[m]) for m in what["methods"]}
        if what.get("fields"):
            fields = _fields(cls)
            if name == "ModelConfig":
                fields = {k: v for k, v in fields.items() if k in MODEL_CONFIG_FIELDS}
            if name in (
                "EngineArgs",
                "AsyncEngineArgs",
            ):  # only which keywords LLM(**kwargs) accepts; defaults live in ModelConfig
                fields = dict.fromkeys(fields)
            entry["fields"] = fields
        snapshot["classes"][name] = entry
    for path, name in CONSTANTS:
        tree = trees.setdefault(path, ast.parse(read(path)))
        node = next(
            n
            for n in tree.body
            if isinstance(n, ast.Assign | ast.AnnAssign)
            and any(
                isinstance(t, ast.Name) and t.id == name
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
            )
        )
        snapshot["constants"][name] = ast.literal_eval(node.value)
    return snapshot


def from_wheel(wheel: Path) -> dict:
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        version = next(
            line.split(":", 1)[1].strip()
            for line in z.read(meta).decode().splitlines()
            if line.startswith("Version:")
        )
        snapshot = read_sources(lambda p: z.read(p).decode())
    return {"vllm_version": version, "wheel": wheel.name, **snapshot}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("version", help="the vLLM version pinned in pyproject's `vllm` extra, e.g. 0.33.0")
    ap.add_argument("--wheel", type=Path, help="a vLLM wheel already downloaded (skips pip download)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    wheel = args.wheel
    if wheel is None:
        folder = Path(tempfile.mkdtemp(prefix="vllm-wheel-"))
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                f"vllm=={args.version}",
                "-d",
                str(folder),
            ],
            check=True,
        )
        wheel = next(folder.glob("vllm-*.whl"))
    snapshot = from_wheel(wheel)
    if snapshot["vllm_version"] != args.version:
        sys.exit(f"vllm_signatures: {wheel} is vLLM {snapshot['vllm_version']}, not {args.version}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out} (vLLM {snapshot['vllm_version']})")


if __name__ == "__main__":
    main()
