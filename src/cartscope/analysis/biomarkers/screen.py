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

Cost. The panel is processed in blocks of markers, each copied once from the input (so extra
memory stays a fraction of the input matrix whatever its size). Per block, compiled per-marker
scans (:mod:`cartscope.stats._rank_kernel`, :mod:`cartscope.stats._logrank_kernel`,
:mod:`cartscope.stats._cox_univariable_kernel`) give: from each outcome class sorted once, the
Mann-Whitney test, the ROC with its DeLong variance, the Youden optimum with its counts and the
class medians; in one time order shared by all markers, the log-rank test at the cut-off and
the univariable Cox model (R's Newton path). No per-marker Python loop. The blocks are
independent and the scans release the GIL, so they run on a thread pool (``threads``, by
default one per usable core) or on a Dask cluster (:mod:`cartscope.analysis.distributed`), with
byte-identical results either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

from cartscope.analysis.biomarkers._inputs import (
    as_marker_matrix,
    as_outcome,
    as_survival,
    reference_values,
)
from cartscope.analysis.distributed import active_client
from cartscope.analysis.biomarkers._screen_chunk import (
    ScreenPlan,
    chunk_slices,
    resolve_threads,
    run_chunks,
)
from cartscope.stats.km import KaplanMeier, kaplan_meier
from cartscope.stats.multiplicity import adjust_pvalues
from cartscope.stats.proportions import proportion_ci

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
    _reference: NDArray[np.float64] | None = field(default=None, repr=False)

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
        if self._reference is not None:
            x = x / self._reference[j]
        ok = ~(np.isnan(x) | np.isnan(t) | np.isnan(e))
        high = ok & (x > cut)
        low = ok & ~(x > cut)
        if not high.any() or not low.any():
            raise ValueError(f"the cut-off of {marker!r} leaves one side empty")
        return kaplan_meier(t[high], e[high]), kaplan_meier(t[low], e[low])


_SUBGROUP_COLUMNS = ["marker", "subgroup", "n_positive", "n_negative", "median_positive",
                     "median_negative", "mw_statistic", "p_value", "q_value", "significant"]


def _subgroup_frame(parts: Any, plan: ScreenPlan, names: tuple[str, ...], fdr_method: str,
                    fdr_level: float) -> pd.DataFrame:
    """Per subgroup and marker: class sizes and medians, Mann-Whitney W, p and the panel's q."""
    rows = []
    for i, level in enumerate(plan.levels):
        p = parts[f"sub{i}_p"]
        q = adjust_pvalues(p, fdr_method)
        rows.append(
            pd.DataFrame(
                {
                    "marker": list(names),
                    "subgroup": level,
                    "n_positive": parts[f"sub{i}_n1"],
                    "n_negative": parts[f"sub{i}_n0"],
                    "median_positive": parts[f"sub{i}_med1"],
                    "median_negative": parts[f"sub{i}_med0"],
                    "mw_statistic": parts[f"sub{i}_w"],
                    "p_value": p,
                    "q_value": q,
                    "significant": q <= fdr_level,
                }
            )
        )
    if not rows:
        return pd.DataFrame(columns=_SUBGROUP_COLUMNS)
    return pd.concat(rows, ignore_index=True)


def _overlap(table: pd.DataFrame, sub: pd.DataFrame, by: str, threshold: float) -> pd.DataFrame:
    col = "q_value" if by == "q" else "p_value"
    names = table["marker"]
    sets = {"overall": table[col].to_numpy() <= threshold}
    for level, part in sub.groupby("subgroup", sort=True):
        hit = pd.Series(part[col].to_numpy() <= threshold, index=part["marker"])
        sets[str(level)] = hit.reindex(names, fill_value=False).to_numpy(dtype=bool)
    frame = pd.DataFrame(sets, index=pd.Index(names, name="marker"))
    return frame.loc[frame.to_numpy().any(axis=1)]


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
    threads: int | None = None,
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
        threads: blocks of markers run side by side on this many threads; None = the usable
            cores (``os.sched_getaffinity``, at most 8), 1 = one block after the other in the
            calling thread. The result is byte-identical whatever the number. Ignored when a
            Dask cluster is active (:mod:`cartscope.analysis.distributed`): the blocks go there.

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
    n_threads = resolve_threads(threads)
    if active_client() is not None:
        n_threads = 1  # the blocks go to the cluster's workers
    x, names, _ = as_marker_matrix(values, markers)
    n, m = x.shape
    y = as_outcome(outcome, n)
    surv = as_survival(time, event, n)
    ref = np.full(m, np.nan)
    if reference is not None:
        ref = reference_values(reference, names, reference_stat)
    known = ~np.isnan(y)
    pos = y[known] == 1
    if not pos.any() or pos.all():
        raise ValueError("the screen needs patients of both outcome classes (failure = 1 and 0)")
    labels = None
    if subgroups is not None:
        labels = np.asarray(subgroups, dtype=object)
        if labels.ndim != 1 or labels.shape[0] != n:
            raise ValueError(f"subgroups must have one label per patient ({n})")
        labels = labels[known]
    if surv is not None:
        t, e = surv
        if not (~(np.isnan(t) | np.isnan(e))).any():
            raise ValueError("time/event are missing for every patient")
    plan = ScreenPlan.make(
        known=known, positive=pos, survival=surv, subgroups=labels, direction=direction,
        cox_per=cox_per, level=level, reference=ref if reference is not None else None,
    )
    parts = run_chunks(plan, x, chunk_slices(n, m, n_threads), n_threads)
    get = parts.__getitem__

    p = get("p_value")
    q = adjust_pvalues(p, fdr_method)
    usable = np.isfinite(get("auc"))
    tp, tn = get("tp"), get("tn")
    n1, n0 = get("n_positive").astype(np.float64), get("n_negative").astype(np.float64)
    fn, fp = n1 - tp, n0 - tn

    def interval(hit: NDArray[np.float64], total: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
        est, lo, hi = (np.full(m, np.nan) for _ in range(3))
        ok = usable & (total > 0)
        if ok.any():
            ci = proportion_ci(hit[ok].astype(np.int64), total[ok].astype(np.int64), method=ci_method, level=level)
            est[ok] = np.asarray(ci.estimate, dtype=np.float64)
            lo[ok] = np.asarray(ci.lower, dtype=np.float64)
            hi[ok] = np.asarray(ci.upper, dtype=np.float64)
        return est, lo, hi

    sens = interval(tp, tp + fn)
    spec = interval(tn, tn + fp)
    counts = {k: np.where(usable, v, 0).astype(np.int64) for k, v in (("tp", tp), ("fp", fp), ("tn", tn), ("fn", fn))}
    z = float(special.ndtri(1.0 - (1.0 - level) / 2.0))
    auc = get("auc")
    se = np.sqrt(get("auc_var"))
    table = pd.DataFrame(
        {
            "marker": list(names),
            "scale": "fold_change" if reference is not None else "raw",
            "reference": ref,
            "n_positive": get("n_positive"),
            "n_negative": get("n_negative"),
            "median_positive": get("median_positive"),
            "median_negative": get("median_negative"),
            "mw_statistic": get("mw_statistic"),
            "mw_method": get("mw_method"),
            "p_value": p,
            "q_value": q,
            "significant": q <= fdr_level,
            "direction": np.where(get("lt"), "<", ">"),
            "auc": auc,
            "auc_se": se,
            "auc_lower": np.clip(auc - z * se, 0.0, 1.0),
            "auc_upper": np.clip(auc + z * se, 0.0, 1.0),
            "youden_cutoff": np.where(usable, get("youden_cutoff"), np.nan),
            "youden_j": np.where(usable, get("youden_j"), np.nan),
            **counts,
            "sensitivity": sens[0],
            "sensitivity_lower": sens[1],
            "sensitivity_upper": sens[2],
            "specificity": spec[0],
            "specificity_lower": spec[1],
            "specificity_upper": spec[2],
        }
    )
    if surv is not None:
        table["n_high"] = get("n_high")
        table["n_low"] = get("n_low")
        table["positive_side"] = np.where(table["direction"] == "<", "high", "low")
        table["logrank_statistic"] = get("logrank_statistic")
        table["logrank_p"] = get("logrank_p")
        if cox_per != "none":
            for k in ("cox_hr", "cox_lower", "cox_upper", "cox_p", "cox_n"):
                table[k] = get(k)
            table["cox_per"] = cox_per
    sub = _subgroup_frame(parts, plan, names, fdr_method, fdr_level)
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
        _reference=ref if reference is not None else None,
    )
