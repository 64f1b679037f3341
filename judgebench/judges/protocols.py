"""Protocols: which calls a pair needs (order, turns), and how their verdicts become a preference.

Every protocol ends in AlpacaEval's convention: preference 1 = baseline better, 2 = candidate
better, 1.5 = tie, in between = soft; None = no verdict (counted as missing, never a tie).

- alpacaeval:  one call; the pair is shown swapped iff Random("is_switched_outputs" + instruction
               + "0") says so (AlpacaEval's rule, so every model sees an instruction in the same
               order); identical outputs get 1.5 without a call.
- arenahard:   two calls, baseline first then candidate first; five-level verdicts; the pair's
               preference is the weighted mean of the candidate's scores (a strong verdict counts 3
               times, as Arena-Hard v0.1's --weight 3; a tie is half). `labels` keeps each order's
               verdict as arena-hard-auto's files write it (game 1 shows the baseline as A), so the
               official result scripts' statistics read the suite's judgments as they read their own.
- mtbench-pair: two calls per turn in both orders; the orders must agree, else a tie; a turn where an
               order failed is left out, that turn only (FastChat's rule).
- mtbench-single: one call per turn grading the candidate alone, 1-10; `score` is their mean.

Adding one: a Protocol subclass here, registered with @PROTOCOLS.register(), that states its capabilities
(multi_turn, pairwise, yields); the code that drives protocols reads those, never a protocol's name. A
judge spec names it (prompts/NAME.yaml + template); a new kind of verdict adds a parser (parsers.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from judgebench.judges.spec import JudgeSpec
from judgebench.registry import Registry


@dataclass
class Pair:
    instruction: str
    baseline: str  # output_1
    candidate: str  # output_2
    generator_1: str = "baseline"
    generator_2: str = "candidate"
    dataset: str | None = None
    # multi-turn (MT-Bench): the user turns and each side's answers, one per turn
    turns: list[str] = field(default_factory=list)
    baseline_turns: list[str] = field(default_factory=list)
    candidate_turns: list[str] = field(default_factory=list)
    reference: list[str] | None = None
    # WildBench: the earlier turns as its prompt shows them, the task's checklist, and what its records
    # carry for the statistic (session_id, task groups)
    history: str = ""
    checklist: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)


@dataclass
class Call:
    slot: str  # identifies the call within the pair: order shown and turn
    messages: list[dict]


def is_swapped(instruction: str, seed: int = 0) -> bool:
    return random.Random("is_switched_outputs" + instruction + str(seed)).choices([False, True])[0]


class Protocol:
    name = "abstract"
    # What the protocol is, for the code that drives it (never test the protocol's name instead):
    multi_turn = False  # pairs carry conversations (turns, one answer per turn), e.g. MT-Bench
    pairwise = True  # the judge compares the candidate with the baseline (else it grades one answer)
    yields = "preference"  # "preference" (1..2, the win-rate statistics) or "score" (a grade per answer)

    def calls(self, spec: JudgeSpec, pair: Pair) -> list[Call]:
        raise NotImplementedError

    def combine(self, pair: Pair, verdicts: dict[str, float | None]) -> dict:
        """{"preference": float | None, ...details}; verdicts maps slot -> parsed verdict or None."""
        raise NotImplementedError

    # For pairwise protocols, how one call's verdict reads in the order shown (the audit uses these):
    def second_shown_wins(self, verdict: float) -> float:
        """P(the answer shown second is better) from one call's parsed verdict: 1 = first, 2 = second."""
        return verdict - 1.0

    def slot_labels(self, spec: JudgeSpec) -> tuple[str, str]:
        """The tokens a verdict for the first / second shown answer starts with."""
        return ("A", "B")


PROTOCOLS: Registry[Protocol] = Registry("protocol", entry=lambda cls: cls())


@PROTOCOLS.register()
class AlpacaEval(Protocol):
    name = "alpacaeval"

    def calls(self, spec, pair):
        if pair.baseline == pair.candidate:
            return []
        swapped = is_swapped(pair.instruction)
        first, second = (pair.candidate, pair.baseline) if swapped else (pair.baseline, pair.candidate)
        slot = "swapped" if swapped else "plain"
        return [
            Call(slot, spec.render(instruction=pair.instruction, output_first=first, output_second=second))
        ]

    def combine(self, pair, verdicts):
        if pair.baseline == pair.candidate:
            return {"preference": 1.5}
        ((slot, v),) = verdicts.items()
        if v is None:
            return {"preference": None}
        return {"preference": 3.0 - v if slot == "swapped" else v}

    def slot_labels(self, spec):
        return (spec.labels[0], spec.labels[1])  # the template's own output labels (e.g. m / M)


