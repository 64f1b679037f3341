from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class CompletionOutput:  # vllm/outputs.py: the same fields, in the same order, with the same defaults
    index: int
    text: str
    token_ids: list[int]
    cumulative_logprob: float | None
    logprobs: list[dict[int, Any]] | None
    routed_experts: Any = None
    finish_reason: str | None = None
    stop_reason: int | str | None = None
    lora_request: Any = None
    sampling_mask: Any = None
    spec_decode_metrics: Any = None

    def finished(self) -> bool:
        return self.finish_reason is not None


class RequestOutput:  # vllm/outputs.py (the real one also takes **kwargs, which it ignores with a warning)
    def __init__(
        self,
        request_id,
        prompt,
        prompt_token_ids,
        prompt_logprobs,
        outputs,
        finished,
        metrics=None,
        lora_request=None,
        encoder_prompt=None,
        encoder_prompt_token_ids=None,
        num_cached_tokens=None,
        num_cache_creation_tokens=None,
        *,
        kv_transfer_params=None,
        ec_transfer_params=None,
        **kwargs,
    ):
        self.request_id, self.prompt, self.prompt_token_ids = request_id, prompt, prompt_token_ids
        self.prompt_logprobs, self.outputs, self.finished, self.metrics = (
            prompt_logprobs,
            outputs,
            finished,
            metrics,
        )
        self.lora_request, self.encoder_prompt, self.encoder_prompt_token_ids = (
            lora_request,
            encoder_prompt,
            encoder_prompt_token_ids,
        )
        self.num_cached_tokens, self.num_cache_creation_tokens = num_cached_tokens, num_cache_creation_tokens
        self.kv_transfer_params, self.ec_transfer_params = kv_transfer_params, ec_transfer_params


class PoolingRequestOutput:  # only so isinstance checks in Ray's stage have something to test against
    pass
