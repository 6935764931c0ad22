"""Biomarker screen: every marker of a panel against a failure outcome, in one vectorised pass.

For a (patients x markers) panel and a binary outcome whose positive class is *failure*
(e.g. NR/ER, jin2023), each marker gets: class sizes and medians, Mann-Whitney W and p (R
``wilcox.test``), the false-discovery-rate q over the panel (R ``p.adjust``), per-subgroup p and
q, ROC AUC with DeLong CI and the Youden cut-off with sensitivity and specificity and their
intervals (pROC conventions), and, with follow-up data, the log-rank test of the Youden split
and a univariable Cox model. Every number comes from :mod:`cartscope.stats`; this module only
arranges the inputs and the outputs.

Fold change vs healthy donors. With ``reference`` (donors x markers), each marker is divided by
the donors' mean (or median) before the screen, as jin2023 expresses its cytokines. The rank
statistics (W, p, AUC and its DeLong CI, sensitivity and specificity at the Youden split, the
log-rank split) do not change under this positive per-marker scaling; only medians, the
cut-off value and the Cox hazard ratio per unit are on the fold-change scale. So the screen can
run on raw concentrations or fold changes alike.

Direction. ``"<"`` means the failure class has the higher values (test positive when
value > cut-off), ``">"`` the lower (positive when value < cut-off). ``"auto"`` is pROC's rule
(compare the class medians). The Youden cut-off is pROC's midpoint threshold; the log-rank split
uses "high" = value > cut-off, so for direction ``">"`` the test-positive side is "low".

Cost. The Mann-Whitney test and the ROC each rank every marker once through the core's rank
pass (an argsort and a sort per marker), one time sort is shared by all markers for the
log-rank; no per-marker Python loop except the optional univariable Cox fits (``cox="none"``
switches them off).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cartscope.analysis.biomarkers._inputs import (
    as_marker_matrix,
    as_outcome,
    as_survival,
    reference_values,
)
from cartscope.stats.cox import CoxModelError, cox
from cartscope.stats.cutoff_logrank import logrank_at_cutoffs
from cartscope.stats.km import KaplanMeier, kaplan_meier
from cartscope.stats.multiplicity import adjust_pvalues
from cartscope.stats.ranktests import mann_whitney
from cartscope.stats.roc import roc

CoxScale = Literal["unit", "log2", "none"]


@dataclass(frozen=True, eq=False)
class ScreenResult:
    """Result of :func:`screen`.

    ``table`` has one row per marker (columns listed in :func:`screen`); ``subgroups`` one row
    per marker and subgroup; ``overlap`` one row per marker significant in at least one set
    (overall, and each subgroup) with a boolean column per set, ready for a Venn figure.
    """

    table: pd.DataFrame
    subgroups: pd.DataFrame
    overlap: pd.DataFrame
    markers: tuple[str, ...]
    scale: str
    fdr_method: str
    fdr_level: float
    overlap_by: str
    ci_method: str
    level: float
    _values: NDArray[np.float64] = field(repr=False)
    _survival: tuple[NDArray[np.float64], NDArray[np.float64]] | None = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The per-marker table (a copy)."""
        return self.table.copy()

    def top(self, k: int = 10, by: Literal["p_value", "auc"] = "p_value") -> pd.DataFrame:
        """The ``k`` best markers: smallest p (ties: larger AUC), or largest AUC (ties: smaller p)."""
        if k < 1:
            raise ValueError(f"k must be at least 1; got {k}")
        t = self.table
        if by == "p_value":
            order = np.lexsort((-t["auc"].to_numpy(), t["p_value"].to_numpy()))
        elif by == "auc":
            order = np.lexsort((t["p_value"].to_numpy(), -t["auc"].to_numpy()))
        else:
            raise ValueError(f"by must be 'p_value' or 'auc'; got {by!r}")
        return t.iloc[order[:k]].reset_index(drop=True)

    def km(self, marker: str) -> tuple[KaplanMeier, KaplanMeier]:
        """Kaplan-Meier per side of the marker's Youden cut-off: (high, low), high = value > cut."""
        if self._survival is None:
            raise ValueError("the screen was run without time and event")
        if marker not in self.markers:
            raise ValueError(f"unknown marker {marker!r}")
        j = self.markers.index(marker)
        cut = float(self.table["youden_cutoff"].iloc[j])
        t, e = self._survival
        x = self._values[:, j]
        ok = ~(np.isnan(x) | np.isnan(t) | np.isnan(e))
        high = ok & (x > cut)
        low = ok & ~(x > cut)
        if not high.any() or not low.any():
            raise ValueError(f"the cut-off of {marker!r} leaves one side empty")
        return kaplan_meier(t[high], e[high]), kaplan_meier(t[low], e[low])


