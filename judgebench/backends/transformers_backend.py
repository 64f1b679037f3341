"""Hugging Face transformers in-process (the `hf` extra), CPU or GPU, requests batched.

Prompts are formatted with the tokenizer's chat template (or one given), left-padded, and run
through `model.generate` in batches of requests that share their sampling settings. Where a reply ends
and why follows backends/finish.py, the rule vLLM applies: a prompt with no room for one token fails
alone, a reply that reaches the end of the context is cut there ("length"), the end token is counted and
padding never is. A model with no chat template and none given is refused at load time rather than fed
unformatted text.

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
from judgebench.backends.checkpoint import with_adapter
from judgebench.backends.finish import end_ids, finish_reason, no_room, reply_tokens, room
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
        lora: str | None = None,
    ):
        super().__init__(with_adapter(str(model), lora), limits, batch_window, max_batch)
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
        if lora is not None:
            self.lm = self.with_lora(self.lm, lora)
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

    @staticmethod
    def with_lora(lm, lora: str):
        """The model with the adapter's weights merged in (the same outputs as the adapter applied, at the
        base model's speed)."""
        try:
            from peft import PeftModel
        except ImportError:
            raise FatalBackendError(
                "a LoRA adapter on the transformers engine needs peft: pip install 'judgebench[lora]'"
            ) from None
        try:
            return PeftModel.from_pretrained(lm, lora).merge_and_unload()
        except (OSError, ValueError) as err:
            raise FatalBackendError(f"cannot apply the LoRA adapter {lora}: {err}") from None

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
        return end_ids(self.tokenizer.eos_token_id, configured)

    def generate_kwargs(self, r: CompletionRequest, max_new_tokens: int) -> dict:
        """The request's settings and nothing from the model's generation_config or transformers' defaults,
        which would otherwise fill every setting left unset (top_k=50, a checkpoint's repetition_penalty...):
        the same semantics as vLLM given explicit SamplingParams. Log-probs are the raw logits' (vLLM's
        default), never the scores after temperature and top-p. generate always returns its output object
        (a checkpoint's generation_config may ask for one: return_dict_in_generate)."""
        sample = r.temperature > 0
        kwargs = {
            "max_new_tokens": max_new_tokens,
            "return_dict_in_generate": True,
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
            kwargs.update(output_logits=True)
        return kwargs

    def run_batch(self, requests: list[CompletionRequest]) -> list[CompletionResponse | BackendError]:
        results: list[CompletionResponse | BackendError | None] = [None] * len(requests)

        lengths, texts = {}, {}
        for i, r in enumerate(requests):
            texts[i] = self.prompt_text(r)
            lengths[i] = len(self.tokenizer(texts[i], add_special_tokens=False)["input_ids"])
            refused = no_room(lengths[i], self.context)
            if refused:
                results[i] = BackendError(refused, retryable=False)

        def settings(i):
            r = requests[i]
            return (
                room(lengths[i], r.max_tokens, self.context),
                r.temperature,
                r.top_p,
                r.seed is None,
                r.seed or 0,
                r.logprobs,
                r.top_logprobs,
                r.stop,
                r.labels,
            )

        fits = sorted((i for i in range(len(requests)) if results[i] is None), key=settings)
        for key, group in itertools.groupby(fits, key=settings):
            idx = list(group)
            answers = self.run_group([requests[i] for i in idx], [texts[i] for i in idx], key[0])
            for i, resp in zip(idx, answers, strict=True):
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

    def run_group(
        self, requests: list[CompletionRequest], texts: list[str], max_new_tokens: int
    ) -> list[CompletionResponse]:
        """One `generate` call for requests that share sampling settings and room to generate."""
        torch = self.torch
        r0 = requests[0]
        enc = self.encode(texts)
        if r0.seed is not None:
            torch.manual_seed(r0.seed)
        with torch.inference_mode():
            out = self.lm.generate(**enc, **self.generate_kwargs(r0, max_new_tokens))
        new = out.sequences[:, enc["input_ids"].shape[1] :]
        responses = []
        for b, row in enumerate(new.tolist()):
            # the reply ends at its first end id or stop string; what follows in the row is padding
            ids, ended = reply_tokens(row, self._eos)
            if r0.stop:
                ids, ended = self.until_stop_string(ids, ended, r0.stop)
            # the end id is counted but not shown (vLLM shows none that is a special token)
            shown = ids[:-1] if ended and ids and ids[-1] in self._eos else ids
            text = self.tokenizer.decode(shown, skip_special_tokens=True)
            cut = [text.index(s) for s in r0.stop if s in text]
            if cut:  # the text ends before the stop string, as vLLM and the OpenAI API return it
                text = text[: min(cut)]
            tops = []
            if r0.logprobs and (r0.top_logprobs or r0.labels):
                tops = [self.step_logprobs(step[b], r0) for step in out.logits[: max(1, len(ids))]]
            responses.append(
                CompletionResponse(
                    text, tops, finish_reason(ended), int(enc["attention_mask"][b].sum()), len(ids)
                )
            )
        return responses

    def until_stop_string(self, ids: list[int], ended: bool, stop: tuple[str, ...]) -> tuple[list[int], bool]:
        """The reply up to the token that completed a stop string (generation pads the row after it)."""
        for k in range(1, len(ids) + 1):
            text = self.tokenizer.decode(ids[:k], skip_special_tokens=True)
            if any(s in text for s in stop):
                return ids[:k], True
        return ids, ended
