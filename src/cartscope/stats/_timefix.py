"""R survival's ``timefix``: times that differ by rounding error only are one time.

R's ``aeqSurv`` (applied by ``survfit``, ``survdiff`` and ``coxph`` unless ``timefix =
FALSE``): the sorted distinct finite times are scanned and a time closer to its predecessor
than ``tolerance`` - absolutely, or relative to the mean absolute time - is replaced by the
first time of its run (the cut points are the times that start a run), so that 0.1 + 0.2 and
0.3 are one tied time.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

TOLERANCE = float(np.sqrt(np.finfo(float).eps))


def merge_near_ties(time: NDArray[np.float64], tolerance: float = TOLERANCE) -> NDArray[np.float64]:
    """``time`` with near-equal values replaced by the first of their run (R ``aeqSurv``)."""
    t = np.asarray(time, dtype=np.float64)
    unique_t = np.unique(t[np.isfinite(t)])
    if unique_t.shape[0] < 2:
        return t
    gaps = np.diff(unique_t)
    mean_abs = float(np.mean(np.abs(unique_t)))
    with np.errstate(divide="ignore", invalid="ignore"):
        tied = (gaps <= tolerance) | (gaps / mean_abs <= tolerance)
    if not tied.any():
        return t
    cuts = unique_t[np.concatenate([[True], ~tied])]
    out = t.copy()
    finite = np.isfinite(t)
    out[finite] = cuts[np.searchsorted(cuts, t[finite], side="right") - 1]
    return out
