"""The models of a suite: what each `--models` spec means (a .gguf, a Hugging Face folder, NAME@URL, an
outputs file, `embedded`, or a YAML run file listing several) and the key its generations are stored under.

    models = parse_models(["ckpt-a.gguf", "sft@http://127.0.0.1:8000/v1", "runs.yaml"])
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import yaml

from judgebench.benchmarks.registry import all_benchmarks
from judgebench.errors import InputError
from judgebench.files.bounded import read_text
from judgebench.generation.generate import Sampling


@dataclass
class ModelSpec:
    name: str
    model: str | None = None  # GGUF path, HF folder, served name; None: the embedded SmolLM2
    base_url: str | None = None
    engine: str | None = None
    outputs: str | dict | None = None  # one file for every benchmark, or {benchmark: file} (others generated)
    sampling: Sampling = field(default_factory=lambda: Sampling(max_tokens=512))
    chat_template: str | None = None

    def outputs_for(self, benchmark: str) -> str | None:
        """The outputs file to judge on this benchmark; None: generate them with the model."""
        if isinstance(self.outputs, dict):
            return self.outputs.get(benchmark)
        return self.outputs


OUTPUT_SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz", ".csv")


MAX_NAME_CHARS = 100  # a model's name becomes a folder name: well under the file system's 255 bytes


def _exists(path: str | Path) -> bool:
    """Whether a path exists; a name too long or holding a NUL is no file (not an OSError)."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False


def check_model_name(name: str, where: str = "--models") -> str:
    """A model's name, usable as a folder name and shown safely: or one InputError saying why not."""
    from judgebench.files.safetext import printable

    shown = printable(name[:40]) + ("..." if len(name) > 40 else "")
    if not name.strip():
        raise InputError("a model's name is empty", field=where, hint="NAME=SPEC with a NAME")
    if len(name) > MAX_NAME_CHARS:
        raise InputError(
            f"model name {shown!r} has {len(name)} characters",
            field=where,
            hint=f"use at most {MAX_NAME_CHARS}",
        )
    if (
        "\x00" in name  # other control characters are shown escaped wherever a name is printed
        or "/" in name
        or "\\" in name
        or name.startswith(".")
    ):
        raise InputError(
            f"model name {shown!r} cannot be a folder name (a NUL, '/', '\\\\' or a leading '.')",
            field=where,
            hint="use letters, digits, '-', '_' and '.'",
        )
    return name


def _spec_from_string(text: str, sampling: Sampling) -> ModelSpec:
    name, _, rest = text.partition("=") if "=" in text.split("@")[0] and not _exists(text) else ("", "", text)
    if "@" in rest and not _exists(rest):  # NAME@URL: a served model
        served, url = rest.split("@", 1)
        if not url.startswith(("http://", "https://")):
            raise InputError(
                f"model spec {text!r}: the part after @ must be an http(s) URL", field="--models"
            )
        return ModelSpec(name or served, model=served, base_url=url, engine="openai", sampling=sampling)
    if rest == "embedded":
        from judgebench.runs.config import EMBEDDED_GENERATOR

        return ModelSpec(name or EMBEDDED_GENERATOR, sampling=sampling)
    path = Path(rest)
    if not _exists(path):
        raise InputError(
            f"model spec {text!r} is neither a file, a folder nor NAME@URL",
            field="--models",
            hint="a .gguf file, a Hugging Face folder, NAME@http://host/v1, an outputs file, "
            "a .yaml run file, or 'embedded'",
        )
    if path.is_dir():
        if not (path / "config.json").exists():
            raise InputError("folder has no config.json (not a Hugging Face model folder)", path=path)
        return ModelSpec(name or path.name, model=str(path), engine="transformers", sampling=sampling)
    if path.suffix == ".gguf":
        return ModelSpec(name or path.stem, model=str(path), engine="llamacpp", sampling=sampling)
    if path.name.endswith(OUTPUT_SUFFIXES):
        return ModelSpec(name or path.name.split(".")[0], outputs=str(path), sampling=sampling)
    raise InputError(
        f"cannot tell what {path} is", path=path, hint="use .gguf, .json/.jsonl outputs or .yaml"
    )


def _specs_from_yaml(path: Path, sampling: Sampling) -> list[ModelSpec]:
    try:
        data = yaml.safe_load(read_text(path))
    except (OSError, yaml.YAMLError, RecursionError) as err:
        raise InputError(f"cannot read run file: {err}", path=path) from None
    entries = data.get("models") if isinstance(data, dict) and "models" in data else [data]
    if not isinstance(entries, list) or not entries:
        raise InputError("a run file holds `models:`, a list of models", path=path, field="models")
    known = {"name", "model", "base_url", "engine", "outputs", "sampling", "chat_template"}
    specs = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or "name" not in e:
            raise InputError("each model needs a `name`", path=path, row=i, field="name")
        unknown = set(e) - known
        if unknown:
            raise InputError(
                f"unknown keys {sorted(unknown)}", path=path, row=i, hint=f"known: {sorted(known)}"
            )
        try:
            s = replace(sampling, **(e.get("sampling") or {}))
        except TypeError as err:
            raise InputError(
                f"bad sampling: {err}",
                path=path,
                row=i,
                field="sampling",
                hint="max_tokens, temperature, top_p, seed, system_prompt",
            ) from None
        model = e.get("model")
        if model and model != "embedded" and not e.get("base_url") and not _exists(model):
            raise InputError(f"model {model} not found", path=path, row=i, field="model")
        engine = e.get("engine") or ("openai" if e.get("base_url") else None)
        outputs = e.get("outputs")
        if isinstance(outputs, dict):
            unknown = set(outputs) - set(all_benchmarks())
            if unknown:
                raise InputError(
                    f"outputs for unknown benchmarks {sorted(unknown)}",
                    path=path,
                    row=i,
                    field="outputs",
                    hint=f"benchmarks: {', '.join(all_benchmarks())}",
                )
        template = read_text(e["chat_template"]) if e.get("chat_template") else None
        specs.append(
            ModelSpec(
                str(e["name"]),
                None if model == "embedded" else model,
                e.get("base_url"),
                engine,
                outputs,
                s,
                template,
            )
        )
    return specs


def parse_models(specs: list[str], sampling: Sampling | None = None) -> list[ModelSpec]:
    """CLI model specs -> ModelSpecs; [NAME=]SPEC names a model explicitly."""
    sampling = sampling or Sampling(max_tokens=512)
    models: list[ModelSpec] = []
    for text in specs:
        path = Path(text)
        if path.suffix in (".yaml", ".yml") and path.exists():
            models += _specs_from_yaml(path, sampling)
        else:
            models.append(_spec_from_string(text, sampling))
    names = [m.name for m in models]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"two models are named {dup[0]!r}", field="--models", hint="name them: NAME=SPEC")
    for n in names:
        check_model_name(n)
    return models


def generation_model_key(m: ModelSpec) -> str:
    from judgebench.backends import choose_engine

    engine = choose_engine(m.model, base_url=m.base_url, engine=m.engine)
    if engine == "llamacpp":
        from judgebench.backends.llamacpp import default_gguf

        return str(Path(m.model)) if m.model else str(default_gguf())
    return str(m.model)


def model_manifest(m: ModelSpec) -> dict:
    d = asdict(m)
    d["sampling"] = asdict(m.sampling)
    d.pop("chat_template")
    return d
