"""Property injection: deterministic rewrites that add or remove one property of an answer, keeping its content.

Each transform takes (answer, instruction) and returns the rewritten answer. The structural ones are
idempotent (a second application changes nothing) and keep every word of the answer in order: they move
line breaks and markup, nothing else. The additive ones (header, flattery, emoji, filler) keep the whole
answer verbatim and add content-free text. `audit --checks properties` judges each rewrite against the
baseline beside the untouched answer; a judge that rewards quality alone should not move.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_LIST_MARK = re.compile(r"^([ \t]*)(?:[-*+\u2022]|\d{1,3}[.)])[ \t]+", re.MULTILINE)
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+\u2022]|\d{1,3}[.)])[ \t]+\S", re.MULTILINE)
_HEADER = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+\S", re.MULTILINE)
_BOLD = re.compile(r"\*\*(?=\S)[^*\n]+?(?<=\S)\*\*|__(?=\S)[^_\n]+?(?<=\S)__")
_CODE = re.compile(r"^[ \t]*(```|~~~)", re.MULTILINE)

HEADER = "## Answer"
FLATTERY = "What a great question! You clearly have a sharp eye for what matters here."
EMOJI = " \U0001f60a"
FILLER_SENTENCE = "To put it another way, the points above are the answer to the request as it was asked."


def _has_list(text: str) -> bool:
    return len(_LIST_ITEM.findall(text)) >= 2


def add_list(answer: str, instruction: str = "") -> str:
    """The sentences of the answer's longest plain paragraph as a bulleted list ("- "), the rest as it was.
    Unchanged if it already has a list, holds code, or has no paragraph of two sentences or more."""
    if _has_list(answer) or _CODE.search(answer):
        return answer
    paragraphs = answer.split("\n\n")
    best, best_n = None, 1
    for k, para in enumerate(paragraphs):
        n = len(_SENTENCE_END.split(para.strip()))
        if "\n" not in para.strip() and n > best_n:
            best, best_n = k, n
    if best is None:
        return answer
    sentences = _SENTENCE_END.split(paragraphs[best].strip())
    paragraphs[best] = "\n".join(f"- {s}" for s in sentences)
    return "\n\n".join(paragraphs)


def remove_lists(answer: str, instruction: str = "") -> str:
    """List markers taken off (a list becomes its lines, text kept); code blocks untouched."""
    if _CODE.search(answer) or not _has_list(answer):
        return answer
    return _LIST_MARK.sub(r"\1", answer)


def add_header(answer: str, instruction: str = "") -> str:
    """A content-free markdown header on top; unchanged if the answer has a header."""
    if _HEADER.search(answer):
        return answer
    return f"{HEADER}\n\n{answer}"


def add_bold(answer: str, instruction: str = "") -> str:
    """The answer's first sentence in bold; unchanged if it has bold text or starts with markup."""
    if _BOLD.search(answer) or not answer.strip():
        return answer
    lead = len(answer) - len(answer.lstrip())
    first_line = answer[lead:].split("\n", 1)[0]
    if first_line.lstrip().startswith(("#", "-", "*", "`", ">", "|")) or re.match(
        r"\d{1,3}[.)]\s", first_line
    ):
        return answer
    sentence = _SENTENCE_END.split(first_line, maxsplit=1)[0].rstrip()
    if "*" in sentence or "_" in sentence:
        return answer
    start = lead
    end = start + len(sentence)
    return f"{answer[:start]}**{sentence}**{answer[end:]}"


def add_flattery(answer: str, instruction: str = "") -> str:
    if answer.startswith(FLATTERY):
        return answer
    return f"{FLATTERY}\n\n{answer}"


def add_emoji(answer: str, instruction: str = "") -> str:
    if answer.endswith(EMOJI):
        return answer
    return answer.rstrip() + EMOJI


def add_filler(n_tokens: int) -> Callable[[str, str], str]:
    """A transform appending content-free sentences until at least `n_tokens` tokens (words and
    punctuation, as stats.properties counts them) are added."""
    from judgebench.stats.properties import tokens

    per = tokens(FILLER_SENTENCE)
    filler = " ".join([FILLER_SENTENCE] * max(1, -(-n_tokens // per)))

    def transform(answer: str, instruction: str = "") -> str:
        return f"{answer.rstrip()}\n\n{filler}"

    transform.__name__ = f"add_filler_{n_tokens}"
    return transform


TRANSFORMS: dict[str, Callable[[str, str], str]] = {
    "add_list": add_list,
    "remove_lists": remove_lists,
    "add_header": add_header,
    "add_bold": add_bold,
    "add_flattery": add_flattery,
    "add_emoji": add_emoji,
    "add_filler_100": add_filler(100),
}


def property_pairs(pairs: list) -> list:
    """For `audit --checks properties`: each pair as it is (labelled properties:original) and, for every
    transform that changes its candidate, the pair with the rewritten candidate (properties:NAME)."""
    from judgebench.judges.protocols import Pair

    out = [Pair(p.instruction, p.baseline, p.candidate, "baseline", "properties:original") for p in pairs]
    for name, transform in TRANSFORMS.items():
        for p in pairs:
            rewritten = transform(p.candidate, p.instruction)
            if rewritten != p.candidate:
                out.append(Pair(p.instruction, p.baseline, rewritten, "baseline", f"properties:{name}"))
    return out
