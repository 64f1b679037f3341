"""Head-to-head win-rate metrics, computed as AlpacaEval's `get_winrate` does.

p = preference - 1 is the probability that the candidate beats the baseline. Rows without a
preference are excluded from the rates but counted in `n_missing`, so they never vanish.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def winrate_metrics(preference: pd.Series | np.ndarray, candidate_outputs: pd.Series | None = None) -> dict:
    pref = np.asarray(preference, dtype=float)
    present = ~np.isnan(pref)
    p = pref[present] - 1.0
    n = len(p)
    # Discrete rate: each p rounded to 0, 1/2 or 1 (exact ties stay ties), as AlpacaEval's ZeroOne rule.
    discrete = np.where(p == 0.5, 0.5, np.round(p))
    out = {
        "win_rate": 100 * p.mean() if n else np.nan,
        "standard_error": 100 * p.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
        "n_wins": int((p > 0.5).sum()),
        "n_wins_base": int((p < 0.5).sum()),
        "n_draws": int((p == 0.5).sum()),
        "n_total": n,
        "n_missing": int((~present).sum()),
        "discrete_win_rate": 100 * discrete.mean() if n else np.nan,
    }
    if candidate_outputs is not None:
        # AlpacaEval truncates the mean length (characters) to an int.
        out["avg_length"] = int(pd.Series(candidate_outputs).str.len().mean())
    return out
