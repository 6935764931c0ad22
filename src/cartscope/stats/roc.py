"""Empirical ROC analysis as R's pROC: AUC, DeLong / Hanley-McNeil / bootstrap CIs, Youden
cut-off, the full curve, operating characteristics at a threshold, and the paired DeLong test.

One column of ``score`` is one marker; a 2-D score (patients x markers) is handled in one pass
(one sort per marker, then int32 running counts; :mod:`cartscope.stats._ranks`), which is
what biomarker screens need.

Conventions (pROC 1.18):

* Cases are ``label == 1`` (True), controls ``label == 0``.
* ``direction="<"`` means controls < cases: a patient is called positive when
  ``score >= threshold``; ``direction=">"`` means controls > cases, positive when
  ``score <= threshold``.
* ``direction="auto"`` is pROC's rule: "<" if ``median(controls) <= median(cases)``, else ">".
  It compares medians, not AUCs, so the auto-chosen AUC can still be below 0.5 when the medians
  and the mean ranks disagree (e.g. skewed or heavily tied data); cartscope keeps pROC's answer.
* Thresholds are pROC's: -Inf, the midpoints between adjacent distinct observed values, +Inf
  (with pROC's fix-up when a midpoint rounds onto one of the two values).
* AUC counts ties as 1/2 (the Mann-Whitney U / (n_cases n_controls)).

Modules by concern: the kernel over one rank pass (:mod:`cartscope.stats._roc_kernel`), the
result records (:mod:`cartscope.stats._roc_points`), the input checks
(:mod:`cartscope.stats._roc_inputs`), resampling (:mod:`cartscope.stats.roc_resampling`) and
the paired DeLong test (:mod:`cartscope.stats.delong`); every name is importable from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

from cartscope.stats._ranks import RankPass, marker_chunks, rank_pass
from cartscope.stats._roc_inputs import Direction, _as_label, _as_score, _check_direction
from cartscope.stats._roc_kernel import (
    KERNEL_FIELDS,
    _centred_squares,
    _curve_1d,
    _Kernel,
    _kernel,
    _kth_value,
    _median,
    _midpoint,
    _youden_choice,
    kernel_pass,
)
from cartscope.stats._roc_points import AucCI, OperatingPoint, RocCurve, YoudenCutoff, _out
from cartscope.stats._validation import check_level

__all__ = [
    "AucCI", "DeLongTest", "Direction", "OperatingPoint", "RocCurve", "RocResult", "YoudenCutoff",
    "delong_test", "roc",
]


@dataclass(frozen=True, eq=False)
class RocResult:
    """Empirical ROC curve(s): one marker (scalar fields) or a panel (arrays over markers).

    ``auc`` is the empirical AUC for the chosen ``direction`` ("<" or ">" per marker);
    ``se`` is DeLong's standard error (NaN with fewer than 2 cases or controls, as pROC).
    """

    auc: Any
    direction: Any
    n_cases: Any
    n_controls: Any
    se: Any
    level: float
    _score: NDArray[np.float64] = field(repr=False)
    _is_case: NDArray[np.bool_] = field(repr=False)
    _kernel: _Kernel = field(repr=False)
    _one_d: bool = field(repr=False)

    @property
    def n_markers(self) -> int:
        return int(self._score.shape[1])

    def observations(self, j: int = 0) -> pd.DataFrame:
        """The data of marker ``j``: one row per observation with a known score, its
        ``score`` and ``is_case`` (what a dot plot of cases against controls draws)."""
        col = self._score[:, j]
        ok = ~np.isnan(col)
        return pd.DataFrame({"score": col[ok], "is_case": self._is_case[ok]})

    def marker(self, j: int) -> RocResult:
        """The single-marker result for column ``j`` of a panel."""
        return roc(self._score[:, j], self._is_case, direction=_dir_str(self._kernel.lt[j]), level=self.level)

    # --- confidence intervals ---------------------------------------------------------------

    def auc_ci(
        self,
        method: Literal["delong", "hanley-mcneil", "bootstrap"] = "delong",
        n_boot: int = 2000,
        seed: int | np.random.Generator | None = None,
        level: float | None = None,
    ) -> AucCI:
        """Confidence interval for the AUC.

        * ``"delong"``: AUC -/+ z * SE with DeLong's SE from placement values, clipped to
          [0, 1]; pROC ``ci.auc(method="delong")``.
        * ``"hanley-mcneil"``: the same symmetric interval with Hanley & McNeil's (1982) SE,
          SE^2 = [A(1-A) + (n1-1)(Q1-A^2) + (n0-1)(Q2-A^2)] / (n1 n0), Q1 = A/(2-A),
          Q2 = 2A^2/(1+A), clipped to [0, 1].
        * ``"bootstrap"``: percentile interval (R quantile type 7) over ``n_boot`` stratified
          resamples (cases and controls resampled separately, direction kept), as pROC
          ``ci.auc(method="bootstrap", boot.stratified=TRUE)``. It needs an explicit ``seed``;
          numpy's generator is not R's, so the interval cannot equal pROC's draw for draw.
        """
        lvl = self.level if level is None else check_level(level)
        z = float(special.ndtri(1.0 - (1.0 - lvl) / 2.0))
        k = self._kernel
        if method == "delong":
            se = np.sqrt(k.var)
        elif method == "hanley-mcneil":
            a = k.auc
            q1 = a / (2.0 - a)
            q2 = 2.0 * a * a / (1.0 + a)
            n1, n0 = k.n_cases, k.n_controls
            with np.errstate(invalid="ignore"):
                se = np.sqrt(
                    (a * (1.0 - a) + (n1 - 1.0) * (q1 - a * a) + (n0 - 1.0) * (q2 - a * a)) / (n1 * n0)
                )
        elif method == "bootstrap":
            return self._bootstrap_ci(n_boot, seed, lvl)
        else:
            raise ValueError(f"method must be 'delong', 'hanley-mcneil' or 'bootstrap'; got {method!r}")
        lower = np.clip(k.auc - z * se, 0.0, 1.0)
        upper = np.clip(k.auc + z * se, 0.0, 1.0)
        one = self._one_d
        return AucCI(_out(k.auc, one), _out(lower, one), _out(upper, one), _out(se, one), method, lvl)

    def _bootstrap_ci(self, n_boot: int, seed: int | np.random.Generator | None, level: float) -> AucCI:
        if seed is None:
            raise ValueError("bootstrap CI needs an explicit seed (int or numpy Generator)")
        if int(n_boot) < 2:
            raise ValueError(f"n_boot must be at least 2; got {n_boot}")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        k = self._kernel
        m = self.n_markers
        lower = np.full(m, np.nan)
        upper = np.full(m, np.nan)
        se = np.full(m, np.nan)
        probs = [(1.0 - level) / 2.0, 1.0 - (1.0 - level) / 2.0]
        for j in range(m):
            col = self._score[:, j]
            ok = ~np.isnan(col)
            cases = col[ok & self._is_case]
            controls = col[ok & ~self._is_case]
            if cases.size < 1 or controls.size < 1:
                continue
            aucs = _bootstrap_aucs(cases, controls, bool(k.lt[j]), int(n_boot), rng)
            lower[j], upper[j] = np.quantile(aucs, probs)
            se[j] = aucs.std(ddof=1)
        one = self._one_d
        return AucCI(_out(k.auc, one), _out(lower, one), _out(upper, one), _out(se, one), "bootstrap", level)

    # --- cut-offs -----------------------------------------------------------------------------

    def youden(self) -> YoudenCutoff:
        """Youden-optimal threshold as pROC ``coords(roc, "best", best.method="youden")``.

        J is compared exactly as pROC does (``se + sp == max(se + sp)``); among tied optima the
        one with the highest sensitivity is reported (see :class:`YoudenCutoff`).
        """
        k = self._kernel
        one = self._one_d
        j = k.sensitivity + k.specificity - 1.0
        all_thr: tuple[float, ...] = ()
        if one and np.isfinite(k.auc[0]):
            curve = self.curve
            crit = curve.sensitivity + curve.specificity
            all_thr = tuple(float(t) for t in curve.thresholds[crit == crit.max()])
        return YoudenCutoff(
            _out(k.threshold, one),
            _out(k.sensitivity, one),
            _out(k.specificity, one),
            _out(j, one),
            _out(k.n_optimal, one),
            self.direction,
            all_thr,
        )

    @property
    def curve(self) -> RocCurve:
        """Every threshold with its sensitivity and specificity (single marker only)."""
        if not self._one_d:
            raise ValueError("curve is per marker: use result.marker(j).curve for a panel")
        col = self._score[:, 0]
        ok = ~np.isnan(col)
        thr, se, sp = _curve_1d(col[ok], self._is_case[ok], bool(self._kernel.lt[0]))
        return RocCurve(thr, se, sp)

    def at(
        self,
        threshold: ArrayLike,
        ci_method: str = "wilson",
        level: float | None = None,
    ) -> OperatingPoint:
        """Counts, sensitivity, specificity, PPV and NPV at ``threshold`` (one per marker).

        Positive means ``score >= threshold`` for direction "<" and ``score <= threshold`` for
        ">" (pROC's rule; identical to ">" / "<" at pROC's midpoint thresholds). Intervals come
        from ``proportion_ci(x, n, method=ci_method, level=level)``.
        """
        from cartscope.stats.proportions import proportion_ci

        lvl = self.level if level is None else check_level(level)
        thr = np.broadcast_to(np.asarray(threshold, dtype=np.float64), (self.n_markers,))
        s = self._score
        valid = ~np.isnan(s)
        lt = self._kernel.lt[None, :]
        with np.errstate(invalid="ignore"):
            pos = np.where(lt, s >= thr[None, :], s <= thr[None, :]) & valid
        case = self._is_case[:, None]
        tp = (pos & case).sum(axis=0)
        fp = (pos & ~case).sum(axis=0)
        tn = (~pos & valid & ~case).sum(axis=0)
        fn = (~pos & valid & case).sum(axis=0)

        def prop(x: NDArray[np.int64], n: NDArray[np.int64]) -> tuple[Any, Any, Any]:
            est = np.full(x.shape, np.nan)
            lo = np.full(x.shape, np.nan)
            hi = np.full(x.shape, np.nan)
            ok = n > 0
            if ok.any():
                ci = proportion_ci(x[ok], n[ok], method=ci_method, level=lvl)
                est[ok] = np.asarray(ci.estimate, dtype=np.float64)
                lo[ok] = np.asarray(ci.lower, dtype=np.float64)
                hi[ok] = np.asarray(ci.upper, dtype=np.float64)
            one = self._one_d
            return _out(est, one), _out(lo, one), _out(hi, one)

        sens = prop(tp, tp + fn)
        spec = prop(tn, tn + fp)
        ppv = prop(tp, tp + fp)
        npv = prop(tn, tn + fn)
        one = self._one_d
        return OperatingPoint(
            _out(np.asarray(thr), one),
            self.direction,
            _out(tp, one),
            _out(fp, one),
            _out(tn, one),
            _out(fn, one),
            sens[0],
            spec[0],
            ppv[0],
            npv[0],
            (sens[1], sens[2]),
            (spec[1], spec[2]),
            (ppv[1], ppv[2]),
            (npv[1], npv[2]),
            ci_method,
            lvl,
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per marker: n, direction, AUC with DeLong CI, Youden cut-off."""
        ci = self.auc_ci("delong")
        yd = self.youden()
        return pd.DataFrame(
            {
                "n_cases": np.atleast_1d(self.n_cases),
                "n_controls": np.atleast_1d(self.n_controls),
                "direction": np.atleast_1d(self.direction),
                "auc": np.atleast_1d(self.auc),
                "auc_se": np.atleast_1d(self.se),
                "auc_lower": np.atleast_1d(ci.lower),
                "auc_upper": np.atleast_1d(ci.upper),
                "youden_threshold": np.atleast_1d(yd.threshold),
                "youden_sensitivity": np.atleast_1d(yd.sensitivity),
                "youden_specificity": np.atleast_1d(yd.specificity),
                "youden_j": np.atleast_1d(yd.youden),
                "level": self.level,
            }
        )


