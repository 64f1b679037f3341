"""Each protocol's calls and combination rules on hand-made verdicts, with the rules' sources: AlpacaEval's
order and preference convention (checked on its stored annotations), Arena-Hard v0.1's five levels with a
strong verdict counted 3 times, FastChat's MT-Bench rules. Fast on purpose: scripts/mutation reruns these
for every mutant of judges/protocols.py."""

from types import SimpleNamespace

import msgspec
import pytest
from isal import igzip

from judgebench.backends.base import CompletionResponse
from judgebench.errors import ConfigError
from judgebench.judges.parsers import logprob_labels
from judgebench.judges.protocols import PROTOCOLS, ArenaHard, Pair, Protocol, is_swapped, protocol_of


class Spec:
    """Renders to the variables it was given, so a test sees what each call shows the judge."""

    labels = ("m", "M")
    protocol = "alpacaeval"
    source = "spec.yaml"

    def render(self, **variables):
        return [variables]


SPEC = Spec()


def chat(*contents: str) -> list[dict]:
    """A conversation as the judge is shown it: the user's turns and the answers, alternating."""
    return [{"role": ("user", "assistant")[i % 2], "content": c} for i, c in enumerate(contents)]


TURNS = Pair(
    "first question",
    "b",
    "c",
    turns=["first question", "second question"],
    baseline_turns=["b1", "b2"],
    candidate_turns=["c1", "c2"],
    reference=["r1", "r2"],
)


def test_a_pair_names_its_sides_baseline_and_candidate_by_default():
    p = Pair("q", "b", "c")
    assert (p.generator_1, p.generator_2, p.dataset, p.reference) == ("baseline", "candidate", None, None)
    assert (p.turns, p.baseline_turns, p.candidate_turns) == ([], [], [])
    assert p.turns is not Pair("q", "b", "c").turns  # each pair its own list


def test_capabilities_of_each_protocol():
    table = {
        name: (p.name, p.multi_turn, p.pairwise, p.yields)
        for name, p in (
            (n, PROTOCOLS[n]) for n in ("alpacaeval", "arenahard", "mtbench-pair", "mtbench-single")
        )
    }
    assert table == {
        "alpacaeval": ("alpacaeval", False, True, "preference"),
        "arenahard": ("arenahard", False, True, "preference"),
        "mtbench-pair": ("mtbench-pair", True, True, "preference"),
        "mtbench-single": ("mtbench-single", True, False, "score"),
    }
    base = Protocol()
    assert (base.name, base.multi_turn, base.pairwise, base.yields) == ("abstract", False, True, "preference")
    with pytest.raises(NotImplementedError):
        base.calls(SPEC, Pair("q", "b", "c"))
    with pytest.raises(NotImplementedError):
        base.combine(Pair("q", "b", "c"), {})
    assert base.second_shown_wins(1.75) == 0.75 and base.slot_labels(SPEC) == ("A", "B")


def test_swap_decisions_match_alpacaevals_stored_annotations(alpaca_dir):
    """A stored preference is the log-prob verdict in the order shown, flipped (3 - v) where AlpacaEval
    swapped the outputs: so the stored file tells which instructions were swapped."""
    path = alpaca_dir / "annotations" / "claude.json.gz"
    rows = msgspec.json.decode(igzip.decompress(path.read_bytes()))[:120]
    seen = {False: 0, True: 0}
    for r in rows:
        raw = r.get("raw_completion")
        if raw is None or r["output_1"] == r["output_2"]:
            continue
        top = raw["logprobs"]["content"][0]["top_logprobs"]
        v, _ = logprob_labels(
            CompletionResponse(text="", top_logprobs=[{t["token"]: t["logprob"] for t in top}])
        )
        if abs(v - 1.5) < 1e-6:
            continue  # a verdict of exactly 1/2 reads the same either way
        swapped = abs(r["preference"] - (3 - v)) < 1e-6
        assert swapped != (abs(r["preference"] - v) < 1e-6)
        assert is_swapped(r["instruction"]) == swapped, r["instruction"][:40]
        seen[swapped] += 1
    assert min(seen.values()) >= 30
    # the seed is part of the rule: another seed reorders some of them
    assert any(is_swapped(r["instruction"], 1) != is_swapped(r["instruction"]) for r in rows)


