"""Input adapters of the biomarker layer: marker matrices, outcome classes, survival columns.

Everything is converted once here (pandas at the edge), so that the screen and the validation
work on plain float arrays and bad input fails with a message that names the argument.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray


def as_marker_matrix(
    values: Any, markers: Sequence[str] | None = None
) -> tuple[NDArray[np.float64], tuple[str, ...], pd.Index | None]:
    """(patients x markers) floats, marker names, and the row index of a DataFrame input."""
    index: pd.Index | None = None
    if isinstance(values, pd.Series):
        values = values.to_frame()
    if isinstance(values, pd.DataFrame):
        names = tuple(str(c) for c in values.columns)
        index = values.index
        try:
            arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError("values must be numeric marker columns (one column per marker)") from exc
    else:
        try:
            arr = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError("values must be numeric (patients x markers)") from exc
        if arr.ndim == 1:
            arr = arr[:, None]
        names = tuple(f"marker{j + 1}" for j in range(arr.shape[1])) if arr.ndim == 2 else ()
    if arr.ndim != 2:
        raise ValueError(f"values must be 2-D (patients x markers); got {arr.ndim}-D")
    if markers is not None:
        if len(markers) != arr.shape[1]:
            raise ValueError(f"markers has {len(markers)} names but values has {arr.shape[1]} columns")
        names = tuple(str(m) for m in markers)
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"duplicate marker names: {dup[:5]}")
    if np.isinf(arr).any():
        raise ValueError("values contain infinite numbers; use NaN for a missing measurement")
    return arr, names, index


def as_outcome(outcome: ArrayLike, n: int, name: str = "outcome") -> NDArray[np.float64]:
    """Outcome per patient as 1.0 (positive class = failure), 0.0 or NaN (not evaluable)."""
    arr = np.asarray(outcome.to_numpy() if isinstance(outcome, pd.Series) else outcome)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one entry per patient); got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} entries but values has {n} patients (rows)")
    if arr.dtype == np.bool_:
        return arr.astype(np.float64)
    if arr.dtype.kind == "O":
        arr = np.array([np.nan if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v
                        for v in arr], dtype=object)
    try:
        num = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be boolean or 0/1 (1 = failure, e.g. NR/ER); NaN = not evaluable") from exc
    known = ~np.isnan(num)
    bad = known & (num != 0) & (num != 1)
    if bad.any():
        raise ValueError(f"{name} must be boolean or 0/1 (1 = failure); found {num[bad][0]!r}")
    return num


def as_survival(
    time: ArrayLike | None, event: ArrayLike | None, n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """(time, event) as floats with NaN for unknown, or None when neither is given."""
    if time is None and event is None:
        return None
    if time is None or event is None:
        raise ValueError("give both time and event (or neither)")
    out = []
    for arr_in, name in ((time, "time"), (event, "event")):
        try:
            arr = np.asarray(arr_in, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric (NaN for unknown)") from exc
        if arr.ndim != 1 or arr.shape[0] != n:
            raise ValueError(f"{name} must be 1-D with one entry per patient ({n}); got shape {arr.shape}")
        out.append(arr)
    t, e = out
    ok = ~np.isnan(e)
    if np.any((e[ok] != 0) & (e[ok] != 1)):
        raise ValueError("event must be 0/1 (1 = event)")
    if np.any(t[~np.isnan(t)] < 0):
        raise ValueError("time must be >= 0 (days from the index infusion)")
    return t, e


def reference_values(
    reference: pd.DataFrame | Mapping[str, float] | pd.Series,
    names: Sequence[str],
    stat: str,
) -> NDArray[np.float64]:
    """Per-marker healthy-donor reference: mean or median over donors (NaN ignored)."""
    if stat not in ("mean", "median"):
        raise ValueError(f"reference_stat must be 'mean' or 'median'; got {stat!r}")
    if isinstance(reference, pd.DataFrame):
        missing = [m for m in names if m not in reference.columns]
        if missing:
            raise ValueError(f"reference has no donor values for marker(s) {missing[:5]}")
        ref = reference.loc[:, list(names)].to_numpy(dtype=np.float64, na_value=np.nan)
        counts = (~np.isnan(ref)).sum(axis=0)
        if (counts == 0).any():
            empty = [m for m, c in zip(names, counts) if c == 0]
            raise ValueError(f"reference has only missing donor values for marker(s) {empty[:5]}")
        out = np.nanmean(ref, axis=0) if stat == "mean" else np.nanmedian(ref, axis=0)
    else:
        series = pd.Series(reference)
        missing = [m for m in names if m not in series.index]
        if missing:
            raise ValueError(f"reference has no value for marker(s) {missing[:5]}")
        out = series.loc[list(names)].to_numpy(dtype=np.float64)
    if np.any(~(out > 0)):
        bad = [m for m, v in zip(names, out) if not v > 0]
        raise ValueError(f"reference values must be > 0 to form fold changes; not so for {bad[:5]}")
    return np.asarray(out, dtype=np.float64)
