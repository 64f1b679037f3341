"""vLLM in-process on GPUs (the `vllm` extra): `vllm.LLM` with requests gathered into batches.

vLLM is fastest given many prompts at once, while the annotator sends one request per call; so
requests arriving within `batch_window` seconds are gathered (up to `max_batch`) and run as one
`LLM.chat` call in a worker thread, each with its own `SamplingParams`. Label log-probs come from
the top-k log-probs of the first generated token (k = the request's top_logprobs); a label outside
the top k counts as probability 0, as in AlpacaEval. max_tokens is always passed explicitly:
vLLM's default of 16 would silently truncate generations.

vLLM cannot run on the machines this project is tested on (no GPU, no CPU wheel); the calls here
follow its documented API (LLM(model, tensor_parallel_size, enable_prefix_caching, seed,
max_model_len), LLM.chat(messages, sampling_params), RequestOutput.outputs[0].text / .logprobs /
.token_ids, .prompt_token_ids) and are checked against a stand-in module in tests/test_vllm_backend.py.
"""

from __future__ import annotations

from .base import (
    BackendError,
    BatchingBackend,
    CompletionRequest,
    CompletionResponse,
    FatalBackendError,
    Limits,
)


class VLLMBackend(BatchingBackend):
    name = "vllm"

    def __init__(self, model: str, limits: Limits | None = None, tensor_parallel_size: int = 1,
                 enable_prefix_caching: bool = True, max_model_len: int | None = None, seed: int = 0,
                 batch_window: float = 0.01, max_batch: int = 256, chat_template: str | None = None, **llm_kwargs):
        super().__init__(model, limits, batch_window, max_batch)
        try:
            import vllm
        except ImportError:
            raise FatalBackendError("the vllm backend needs vLLM on a GPU machine: pip install 'judgebench[vllm]'") \
                from None
        self._vllm = vllm
        kwargs = {"model": model, "tensor_parallel_size": tensor_parallel_size,
                  "enable_prefix_caching": enable_prefix_caching, "seed": seed, **llm_kwargs}
        if max_model_len is not None:
            kwargs["max_model_len"] = max_model_len
        self.llm = vllm.LLM(**kwargs)
        self.max_model_len = max_model_len
        self.chat_template = chat_template  # None: the model's own

    def sampling_params(self, request: CompletionRequest):
        return self._vllm.SamplingParams(max_tokens=request.max_tokens, temperature=request.temperature,
                                         top_p=request.top_p, seed=request.seed,
                                         logprobs=request.top_logprobs if request.logprobs else None,
                                         stop=list(request.stop) or None)

    def _too_long(self, requests: list[CompletionRequest]) -> list[str | None]:
        """Per request, why it cannot fit the context (checked first: vLLM rejects a whole batch)."""
        if not self.max_model_len:
            return [None] * len(requests)
        tok = self.llm.get_tokenizer()
        out = []
        for r in requests:
            text = tok.apply_chat_template(list(r.messages), tokenize=False, add_generation_prompt=True,
                                           chat_template=self.chat_template)
            n = len(tok.encode(text, add_special_tokens=False))
            out.append(f"prompt of {n} tokens + max_tokens {r.max_tokens} exceeds max_model_len "
                       f"{self.max_model_len}" if n + r.max_tokens > self.max_model_len else None)
        return out

    def run_batch(self, requests: list[CompletionRequest]) -> list[CompletionResponse | BackendError]:
        reasons = self._too_long(requests)
        ok = [r for r, why in zip(requests, reasons, strict=True) if why is None]
        outputs = iter(self.llm.chat([list(r.messages) for r in ok], [self.sampling_params(r) for r in ok],
                                     use_tqdm=False, chat_template=self.chat_template) if ok else [])
        return [self._response(next(outputs)) if why is None else BackendError(why, retryable=False)
                for why in reasons]

    @staticmethod
    def _response(out) -> CompletionResponse:
        gen = out.outputs[0]
        tops = [{lp.decoded_token: float(lp.logprob) for lp in step.values()} for step in (gen.logprobs or [])]
        return CompletionResponse(gen.text, tops, gen.finish_reason, len(out.prompt_token_ids or []),
                                  len(gen.token_ids or []))
