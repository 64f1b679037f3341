"""Multiple comparisons: Holm's step-down adjustment (controls the family-wise error rate).

    holm([0.01, 0.04, 0.03])  # -> [0.03, 0.06, 0.06]

Sort the m p-values ascending; the i-th smallest (i from 0) is multiplied by (m - i); running
maximum so adjusted values keep the order; capped at 1. Missing p-values (None/NaN) stay missing
and do not count towards m.
"""

from __future__ import annotations

import math


def holm(p_values: list[float | None]) -> list[float | None]:
    present = [(p, i) for i, p in enumerate(p_values) if p is not None and not math.isnan(p)]
    for p, i in present:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p-value {p} at position {i} is outside [0, 1]")
    m = len(present)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(present)):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted
