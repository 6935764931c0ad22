"""Applying a frozen training cut-off to an independent cohort (external validation).

The cut-off and its direction are fixed on the training cohort (e.g. the Youden split of
:func:`cartscope.analysis.biomarkers.screen`) and never re-estimated: the validation cohort only
gives the confusion counts, sensitivity, specificity, PPV and NPV with their intervals, the
Mann-Whitney comparison of the classes and, with follow-up, Kaplan-Meier per side of the
cut-off and the log-rank test (jin2023: MIP3a cut-off 4.703 from training, sensitivity 83.33 %
and specificity 78.26 % in validation).

Test positive (predicted failure) follows pROC's rule at a threshold: value >= cut-off for
direction "<" (failure has higher values) and value <= cut-off for ">"; the same split defines
the two Kaplan-Meier curves and the log-rank groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from cartscope.analysis.biomarkers._inputs import as_outcome, as_survival
from cartscope.stats.km import KaplanMeier, kaplan_meier
from cartscope.stats.ranktests import mann_whitney
from cartscope.stats.roc import roc
from cartscope.stats.survival import logrank


@dataclass(frozen=True, eq=False)
class CutoffValidation:
    """A frozen cut-off on a validation cohort.

    Counts: ``tp`` failures called positive, ``fn`` failures called negative, ``tn`` and ``fp``
    likewise for the non-failures. Each proportion has a (lower, upper) interval from
    ``proportion_ci(method=ci_method)``; NaN when its denominator is 0. ``mw_statistic`` is W of
    the failure class. The survival fields are NaN / None without follow-up.
    """

    cutoff: float
    direction: str
    n: int
    tp: int
    fp: int
    tn: int
    fn: int
    sensitivity: float
    specificity: float
    ppv: float
    npv: float
    sensitivity_ci: tuple[float, float]
    specificity_ci: tuple[float, float]
    ppv_ci: tuple[float, float]
    npv_ci: tuple[float, float]
    ci_method: str
    level: float
    median_positive: float
    median_negative: float
    mw_statistic: float
    mw_p_value: float
    logrank_statistic: float
    logrank_p_value: float
    n_test_positive_survival: int
    n_test_negative_survival: int
    km_test_positive: KaplanMeier | None
    km_test_negative: KaplanMeier | None

    def to_frame(self) -> pd.DataFrame:
        """One row per measure: estimate with interval, numerator and denominator."""
        rows = []
        for name, est, ci, x, d in (
            ("sensitivity", self.sensitivity, self.sensitivity_ci, self.tp, self.tp + self.fn),
            ("specificity", self.specificity, self.specificity_ci, self.tn, self.tn + self.fp),
            ("ppv", self.ppv, self.ppv_ci, self.tp, self.tp + self.fp),
            ("npv", self.npv, self.npv_ci, self.tn, self.tn + self.fn),
        ):
            rows.append({"measure": name, "estimate": est, "lower": ci[0], "upper": ci[1],
                         "x": x, "n": d})
        rows.append({"measure": "mann_whitney_p", "estimate": self.mw_p_value, "lower": np.nan,
                     "upper": np.nan, "x": np.nan, "n": self.n})
        rows.append({"measure": "logrank_p", "estimate": self.logrank_p_value, "lower": np.nan,
                     "upper": np.nan, "x": np.nan,
                     "n": self.n_test_positive_survival + self.n_test_negative_survival})
        frame = pd.DataFrame(rows)
        frame["cutoff"] = self.cutoff
        frame["direction"] = self.direction
        return frame


def validate_cutoff(
    values: ArrayLike,
    outcome: ArrayLike,
    cutoff: float,
    direction: Literal["<", ">"],
    *,
    time: ArrayLike | None = None,
    event: ArrayLike | None = None,
    ci_method: str = "wilson-modified",
    level: float = 0.95,
) -> CutoffValidation:
    """Evaluate a frozen cut-off of one marker on an independent cohort.

    Args:
        values: the marker per patient (same scale as in training, e.g. fold change).
        outcome: 1/True = failure (positive class), 0/False = non-failure, NaN = not evaluable
            (left out of the classification, kept for survival).
        cutoff: the training cut-off, used as is.
        direction: "<" (failure has higher values) or ">" (failure has lower values), as
            chosen in training; never re-chosen here.
        time, event: optional follow-up per patient (NaN = unknown).
        ci_method: ``proportion_ci`` method for the four proportions.
        level: confidence level.
    """
    if direction not in ("<", ">"):
        raise ValueError(f"direction must be '<' or '>' (frozen from training); got {direction!r}")
    try:
        cut = float(cutoff)
    except (TypeError, ValueError):
        raise ValueError(f"cutoff must be a number; got {cutoff!r}") from None
    if not np.isfinite(cut):
        raise ValueError(f"cutoff must be finite; got {cutoff!r}")
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("values must be numeric") from exc
    if x.ndim != 1:
        raise ValueError(f"values must be 1-D (one marker, one value per patient); got shape {x.shape}")
    y = as_outcome(outcome, x.size)
    surv = as_survival(time, event, x.size)

    cls = ~np.isnan(y) & ~np.isnan(x)
    xc, pos = x[cls], y[cls] == 1
    if not pos.any() or pos.all():
        raise ValueError("validation needs patients of both outcome classes with a marker value")
    op = roc(xc, pos, direction=direction, level=level).at(cut, ci_method=ci_method, level=level)
    mw = mann_whitney(xc[pos], xc[~pos])

    lr_stat = lr_p = float("nan")
    km_pos: KaplanMeier | None = None
    km_neg: KaplanMeier | None = None
    n_sp = n_sn = 0
    if surv is not None:
        t, e = surv
        ok = ~(np.isnan(t) | np.isnan(e) | np.isnan(x))
        test_pos = (x >= cut) if direction == "<" else (x <= cut)
        sp, sn = ok & test_pos, ok & ~test_pos
        n_sp, n_sn = int(sp.sum()), int(sn.sum())
        if n_sp:
            km_pos = kaplan_meier(t[sp], e[sp])
        if n_sn:
            km_neg = kaplan_meier(t[sn], e[sn])
        if n_sp and n_sn and e[ok].sum() > 0:
            lr = logrank(t[ok], e[ok], test_pos[ok].astype(int))
            lr_stat, lr_p = float(lr.statistic), float(lr.p_value)

    def ci(pair: tuple[float, float]) -> tuple[float, float]:
        return float(pair[0]), float(pair[1])

    return CutoffValidation(
        cutoff=cut,
        direction=direction,
        n=int(cls.sum()),
        tp=int(op.tp),
        fp=int(op.fp),
        tn=int(op.tn),
        fn=int(op.fn),
        sensitivity=float(op.sensitivity),
        specificity=float(op.specificity),
        ppv=float(op.ppv),
        npv=float(op.npv),
        sensitivity_ci=ci(op.sensitivity_ci),
        specificity_ci=ci(op.specificity_ci),
        ppv_ci=ci(op.ppv_ci),
        npv_ci=ci(op.npv_ci),
        ci_method=ci_method,
        level=level,
        median_positive=float(np.median(xc[pos])),
        median_negative=float(np.median(xc[~pos])),
        mw_statistic=float(mw.statistic),
        mw_p_value=float(mw.p_value),
        logrank_statistic=lr_stat,
        logrank_p_value=lr_p,
        n_test_positive_survival=n_sp,
        n_test_negative_survival=n_sn,
        km_test_positive=km_pos,
        km_test_negative=km_neg,
    )
