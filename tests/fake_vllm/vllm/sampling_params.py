from __future__ import annotations

import math

from .exceptions import VLLMValidationError

MAX_LOGPROB_TOKEN_IDS = 128
GREEDY_BELOW = 1e-5  # vLLM's _SAMPLING_EPS
MIN_TEMPERATURE = 1e-2  # vLLM's _MAX_TEMP: a lower positive temperature is raised to it


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
        self.repetition_penalty = repetition_penalty
        self.seed = None if seed == -1 else seed
        self.stop = [] if stop is None else [stop] if isinstance(stop, str) else list(stop)
        self.stop_token_ids = list(dict.fromkeys(stop_token_ids or []))
        self.ignore_eos, self.max_tokens, self.min_tokens = ignore_eos, max_tokens, min_tokens
        self.logprobs = 1 if logprobs is True else logprobs
        self.prompt_logprobs = 1 if prompt_logprobs is True else prompt_logprobs
        self.logprob_token_ids = logprob_token_ids
        self.detokenize, self.skip_special_tokens = detokenize, skip_special_tokens
        self.include_stop_str_in_output = include_stop_str_in_output
        if 0 < self.temperature < MIN_TEMPERATURE:  # vLLM raises it, with a warning
            self.temperature = MIN_TEMPERATURE
        self._check()
        if self.temperature < GREEDY_BELOW:  # greedy: the other sampling settings are ignored
            self.top_p, self.top_k, self.min_p = 1.0, 0, 0.0
            if self.n > 1:
                raise VLLMValidationError(f"n must be 1 when using greedy sampling, got {self.n}.")

    def _check(self) -> None:
        """The range checks of vLLM's SamplingParams, in its order and with its texts; each is pinned by a
        recorded probe of the real code (tests/data/vllm_api_snapshot.json, `checks`)."""
        bad = VLLMValidationError
        if not isinstance(self.n, int):
            raise bad(f"n must be an int, but is of type {type(self.n)}")
        if self.n < 1:
            raise bad(f"n must be at least 1, got {self.n}.")
        for name in ("presence_penalty", "frequency_penalty"):
            if not -2.0 <= getattr(self, name) <= 2.0:
                raise bad(f"{name} must be in [-2, 2], got {getattr(self, name)}.")
        if not math.isfinite(self.repetition_penalty):
            raise bad(f"repetition_penalty must be a finite number, got {self.repetition_penalty}.")
        if self.repetition_penalty <= 0.0:
            raise bad(f"repetition_penalty must be greater than zero, got {self.repetition_penalty}.")
        t = self.temperature
        for wrong, text in (
            (not math.isfinite(t), "must be a finite number"),
            (t < 0.0, "must be non-negative"),
            (t > 2.0, "must be in [0, 2]"),
        ):
            if wrong:
                raise bad(f"temperature {text}, got {t}.", parameter="temperature", value=t)
        if not 0.0 < self.top_p <= 1.0:
            raise bad(f"top_p must be in (0, 1], got {self.top_p}.", parameter="top_p", value=self.top_p)
        if self.top_k < -1:
            raise bad(f"top_k must be 0 (disable), or at least 1, got {self.top_k}.")
        if not isinstance(self.top_k, int):
            raise bad(f"top_k must be an integer, got {type(self.top_k).__name__}")
        if not 0.0 <= self.min_p <= 1.0:
            raise bad(f"min_p must be in [0, 1], got {self.min_p}.")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise bad(
                f"max_tokens must be at least 1, got {self.max_tokens}.",
                parameter="max_tokens",
                value=self.max_tokens,
            )
        if self.min_tokens < 0:
            raise bad(f"min_tokens must be greater than or equal to 0, got {self.min_tokens}.")
        if self.max_tokens is not None and self.min_tokens > self.max_tokens:
            raise bad(
                f"min_tokens must be less than or equal to max_tokens={self.max_tokens}, got {self.min_tokens}."
            )
        if self.logprobs is not None and self.logprobs != -1 and self.logprobs < 0:
            raise bad(
                f"logprobs must be non-negative or -1, got {self.logprobs}.",
                parameter="logprobs",
                value=self.logprobs,
            )
        if any(not s for s in self.stop):
            raise bad("stop cannot contain an empty string.")
        if self.stop and not self.detokenize:
            raise bad(
                "stop strings are only supported when detokenize is True. Set detokenize=True to use stop."
            )

    def verify(
        self, max_logprobs: int, vocab_size: int
    ) -> None:  # vLLM: SamplingParams.verify(model_config, ...)
        bad = VLLMValidationError
        k = vocab_size if self.logprobs == -1 else self.logprobs
        if k and k > max_logprobs:
            raise bad(
                f"Requested sample logprobs of {k}, which is greater than max allowed: {max_logprobs}",
                parameter="logprobs",
                value=k,
            )
        if self.logprob_token_ids is None:
            return
        n = len(self.logprob_token_ids)
        if n > MAX_LOGPROB_TOKEN_IDS:
            raise bad(
                f"Requested logprob_token_ids of length {n}, which is greater than max allowed: "
                f"{MAX_LOGPROB_TOKEN_IDS}",
                parameter="logprob_token_ids",
                value=n,
            )
        outside = [t for t in self.logprob_token_ids if not 0 <= t < vocab_size]
        if outside:
            raise bad(
                f"token_id(s) {outside} in logprob_token_ids contain out-of-vocab token ids. "
                f"Vocabulary size: {vocab_size}",
                parameter="logprob_token_ids",
                value=outside,
            )
        if self.logprobs is not None and self.logprobs != n:
            raise bad(
                "When both logprobs and logprob_token_ids are set, logprobs must equal "
                f"len(logprob_token_ids). Got logprobs={self.logprobs}, len(logprob_token_ids)={n}.",
                parameter="logprob_token_ids",
                value=n,
            )
