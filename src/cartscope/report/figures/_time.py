"""Time axes in days or months (a month is 30.4375 days = 365.25 / 12, as in
:mod:`cartscope.clinical.endpoints`), with tick positions a clinician expects."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

TimeUnit = Literal["months", "days"]

MONTH_DAYS = 30.4375

_MONTH_STEPS = (1, 2, 3, 6, 12, 24, 36, 60, 120)
_DAY_STEPS = (1, 2, 5, 7, 10, 14, 20, 28, 30, 50, 60, 90, 100, 180, 200, 365, 500, 730, 1000)


def check_unit(unit: str) -> TimeUnit:
    if unit not in ("months", "days"):
        raise ValueError(f"unit must be 'months' or 'days', got {unit!r}")
    return unit  # type: ignore[return-value]


def per_day(unit: TimeUnit) -> float:
    """Factor from days to ``unit``."""
    return 1.0 / MONTH_DAYS if unit == "months" else 1.0


def axis_label(unit: TimeUnit, origin: str = "infusion") -> str:
    return f"{'Months' if unit == 'months' else 'Days'} since {origin}"


def nice_ticks(xmax: float, unit: TimeUnit, max_ticks: int = 8) -> NDArray[np.float64]:
    """Ticks 0, s, 2s, ... covering [0, xmax] with the smallest customary step s (months:
    1, 2, 3, 6, 12, ...; days: 7, 14, 28, 30, 90, 180, 365, ...) that keeps at most
    ``max_ticks`` ticks. The last tick is the first multiple of s at or beyond ``xmax``."""
    xmax = float(xmax)
    if not np.isfinite(xmax) or xmax <= 0:
        return np.array([0.0, 1.0])
    steps = _MONTH_STEPS if unit == "months" else _DAY_STEPS
    for s in steps:
        n = int(np.ceil(xmax / s - 1e-9))
        if n + 1 <= max_ticks:
            return np.arange(n + 1, dtype=float) * s
    s = float(10 ** np.ceil(np.log10(xmax / (max_ticks - 1))))
    n = int(np.ceil(xmax / s - 1e-9))
    return np.arange(n + 1, dtype=float) * s
