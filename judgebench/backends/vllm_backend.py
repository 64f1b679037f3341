"""vLLM in-process on GPUs (the `vllm` extra, pinned to the version Ray's `llm` extra uses): `vllm.LLM`.

vLLM is fastest given many prompts at once, while the annotator sends one request per call; so
requests arriving within `batch_window` seconds are gathered (up to `max_batch`, independent of the
command's --concurrency) and run as one `LLM.chat` call, each with its own `SamplingParams`, on the
backend's one engine thread (BatchingBackend): vLLM's engine is not thread-safe.

- Context: read from the engine (`llm.model_config.max_model_len`, whatever set it). vLLM refuses a
  whole `chat` call if one prompt leaves no room for a token, so such prompts are failed alone before
  the call; a prompt that fits but leaves fewer than max_tokens is generated up to the context and
  finishes with "length", as vLLM does. Any other refusal of a batch is retried request by request.
- Label log-probs: when a request names its labels, `SamplingParams.logprob_token_ids` asks for the
  exact log-prob of every token that decodes to a label (in or out of the top k); tokens that decode
  alike are combined by log-sum-exp. Otherwise the top `top_logprobs` (at most the engine's
  `max_logprobs`, 20 unless set) are reported, also combined by decoded string.
- Sampling: vLLM's own semantics, which the other in-process engine follows (see
  transformers_backend): no top-k (top_k=0 passed explicitly), temperature 0 is greedy, raw
  (unprocessed) log-probs. max_tokens is always passed: vLLM's default of 16 would truncate.

The calls here are checked against vLLM's real signatures: scripts/vllm_signatures.py reads them from
the pinned wheel into tests/data/vllm_api_snapshot.json, and tests/backends/test_vllm_backend.py holds both
this backend's calls and the stand-in module (tests/fake_vllm) against that snapshot.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from judgebench.backends.base import (
    BackendError,
    BatchingBackend,
    CompletionRequest,
    CompletionResponse,
    FatalBackendError,
    Limits,
    register_backend,
)
from judgebench.backends.checkpoint import vllm_lora_settings, with_adapter
from judgebench.backends.finish import no_room
from judgebench.backends.logprobs import by_decoded_string, cached_label_ids
from judgebench.files.redact import redact_logs

log = logging.getLogger(__name__)


@register_backend("vllm", extra="vllm", version_package="vllm", ray=("hf-folder", "name"))
class VLLMBackend(BatchingBackend):
    name = "vllm"

    def __init__(
        self,
        model: str,
        limits: Limits | None = None,
        tensor_parallel_size: int = 1,
        enable_prefix_caching: bool = True,
        max_model_len: int | None = None,
        seed: int = 0,
        batch_window: float = 0.01,
        max_batch: int = 256,
        chat_template: str | None = None,
        lora: str | None = None,
        **llm_kwargs,
    ):
        super().__init__(with_adapter(model, lora), limits, batch_window, max_batch)
        try:
            import vllm
        except ImportError:
            raise FatalBackendError(
                "the vllm backend needs vLLM on a GPU machine: pip install 'judgebench[vllm]'"
            ) from None
        self._vllm = vllm
        redact_logs("vllm", "judgebench")  # after vLLM's import set up its handlers; before it logs
        kwargs = {
            "tensor_parallel_size": tensor_parallel_size,
            "enable_prefix_caching": enable_prefix_caching,
            "seed": seed,
            **llm_kwargs,
        }
        if max_model_len is not None:
            kwargs["max_model_len"] = max_model_len
        self.lora_request = None
        if lora is not None:  # one adapter, loaded once: LoRARequest ids start at 1
            kwargs.update(vllm_lora_settings(lora))
            self.lora_request = vllm.lora.request.LoRARequest(Path(lora).name, 1, str(Path(lora).resolve()))
        try:
            self.llm = vllm.LLM(model, **kwargs)
        except (TypeError, ValueError) as err:  # settings vLLM refuses (a dtype, a quantization method...)
            raise FatalBackendError(f"vLLM refused the engine settings {sorted(kwargs)}: {err}") from None
        # The engine's limits, whatever decided them (the argument, the model's config, memory)
        self.max_model_len = int(self.llm.model_config.max_model_len)
        self.max_logprobs = int(self.llm.model_config.max_logprobs)
        self.tokenizer = self.llm.get_tokenizer()
        self.chat_template = chat_template  # None: the model's own
        self._label_ids: dict[tuple[str, ...], dict[str, list[int]]] = {}
        self._warned_top_k = False

    def label_ids(self, labels: tuple[str, ...]) -> dict[str, list[int]]:
        return cached_label_ids(self._label_ids, labels, self.tokenizer, self.model)

    def sampling_params(self, request: CompletionRequest):
        kwargs: dict[str, Any] = {
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "top_k": 0,
            "seed": request.seed,
            "stop": list(request.stop) or None,
        }
        if request.logprobs and request.labels:
            kwargs["logprob_token_ids"] = sorted(
                {i for ids in self.label_ids(request.labels).values() for i in ids}
            )
        elif request.logprobs:
            k = request.top_logprobs
            if k > self.max_logprobs:
                if not self._warned_top_k:
                    log.warning(
                        "top_logprobs %d is above this vLLM engine's max_logprobs %d: reporting the top %d "
                        "(start it with max_logprobs=%d to get more)",
                        k,
                        self.max_logprobs,
                        self.max_logprobs,
                        k,
                    )
                    self._warned_top_k = True
                k = self.max_logprobs
            kwargs["logprobs"] = k
        return self._vllm.SamplingParams(**kwargs)

    def prompt_length(self, request: CompletionRequest) -> int:
        text = self.tokenizer.apply_chat_template(
            list(request.messages),
            tokenize=False,
            add_generation_prompt=True,
            chat_template=self.chat_template,
        )
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def run_batch(self, requests: list[CompletionRequest]) -> list[CompletionResponse | BackendError]:
        refused: dict[int, BackendError] = {}  # by index: requests that never reach the engine
        ready, params = [], []
        for i, r in enumerate(requests):
            try:
                refused_why = no_room(self.prompt_length(r), self.max_model_len)
                if refused_why:  # what vLLM refuses, for the whole call
                    raise BackendError(f"{refused_why} (the engine's max_model_len)", retryable=False)
                params.append(self.sampling_params(r))
                ready.append(i)
            except BackendError as err:
                refused[i] = err
            except Exception as err:  # e.g. vLLM's validation of these sampling settings
                refused[i] = BackendError(
                    f"vLLM refused the request: {type(err).__name__}: {err}", retryable=False
                )
        answered: dict[int, CompletionResponse] = {}
        if ready:
            outputs = self.llm.chat(
                [list(requests[i].messages) for i in ready],
                params,
                use_tqdm=False,
                lora_request=self.lora_request,
                chat_template=self.chat_template,
            )
            answered = {i: self._response(out, requests[i]) for i, out in zip(ready, outputs, strict=True)}
        return [refused[i] if i in refused else answered[i] for i in range(len(requests))]

    def _response(self, out, request: CompletionRequest) -> CompletionResponse:
        gen = out.outputs[0]
        # keyed by the tokenizer's decoding of each id, as label_ids() found them (vLLM's decoded_token is an
        # incremental detokenization that may keep a SentencePiece word-start space)
        tops = [
            by_decoded_string((self.tokenizer.decode([tid]), lp.logprob) for tid, lp in step.items())
            for step in (gen.logprobs or [])
        ]
        return CompletionResponse(
            gen.text, tops, gen.finish_reason, len(out.prompt_token_ids or []), len(gen.token_ids or [])
        )
