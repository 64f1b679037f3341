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

import asyncio

from .base import Backend, CompletionRequest, CompletionResponse, FatalBackendError, Limits


class VLLMBackend(Backend):
    name = "vllm"

    def __init__(self, model: str, limits: Limits | None = None, tensor_parallel_size: int = 1,
                 enable_prefix_caching: bool = True, max_model_len: int | None = None, seed: int = 0,
                 batch_window: float = 0.01, max_batch: int = 256, **llm_kwargs):
        super().__init__(model, limits or Limits(concurrency=max_batch))
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
        self.batch_window, self.max_batch = batch_window, max_batch
        self._queue: list[tuple[CompletionRequest, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None

    def sampling_params(self, request: CompletionRequest):
        return self._vllm.SamplingParams(max_tokens=request.max_tokens, temperature=request.temperature,
                                         top_p=request.top_p, seed=request.seed,
                                         logprobs=request.top_logprobs if request.logprobs else None,
                                         stop=list(request.stop) or None)

    def run_batch(self, requests: list[CompletionRequest]) -> list[CompletionResponse]:
        outputs = self.llm.chat([list(r.messages) for r in requests], [self.sampling_params(r) for r in requests],
                                use_tqdm=False)
        responses = []
        for out in outputs:
            gen = out.outputs[0]
            tops = [{lp.decoded_token: float(lp.logprob) for lp in step.values()} for step in (gen.logprobs or [])]
            responses.append(CompletionResponse(gen.text, tops, gen.finish_reason, len(out.prompt_token_ids or []),
                                                len(gen.token_ids or [])))
        return responses

    async def _flush(self) -> None:
        await asyncio.sleep(self.batch_window)
        batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch:]
        self._flusher = asyncio.ensure_future(self._flush()) if self._queue else None
        try:
            responses = await asyncio.to_thread(self.run_batch, [r for r, _ in batch])
        except Exception as err:  # one failure fails the whole batch: each caller sees it
            for _, fut in batch:
                fut.set_exception(err)
            return
        for (_, fut), resp in zip(batch, responses, strict=True):
            fut.set_result(resp)

    async def _complete(self, request: CompletionRequest) -> CompletionResponse:
        fut = asyncio.get_running_loop().create_future()
        self._queue.append((request, fut))
        if self._flusher is None:
            self._flusher = asyncio.ensure_future(self._flush())
        return await fut
