"""Read the vLLM API surface judgebench uses from vLLM's own source, without importing vLLM.

    python scripts/vllm_signatures.py 0.33.0                 # downloads the wheel (~336 MB, no deps)
    python scripts/vllm_signatures.py 0.33.0 --wheel W.whl   # or reads a wheel already here

vLLM needs a GPU and ~30 dependencies, so the tests use a stand-in module (tests/fake_vllm). To keep
the stand-in honest, this script parses (AST) the signatures and fields the vLLM backend touches
from the wheel's sources and writes them to tests/data/vllm_api_snapshot.json, which names the
version; tests/backends/test_vllm_backend.py holds the stand-in and the backend's calls against it.
It also records what vLLM's request checks do (`checks`): the validation functions named in CHECKED are
taken from the wheel's source, run on the PROBES below in a namespace of small stubs (no vLLM import), and
each outcome (the exception's type and text, or the settings after vLLM's own adjustments) is written with
the function and line it came from. The stand-in must answer every probe the same way; the code itself
stays in the wheel. Re-run it after bumping the `vllm` extra's pin.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import logging
import math
import subprocess
import sys
import tempfile
import zipfile
from enum import Enum, IntEnum
from pathlib import Path
from types import SimpleNamespace

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "vllm_api_snapshot.json"

# (source file in the wheel, class, what to read): "methods" are signatures, "fields" class-level annotations
WANTED = [
    ("vllm/entrypoints/llm.py", "LLM", {"methods": ["__init__", "chat", "generate", "get_tokenizer"]}),
    ("vllm/sampling_params.py", "SamplingParams", {"fields": True}),
    ("vllm/outputs.py", "CompletionOutput", {"fields": True}),
    ("vllm/outputs.py", "RequestOutput", {"methods": ["__init__"]}),
    ("vllm/logprobs.py", "Logprob", {"fields": True}),
    ("vllm/lora/request.py", "LoRARequest", {"fields": True}),
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


# vLLM's request checks, run from the wheel's source on the probes below (see the module docstring)
SAMPLING_SOURCE = "vllm/sampling_params.py"
SAMPLING_FUNCTIONS = ["_verify_num_sequences", "validate_thinking_token_budget"]
SAMPLING_METHODS = ["__post_init__", "_verify_args", "_verify_greedy_sampling", "_validate_logprobs"]
PROMPT_SOURCE = ("vllm/v1/engine/input_processor.py", "InputProcessor", "_validate_prompt_len")
# SamplingParams(**kwargs): each a setting the harness may pass, at and past its edges
SAMPLING_PROBES = [
    {"temperature": -0.5},
    {"temperature": 2.5},
    {"temperature": float("nan")},
    {"temperature": 0.0, "top_p": 0.5, "top_k": 5, "min_p": 0.1},
    {"temperature": 0.001},
    {"temperature": 0.7, "top_p": 0.0},
    {"temperature": 0.7, "top_p": 1.5},
    {"temperature": 0.7, "top_k": -2},
    {"temperature": 0.7, "top_k": 2.5},
    {"temperature": 0.7, "top_k": -1},
    {"temperature": 0.7, "min_p": -0.1},
    {"temperature": 0.7, "min_p": 1.5},
    {"max_tokens": 0},
    {"max_tokens": None},
    {"n": 0},
    {"n": 2, "temperature": 0.0},
    {"stop": ""},
    {"stop": ["yes", ""]},
    {"stop": "yes"},
    {"stop": ["x"], "detokenize": False},
    {"logprobs": -2},
    {"logprobs": True},
    {"seed": -1},
    {"repetition_penalty": 0.0},
    {"presence_penalty": 2.5},
    {"min_tokens": 5, "max_tokens": 2},
]
# SamplingParams(**kwargs).verify(...) against an engine with max_logprobs 20 and a vocabulary of 9 tokens
VERIFY_ENGINE = {"max_logprobs": 20, "vocab_size": 9}
VERIFY_PROBES = [
    {"logprobs": 21},
    {"logprobs": 20},
    {"logprob_token_ids": [1, 9]},
    {"logprob_token_ids": [1] * 129},
    {"logprob_token_ids": [1, 2], "logprobs": 3},
]
PROMPT_MAX_MODEL_LEN = 120
PROMPT_PROBES = [0, 119, 120, 121]  # decoder prompt lengths against max_model_len 120


def _take(tree: ast.Module, names: list[str], cls: str | None = None) -> list[ast.stmt]:
    body = (
        tree.body
        if cls is None
        else next(n.body for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
    )
    found = {n.name: n for n in body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    return [found[n] for n in names]


def _constants(tree: ast.Module) -> dict:
    """Module-level NAME = literal assignments (vLLM's epsilon and limits)."""
    out = {}
    for n in tree.body:
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            with contextlib.suppress(ValueError):  # only literals: vLLM's epsilon and limits
                out[n.targets[0].id] = ast.literal_eval(n.value)
    return out


def _defaults(fields: dict[str, str | None]) -> dict:
    out = {}
    for name, source in fields.items():
        if source is None:
            continue
        try:
            out[name] = ast.literal_eval(source)
        except ValueError:  # msgspec.field(default_factory=set), RequestOutputKind.CUMULATIVE
            out[name] = set() if "default_factory=set" in source else source
    return out


def _outcome(call) -> dict:
    try:
        value = call()
    except Exception as err:  # the outcome is what is recorded
        return {"raises": type(err).__name__, "message": str(err)}
    return {"returns": value}


def run_checks(read, fields: dict[str, str | None]) -> dict:
    """Run vLLM's own validation code on the probes; nothing of vLLM is imported."""
    exceptions = ast.parse(read("vllm/exceptions.py"))
    sampling = ast.parse(read(SAMPLING_SOURCE))
    envs = ast.parse(read("vllm/envs.py"))
    max_n = next(
        ast.literal_eval(n.value)
        for n in ast.walk(envs)
        if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", "") == "VLLM_MAX_N_SEQUENCES" and n.value
    )
    ns: dict = {
        "math": math,
        "Enum": Enum,
        "IntEnum": IntEnum,
        "Any": object,
        "logger": logging.getLogger("vllm-probe"),
        "envs": SimpleNamespace(VLLM_MAX_N_SEQUENCES=max_n),
        **_constants(sampling),
    }
    ns["__builtins__"] = __builtins__
    module = ast.Module(
        body=_take(exceptions, ["VLLMError", "VLLMClientError", "VLLMValidationError"])
        + _take(sampling, SAMPLING_FUNCTIONS),
        type_ignores=[],
    )
    exec(compile(ast.fix_missing_locations(module), SAMPLING_SOURCE, "exec"), ns)
    methods = _take(sampling, SAMPLING_METHODS, cls="SamplingParams")
    cls_ns: dict = {}
    for m in methods:
        m.decorator_list, m.returns = [], None
        m.args.args = [ast.arg(a.arg) for a in m.args.args]  # annotations name vLLM types
        exec(
            compile(
                ast.fix_missing_locations(ast.Module(body=[m], type_ignores=[])), SAMPLING_SOURCE, "exec"
            ),
            ns,
            cls_ns,
        )
    probe_cls = type("SamplingParams", (), cls_ns)
    defaults = _defaults(fields)

    def make(kwargs):
        obj = probe_cls()
        obj.__dict__.update({k: (set(v) if isinstance(v, set) else v) for k, v in defaults.items()}, **kwargs)
        obj.__post_init__()
        return obj

    def settings(kwargs):
        obj = make(kwargs)
        return {
            k: obj.__dict__[k]
            for k in sorted(
                set(kwargs) | {"temperature", "top_p", "top_k", "min_p", "seed", "stop", "logprobs"}
            )
        }

    vocab = VERIFY_ENGINE["vocab_size"]
    engine = SimpleNamespace(max_logprobs=VERIFY_ENGINE["max_logprobs"], get_vocab_size=lambda: vocab)
    prompt_path, prompt_cls, prompt_fn = PROMPT_SOURCE
    prompt_tree = ast.parse(read(prompt_path))
    (check_len,) = _take(prompt_tree, [prompt_fn], cls=prompt_cls)
    check_len.args.args = [ast.arg(a.arg) for a in check_len.args.args]
    check_len.returns = None
    exec(
        compile(
            ast.fix_missing_locations(ast.Module(body=[check_len], type_ignores=[])), prompt_path, "exec"
        ),
        ns,
    )
    processor = SimpleNamespace(
        skip_prompt_length_check=False,
        supports_mm_inputs=False,
        mm_encoder_cache_size=0,
        model_config=SimpleNamespace(max_model_len=PROMPT_MAX_MODEL_LEN, runner_type="generate"),
    )

    def where(path, tree, name, cls=None):
        (node,) = _take(tree, [name], cls=cls)
        return f"{path}:{node.lineno} {cls + '.' if cls else ''}{name}"

    return {
        "sources": [where(SAMPLING_SOURCE, sampling, m, "SamplingParams") for m in SAMPLING_METHODS]
        + [where(SAMPLING_SOURCE, sampling, f) for f in SAMPLING_FUNCTIONS]
        + [where(prompt_path, prompt_tree, prompt_fn, prompt_cls)],
        "sampling_params": [{"kwargs": k, **_outcome(lambda k=k: settings(k))} for k in SAMPLING_PROBES],
        "verify": {
            "engine": VERIFY_ENGINE,
            "probes": [
                {"kwargs": k, **_outcome(lambda k=k: make(k)._validate_logprobs(engine))}
                for k in VERIFY_PROBES
            ],
        },
        "prompt_length": {
            "max_model_len": PROMPT_MAX_MODEL_LEN,
            "probes": [
                {"length": n, **_outcome(lambda n=n: ns[prompt_fn](processor, n, "decoder"))}
                for n in PROMPT_PROBES
            ],
        },
    }


def from_wheel(wheel: Path) -> dict:
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        version = next(
            line.split(":", 1)[1].strip()
            for line in z.read(meta).decode().splitlines()
            if line.startswith("Version:")
        )
        snapshot = read_sources(lambda p: z.read(p).decode())
        snapshot["checks"] = run_checks(
            lambda p: z.read(p).decode(), snapshot["classes"]["SamplingParams"]["fields"]
        )
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
