from __future__ import annotations

from .exceptions import VLLMValidationError

MAX_LOGPROB_TOKEN_IDS = 128


class StructuredOutputsParams:
    def __init__(self, **kwargs):
        raise NotImplementedError("the stand-in vllm has no structured outputs")


class SamplingParams:
    """The fields of vllm.SamplingParams the harness can reach, with the real defaults; no others accepted."""

    def __init__(
        self,
        *,
        n=1,
        presence_penalty=0.0,
        frequency_penalty=0.0,
        repetition_penalty=1.0,
        temperature=1.0,
        top_p=1.0,
        top_k=0,
        min_p=0.0,
        seed=None,
        stop=None,
        stop_token_ids=None,
        ignore_eos=False,
        max_tokens=16,
        min_tokens=0,
        logprobs=None,
        prompt_logprobs=None,
        logprob_token_ids=None,
        detokenize=True,
        skip_special_tokens=True,
        include_stop_str_in_output=False,
        structured_outputs=None,
    ):
        if structured_outputs is not None:
            raise NotImplementedError("the stand-in vllm has no structured outputs")
        self.n, self.temperature, self.top_p, self.top_k, self.min_p = n, temperature, top_p, top_k, min_p
        self.presence_penalty, self.frequency_penalty = presence_penalty, frequency_penalty
        self.repetition_penalty, self.seed, self.stop, self.stop_token_ids = (
            repetition_penalty,
            seed,
            stop,
            stop_token_ids,
        )
        self.ignore_eos, self.max_tokens, self.min_tokens = ignore_eos, max_tokens, min_tokens
        self.logprobs, self.prompt_logprobs, self.logprob_token_ids = (
            logprobs,
            prompt_logprobs,
            logprob_token_ids,
        )
        self.detokenize, self.skip_special_tokens = detokenize, skip_special_tokens
        self.include_stop_str_in_output = include_stop_str_in_output
        if temperature < 1e-5:  # as vLLM: greedy ignores the other sampling settings
            self.top_p, self.top_k, self.min_p = 1.0, 0, 0.0
        if top_k < -1:
            raise VLLMValidationError(f"top_k must be 0 (disable), or at least 1, got {top_k}.")
        if max_tokens is not None and max_tokens < 1:
            raise VLLMValidationError(f"max_tokens must be at least 1, got {max_tokens}.")
        if logprob_token_ids is not None:
            if len(logprob_token_ids) > MAX_LOGPROB_TOKEN_IDS:
                raise VLLMValidationError(f"Requested logprob_token_ids of length {len(logprob_token_ids)}")
            if logprobs is not None and logprobs != len(logprob_token_ids):
                raise VLLMValidationError(
                    "When both logprobs and logprob_token_ids are set, logprobs must equal "
                    "len(logprob_token_ids)."
                )

    def verify(
        self, max_logprobs: int, vocab_size: int
    ) -> None:  # vLLM: SamplingParams.verify(model_config, ...)
        if self.logprobs and self.logprobs > max_logprobs:
            raise VLLMValidationError(
                f"Requested sample logprobs of {self.logprobs}, which is greater than max "
                f"allowed: {max_logprobs}"
            )
        bad = [t for t in self.logprob_token_ids or [] if not 0 <= t < vocab_size]
        if bad:
            raise VLLMValidationError(
                f"token_id(s) {bad} in logprob_token_ids contain out-of-vocab token ids."
            )