def test_alpacaeval_shows_one_order_and_flips_a_swapped_verdict():
    p = PROTOCOLS["alpacaeval"]
    q_plain = next(f"q{i}" for i in range(50) if not is_swapped(f"q{i}"))
    q_swapped = next(f"q{i}" for i in range(50) if is_swapped(f"q{i}"))
    (plain,) = p.calls(SPEC, Pair(q_plain, "b", "c"))
    assert plain.slot == "plain" and plain.messages == [
        {"instruction": q_plain, "output_first": "b", "output_second": "c"}
    ]
    (swapped,) = p.calls(SPEC, Pair(q_swapped, "b", "c"))
    assert swapped.slot == "swapped" and swapped.messages == [
        {"instruction": q_swapped, "output_first": "c", "output_second": "b"}
    ]
    assert p.calls(SPEC, Pair("q", "same", "same")) == []
    assert p.combine(Pair("q", "same", "same"), {}) == {"preference": 1.5}
    assert p.combine(Pair("q", "b", "c"), {"plain": 1.25}) == {"preference": 1.25}
    assert p.combine(Pair("q", "b", "c"), {"swapped": 1.25}) == {"preference": 1.75}
    assert p.combine(Pair("q", "b", "c"), {"swapped": None}) == {"preference": None}
    assert p.combine(Pair("q", "b", "c"), {"plain": None}) == {"preference": None}
    assert p.slot_labels(SimpleNamespace(labels=("x", "y", "z"))) == ("x", "y")
    assert p.second_shown_wins(2.0) == 1.0


def test_arenahard_two_orders_and_five_levels_weighted_three_for_strong():
    p = PROTOCOLS["arenahard"]
    first, second = p.calls(SPEC, Pair("q", "b", "c"))
    assert (first.slot, first.messages) == (
        "baseline_first",
        [{"instruction": "q", "output_first": "b", "output_second": "c"}],
    )
    assert (second.slot, second.messages) == (
        "candidate_first",
        [{"instruction": "q", "output_first": "c", "output_second": "b"}],
    )
    # level in the shown frame: 1 [[A>>B]], 2 [[A>B]], 3 [[A=B]], 4 [[B>A]], 5 [[B>>A]]
    shown_second = [ArenaHard.candidate_score(v, candidate_second=True) for v in (1, 2, 3, 4, 5)]
    assert shown_second == [(0.0, 3), (0.0, 1), (0.5, 1), (1.0, 1), (1.0, 3)]
    shown_first = [ArenaHard.candidate_score(v, candidate_second=False) for v in (1, 2, 3, 4, 5)]
    assert shown_first == [(1.0, 3), (1.0, 1), (0.5, 1), (0.0, 1), (0.0, 3)]
    assert [p.second_shown_wins(v) for v in (1, 3, 4)] == [0.0, 0.5, 1.0]
    # B>>A with the candidate second (1 x 3), then A>B with the candidate first (1 x 1): 4 / 4
    both = p.combine(Pair("q", "b", "c"), {"baseline_first": 5, "candidate_first": 2})
    # labels: each order's verdict as the judge wrote it, in the frame it was shown (v0.1's failure rule reads them)
    assert both == {"preference": 2.0, "games": [(1.0, 3), (1.0, 1)], "labels": ["B>>A", "A>B"]}
    # B>>A (candidate second: 1 x 3) and B>A with the candidate first (0 x 1): 3 / 4 -> 1.75
    assert p.combine(Pair("q", "b", "c"), {"baseline_first": 5, "candidate_first": 4})["preference"] == 1.75
    # a tie (0.5 x 1) and A>>B with the candidate first (1 x 3): 3.5 / 4
    assert p.combine(Pair("q", "b", "c"), {"baseline_first": 3, "candidate_first": 1})["preference"] == 1.875
    failed = p.combine(Pair("q", "b", "c"), {"baseline_first": 4, "candidate_first": None})
    assert failed == {"preference": None, "games": [(1.0, 1)], "labels": ["B>A", None]}
    assert p.slot_labels(SPEC) == ("A", "B")


