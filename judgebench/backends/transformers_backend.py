"""Hugging Face transformers in-process (the `hf` extra), CPU or GPU, requests batched.

Prompts are formatted with the tokenizer's chat template (or one given), left-padded, and run
through `model.generate` in batches of requests that share their sampling settings. A prompt that
cannot fit the model's context fails alone; a model with no chat template and none given is refused
at load time rather than fed unformatted text.
"""

from __future__ import annotations

import itertools

from .base import (
    BackendError,
    BatchingBackend,
    CompletionRequest,
    CompletionResponse,
    FatalBackendError,
    Limits,
)


class TransformersBackend(BatchingBackend):
    name = "transformers"

    def __init__(self, model: str, limits: Limits | None = None, device: str | None = None, dtype: str = "auto",
                 chat_template: str | None = None, max_batch: int = 32, batch_window: float = 0.02,
                 model_object=None, tokenizer_object=None):
        super().__init__(str(model), limits, batch_window, max_batch)
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise FatalBackendError("the transformers backend needs torch and transformers: "
                                    "pip install 'judgebench[hf]'") from None
        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
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

    def encode(self, requests: list[CompletionRequest]):
        texts = [self.tokenizer.apply_chat_template(list(r.messages), tokenize=False, add_generation_prompt=True)
                 for r in requests]
        return self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)

    def generate_kwargs(self, r: CompletionRequest) -> dict:
        sample = r.temperature > 0
        kwargs = {"max_new_tokens": r.max_tokens, "do_sample": sample, "pad_token_id": self.tokenizer.pad_token_id}
        if sample:
            kwargs.update(temperature=r.temperature, top_p=r.top_p)
        if r.logprobs:
            kwargs.update(output_scores=True, return_dict_in_generate=True)
        return kwargs

    def run_batch(self, requests: list[CompletionRequest]) -> list[CompletionResponse | BackendError]:
        results: list[CompletionResponse | BackendError | None] = [None] * len(requests)

        def settings(i):
            r = requests[i]
            return (r.max_tokens, r.temperature, r.top_p, r.seed, r.logprobs, r.top_logprobs)

        for _, group in itertools.groupby(sorted(range(len(requests)), key=settings), key=settings):
            idx = list(group)
            fits = []
            for i in idx:
                text = self.tokenizer.apply_chat_template(list(requests[i].messages), tokenize=False,
                                                          add_generation_prompt=True)
                n = len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
                if self.context and n + requests[i].max_tokens > self.context:
                    results[i] = BackendError(f"prompt of {n} tokens + max_tokens {requests[i].max_tokens} exceeds "
                                              f"the model's context of {self.context}", retryable=False)
                else:
                    fits.append(i)
            if fits:
                for i, resp in zip(fits, self.run_group([requests[i] for i in fits]), strict=True):
                    results[i] = resp
        return results

    def run_group(self, requests: list[CompletionRequest]) -> list[CompletionResponse]:
        """One `generate` call for requests that share sampling settings."""
        torch = self.torch
        r0 = requests[0]
        enc = self.encode(requests)
        if r0.seed is not None:
            torch.manual_seed(r0.seed)
        with torch.inference_mode():
            out = self.lm.generate(**enc, **self.generate_kwargs(r0))
        sequences = out.sequences if r0.logprobs else out
        new = sequences[:, enc["input_ids"].shape[1]:]
        responses = []
        eos = self.tokenizer.eos_token_id
        for b, row in enumerate(new):
            ids = row.tolist()
            ended = eos in ids
            if ended:  # what follows the end is padding
                ids = ids[: ids.index(eos)]
            tops = []
            if r0.logprobs and r0.top_logprobs:
                for step in out.scores[: max(1, len(ids))]:
                    lp = torch.log_softmax(step[b].float(), dim=-1)
                    values, tokens = lp.topk(r0.top_logprobs)
                    tops.append({self.tokenizer.decode([t]): float(v) for v, t in zip(values, tokens, strict=True)})
            responses.append(CompletionResponse(self.tokenizer.decode(ids, skip_special_tokens=True), tops,
                                                "stop" if ended else "length", int(enc["attention_mask"][b].sum()),
                                                len(ids)))
        return responses
