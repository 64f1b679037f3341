"""Parsers: a judge's raw response -> a verdict in the frame of the order shown, or a reason it has none.

Each returns (verdict, reason). verdict None means unparsable: the judgment is retried and then
recorded as failed with the reason; it never becomes a tie. A judge spec names its parser; a new one is
a function here registered with @register("name").
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable

from judgebench.backends.base import CompletionResponse
from judgebench.registry import Registry

Parser = Callable[..., tuple[float | None, str | None]]
PARSERS: Registry[Parser] = Registry("parser")
register = PARSERS.register


@register("logprob_labels")
def logprob_labels(response: CompletionResponse, labels=("m", "M"), **_) -> tuple[float | None, str | None]:
    """1 + P(second shown is better), from the first token's top log-probs of the two labels.

    A label absent from the top log-probs has probability 0; both absent: no verdict. Computed as
    AlpacaEval does (log-sum-exp over the labels), so stored preferences are reproduced to the bit."""
    if not response.top_logprobs:
        return None, "no log-probs in the response (does the endpoint support top_logprobs?)"
    first = response.top_logprobs[0]
    found = {t: lp for t, lp in first.items() if t in labels}
    if not found:
        return (
            None,
            f"neither label {labels[0]!r} nor {labels[1]!r} among the top log-probs {list(first)[:5]}",
        )
    lps = [found.get(t, -math.inf) for t in labels]
    top = max(lps)  # log-sum-exp over the labels, in plain floats (scipy's costs 0.3 ms a call)
    p_first = math.exp(lps[0] - (top + math.log(sum(math.exp(lp - top) for lp in lps))))
    return 2.0 - p_first, None


@register("logprob_binary")
def logprob_binary(response: CompletionResponse, labels=("m", "M"), **_) -> tuple[float | None, str | None]:
    """1 if the first label's log-prob beats the second's, else 2 (AlpacaEval's is_binarize)."""
    verdict, reason = logprob_labels(response, labels)
    if verdict is None:
        return None, reason
    first = response.top_logprobs[0]
    return (1.0 if first.get(labels[0], -math.inf) > first.get(labels[1], -math.inf) else 2.0), None


@register("text_label")
def text_label(response: CompletionResponse, labels=("m", "M"), **_) -> tuple[float | None, str | None]:
    """For endpoints without log-probs: the reply must be exactly one label (surrounding blanks allowed)."""
    text = response.text.strip().strip("'\"`.")
    if text == labels[0]:
        return 1.0, None
    if text == labels[1]:
        return 2.0, None
    return None, f"reply is not one of {labels}: {response.text[:80]!r}"


ARENA_VERDICT = re.compile(r"\[\[([AB])\s*(>>|>|=|<<|<)\s*([AB])\]\]")
# Candidate-side score of "first shown (A) vs second shown (B)" verdicts, in the shown frame:
# 1 = A much better ... 5 = B much better.
ARENA_LEVELS = {
    ("A", ">>", "B"): 1,
    ("A", ">", "B"): 2,
    ("A", "=", "B"): 3,
    ("B", ">", "A"): 4,
    ("B", ">>", "A"): 5,
    ("B", "<<", "A"): 1,
    ("B", "<", "A"): 2,
    ("B", "=", "A"): 3,
    ("A", "<", "B"): 4,
    ("A", "<<", "B"): 5,
}


@register("arena_verdict")
def arena_verdict(response: CompletionResponse, **_) -> tuple[float | None, str | None]:
    """Arena-Hard's five-level verdict [[A>>B]] ... [[B>>A]]; the last one in the text counts.
    Returns the level 1..5 (1: first shown much better, 5: second shown much better)."""
    matches = ARENA_VERDICT.findall(response.text)
    if not matches:
        return None, f"no [[A>B]]-style verdict in {response.text[-120:]!r}"
    level = ARENA_LEVELS.get(matches[-1])
    if level is None:
        return None, f"malformed verdict {''.join(matches[-1])!r}"
    return float(level), None


# FastChat's patterns (fastchat/llm_judge/common.py): [[x]] anywhere first, else [x]; the first match counts.
RATING = re.compile(r"\[\[(\d+\.?\d*)\]\]")
RATING_BACKUP = re.compile(r"\[(\d+\.?\d*)\]")


@register("rating")
def rating(
    response: CompletionResponse, low: float | None = None, high: float | None = None, **_
) -> tuple[float | None, str | None]:
    """MT-Bench single-answer grading as FastChat reads it: the first 'Rating: [[x]]', else the first
    '[x]'. FastChat takes any number; `low`/`high` (where a judge spec sets them) refuse one outside."""
    match = RATING.search(response.text) or RATING_BACKUP.search(response.text)
    if match is None:
        return None, f"no [[rating]] in {response.text[-120:]!r}"
    x = float(match.group(1))
    if (low is not None and x < low) or (high is not None and x > high):
        return None, f"rating {x} outside [{low}, {high}]"
    return x, None


@register("pair_label")
def pair_label(response: CompletionResponse, **_) -> tuple[float | None, str | None]:
    """MT-Bench pairwise as FastChat reads it: [[A]] (first shown better) if it appears anywhere, else
    [[B]] (second better), else [[C]] (tie) -> 1, 2, 1.5; FastChat looks for them in that order, not by
    position."""
    for label, verdict in (("[[A]]", 1.0), ("[[B]]", 2.0), ("[[C]]", 1.5)):
        if label in response.text:
            return verdict, None
    return None, f"no [[A]]/[[B]]/[[C]] in {response.text[-120:]!r}"


@register("logprob_rating")
def logprob_rating(
    response: CompletionResponse, low: int = 1, high: int = 9, **_
) -> tuple[float | None, str | None]:
    """A one-digit rating read from the first token's top log-probs: the expected value over the digits
    low..high found there (renormalised), so a judge too small to write a rating still grades."""
    if not response.top_logprobs:
        return None, "no log-probs in the response (does the endpoint support top_logprobs?)"
    weights: dict[int, float] = {}  # "7" and " 7" are the same rating: their probabilities add
    for token, lp in response.top_logprobs[0].items():
        t = token.strip()
        if t.isdigit() and low <= int(t) <= high:
            weights[int(t)] = weights.get(int(t), 0.0) + math.exp(lp)
    if not weights or sum(weights.values()) == 0:
        return None, f"no digit {low}-{high} among the top log-probs {list(response.top_logprobs[0])[:5]}"
    return sum(d * w for d, w in weights.items()) / sum(weights.values()), None


def _arena_level(label: str | None, text: str) -> tuple[float | None, str | None]:
    if label is None:
        return None, f"no verdict label in {text[-120:]!r}"
    found = ARENA_VERDICT.fullmatch(f"[[{label}]]")
    level = ARENA_LEVELS.get(found.groups()) if found else None  # type: ignore[arg-type]
    if level is None:
        return None, f"malformed verdict {label!r}"
    return float(level), None


@register("arena_verdict_v01")
def arena_verdict_v01(response: CompletionResponse, **_) -> tuple[float | None, str | None]:
    """Arena-Hard v0.1's parser (gen_judgment.py): exactly one distinct [[label]], else no verdict."""
    from judgebench.stats.arenahard_official import parse_v01

    return _arena_level(parse_v01(response.text), response.text)


@register("arena_verdict_v2")
def arena_verdict_v2(response: CompletionResponse, **_) -> tuple[float | None, str | None]:
    """Arena-Hard v2's parser: the last [[label]], else the last [label], in the upper-cased text."""
    from judgebench.stats.arenahard_official import parse_v2

    return _arena_level(parse_v2(response.text), response.text)


# WildBench's five choices (src/openai_batch_eval/batch_results_format.py) as levels 1..5 in the order shown
WILDBENCH_CHOICES = {"A++": 1.0, "A+": 2.0, "A=B": 3.0, "B+": 4.0, "B++": 5.0}


def _wildbench_fields(text: str) -> dict:
    """The reply as WildBench's eval.py parse_result reads it: JSON, else each key's first quoted value."""
    try:
        parsed = json.loads(text.strip())
    except json.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        return parsed
    found = {}
    for key in ("score", "choice"):
        match = re.search(f'"{key}"\\s*:\\s*"([^"]*?)"', text) or re.search(
            f'"{key}"\\s*:\\s*"(.*?)"', text, re.DOTALL
        )
        if match:
            found[key] = match.group(1)
    return found


@register("wildbench_choice")
def wildbench_choice(response: CompletionResponse, **_) -> tuple[float | None, str | None]:
    """WildBench pairwise: the reply's "choice" A++ / A+ / A=B / B+ / B++ -> level 1..5 (1: A much better)."""
    choice = _wildbench_fields(response.text).get("choice")
    if choice not in WILDBENCH_CHOICES:
        return None, f"no choice A++/A+/A=B/B+/B++ in {response.text[-120:]!r}"
    return WILDBENCH_CHOICES[choice], None


@register("wildbench_score")
def wildbench_score(response: CompletionResponse, **_) -> tuple[float | None, str | None]:
    """WildBench score mode: the reply's "score", a number as text or not (its tables take float(score))."""
    value = _wildbench_fields(response.text).get("score")
    try:
        return float(value if isinstance(value, int | float | str) else "none"), None
    except ValueError:
        return None, f"no numeric score in {response.text[-120:]!r}"
