"""Each parser against hand-worked replies: the exact verdict, the boundaries of what it accepts and the
reason it gives otherwise (written to kill the mutants scripts/mutation found surviving; docs/testing.md)."""

import math

import pytest

from judgebench.backends.base import CompletionResponse
from judgebench.errors import ConfigError
from judgebench.judges.parsers import (
    PARSERS,
    arena_verdict,
    logprob_binary,
    logprob_labels,
    logprob_rating,
    pair_label,
    rating,
    text_label,
)


def reply(text="", top=None):
    return CompletionResponse(text, [top] if top is not None else [])


def test_every_parser_is_registered_under_its_spec_name():
    names = ("logprob_labels", "logprob_binary", "text_label", "arena_verdict", "rating", "pair_label")
    assert set(names) | {"logprob_rating"} <= set(PARSERS)


@pytest.mark.parametrize("a, b", [(-0.2, -1.7), (-3.0, -0.1), (-1.0, -1.0), (-50.0, -0.01)])
def test_logprob_labels_is_one_plus_the_second_labels_share(a, b):
    p_second = math.exp(b) / (math.exp(a) + math.exp(b))  # by hand: the two labels renormalised
    verdict, reason = logprob_labels(reply(top={"m": a, "x": -0.05, "M": b}))
    assert reason is None and verdict == pytest.approx(1 + p_second, abs=1e-12)


def test_logprob_labels_one_label_absent_and_other_labels():
    assert logprob_labels(reply(top={"M": -2.0, "q": -0.1})) == (2.0, None)
    assert logprob_labels(reply(top={"m": -2.0, "q": -0.1})) == (1.0, None)
    verdict, _ = logprob_labels(reply(top={"A": math.log(0.3), "B": math.log(0.1)}), labels=("A", "B"))
    assert verdict == pytest.approx(1.25)
    verdict, reason = logprob_labels(reply(top={"a": -0.1, "b": -0.2, "c": -3, "d": -4, "e": -5, "f": -6}))
    assert verdict is None and reason == (
        "neither label 'm' nor 'M' among the top log-probs ['a', 'b', 'c', 'd', 'e']"
    )
    assert logprob_labels(reply(text="m")) == (
        None,
        "no log-probs in the response (does the endpoint support top_logprobs?)",
    )


def test_logprob_binary_takes_the_likelier_label():
    assert logprob_binary(reply(top={"m": -0.3, "M": -0.4})) == (1.0, None)
    assert logprob_binary(reply(top={"m": -0.4, "M": -0.3})) == (2.0, None)
    assert logprob_binary(reply(top={"m": -0.4, "M": -0.4})) == (2.0, None)  # a tie is not a win for m
    assert logprob_binary(reply(top={"m": -5.0})) == (1.0, None)
    assert logprob_binary(reply(top={"M": -5.0})) == (2.0, None)
    assert logprob_binary(reply(top={"x": -0.1}))[0] is None
    assert logprob_binary(reply())[1].startswith("no log-probs")


@pytest.mark.parametrize(
    "text, verdict",
    [
        ("m", 1.0),
        ("M", 2.0),
        (" 'm'. ", 1.0),
        ('"M"', 2.0),
        ("`M`", 2.0),
        ("mM", None),
        ("", None),
        ("m is", None),
    ],
)
def test_text_label_is_exactly_one_label(text, verdict):
    got, reason = text_label(reply(text))
    assert got == verdict
    assert (reason is None) == (verdict is not None)
    if verdict is None:
        assert reason == f"reply is not one of ('m', 'M'): {text!r}"
    assert text_label(reply("B"), labels=("A", "B")) == (2.0, None)


LEVELS = {
    "[[A>>B]]": 1, "[[A>B]]": 2, "[[A=B]]": 3, "[[B>A]]": 4, "[[B>>A]]": 5,
    "[[B<<A]]": 1, "[[B<A]]": 2, "[[B=A]]": 3, "[[A<B]]": 4, "[[A<<B]]": 5,
}  # fmt: skip


@pytest.mark.parametrize("verdict, level", LEVELS.items())
def test_arena_verdict_levels(verdict, level):
    assert arena_verdict(reply(f"Reasons... My final verdict is: {verdict}")) == (float(level), None)


def test_arena_verdict_last_counts_blanks_and_malformed():
    assert arena_verdict(reply("[[A>>B]] at first, but on reflection [[B > A]]")) == (4.0, None)
    assert arena_verdict(reply("[[A >> B]]")) == (1.0, None)
    assert arena_verdict(reply("[[A>A]]")) == (None, "malformed verdict 'A>A'")
    got, reason = arena_verdict(reply("no verdict " + "x" * 200 + " here"))
    assert got is None and reason == f"no [[A>B]]-style verdict in {('x' * 200 + ' here')[-120:]!r}"
    assert arena_verdict(reply("[A>B]"))[0] is None


def test_rating_is_fastchats_first_match_with_inclusive_bounds():
    # FastChat's show_result reads the first [[x]], else the first [x]; bounds only where a judge sets them
    assert rating(reply("Rating: [[7]]")) == (7.0, None)
    assert rating(reply("[[3]] then Rating: [[8.5]]")) == (3.0, None)
    assert rating(reply("Rating: [6] (no double brackets)")) == (6.0, None)
    assert rating(reply("[[11]]")) == (11.0, None)  # FastChat takes any number
    assert rating(reply("[[1]]"), low=1, high=10) == (1.0, None)
    assert rating(reply("[[10]]"), low=1, high=10) == (10.0, None)
    assert rating(reply("[[10.5]]"), low=1, high=10) == (None, "rating 10.5 outside [1, 10]")
    assert rating(reply("[[0]]"), low=1, high=10) == (None, "rating 0.0 outside [1, 10]")
    assert rating(reply("[[0.5]]"), low=0, high=1) == (0.5, None)
    assert rating(reply("[[2]]"), low=0, high=1) == (None, "rating 2.0 outside [0, 1]")
    assert rating(reply("Rating: 7")) == (None, "no [[rating]] in 'Rating: 7'")