def _dir_str(lt: bool) -> str:
    return "<" if lt else ">"


def _bootstrap_aucs(
    cases: NDArray[np.float64], controls: NDArray[np.float64], lt: bool, n_boot: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """AUCs of ``n_boot`` stratified resamples, all replicates ranked in one vectorised pass."""
    n1, n0 = cases.size, controls.size
    pooled = np.empty((n1 + n0, n_boot))
    pooled[:n1] = cases[rng.integers(0, n1, size=(n1, n_boot))]
    pooled[n1:] = controls[rng.integers(0, n0, size=(n0, n_boot))]
    is_case = np.zeros(n1 + n0, dtype=bool)
    is_case[:n1] = True
    aucs = _kernel(pooled, is_case, "<").auc
    return aucs if lt else 1.0 - aucs


# --------------------------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------------------------


def roc(
    score: ArrayLike,
    label: ArrayLike,
    direction: Direction = "auto",
    level: float = 0.95,
) -> RocResult:
    """Empirical ROC analysis of one marker (1-D ``score``) or many (patients x markers).

    ``label`` is boolean or 0/1 with cases = 1; patients with a missing label are dropped, and
    a missing score (NaN) drops the patient for that marker only (pROC ``na.rm=TRUE``).
    ``direction`` is "auto" (pROC's median rule, see the module docstring), "<" or ">".

    Raises ``ValueError`` for a single marker without at least one case and one control; in a
    panel such markers get NaN. With fewer than two cases or controls the DeLong SE is NaN, as
    pROC returns NA for ``ci.auc``.
    """
    _check_direction(direction)
    lvl = check_level(level)
    s, one_d = _as_score(score)
    is_case, known = _as_label(label, s.shape[0])
    if not known.all():
        s = s[known]
        is_case = is_case[known]
    k = _kernel(s, is_case, direction)
    if one_d:
        if k.n_cases[0] < 1:
            raise ValueError("no case observations (label == 1) with a non-missing score")
        if k.n_controls[0] < 1:
            raise ValueError("no control observations (label == 0) with a non-missing score")
    directions = np.where(k.lt, "<", ">")
    return RocResult(
        auc=_out(k.auc, one_d),
        direction=_out(directions, one_d),
        n_cases=_out(k.n_cases.astype(np.int64), one_d),
        n_controls=_out(k.n_controls.astype(np.int64), one_d),
        se=_out(np.sqrt(k.var), one_d),
        level=lvl,
        _score=s,
        _is_case=is_case,
        _kernel=k,
        _one_d=one_d,
    )


# the paired test lives in its own module; imported here so ``cartscope.stats.roc`` keeps it
from cartscope.stats.delong import DeLongTest, _placements, delong_test  # noqa: E402