@PROTOCOLS.register()
class ArenaHard(Protocol):
    name = "arenahard"

    def calls(self, spec, pair):
        return [
            Call(
                "baseline_first",
                spec.render(
                    instruction=pair.instruction, output_first=pair.baseline, output_second=pair.candidate
                ),
            ),
            Call(
                "candidate_first",
                spec.render(
                    instruction=pair.instruction, output_first=pair.candidate, output_second=pair.baseline
                ),
            ),
        ]

    @staticmethod
    def candidate_score(level: float, candidate_second: bool) -> tuple[float, int]:
        """(score of the candidate in [0, 1], weight) from a level 1..5 in the shown frame."""
        level = level if candidate_second else 6 - level
        return {1: (0.0, 3), 2: (0.0, 1), 3: (0.5, 1), 4: (1.0, 1), 5: (1.0, 3)}[int(level)]

    def second_shown_wins(self, verdict):
        return self.candidate_score(verdict, candidate_second=True)[0]  # five levels, 5 = [[B>>A]]

    # a level 1..5 in the order shown, as a label of arena-hard-auto's judgment files
    LABELS = {1: "A>>B", 2: "A>B", 3: "A=B", 4: "B>A", 5: "B>>A"}

    def combine(self, pair, verdicts):
        games = []
        for slot, v in verdicts.items():
            if v is not None:
                games.append(self.candidate_score(v, candidate_second=slot == "baseline_first"))
        labels = [
            None if verdicts.get(slot) is None else self.LABELS[int(verdicts[slot])]
            for slot in ("baseline_first", "candidate_first")
        ]
        if len(games) < len(verdicts):
            return {"preference": None, "games": games, "labels": labels}
        total = sum(w for _, w in games)
        return {"preference": 1 + sum(s * w for s, w in games) / total, "games": games, "labels": labels}


def _conversation(pair: Pair, answers: list[str], upto: int) -> list[dict]:
    conv = []
    for t in range(upto + 1):
        conv.append({"role": "user", "content": pair.turns[t]})
        conv.append({"role": "assistant", "content": answers[t]})
    return conv


@PROTOCOLS.register()
class MTBenchPair(Protocol):
    name = "mtbench-pair"
    multi_turn = True

    def calls(self, spec, pair):
        out = []
        for t in range(len(pair.turns)):
            for slot, (a, b) in (
                ("baseline_first", (pair.baseline_turns, pair.candidate_turns)),
                ("candidate_first", (pair.candidate_turns, pair.baseline_turns)),
            ):
                messages = spec.render(
                    turn=t + 1,
                    conversation_first=_conversation(pair, a, t),
                    conversation_second=_conversation(pair, b, t),
                    turns=pair.turns,
                    reference=pair.reference,
                    instruction=pair.instruction,
                )
                out.append(Call(f"turn{t + 1}:{slot}", messages))
        return out

    def combine(self, pair, verdicts):
        per_turn = []
        for t in range(len(pair.turns)):
            v1, v2 = verdicts.get(f"turn{t + 1}:baseline_first"), verdicts.get(f"turn{t + 1}:candidate_first")
            if v1 is None or v2 is None:  # FastChat leaves out this turn only
                per_turn.append(None)
                continue
            # v1: baseline shown first (2.0 = candidate better); v2: candidate first (1.0 = candidate better)
            if v1 == 2.0 and v2 == 1.0:
                per_turn.append(2.0)
            elif v1 == 1.0 and v2 == 2.0:
                per_turn.append(1.0)
            else:
                per_turn.append(1.5)  # the two orders disagree, or both said tie
        judged = [v for v in per_turn if v is not None]
        preference = sum(judged) / len(judged) if judged else None
        return {"preference": preference, "per_turn": per_turn}


@PROTOCOLS.register()
class MTBenchSingle(Protocol):
    name = "mtbench-single"
    multi_turn = True
    pairwise = False
    yields = "score"

    def calls(self, spec, pair):
        return [
            Call(
                f"turn{t + 1}",
                spec.render(
                    turn=t + 1,
                    conversation=_conversation(pair, pair.candidate_turns, t),
                    turns=pair.turns,
                    reference=pair.reference,
                    instruction=pair.instruction,
                ),
            )
            for t in range(len(pair.turns))
        ]

    def combine(self, pair, verdicts):
        scores = [verdicts.get(f"turn{t + 1}") for t in range(len(pair.turns))]
        if any(s is None for s in scores):
            return {"preference": None, "score": None, "per_turn": scores}
        return {"preference": None, "score": sum(scores) / len(scores), "per_turn": scores}


