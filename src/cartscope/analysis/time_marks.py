"""Time marks a clinician expects on a follow-up axis (months 1, 2, 3, 6, 12, ...; days 7,
14, 28, 30, 90, ...): the x ticks of the report's time figures and the times of the risk
tables the analyses publish under them, so both come from one rule. A month is 30.4375 days
(365.25 / 12, :data:`cartscope.clinical.endpoints.MONTH_DAYS`)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

MONTH_STEPS = (1, 2, 3, 6, 12, 24, 36, 60, 120)
DAY_STEPS = (1, 2, 5, 7, 10, 14, 20, 28, 30, 50, 60, 90, 100, 180, 200, 365, 500, 730, 1000)


def nice_ticks(xmax: float, unit: str, max_ticks: int = 8) -> NDArray[np.float64]:
    """Ticks 0, s, 2s, ... covering [0, xmax] (``xmax`` in ``unit``, "months" or "days")
    with the smallest customary step s that keeps at most ``max_ticks`` ticks. The last tick
    is the first multiple of s at or beyond ``xmax``."""
    xmax = float(xmax)
    if not np.isfinite(xmax) or xmax <= 0:
        return np.array([0.0, 1.0])
    steps = MONTH_STEPS if unit == "months" else DAY_STEPS
    for s in steps:
        n = int(np.ceil(xmax / s - 1e-9))
        if n + 1 <= max_ticks:
            return np.arange(n + 1, dtype=float) * s
    s = float(10 ** np.ceil(np.log10(xmax / (max_ticks - 1))))
    n = int(np.ceil(xmax / s - 1e-9))
    return np.arange(n + 1, dtype=float) * s


__all__ = ["DAY_STEPS", "MONTH_STEPS", "nice_ticks"]
