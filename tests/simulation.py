"""Synthetic judge annotations with a known truth, for coverage and recovery tests.

Instruction i has a difficulty d_i ~ N(0, 1.5^2); the candidate's output differs in length from
the baseline's by a standardised amount u_i ~ N(0.4, 1); the judge's soft preference is
sigmoid(w_len tanh(u_i) + a d_i + b + noise_i), noise_i ~ N(0, 1): a noisy judge, so the GLM
is misspecified as real judges make it. Two gamed baselines (the baseline itself, made longer
or shorter) share w_len and a with b = 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

TRUE = {"w_len": -1.2, "a": 0.9, "b": -1.0}


def simulate(n: int, rng: np.random.Generator, params: dict = TRUE, judge_noise: float = 1.0):
    """(annotations, difficulty Series, gamed rows) for n instructions; lengths in characters."""
    d = rng.normal(0, 1.5, n)
    u = rng.normal(0.4, 1.0, n)
    eta = params["w_len"] * np.tanh(u) + params["a"] * d + params["b"] + rng.normal(0, judge_noise, n)
    inst = [f"instruction {i} {rng.integers(1 << 62)}" for i in range(n)]
    len_2 = np.full(n, 1000.0)
    ann = pd.DataFrame(
        {
            "instruction": inst,
            "generator_1": "base",
            "generator_2": "cand",
            "len_1": len_2 + 300 * u,
            "len_2": len_2,
            "preference": 1 + expit(eta),
        }
    )
    gamed = []
    for name, shift in (("verbose", -1.5), ("concise", 1.2)):
        ug = rng.normal(shift, 0.8, n)
        eg = params["w_len"] * np.tanh(ug) + params["a"] * d + rng.normal(0, judge_noise, n)
        gamed.append(
            pd.DataFrame(
                {"generator": name, "instruction": inst, "std_delta_len": ug, "preference": 1 + expit(eg)}
            )
        )
    return ann, pd.Series(d, index=inst), pd.concat(gamed, ignore_index=True)
