"""Paired DeLong test of two correlated AUCs, as pROC ``roc.test(method = "delong", paired = TRUE)``.

DeLong, DeLong & Clarke-Pearson (Biometrics 1988): the AUCs' covariance comes from the
placement values of the cases and of the controls; one sort per class and marker.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

from cartscope.stats._roc_inputs import Direction, _as_label, _check_direction
from cartscope.stats._validation import check_level


@dataclass(frozen=True)
class DeLongTest:
    """Paired DeLong test of two correlated AUCs (pROC ``roc.test(method="delong", paired=TRUE)``)."""

    statistic: float
    p_value: float
    auc_a: float
    auc_b: float
    difference: float
    se_difference: float
    ci_lower: float  # difference -/+ z * se_difference, as roc.test's conf.int
    ci_upper: float
    level: float
    direction_a: str
    direction_b: str
    alternative: str
    n_cases: int
    n_controls: int

    def __iter__(self) -> Iterator[float]:
        return iter((self.statistic, self.p_value))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{k: getattr(self, k) for k in self.__dataclass_fields__}])


def _placements(score: NDArray[np.float64], is_case: NDArray[np.bool_], lt: bool) -> tuple[
    NDArray[np.float64], NDArray[np.float64], float
]:
    """DeLong placement values per case and per control (patient order), and the AUC.

    A case's placement is the share of controls below it (ties 1/2), a control's the share of
    cases above it. Each class is sorted once and the other class's binary searches run on
    sorted queries (``searchsorted`` walks a sorted query list far faster than a shuffled
    one); the values are put back in patient order so the two markers pair up.
    """
    x = score[is_case] if lt else -score[is_case]
    y = score[~is_case] if lt else -score[~is_case]
    ox = np.argsort(x, kind="stable")
    oy = np.argsort(y, kind="stable")
    xs = x[ox]
    ys = y[oy]
    v10 = np.empty(x.size)
    v01 = np.empty(y.size)
    v10[ox] = (np.searchsorted(ys, xs, "left") + np.searchsorted(ys, xs, "right")) / (2.0 * y.size)
    v01[oy] = 1.0 - (np.searchsorted(xs, ys, "left") + np.searchsorted(xs, ys, "right")) / (2.0 * x.size)
    return v10, v01, float(v10.mean())


def _auto_lt(score: NDArray[np.float64], is_case: NDArray[np.bool_], direction: str) -> bool:
    """pROC's direction: "<" when median(controls) <= median(cases) for "auto"."""
    if direction == "auto":
        return bool(np.median(score[~is_case]) <= np.median(score[is_case]))
    return direction == "<"


def delong_test(
    score_a: ArrayLike,
    score_b: ArrayLike,
    label: ArrayLike,
    direction: Direction | tuple[Direction, Direction] = "auto",
    alternative: Literal["two-sided", "less", "greater"] = "two-sided",
    level: float = 0.95,
) -> DeLongTest:
    """Paired DeLong test that two markers measured on the same patients have equal AUCs.

    Z = (AUC_a - AUC_b) / sqrt(L S L'), S = S10/n1 + S01/n0 the covariance of the placement
    values (DeLong, DeLong & Clarke-Pearson, Biometrics 1988), L = (1, -1); two-sided
    p = 2 Phi(-|Z|). Each curve's direction is chosen separately ("auto" = pROC's median
    rule, from the medians directly) as ``pROC::roc`` does before ``roc.test``. Patients missing either score are dropped
    so both curves use the same patients. Z = 0 when both the difference and its SE are 0.
    """
    lvl = check_level(level)
    a = np.asarray(score_a, dtype=np.float64)
    b = np.asarray(score_b, dtype=np.float64)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError("score_a and score_b must be 1-D with one value per patient each")
    if alternative not in ("two-sided", "less", "greater"):
        raise ValueError(f"alternative must be 'two-sided', 'less' or 'greater'; got {alternative!r}")
    is_case, known = _as_label(label, a.shape[0])
    keep = known & ~np.isnan(a) & ~np.isnan(b)
    a, b, is_case = a[keep], b[keep], is_case[keep]
    dirs = (direction, direction) if isinstance(direction, str) else tuple(direction)
    for dname in dirs:
        _check_direction(dname)
    n1, n0 = int(is_case.sum()), int((~is_case).sum())
    if n1 < 2 or n0 < 2:
        raise ValueError("DeLong's test needs at least 2 cases and 2 controls")
    lt_a = _auto_lt(a, is_case, dirs[0])
    lt_b = _auto_lt(b, is_case, dirs[1])
    xa, ya, ta = _placements(a, is_case, lt_a)
    xb, yb, tb = _placements(b, is_case, lt_b)
    da, db = xa - ta, xb - tb
    ea, eb = ya - ta, yb - tb
    s10 = np.array([[da @ da, da @ db], [db @ da, db @ db]]) / (n1 - 1)
    s01 = np.array([[ea @ ea, ea @ eb], [eb @ ea, eb @ eb]]) / (n0 - 1)
    s = s10 / n1 + s01 / n0
    var = s[0, 0] - s[0, 1] - s[1, 0] + s[1, 1]
    sig = float(np.sqrt(var)) if var > 0 else 0.0
    d = ta - tb
    if sig == 0.0:
        z = 0.0 if d == 0.0 else float(np.sign(d) * np.inf)
    else:
        z = d / sig
    if alternative == "two-sided":
        p = 2.0 * float(special.ndtr(-abs(z)))
    elif alternative == "greater":
        p = float(special.ndtr(-z))
    else:
        p = float(special.ndtr(z))
    half = float(special.ndtri(1.0 - (1.0 - lvl) / 2.0)) * sig
    return DeLongTest(
        float(z), p, ta, tb, float(d), sig, float(d - half), float(d + half), lvl,
        "<" if lt_a else ">", "<" if lt_b else ">", alternative, n1, n0,
    )