def test_mtbench_pair_shows_both_orders_per_turn_with_the_conversation_so_far():
    p = PROTOCOLS["mtbench-pair"]
    calls = p.calls(SPEC, TURNS)
    assert [c.slot for c in calls] == [
        "turn1:baseline_first",
        "turn1:candidate_first",
        "turn2:baseline_first",
        "turn2:candidate_first",
    ]
    last = calls[2].messages[0]
    assert last["turn"] == 2 and last["turns"] == TURNS.turns and last["reference"] == ["r1", "r2"]
    assert last["instruction"] == "first question"
    assert last["conversation_first"] == chat("first question", "b1", "second question", "b2")
    assert last["conversation_second"] == chat("first question", "c1", "second question", "c2")
    one = calls[1].messages[0]
    assert one["turn"] == 1 and one["conversation_first"] == chat("first question", "c1")


@pytest.mark.parametrize(
    ("turn1", "turn2", "per_turn", "preference"),
    [
        ((2.0, 1.0), (1.0, 2.0), [2.0, 1.0], 1.5),  # candidate wins turn 1 in both orders, loses turn 2
        ((2.0, 1.0), (2.0, 1.0), [2.0, 2.0], 2.0),
        ((1.0, 2.0), (1.0, 2.0), [1.0, 1.0], 1.0),
        ((2.0, 2.0), (1.5, 1.5), [1.5, 1.5], 1.5),  # orders disagree; both tie: a tie each
        ((1.0, 1.0), (2.0, None), [1.5, None], 1.5),  # a failed order drops that turn only
        ((None, 1.0), (2.0, 1.0), [None, 2.0], 2.0),
        ((None, None), (1.0, None), [None, None], None),
    ],
)
def test_mtbench_pair_rules(turn1, turn2, per_turn, preference):
    verdicts = {
        "turn1:baseline_first": turn1[0],
        "turn1:candidate_first": turn1[1],
        "turn2:baseline_first": turn2[0],
        "turn2:candidate_first": turn2[1],
    }
    out = PROTOCOLS["mtbench-pair"].combine(TURNS, verdicts)
    assert out == {"preference": preference, "per_turn": per_turn}


def test_mtbench_single_grades_each_turn_of_the_candidate():
    p = PROTOCOLS["mtbench-single"]
    calls = p.calls(SPEC, TURNS)
    assert [c.slot for c in calls] == ["turn1", "turn2"]
    second = calls[1].messages[0]
    assert second["turn"] == 2 and second["reference"] == ["r1", "r2"] and second["turns"] == TURNS.turns
    assert second["instruction"] == "first question"
    assert second["conversation"] == chat("first question", "c1", "second question", "c2")
    assert calls[0].messages[0]["conversation"] == second["conversation"][:2]
    assert p.combine(TURNS, {"turn1": 8.0, "turn2": 5.0}) == {
        "preference": None,
        "score": 6.5,
        "per_turn": [8.0, 5.0],
    }
    assert p.combine(TURNS, {"turn1": 8.0}) == {"preference": None, "score": None, "per_turn": [8.0, None]}


def test_an_unknown_protocol_names_the_spec():
    assert protocol_of(SimpleNamespace(protocol="arenahard", source="x.yaml")) is PROTOCOLS["arenahard"]
    with pytest.raises(ConfigError, match=r"^x\.yaml: unknown protocol 'nope'; known: alpacaeval, arenahard"):
        protocol_of(SimpleNamespace(protocol="nope", source="x.yaml"))
