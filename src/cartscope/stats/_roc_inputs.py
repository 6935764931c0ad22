"""Input checks of the ROC functions: labels (cases = 1), scores and the direction."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Direction = Literal["auto", "<", ">"]


def _as_label(label: ArrayLike, n: int) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Return (is_case, is_known) from a boolean or 0/1 label; NaN labels are unknown."""
    arr = np.asarray(label)
    if arr.ndim != 1:
        raise ValueError(f"label must be 1-D (one entry per patient); got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"label has {arr.shape[0]} entries but score has {n} patients (rows)")
    if arr.dtype == np.bool_:
        return arr.copy(), np.ones(n, dtype=bool)
    try:
        num = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("label must be boolean or 0/1 (1 = case)") from exc
    known = ~np.isnan(num)
    bad = known & (num != 0) & (num != 1)
    if bad.any():
        raise ValueError(
            f"label must be boolean or 0/1 (1 = case); found {num[bad][0]!r}"
        )
    return num == 1, known


def _as_score(score: ArrayLike) -> tuple[NDArray[np.float64], bool]:
    try:
        arr = np.asarray(score, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("score must be numeric") from exc
    if arr.ndim not in (1, 2):
        raise ValueError(f"score must be 1-D or 2-D (patients x markers); got {arr.ndim}-D")
    if np.isinf(arr).any():
        raise ValueError("score contains infinite values; pROC cannot build a ROC curve from them")
    one_d = arr.ndim == 1
    return (arr[:, None] if one_d else arr), one_d


def _check_direction(direction: str) -> str:
    if direction not in ("auto", "<", ">"):
        raise ValueError(f"direction must be 'auto', '<' or '>'; got {direction!r}")
    return direction
