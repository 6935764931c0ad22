"""Input checks shared by the survival estimators.

Every public estimator converts its inputs here, so that bad input fails early with a message
naming the argument, instead of a traceback from deep inside numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


def check_level(level: float) -> float:
    """Return ``level`` as a float after checking it is a confidence level in (0, 1)."""
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}") from None
    if not 0.0 < value < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return value


def as_1d(values: ArrayLike, name: str) -> NDArray[Any]:
    """Return ``values`` as a one-dimensional array (scalars and pandas objects accepted)."""
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def as_time_event(time: ArrayLike, event: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Check right-censored survival data and return (time as float64, event as bool).

    ``time`` must be finite and non-negative (days from the index date); ``event`` must be
    1/0, True/False (1 = event observed, 0 = censored). Both must have the same length, at
    least one.
    """
    t_raw = as_1d(time, "time")
    e_raw = as_1d(event, "event")
    if t_raw.shape[0] != e_raw.shape[0]:
        raise ValueError(
            f"time and event must have the same length, got {t_raw.shape[0]} and {e_raw.shape[0]}"
        )
    if t_raw.shape[0] == 0:
        raise ValueError("no observations: time and event are empty")
    try:
        t = t_raw.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError("time must be numeric") from None
    bad = ~np.isfinite(t)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"time has {int(bad.sum())} missing or infinite value(s) (first at position {first}); "
            "drop those patients before the analysis"
        )
    if (t < 0).any():
        first = int(np.flatnonzero(t < 0)[0])
        raise ValueError(f"time must be >= 0, got {t[first]!r} at position {first}")
    if e_raw.dtype == np.bool_:
        e = e_raw
    else:
        try:
            e_num = e_raw.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError("event must be 0/1 or True/False") from None
        valid = (e_num == 0) | (e_num == 1)
        if not valid.all():
            first = int(np.flatnonzero(~valid)[0])
            raise ValueError(
                f"event must be 0/1 or True/False, got {e_raw[first]!r} at position {first}"
            )
        e = e_num == 1
    return t, e


def as_labels(values: ArrayLike, name: str, n: int) -> NDArray[Any]:
    """Check a per-patient label array (group or stratum) of length ``n`` without missing values."""
    arr = as_1d(values, name)
    if arr.shape[0] != n:
        raise ValueError(f"{name} must have one value per patient ({n}), got {arr.shape[0]}")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(f"{name} has missing values; drop those patients before the analysis")
    if arr.dtype.kind == "O":
        missing = np.array([v is None or (isinstance(v, float) and v != v) for v in arr])
        if missing.any():
            raise ValueError(f"{name} has missing values; drop those patients before the analysis")
    return arr
