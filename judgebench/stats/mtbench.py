"""MT-Bench's figures, computed as FastChat's fastchat/llm_judge/show_result.py computes them.

Single-answer grading (a 1-10 rating per turn, -1 where the judge's reply held none): a failed rating is
left out of its turn only; the MT-Bench score is the mean over every remaining rating (not the mean of the
two turn means), turn_1 / turn_2 the mean of each turn's.
Pairwise grading (each turn judged twice, the answers shown in both orders): a turn where either order
failed ("error") is left out, that turn only; the two orders must agree on a winner, else the turn is a
tie for both models (so is a turn both call a tie). win_rate = win / (win + loss + tie) and
win_rate_adjusted = (win + tie / 2) / (win + loss + tie), as fractions. Against a baseline, only games
with the baseline count and the baseline's own row is dropped; "pairwise-all" counts every game.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

FAILED_RATING = -1  # what FastChat records when the reply holds no rating
WINNERS = ("model_1", "model_2", "tie", "error")  # FastChat's g1_winner / g2_winner values


def single_table(frame: pd.DataFrame) -> pd.DataFrame:
    """frame: a row per judged turn (model, turn, score; -1 = failed) -> a row per model with score,
    turn_1, turn_2 (NaN where the model has no rating in that turn), best first. A model whose every
    rating failed has no row, as in FastChat."""
    graded = frame[frame["score"] != FAILED_RATING]
    board = graded.groupby("model")["score"].mean().to_frame("score")
    for turn in (1, 2):
        board[f"turn_{turn}"] = graded[graded["turn"] == turn].groupby("model")["score"].mean()
    board.index.name = "model"
    return board.sort_values(["score"], ascending=False, kind="stable")


def pairwise_table(frame: pd.DataFrame, baseline: str | None = None) -> pd.DataFrame:
    """frame: a row per judged turn (model_1, model_2, g1_winner, g2_winner, in model_1/model_2/tie/error)
    -> a row per model with win, loss, tie, win_rate, win_rate_adjusted, best first. baseline: only its
    games, and no row for it (FastChat's pairwise-baseline); None: every game (pairwise-all)."""
    ok = frame[(frame["g1_winner"] != "error") & (frame["g2_winner"] != "error")]
    if baseline is not None:
        ok = ok[(ok["model_1"] == baseline) | (ok["model_2"] == baseline)]
    decided = (ok["g1_winner"] != "tie") & (ok["g1_winner"] == ok["g2_winner"])
    first_won = ok["g1_winner"] == "model_1"
    winner = np.where(first_won, ok["model_1"], ok["model_2"])
    loser = np.where(first_won, ok["model_2"], ok["model_1"])
    d = decided.to_numpy()
    tied = ok[~decided]
    games = pd.concat(
        [
            pd.DataFrame({"model": winner[d], "win": 1, "loss": 0, "tie": 0}),
            pd.DataFrame({"model": loser[d], "win": 0, "loss": 1, "tie": 0}),
            pd.DataFrame({"model": tied["model_1"].to_numpy(), "win": 0, "loss": 0, "tie": 1}),
            pd.DataFrame({"model": tied["model_2"].to_numpy(), "win": 0, "loss": 0, "tie": 1}),
        ]
    )
    board = games.groupby("model")[["win", "loss", "tie"]].sum()
    if baseline is not None:
        board = board[board.index != baseline]
    total = board["win"] + board["loss"] + board["tie"]
    board["win_rate"] = board["win"] / total
    board["win_rate_adjusted"] = (board["win"] + 0.5 * board["tie"]) / total
    board.index.name = "model"
    return board.sort_values("win_rate_adjusted", ascending=False, kind="stable")


def _turn_frame(records: list[dict]) -> pd.DataFrame:
    rows = []
    for r in records:
        for t, v in enumerate(r.get("per_turn") or [], 1):
            rows.append({"question": r["instruction"], "category": r.get("dataset"), "turn": t, "value": v})
    return pd.DataFrame(rows, columns=["question", "category", "turn", "value"])


def single_summary(records: list[dict]) -> dict:
    """One model's annotation records (per_turn ratings, None = failed) -> {"score", "turn_1", "turn_2",
    "per_category": {...}, "n_questions", "n_turns_graded", "n_turns_failed"}; FastChat's rules."""
    turns = _turn_frame(records)
    graded = turns.dropna(subset=["value"])
    frame = pd.DataFrame(
        {"model": "model", "turn": turns["turn"], "score": turns["value"].fillna(FAILED_RATING).astype(float)}
    )
    table = single_table(frame)
    out: dict[str, Any] = {
        "score": float(table.loc["model", "score"]) if len(table) else None,
        "n_questions": len(records),
        "n_turns_graded": len(graded),
        "n_turns_failed": int(turns["value"].isna().sum()),
    }
    for t in sorted(graded["turn"].unique()):
        out[f"turn_{t}"] = float(graded.loc[graded["turn"] == t, "value"].mean())
    out["per_category"] = {str(c): float(g["value"].mean()) for c, g in graded.groupby("category")}
    return out


_AS_WINNER = {2.0: "model_1", 1.0: "model_2", 1.5: "tie"}  # candidate = model_1, baseline = model_2


def pairwise_summary(records: list[dict]) -> dict:
    """One model's records against the baseline (per_turn: 2 candidate better, 1 baseline better, 1.5 tie
    or the orders disagreed, None failed) -> win/tie/loss and the rates in percent; FastChat's rules."""
    values = _turn_frame(records)["value"]
    winners = [_AS_WINNER.get(v, "error") if v is not None and v == v else "error" for v in values]
    frame = pd.DataFrame(
        {"model_1": "candidate", "model_2": "baseline", "g1_winner": winners, "g2_winner": winners},
        columns=["model_1", "model_2", "g1_winner", "g2_winner"],
    )
    table = pairwise_table(frame, baseline="baseline")
    if "candidate" not in table.index:
        return {"win": 0, "tie": 0, "loss": 0, "win_rate": None, "win_rate_adjusted": None}
    row = table.loc["candidate"]
    return {
        "win": int(row["win"]),
        "tie": int(row["tie"]),
        "loss": int(row["loss"]),
        "win_rate": 100 * float(row["win_rate"]),
        "win_rate_adjusted": 100 * float(row["win_rate_adjusted"]),
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
