"""A stand-in for vLLM (see ../README.md): `LLM`, `SamplingParams` and the result types, held to the real API."""
# ruff: noqa: F811  (as in vLLM, the parameter `sampling_params` shares its name with the submodule)

from __future__ import annotations

import threading
import time

from . import exceptions, inputs, logprobs, lora, outputs, sampling_params  # noqa: F401
from ._model import CONTINUATION, EOS, FIRST_LOGPROBS, VOCAB, Tokenizer, decode_one
from .engine.arg_utils import ENGINE_KWARGS, NATIVE_CONTEXT, AsyncEngineArgs, EngineArgs  # noqa: F401
from .exceptions import VLLMValidationError
from .logprobs import Logprob
from .outputs import CompletionOutput, RequestOutput
from .sampling_params import SamplingParams

__version__ = "0.29.0+stand-in"
STEP_SECONDS = 0.0  # how long one engine call takes (tests widen it to make overlapping calls likely)


class ModelConfig:
    def __init__(self, model: str, max_model_len: int, max_logprobs: int, seed: int):
        self.model, self.max_model_len, self.max_logprobs, self.seed = (
            model,
            max_model_len,
            max_logprobs,
            seed,
        )

    def get_vocab_size(self) -> int:
        return len(VOCAB)


def check_prompt_length(n: int, max_model_len: int) -> None:
    """vLLM's refusals of a decoder prompt by its length (InputProcessor._validate_prompt_len), same texts."""
    if n == 0:
        raise VLLMValidationError("The decoder prompt cannot be empty")
    if n > max_model_len:
        raise VLLMValidationError(
            f"The decoder prompt (length {n}) is longer than the maximum model length of {max_model_len}. "
            "Make sure that `max_model_len` is no smaller than the number of text tokens."
        )
    if n == max_model_len:
        raise VLLMValidationError(
            f"The decoder prompt (length {n}) plus the number of requested output tokens (at least 1) is "
            f"longer than the maximum model length of {max_model_len}. Make sure that `max_model_len` is no "
            "smaller than the number of text tokens (prompt + requested output tokens)."
        )


class Engine:
    """One engine: refuses a second caller while it is busy (vLLM's engine is not thread-safe)."""

    def __init__(self, config: ModelConfig, step_seconds: float = 0.0):
        self.config, self.step_seconds, self.busy = config, step_seconds, threading.Lock()
        self.calls: list[int] = []  # size of each batch run

    def run(
        self, prompts: list[list[int]], params: list[SamplingParams], texts: list[str]
    ) -> list[RequestOutput]:
        if not self.busy.acquire(blocking=False):
            raise RuntimeError(
                "stand-in vLLM engine called from two threads at once: outputs would be mixed up"
            )
        try:
            for ids in prompts:  # vLLM validates every prompt before running any, and fails the whole call
                check_prompt_length(len(ids), self.config.max_model_len)
            for p in params:
                p.verify(self.config.max_logprobs, len(VOCAB))
            time.sleep(self.step_seconds)
            self.calls.append(len(prompts))
            return [
                self.one(i, ids, p, text)
                for i, (ids, p, text) in enumerate(zip(prompts, params, texts, strict=True))
            ]
        finally:
            self.busy.release()

    def one(self, request_id, prompt_ids: list[int], p: SamplingParams, prompt_text: str) -> RequestOutput:
        room = min(
            p.max_tokens if p.max_tokens is not None else 10**9, self.config.max_model_len - len(prompt_ids)
        )
        first = max(FIRST_LOGPROBS, key=FIRST_LOGPROBS.get)
        sequence = [first] + CONTINUATION
        stop_ids = {EOS} | set(p.stop_token_ids or [])
        generated, step_logprobs = [], []
        finish, stop_reason = "length", None
        for step, token in enumerate(sequence[:room]):
            generated.append(token)
            if p.logprobs is not None or p.logprob_token_ids is not None:
                table = (
                    FIRST_LOGPROBS
                    if step == 0
                    else {t: (0.0 if t == token else -30.0) for t in range(len(VOCAB))}
                )
                ranked = sorted(table, key=table.get, reverse=True)
                wanted = (
                    list(p.logprob_token_ids) if p.logprob_token_ids is not None else ranked[: p.logprobs]
                )
                step_logprobs.append(
                    {
                        t: Logprob(table[t], ranked.index(t) + 1, decode_one(t))
                        for t in dict.fromkeys([token, *wanted])
                    }
                )
            if token in stop_ids and not p.ignore_eos:
                finish = "stop"
                break
        text = Tokenizer().decode(generated, skip_special_tokens=p.skip_special_tokens)
        for s in [p.stop] if isinstance(p.stop, str) else p.stop or []:
            if s in text:
                text, finish, stop_reason = text[: text.index(s)], "stop", s
        out = CompletionOutput(
            0,
            text,
            generated,
            None,
            step_logprobs if step_logprobs else None,
            finish_reason=finish,
            stop_reason=stop_reason,
        )
        return RequestOutput(str(request_id), prompt_text, prompt_ids, None, [out], True)


