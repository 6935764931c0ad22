"""Time axes in days or months (a month is 30.4375 days = 365.25 / 12, as in
:mod:`cartscope.clinical.endpoints`), with tick positions a clinician expects."""

from __future__ import annotations

from typing import Literal

from cartscope.analysis.time_marks import nice_ticks  # one rule for ticks and published risk tables

TimeUnit = Literal["months", "days"]

MONTH_DAYS = 30.4375

__all__ = ["MONTH_DAYS", "TimeUnit", "axis_label", "check_unit", "nice_ticks", "per_day"]


def check_unit(unit: str) -> TimeUnit:
    if unit not in ("months", "days"):
        raise ValueError(f"unit must be 'months' or 'days', got {unit!r}")
    return unit  # type: ignore[return-value]


def per_day(unit: TimeUnit) -> float:
    """Factor from days to ``unit``."""
    return 1.0 / MONTH_DAYS if unit == "months" else 1.0


def axis_label(unit: TimeUnit, origin: str = "infusion") -> str:
    return f"{'Months' if unit == 'months' else 'Days'} since {origin}"