# WildBench's rule for blank answers (src/eval.py): no judge call; pairwise, a blank answer loses
# much (both blank: a tie), as levels of the candidate (5: much better); graded alone, a blank one gets 1
BLANK_LEVEL = {(True, True): 3.0, (True, False): 1.0, (False, True): 5.0}
BLANK_SCORE = 1.0


def _references(pair: Pair) -> dict[str, str]:
    """The reference models' answers a WildBench pair is judged against: the task's own (WB-Reward's
    three reference models), else the baseline."""
    return pair.meta.get("references") or {pair.generator_1: pair.baseline}


@PROTOCOLS.register()
class WildBenchPair(Protocol):
    """One call per reference model, the two answers placed as A/B by a seeded coin per instruction and
    reference (WildBench draws at random); a blank answer gets WildBench's verdict without a call. Each
    reference's verdict is kept as WildBench's files keep it: winner and extent (0 tie, 1, 2)."""

    name = "wildbench-pair"

    def calls(self, spec, pair):
        common = {"instruction": pair.instruction, "history": pair.history, "checklist": pair.checklist}
        out = []
        for ref, answer in _references(pair).items():
            if not pair.candidate.strip() or not answer.strip():
                continue  # BLANK_LEVEL decides
            swapped = is_swapped(pair.instruction + ref)  # True: the candidate is shown as A
            a, b = (pair.candidate, answer) if swapped else (answer, pair.candidate)
            slot = f"{ref}|" + ("candidate_A" if swapped else "candidate_B")
            out.append(Call(slot, spec.render(candidate_A=a, candidate_B=b, **common)))
        return out

    def second_shown_wins(self, verdict):
        return (verdict - 1.0) / 4.0

    def combine(self, pair, verdicts):
        levels: dict[str, float | None] = {}  # reference -> the candidate's level (5: much better)
        by_ref: dict[str, dict] = {}
        for ref, answer in _references(pair).items():
            blank = (not pair.candidate.strip(), not answer.strip())
            if any(blank):
                levels[ref] = BLANK_LEVEL[blank]
                by_ref[ref] = {"rule": "blank answer: WildBench's verdict, no call"}
            else:
                ((slot, v),) = [(s, v) for s, v in verdicts.items() if s.rsplit("|", 1)[0] == ref]
                levels[ref] = None if v is None else v if slot.endswith("candidate_B") else 6 - v
                by_ref[ref] = {}
            by_ref[ref].update(_winner(levels[ref]))
            if "references" in pair.meta:  # the statistic reads each answer's length and marks
                by_ref[ref]["output"] = answer
        known = [lv for lv in levels.values() if lv is not None]
        out = {
            # a failed call against any reference: no preference (a rerun retries it); never a tie
            "preference": sum(1 + (lv - 1) / 4 for lv in known) / len(known)
            if len(known) == len(levels)
            else None,
            "wildbench": by_ref,
            **{k: v for k, v in pair.meta.items() if k != "references"},
        }
        if len(by_ref) == 1:  # one reference: its verdict also as WildBench's files hold it
            out.update(_winner(next(iter(levels.values()))))
        return out


def _winner(level: float | None) -> dict:
    if level is None:
        return {"winner": None, "extent": None}
    winner = "tie" if level == 3 else "candidate" if level > 3 else "baseline"
    return {"winner": winner, "extent": {3: 0, 2: 1, 4: 1}.get(int(level), 2)}


@PROTOCOLS.register()
class WildBenchScore(Protocol):
    name = "wildbench-score"
    pairwise = False
    yields = "score"

    def calls(self, spec, pair):
        if not pair.candidate.strip():
            return []  # BLANK_SCORE, as WildBench scores a blank answer
        common = {"instruction": pair.instruction, "history": pair.history, "checklist": pair.checklist}
        return [Call("single", spec.render(model_output=pair.candidate, **common))]

    def combine(self, pair, verdicts):
        if not pair.candidate.strip():
            rule = "blank answer: WildBench's score, no call"
            return {"preference": None, "score": BLANK_SCORE, "rule": rule, **pair.meta}
        return {"preference": None, "score": verdicts.get("single"), **pair.meta}


def protocol_of(spec: JudgeSpec) -> Protocol:
    """The protocol object a judge spec names; an unknown name is a ConfigError naming the spec."""
    return PROTOCOLS.pick(spec.protocol, where=spec.source)