def _class_medians(x: NDArray[np.float64], mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Median per marker over the rows in ``mask``, missing values ignored (NaN if none left).

    np.nanmedian loops over columns in Python; this sorts once (NaN last) and takes the middle
    of the non-missing values, the mean of the two middle ones for an even count (R's median).
    """
    sub = x[mask]
    if sub.shape[0] == 0:
        return np.full(x.shape[1], np.nan)
    if not np.isnan(sub).any():
        return np.median(sub, axis=0)
    s = np.sort(sub, axis=0)
    k = (~np.isnan(s)).sum(axis=0)
    lo = np.maximum((k - 1) // 2, 0)
    hi = np.maximum(k // 2, 0)
    a = np.take_along_axis(s, lo[None, :], axis=0)[0]
    b = np.take_along_axis(s, hi[None, :], axis=0)[0]
    return np.where(k > 0, (a + b) / 2.0, np.nan)


def _subgroup_frame(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    labels: NDArray[Any],
    names: tuple[str, ...],
    fdr_method: str,
    fdr_level: float,
) -> pd.DataFrame:
    rows = []
    levels = sorted({str(v) for v in labels if v is not None and not (isinstance(v, float) and v != v)})
    lab = np.array([None if v is None or (isinstance(v, float) and v != v) else str(v) for v in labels], dtype=object)
    for level in levels:
        sel = lab == level
        xs, ys = x[sel], y[sel]
        pos = ys == 1
        if not pos.any() or pos.all():
            p = np.full(len(names), np.nan)
            w = np.full(len(names), np.nan)
            n1 = np.full(len(names), int(pos.sum()))
            n0 = np.full(len(names), int((~pos).sum()))
        else:
            mw = mann_whitney(xs[pos], xs[~pos])
            p, w = np.asarray(mw.p_value, float), np.asarray(mw.statistic, float)
            n1, n0 = np.asarray(mw.n_x), np.asarray(mw.n_y)
        q = adjust_pvalues(p, fdr_method)
        rows.append(
            pd.DataFrame(
                {
                    "marker": list(names),
                    "subgroup": level,
                    "n_positive": n1,
                    "n_negative": n0,
                    "median_positive": _class_medians(xs, pos),
                    "median_negative": _class_medians(xs, ~pos),
                    "mw_statistic": w,
                    "p_value": p,
                    "q_value": q,
                    "significant": q <= fdr_level,
                }
            )
        )
    if not rows:
        return pd.DataFrame(columns=["marker", "subgroup", "n_positive", "n_negative", "median_positive",
                                     "median_negative", "mw_statistic", "p_value", "q_value", "significant"])
    return pd.concat(rows, ignore_index=True)


def _overlap(table: pd.DataFrame, sub: pd.DataFrame, by: str, threshold: float) -> pd.DataFrame:
    col = "q_value" if by == "q" else "p_value"
    sets = {"overall": pd.Series(table[col].to_numpy() <= threshold, index=table["marker"])}
    for level, part in sub.groupby("subgroup", sort=True):
        sets[str(level)] = pd.Series(part[col].to_numpy() <= threshold, index=part["marker"])
    frame = pd.DataFrame(sets).reindex(table["marker"]).fillna(False).astype(bool)
    frame.index.name = "marker"
    return frame.loc[frame.any(axis=1)]


def _cox_per_marker(
    x: NDArray[np.float64], t: NDArray[np.float64], e: NDArray[np.float64], scale: str, level: float
) -> dict[str, NDArray[np.float64]]:
    """Univariable Cox per marker (a loop over markers: one Newton fit each)."""
    m = x.shape[1]
    out = {k: np.full(m, np.nan) for k in ("cox_hr", "cox_lower", "cox_upper", "cox_p", "cox_n")}
    for j in range(m):
        col = x[:, j]
        ok = ~(np.isnan(col) | np.isnan(t) | np.isnan(e))
        cov = col[ok]
        if scale == "log2":
            if np.any(cov <= 0):
                continue  # log2 undefined; the marker keeps NaN
            cov = np.log2(cov)
        out["cox_n"][j] = ok.sum()
        if ok.sum() < 2 or e[ok].sum() < 1 or np.ptp(cov) == 0:
            continue
        try:
            fit = cox(t[ok], e[ok], cov[:, None], level=level)
        except CoxModelError:
            continue
        out["cox_hr"][j] = fit.hazard_ratio[0]
        out["cox_lower"][j] = fit.ci_lower[0]
        out["cox_upper"][j] = fit.ci_upper[0]
        out["cox_p"][j] = fit.p_value[0]
    return out


def screen(
    values: pd.DataFrame | ArrayLike,
    outcome: ArrayLike,
    *,
    time: ArrayLike | None = None,
    event: ArrayLike | None = None,
    reference: pd.DataFrame | Mapping[str, float] | pd.Series | None = None,
    reference_stat: Literal["mean", "median"] = "mean",
    subgroups: ArrayLike | None = None,
    fdr_method: str = "bh",
    fdr_level: float = 0.05,
    overlap_by: Literal["q", "p"] = "q",
    direction: Literal["auto", "<", ">"] = "auto",
    ci_method: str = "wilson-modified",
    level: float = 0.95,
    cox_per: CoxScale = "unit",
    markers: Sequence[str] | None = None,
) -> ScreenResult:
    """Screen a biomarker panel for predictors of failure.

    Args:
        values: patients x markers (a DataFrame's columns name the markers; NaN = missing).
        outcome: per patient, 1/True = failure (positive class, e.g. NR/ER), 0/False = durable,
            NaN = not evaluable (left out of the class comparisons, kept for survival).
        time, event: optional follow-up (days, 1 = event) per patient; NaN = unknown.
        reference: healthy donors x markers (or one value per marker); values are divided by
            the donors' ``reference_stat`` ("mean" or "median") to give fold changes.
        subgroups: optional label per patient (e.g. B-ALL / B-NHL): per-subgroup p and q.
        fdr_method, fdr_level: R ``p.adjust`` method over the panel ("bh", "by", "holm",
            "bonferroni", "hochberg"); ``significant`` = q <= fdr_level.
        overlap_by: the overlap frame marks a marker in a set when its q ("q") or its
            unadjusted p ("p") is <= ``fdr_level``.
        direction: "auto" (pROC's median rule), "<" (failure higher) or ">" (failure lower).
        ci_method: interval for sensitivity and specificity (``proportion_ci`` method;
            "wilson-modified" reproduces jin2023's intervals).
        level: confidence level of every interval.
        cox_per: univariable Cox hazard ratio per unit of the (fold-change) value ("unit"),
            per doubling of it ("log2", i.e. the covariate is log2(value); markers with a
            value <= 0 get NaN), or no Cox fits ("none").
        markers: names for an array input (default marker1, marker2, ...).

    Returns:
        :class:`ScreenResult`. ``table`` columns: marker, scale, reference, n_positive,
        n_negative, median_positive, median_negative, mw_statistic (W of the failure class),
        p_value, q_value, significant, direction, auc, auc_se, auc_lower, auc_upper (DeLong),
        youden_cutoff, youden_j, tp, fp, tn, fn, sensitivity (+ _lower/_upper), specificity
        (+ _lower/_upper); with follow-up: n_high, n_low, positive_side, logrank_statistic,
        logrank_p and, unless ``cox_per="none"``, cox_n, cox_hr, cox_lower, cox_upper, cox_p
        (Efron ties, Wald CI and p).
    """
    if cox_per not in ("unit", "log2", "none"):
        raise ValueError(f"cox_per must be 'unit', 'log2' or 'none'; got {cox_per!r}")
    if overlap_by not in ("q", "p"):
        raise ValueError(f"overlap_by must be 'q' or 'p'; got {overlap_by!r}")
    if not 0.0 < fdr_level < 1.0:
        raise ValueError(f"fdr_level must be in (0, 1); got {fdr_level}")
    x, names, _ = as_marker_matrix(values, markers)
    n, m = x.shape
    y = as_outcome(outcome, n)
    surv = as_survival(time, event, n)
    ref = np.full(m, np.nan)
    if reference is not None:
        ref = reference_values(reference, names, reference_stat)
        x = x / ref[None, :]
    known = ~np.isnan(y)
    xk, yk = x[known], y[known]
    pos = yk == 1
    if not pos.any() or pos.all():
        raise ValueError("the screen needs patients of both outcome classes (failure = 1 and 0)")

    mw = mann_whitney(xk[pos], xk[~pos])
    p = np.asarray(mw.p_value, dtype=np.float64)
    q = adjust_pvalues(p, fdr_method)
    rr = roc(xk, pos, direction=direction, level=level)
    ci = rr.auc_ci("delong")
    yd = rr.youden()
    usable = np.isfinite(np.asarray(rr.auc, dtype=np.float64))
    cut = np.where(usable, np.asarray(yd.threshold, dtype=np.float64), np.nan)
    op = rr.at(np.where(usable, cut, 0.0), ci_method=ci_method, level=level)

    def masked(v: Any) -> NDArray[np.float64]:
        return np.where(usable, np.asarray(v, dtype=np.float64), np.nan)

    table = pd.DataFrame(
        {
            "marker": list(names),
            "scale": "fold_change" if reference is not None else "raw",
            "reference": ref,
            "n_positive": np.asarray(mw.n_x),
            "n_negative": np.asarray(mw.n_y),
            "median_positive": _class_medians(xk, pos),
            "median_negative": _class_medians(xk, ~pos),
            "mw_statistic": np.asarray(mw.statistic, dtype=np.float64),
            "mw_method": np.asarray(mw.method),
            "p_value": p,
            "q_value": q,
            "significant": q <= fdr_level,
            "direction": np.asarray(rr.direction),
            "auc": np.asarray(rr.auc, dtype=np.float64),
            "auc_se": np.asarray(ci.se, dtype=np.float64),
            "auc_lower": np.asarray(ci.lower, dtype=np.float64),
            "auc_upper": np.asarray(ci.upper, dtype=np.float64),
            "youden_cutoff": cut,
            "youden_j": masked(yd.youden),
            "tp": np.asarray(op.tp),
            "fp": np.asarray(op.fp),
            "tn": np.asarray(op.tn),
            "fn": np.asarray(op.fn),
            "sensitivity": masked(op.sensitivity),
            "sensitivity_lower": masked(op.sensitivity_ci[0]),
            "sensitivity_upper": masked(op.sensitivity_ci[1]),
            "specificity": masked(op.specificity),
            "specificity_lower": masked(op.specificity_ci[0]),
            "specificity_upper": masked(op.specificity_ci[1]),
        }
    )

    if surv is not None:
        t, e = surv
        ok = ~(np.isnan(t) | np.isnan(e))
        if not ok.any():
            raise ValueError("time/event are missing for every patient")
        lr = logrank_at_cutoffs(t[ok], e[ok], x[ok], np.where(np.isnan(cut), np.inf, cut))
        table["n_high"] = lr.n_high
        table["n_low"] = lr.n_low
        table["positive_side"] = np.where(table["direction"] == "<", "high", "low")
        table["logrank_statistic"] = lr.statistic
        table["logrank_p"] = lr.p_value
        if cox_per != "none":
            for k, v in _cox_per_marker(x, t, e, cox_per, level).items():
                table[k] = v
            table["cox_per"] = cox_per

    if subgroups is None:
        sub = _subgroup_frame(xk, yk, np.array([], dtype=object), (), fdr_method, fdr_level)
    else:
        labels = np.asarray(subgroups, dtype=object)
        if labels.ndim != 1 or labels.shape[0] != n:
            raise ValueError(f"subgroups must have one label per patient ({n})")
        sub = _subgroup_frame(xk, yk, labels[known], names, fdr_method, fdr_level)
    overlap = _overlap(table, sub, overlap_by, fdr_level)
    return ScreenResult(
        table=table,
        subgroups=sub,
        overlap=overlap,
        markers=names,
        scale="fold_change" if reference is not None else "raw",
        fdr_method=fdr_method,
        fdr_level=fdr_level,
        overlap_by=overlap_by,
        ci_method=ci_method,
        level=level,
        _values=x,
        _survival=surv,
    )