def test_pair_label():
    # FastChat: [[A]] anywhere, else [[B]], else [[C]] -- by label, not by position
    assert pair_label(reply("[[A]]")) == (1.0, None)
    assert pair_label(reply("[[B]]")) == (2.0, None)
    assert pair_label(reply("[[C]]")) == (1.5, None)
    assert pair_label(reply("[[C]] no, [[A]]")) == (1.0, None)
    assert pair_label(reply("[[C]] then [[B]]")) == (2.0, None)
    assert pair_label(reply("[[D]]")) == (None, "no [[A]]/[[B]]/[[C]] in '[[D]]'")


def test_logprob_rating_is_the_expected_digit():
    top = {"7": math.log(0.5), " 7": math.log(0.1), "8": math.log(0.2), "0": math.log(0.1), "x": -0.1}
    # by hand: digits 1..9 only; "7" and " 7" add: (7 * 0.6 + 8 * 0.2) / 0.8
    assert logprob_rating(reply(top=top))[0] == pytest.approx((7 * 0.6 + 8 * 0.2) / 0.8)
    assert logprob_rating(reply(top={"1": -1.0, "9": -1.0})) == (5.0, None)
    assert logprob_rating(reply(top={"10": -0.1, "3": -2.0})) == (3.0, None)  # 10 is no digit of 1-9
    assert logprob_rating(reply(top={"0": -0.1, "2": -1.0}), low=0, high=2)[0] == pytest.approx(
        2 * math.exp(-1) / (math.exp(-0.1) + math.exp(-1))
    )
    assert logprob_rating(reply(top={"5": -math.inf, "x": -0.1})) == (
        None,
        "no digit 1-9 among the top log-probs ['5', 'x']",
    )
    assert logprob_rating(reply(top={"x": -0.1}))[0] is None
    assert logprob_rating(reply())[1].startswith("no log-probs")


def test_arena_hard_official_parsers_labels_to_levels():
    """Arena-Hard's own label rules (gen_judgment.py; stats/arenahard_official.parse_v01/parse_v2), then the
    label's level in the shown frame: v0.1 takes exactly one distinct [[label]]; v2 the last [[label]], else
    the last [label], upper-cased."""
    v01, v2 = PARSERS.pick("arena_verdict_v01"), PARSERS.pick("arena_verdict_v2")
    assert v01(reply("so [[A>B]]; again [[A>B]]")) == (2.0, None)  # one distinct label, twice
    assert v01(reply("[[B>>A]]")) == (5.0, None)
    long = "y" * 200 + " [[A>B]] then [[B>A]]"
    assert v01(reply(long)) == (None, f"no verdict label in {long[-120:]!r}")  # two distinct: none
    assert v01(reply("[[A>>>B]]")) == (None, "malformed verdict 'A>>>B'")
    assert v01(reply("[[A=A]]")) == (None, "malformed verdict 'A=A'")
    assert v2(reply("[[A>B]] no, [[b>>a]]")) == (5.0, None)  # the last, upper-cased
    assert v2(reply("[B>A] but [[A=B]]")) == (3.0, None)  # double brackets first
    assert v2(reply("only [B<A]")) == (2.0, None)
    assert v2(reply("nothing")) == (None, "no verdict label in 'nothing'")


def test_failure_reasons_quote_the_replys_end_or_start():
    """What a failed judgment's reason quotes: the last 120 characters (where a verdict would stand), or
    the first 80 for a label-only reply."""
    text = "".join(chr(97 + i % 26) for i in range(300))
    assert rating(reply(text)) == (None, f"no [[rating]] in {text[-120:]!r}")
    assert pair_label(reply(text)) == (None, f"no [[A]]/[[B]]/[[C]] in {text[-120:]!r}")
    assert text_label(reply(text)) == (None, f"reply is not one of ('m', 'M'): {text[:80]!r}")


def test_parser_edges_fastchat_and_the_label_rule_fix():
    # FastChat reads [[x]] wherever it stands before falling back to [x] (common.py: the backup pattern only
    # when the first finds nothing)
    assert rating(reply("[5] for style, Rating: [[8]]")) == (8.0, None)
    # only blanks, quotes, backticks and full stops around the label: other letters are not stripped
    assert text_label(reply("mX")) == (None, "reply is not one of ('m', 'M'): 'mX'")
    assert text_label(reply("XM")) == (None, "reply is not one of ('m', 'M'): 'XM'")
    # a reason names the first five tokens of the top log-probs
    top = {t: -1.0 - i for i, t in enumerate("abcdefg")}
    assert logprob_rating(reply(top=top)) == (
        None,
        "no digit 1-9 among the top log-probs ['a', 'b', 'c', 'd', 'e']",
    )
    # a name no parser has is refused naming the kind of thing asked for
    with pytest.raises(ConfigError, match="unknown parser 'nope'; known: "):
        PARSERS.pick("nope")
