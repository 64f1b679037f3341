"""MT-Bench's figures, as FastChat reports them.

Single-answer grading (1-10 per turn): the mean over every graded turn (the MT-Bench score), the mean
of each turn, and the mean per category; a turn the judge could not grade is left out and counted.
Pairwise grading against a baseline: wins, ties and losses over (question, turn), the win rate and the
win rate counting a tie as half.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def _turn_frame(records: list[dict]) -> pd.DataFrame:
    rows = []
    for r in records:
        for t, v in enumerate(r.get("per_turn") or [], 1):
            rows.append({"question": r["instruction"], "category": r.get("dataset"), "turn": t, "value": v})
    return pd.DataFrame(rows, columns=["question", "category", "turn", "value"])


def single_summary(records: list[dict]) -> dict:
    """{"score", "turn_1", "turn_2", "per_category": {...}, "n_questions", "n_turns_graded", "n_turns_failed"}"""
    turns = _turn_frame(records)
    graded = turns.dropna(subset=["value"])
    out: dict[str, Any] = {
        "score": float(graded["value"].mean()) if len(graded) else None,
        "n_questions": len(records),
        "n_turns_graded": len(graded),
        "n_turns_failed": int(turns["value"].isna().sum()),
    }
    for t, g in graded.groupby("turn"):
        out[f"turn_{t}"] = float(g["value"].mean())
    out["per_category"] = {str(c): float(g["value"].mean()) for c, g in graded.groupby("category")}
    return out


def pairwise_summary(records: list[dict]) -> dict:
    """Per-turn preferences (2 candidate better, 1 baseline better, 1.5 tie) -> win/tie/loss."""
    values = _turn_frame(records)["value"].dropna().to_numpy(float)
    win, loss = int((values == 2.0).sum()), int((values == 1.0).sum())
    tie = len(values) - win - loss
    n = len(values)
    return {
        "win": win,
        "tie": tie,
        "loss": loss,
        "win_rate": 100 * win / n if n else None,
        "win_rate_adjusted": 100 * (win + 0.5 * tie) / n if n else None,
    }


def per_question_scores(records: list[dict]) -> pd.Series:
    """Each question's mean over its graded turns (single grading), by first turn; for paired tests."""
    turns = _turn_frame(records).dropna(subset=["value"])
    return turns.groupby("question")["value"].mean() if len(turns) else pd.Series(dtype=float)


def paired_difference(a: pd.Series, b: pd.Series) -> dict:
    """Mean of b - a over the questions both have; paired t-interval and t-test."""
    from judgebench.stats.paired import paired_t

    both = pd.concat([a.rename("a"), b.rename("b")], axis=1).dropna()
    n = len(both)
    d = (both["b"] - both["a"]).to_numpy()
    if n < 2:
        return {
            "difference": float(d.mean()) if n else None,
            "ci_low": None,
            "ci_high": None,
            "p_value": None,
            "n": n,
            "method": "paired t-test (too few questions)",
        }
    mean, low, high, p = paired_t(both["a"], both["b"])
    return {
        "difference": mean,
        "ci_low": low,
        "ci_high": high,
        "p_value": p,
        "n": n,
        "method": "paired t-test over questions",
    }
