"""Hugging Face transformers in-process (the `hf` extra), CPU or GPU, requests batched.

Prompts are formatted with the tokenizer's chat template (or one given), left-padded, and run
through `model.generate` in batches of requests that share their sampling settings. A prompt that
cannot fit the model's context fails alone; a model with no chat template and none given is refused
at load time rather than fed unformatted text.

Sampling follows vLLM's semantics so both engines judge alike: only the request's settings apply
(no top-k, no repetition penalty or other defaults from the checkpoint's generation_config or from
transformers), log-probs are raw (log-softmax of the logits, before temperature/top-p), a reply ends at
any of the generation config's end ids (Gemma's <end_of_turn> too) or at a stop string. Where they
cannot match: sampled tokens differ between engines for the same seed (different RNG streams), and
requests in one `generate` call share one seed (they are grouped by their settings, seed included).
Label log-probs are exact for every token that decodes to a label, as with vLLM's logprob_token_ids.
"""

from __future__ import annotations

import itertools
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
from judgebench.backends.logprobs import by_decoded_string, cached_label_ids, logsumexp


@register_backend("transformers", extra="hf", version_package="transformers", local=("hf-folder",))
class TransformersBackend(BatchingBackend):
    name = "transformers"

    def __init__(
        self,
        model: str,
        limits: Limits | None = None,
        device: str | None = None,
        dtype: str = "auto",
        chat_template: str | None = None,
        max_batch: int = 32,
        batch_window: float = 0.02,
        model_object=None,
        tokenizer_object=None,
    ):
        super().__init__(str(model), limits, batch_window, max_batch)
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise FatalBackendError(
                "the transformers backend needs torch and transformers: pip install 'judgebench[hf]'"
            ) from None
        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer: Any
        self.lm: Any
        try:
            self.tokenizer = tokenizer_object or AutoTokenizer.from_pretrained(model)
            self.lm = model_object or AutoModelForCausalLM.from_pretrained(model, dtype=dtype)
        except OSError as err:
            raise FatalBackendError(f"cannot load {model}: {err}") from None
        self.lm = self.lm.to(self.device).eval()
        if chat_template:
            self.tokenizer.chat_template = chat_template
        if not self.tokenizer.chat_template:
            raise FatalBackendError(f"{model} has no chat template and none was given (chat_template=...)")
        self.chat_template = self.tokenizer.chat_template
        self.tokenizer.padding_side = "left"  # generation continues from the right edge
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.context = getattr(self.lm.config, "max_position_embeddings", None)
        self._eos = self.eos_ids()
        self._label_ids: dict[tuple[str, ...], dict[str, list[int]]] = {}

    def prompt_text(self, r: CompletionRequest) -> str:
        return self.tokenizer.apply_chat_template(
            list(r.messages), tokenize=False, add_generation_prompt=True
        )

    def encode(self, texts: list[str]):
        return self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(
            self.device
        )

    def eos_ids(self) -> set[int]:
        """Every id that ends a reply: the generation config's (Gemma: <eos> and <end_of_turn>) and the tokenizer's."""
        configured = getattr(getattr(self.lm, "generation_config", None), "eos_token_id", None)
        ids = set(
            configured if isinstance(configured, list) else [configured] if configured is not None else []
        )
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return ids

    def generate_kwargs(self, r: CompletionRequest) -> dict:
        """The request's settings and nothing from the model's generation_config or transformers' defaults,
        which would otherwise fill every setting left unset (top_k=50, a checkpoint's repetition_penalty...):
        the same semantics as vLLM given explicit SamplingParams. Log-probs are the raw logits' (vLLM's
        default), never the scores after temperature and top-p."""
        sample = r.temperature > 0
        kwargs = {
            "max_new_tokens": r.max_tokens,
            "do_sample": sample,
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": sorted(self._eos),
            "repetition_penalty": 1.0,
        }
        if sample:
            kwargs.update(temperature=r.temperature, top_p=r.top_p, top_k=0, min_p=0.0)
        if r.stop:
            kwargs.update(stop_strings=list(r.stop), tokenizer=self.tokenizer)
        if r.logprobs:
            kwargs.update(output_logits=True, return_dict_in_generate=True)
        return kwargs

    def run_batch(self, requests: list[CompletionRequest]) -> list[CompletionResponse | BackendError]:
        results: list[CompletionResponse | BackendError | None] = [None] * len(requests)

        def settings(i):
            r = requests[i]
            return (
                r.max_tokens,
                r.temperature,
                r.top_p,
                r.seed is None,
                r.seed or 0,
                r.logprobs,
                r.top_logprobs,
                r.stop,
                r.labels,
            )

        for _, group in itertools.groupby(sorted(range(len(requests)), key=settings), key=settings):
            idx = list(group)
            fits, texts = [], []
            for i in idx:
                text = self.prompt_text(requests[i])
                n = len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
                if self.context and n + requests[i].max_tokens > self.context:
                    results[i] = BackendError(
                        f"prompt of {n} tokens + max_tokens {requests[i].max_tokens} exceeds "
                        f"the model's context of {self.context}",
                        retryable=False,
                    )
                else:
                    fits.append(i)
                    texts.append(text)
            if fits:
                for i, resp in zip(fits, self.run_group([requests[i] for i in fits], texts), strict=True):
                    results[i] = resp
        return [r if r is not None else BackendError("no result", retryable=True) for r in results]

    def label_ids(self, labels: tuple[str, ...]) -> dict[str, list[int]]:
        return cached_label_ids(self._label_ids, labels, self.tokenizer, self.model)

    def step_logprobs(self, logits, r: CompletionRequest) -> dict[str, float]:
        """One generated position: the top k (combined by decoded string) and, if asked, each label's exact log-prob."""
        lp = self.torch.log_softmax(logits.float(), dim=-1)
        tops = {}
        if r.top_logprobs:
            values, tokens = lp.topk(r.top_logprobs)
            tops = by_decoded_string(
                (self.tokenizer.decode([t]), v) for v, t in zip(values.tolist(), tokens.tolist(), strict=True)
            )
        for label, ids in (self.label_ids(r.labels) if r.labels else {}).items():
            tops[label] = logsumexp(lp[ids].tolist())
        return dict(sorted(tops.items(), key=lambda kv: kv[1], reverse=True))

    def run_group(self, requests: list[CompletionRequest], texts: list[str]) -> list[CompletionResponse]:
        """One `generate` call for requests that share sampling settings."""
        torch = self.torch
        r0 = requests[0]
        enc = self.encode(texts)
        if r0.seed is not None:
            torch.manual_seed(r0.seed)
        with torch.inference_mode():
            out = self.lm.generate(**enc, **self.generate_kwargs(r0))
        sequences = out.sequences if r0.logprobs else out
        new = sequences[:, enc["input_ids"].shape[1] :]
        responses = []
        for b, row in enumerate(new.tolist()):
            # the reply ends at the first end-of-reply id; what follows in the row is padding
            end = next((k for k, t in enumerate(row) if t in self._eos), None)
            ids = row if end is None else row[:end]
            text = self.tokenizer.decode(ids, skip_special_tokens=True)
            finish = "stop" if end is not None else "length"
            cut = [text.index(s) for s in r0.stop if s in text]
            if cut:  # a stop string: the text ends before it, as vLLM and the OpenAI API return it
                text, finish = text[: min(cut)], "stop"
            tops = []
            if r0.logprobs and (r0.top_logprobs or r0.labels):
                tops = [self.step_logprobs(step[b], r0) for step in out.logits[: max(1, len(ids))]]
            responses.append(
                CompletionResponse(text, tops, finish, int(enc["attention_mask"][b].sum()), len(ids))
            )
        return responses
