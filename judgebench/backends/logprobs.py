"""Log-probs per decoded string, the form the parsers read, from engines that report them per token id.

Several token ids can decode to the same string (SentencePiece's "▁M" and "M" both read "M"); keyed by string,
the later one would overwrite the other. They are combined instead by log-sum-exp: the probability that the
next token reads "M" is the sum over the tokens that read "M".
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable

from judgebench.errors import BackendError


def logsumexp(values: list[float]) -> float:
    top = max(values)
    if top == -math.inf:
        return top
    return top + math.log(sum(math.exp(v - top) for v in values))


def by_decoded_string(pairs: Iterable[tuple[str, float]]) -> dict[str, float]:
    """(decoded token, log-prob) pairs, one per token id -> {decoded: log-sum-exp}, most likely first."""
    groups: dict[str, list[float]] = defaultdict(list)
    for text, lp in pairs:
        groups[text].append(float(lp))
    merged = {text: logsumexp(lps) for text, lps in groups.items()}
    return dict(sorted(merged.items(), key=lambda kv: kv[1], reverse=True))


def label_token_ids(
    labels: Iterable[str], vocab: dict[str, int], decode: Callable[[int], str]
) -> dict[str, list[int]]:
    """Every token id that decodes to exactly one of `labels` (for exact label log-probs).

    Only vocabulary pieces containing a label's characters are decoded, so a 150k vocabulary costs
    a few hundred decodes, once per label set."""
    labels = list(labels)
    found: dict[str, list[int]] = {label: [] for label in labels}
    for piece, token_id in vocab.items():
        if any(label in piece for label in labels):
            text = decode(token_id)
            if text in found:
                found[text].append(token_id)
    return {label: sorted(ids) for label, ids in found.items()}


def cached_label_ids(
    cache: dict[tuple[str, ...], dict[str, list[int]]], labels: tuple[str, ...], tokenizer, model: str
) -> dict[str, list[int]]:
    """`label_token_ids` for a Hugging Face tokenizer, computed once per label set; a label that no token
    decodes to is refused for this request alone."""
    if labels not in cache:
        found = label_token_ids(labels, tokenizer.get_vocab(), lambda i: tokenizer.decode([i]))
        missing = [label for label, ids in found.items() if not ids]
        if missing:
            raise BackendError(f"no token of {model} decodes to the label(s) {missing}", retryable=False)
        cache[labels] = found
    return cache[labels]
