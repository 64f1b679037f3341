"""Biases of the judge behind existing annotations: no new calls."""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgebench.audit.checks import mean_ci


def annotation_biases(annotations: pd.DataFrame) -> dict:
    """P(prefer longer) and the first-slot rate over all candidates' rows of existing annotations (the
    baseline's self-comparison left out); soft preferences count as probabilities.

    First-slot rate: AlpacaEval's swap rule shows the candidate first on about half the instructions,
    chosen at random, so 0.5 + (win rate shown first - win rate shown second) / 2 is the judge's pull
    toward the first slot, free of which answer is better (the raw share of first-shown wins is not:
    the baseline wins most pairs)."""
    from judgebench.judges.protocols import is_swapped

    df = annotations[
        (annotations["generator_1"] != annotations["generator_2"]) & annotations["preference"].notna()
    ]
    p_cand = df["preference"].to_numpy(float) - 1
    longer = df["len_2"].to_numpy() > df["len_1"].to_numpy()
    differ = df["len_2"].to_numpy() != df["len_1"].to_numpy()
    p_longer = np.where(longer, p_cand, 1 - p_cand)[differ]
    swapped = df["instruction"].map(is_swapped).to_numpy(bool)  # swapped: the candidate was shown first

    def first_slot(idx):
        shown_first, shown_second = p_cand[idx][swapped[idx]], p_cand[idx][~swapped[idx]]
        if not len(shown_first) or not len(shown_second):
            return np.nan
        return 0.5 + (shown_first.mean() - shown_second.mean()) / 2

    # bootstrap over instructions (the unit the swap is assigned to)
    codes, uniques = pd.factorize(df["instruction"])
    rows_of = [np.flatnonzero(codes == k) for k in range(len(uniques))]
    rng = np.random.default_rng(0)
    boot = [
        first_slot(np.concatenate([rows_of[k] for k in rng.integers(0, len(uniques), len(uniques))]))
        for _ in range(200)
    ]
    return {
        "n_rows": int(len(df)),
        "n_models": int(df["generator_2"].nunique()),
        "p_prefer_longer": float(p_longer.mean()),
        "p_prefer_longer_ci": mean_ci(p_longer),
        "first_slot_rate": float(first_slot(np.arange(len(df)))),
        "first_slot_rate_ci": (float(np.nanquantile(boot, 0.025)), float(np.nanquantile(boot, 0.975))),
        "win_rate_shown_first": float(p_cand[swapped].mean()),
        "win_rate_shown_second": float(p_cand[~swapped].mean()),
    }


def variant_shifts(board: pd.DataFrame) -> list[dict]:
    """Raw and LC win-rate moves of the `_concise` / `_verbose` variants against their base model."""
    rows = []
    for name in board.index:
        for suffix in ("_concise", "_verbose"):
            if name.endswith(suffix) and name[: -len(suffix)] in board.index:
                b, v = board.loc[name[: -len(suffix)]], board.loc[name]
                rows.append(
                    {
                        "model": name[: -len(suffix)],
                        "variant": suffix[1:],
                        "raw_shift": float(v["win_rate"] - b["win_rate"]),
                        "lc_shift": float(v["length_controlled_winrate"] - b["length_controlled_winrate"]),
                        "length_ratio": float(v["avg_length"] / b["avg_length"]),
                    }
                )
    return rows