class LLM:
    def __init__(
        self,
        model,
        *,
        tokenizer=None,
        trust_remote_code=False,
        tensor_parallel_size=1,
        dtype="auto",
        quantization=None,
        chat_template=None,
        seed=0,
        gpu_memory_utilization=0.92,
        enforce_eager=False,
        **kwargs,
    ):
        unknown = set(kwargs) - ENGINE_KWARGS
        if unknown:
            raise TypeError(f"stand-in vllm.LLM: unexpected engine arguments {sorted(unknown)}")
        self.init_kwargs = {
            "model": model,
            "tensor_parallel_size": tensor_parallel_size,
            "seed": seed,
            "dtype": dtype,
            "quantization": quantization,
            "gpu_memory_utilization": gpu_memory_utilization,
            **kwargs,
        }
        self.lora_used: list = []  # the LoRARequest of each chat call
        self.model_config = ModelConfig(
            model, kwargs.get("max_model_len") or NATIVE_CONTEXT, kwargs.get("max_logprobs", 20), seed
        )
        self.chat_template = chat_template
        self.engine = Engine(self.model_config, step_seconds=STEP_SECONDS)
        self.tokenizer = Tokenizer()

    def get_tokenizer(self):
        return self.tokenizer

    def generate(
        self,
        prompts,
        sampling_params=None,
        *,
        use_tqdm=True,
        lora_request=None,
        priority=None,
        tokenization_kwargs=None,
        mm_processor_kwargs=None,
    ):
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)
        params = self._params(sampling_params, len(prompts))
        return self.engine.run([self.tokenizer.encode(t) for t in prompts], params, prompts)

    def chat(
        self,
        messages,
        sampling_params=None,
        use_tqdm=True,
        lora_request=None,
        chat_template=None,
        chat_template_content_format="auto",
        add_generation_prompt=True,
        continue_final_message=False,
        tools=None,
        chat_template_kwargs=None,
        tokenization_kwargs=None,
        mm_processor_kwargs=None,
    ):
        conversations = [messages] if messages and isinstance(messages[0], dict) else list(messages)
        params = self._params(sampling_params, len(conversations))
        if lora_request is not None:
            self._check_lora(lora_request)
        self.lora_used.append(lora_request)
        texts = [
            self.tokenizer.apply_chat_template(
                c,
                tokenize=False,
                add_generation_prompt=add_generation_prompt,
                chat_template=chat_template or self.chat_template,
            )
            for c in conversations
        ]
        return self.engine.run(
            [self.tokenizer.encode(t, add_special_tokens=False) for t in texts], params, texts
        )

    def _check_lora(self, lora_request) -> None:
        check_lora(self.init_kwargs, lora_request)

    @staticmethod
    def _params(sampling_params, n):
        if sampling_params is None:
            return [SamplingParams() for _ in range(n)]
        if isinstance(sampling_params, SamplingParams):
            return [sampling_params] * n
        if len(sampling_params) != n:
            raise ValueError("The lengths of prompts and sampling_params must be the same.")
        return list(sampling_params)


def check_lora(engine_kwargs: dict, lora_request) -> None:
    """vLLM's refusals of an adapter, for LLM and AsyncLLM alike: LoRA not enabled at start, or a rank above
    max_lora_rank (default 16)."""
    import json
    from pathlib import Path

    if not engine_kwargs.get("enable_lora"):
        raise VLLMValidationError(f"Got lora_request {lora_request} but LoRA is not enabled!")
    limit = engine_kwargs.get("max_lora_rank", 16)
    rank = json.loads((Path(lora_request.lora_path) / "adapter_config.json").read_text())["r"]
    if rank > limit:
        raise ValueError(f"LoRA rank {rank} is greater than max_lora_rank {limit}.")


from .v1.engine.async_llm import AsyncLLM as AsyncLLMEngine  # noqa: E402, F401  (vLLM: an alias of AsyncLLM)
