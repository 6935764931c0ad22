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
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

from cartscope.stats._validation import check_level
from cartscope.stats._ranks import RankPass, marker_chunks, rank_pass

Direction = Literal["auto", "<", ">"]


# --------------------------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# kernel
# --------------------------------------------------------------------------------------------


def _kth_value(r: RankPass, through: NDArray[np.int64], k: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """Value of the k-th smallest member of a group (1-based, per row); NaN when k < 1.

    ``through`` counts the group's members at or below each block; row * (n + 1) + through
    increases over the row-major blocks, so one binary search answers every row.
    """
    key = r.row * (n + 1) + through
    rows = np.arange(k.size)
    want = rows * (n + 1) + np.maximum(k, 1.0).astype(np.int64)
    idx = np.minimum(np.searchsorted(key, want, side="left"), max(key.size - 1, 0))
    out = r.value[idx] if key.size else np.full(k.size, np.nan)
    return np.where(k >= 1, out, np.nan)


def _median(r: RankPass, through: NDArray[np.int64], count: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """R's median of a group from the sorted pooled row (mean of the two middle values)."""
    lo = np.floor((count + 1.0) / 2.0)
    hi = np.ceil((count + 1.0) / 2.0)
    a = _kth_value(r, through, lo, n)
    b = _kth_value(r, through, hi, n)
    return np.where(lo == hi, a, (a + b) / 2.0)


def _centred_squares(n: NDArray[np.int64], sum_sq: NDArray[np.int64], total: NDArray[np.int64]) -> NDArray[np.float64]:
    """n * sum(P^2) - (sum P)^2, exactly (n times the sum of squared deviations of P).

    int64 while it cannot overflow, else Python integers (one per marker).
    """
    if n.size == 0:
        return np.zeros(0)
    bound = float(np.max(n)) * float(np.max(sum_sq)) + float(np.max(total)) ** 2
    if bound < 2.0**62:
        return (n * sum_sq - total * total).astype(np.float64)
    return np.array(
        [float(int(a) * int(b) - int(t) * int(t)) for a, b, t in zip(n, sum_sq, total)], dtype=np.float64
    )


def _midpoint(a: NDArray[np.float64], b: NDArray[np.float64], lt: NDArray[np.bool_]) -> NDArray[np.float64]:
    """pROC threshold between adjacent distinct values a < b (b may be +Inf).

    (a + b) / 2, or a/2 + b/2 when that would overflow; if rounding lands the midpoint on a or b,
    pROC moves it so the classification stays as intended: to b for "<", to a for ">".
    """
    with np.errstate(over="ignore", invalid="ignore"):
        t1 = (a + b) / 2.0
        t2 = a / 2.0 + b / 2.0
    t = np.where(np.abs(t1) > 1e100, t2, t1)
    t = np.where(lt & (t == a), b, t)
    t = np.where(~lt & (t == b) & np.isfinite(b), a, t)
    return t


@dataclass(frozen=True, eq=False)
class _Kernel:
    n_cases: NDArray[np.float64]
    n_controls: NDArray[np.float64]
    auc: NDArray[np.float64]
    lt: NDArray[np.bool_]  # direction "<"
    var: NDArray[np.float64]  # DeLong variance
    threshold: NDArray[np.float64]  # Youden optimum (highest sensitivity among ties)
    sensitivity: NDArray[np.float64]
    specificity: NDArray[np.float64]
    n_optimal: NDArray[np.int64]


def _kernel(score: NDArray[np.float64], is_case: NDArray[np.bool_], direction: str) -> _Kernel:
    """AUC, DeLong variance and Youden optimum of every column of ``score`` (patients x markers).

    The DeLong variance is S10 / n1 + S01 / n0 with S10 the sample variance of the cases'
    placement values P / (2 n0) and S01 that of the controls' 1 - P / (2 n1) (P the doubled
    placements of the rank pass). Both come from exact integer sums: with U2 = sum_cases P and
    Q = sum_cases P^2, S10 = (n1 Q - U2^2) / (4 n0^2 n1 (n1 - 1)); the controls' mean placement
    value is the AUC itself, so S01 = (n0 Q' - V2^2) / (4 n1^2 n0 (n0 - 1)) with their sums.
    """
    n, m = score.shape
    out = {
        k: np.full(m, np.nan)
        for k in ("n_cases", "n_controls", "auc", "var", "threshold", "sensitivity", "specificity")
    }
    lt_all = np.zeros(m, dtype=bool)
    n_opt = np.zeros(m, dtype=np.int64)
    for cols in marker_chunks(n, m):
        r = rank_pass(score[:, cols].T, is_case)
        c = r.n_a.size
        n1 = r.n_a.astype(np.float64)
        n0 = r.n_b.astype(np.float64)
        b_through = (r.end + 1) - r.a_through
        if direction == "auto":
            lt = _median(r, b_through, n0, n) <= _median(r, r.a_through, n1, n)
        else:
            lt = np.full(c, direction == "<")
        ac_pa = r.a_count * r.place_a
        bc_pb = r.b_count * r.place_b
        u2 = r.row_sums(ac_pa)
        v2 = r.row_sums(bc_pb)
        q_case = r.row_sums(ac_pa * r.place_a)
        q_ctrl = r.row_sums(bc_pb * r.place_b)
        del ac_pa, bc_pb
        with np.errstate(divide="ignore", invalid="ignore"):
            # U (pairs case > control, ties 1/2) is a sum of half-integers: exact
            auc_lt = (0.5 * u2.astype(np.float64)) / (n1 * n0)
            s10 = _centred_squares(r.n_a, q_case, u2) / (4.0 * n0 * n0 * n1 * (n1 - 1.0))
            s01 = _centred_squares(r.n_b, q_ctrl, v2) / (4.0 * n1 * n1 * n0 * (n0 - 1.0))
            var = s10 / n1 + s01 / n0
            # Youden: candidates are -Inf (se + sp = 1 for either direction) and every block
            # end (threshold just above it), where se + sp = tp / n1 + tn / n0
            lt_b = lt[r.row]
            a_t = r.a_through.astype(np.float64)
            b_t = b_through.astype(np.float64)
            n1_b = n1[r.row]
            n0_b = n0[r.row]
            tp = np.where(lt_b, n1_b - a_t, a_t)
            tn = np.where(lt_b, b_t, n0_b - b_t)
            crit = tp / n1_b + tn / n0_b
        best_crit, chosen, n_optimal = _youden_choice(r, crit, lt)
        at_inf = chosen < 0
        k = np.maximum(chosen, 0)
        if r.row.size:
            has_next = (k + 1 < r.row.size) & (r.row[np.minimum(k + 1, r.row.size - 1)] == np.arange(c))
            a_val = r.value[k]
            b_val = np.where(has_next, r.value[np.minimum(k + 1, r.row.size - 1)], np.inf)
            tp_best = np.where(at_inf, np.nan, tp[k])
            tn_best = np.where(at_inf, np.nan, tn[k])
        else:
            a_val = b_val = tp_best = tn_best = np.full(c, np.nan)
        thr = np.where(at_inf, -np.inf, _midpoint(a_val, b_val, lt))
        with np.errstate(divide="ignore", invalid="ignore"):
            se_best = np.where(at_inf, np.where(lt, 1.0, 0.0), tp_best / n1)
            sp_best = np.where(at_inf, np.where(lt, 0.0, 1.0), tn_best / n0)
        usable = (n1 >= 1) & (n0 >= 1)
        out["n_cases"][cols] = n1
        out["n_controls"][cols] = n0
        out["auc"][cols] = np.where(usable, np.where(lt, auc_lt, 1.0 - auc_lt), np.nan)
        out["var"][cols] = np.where((n1 >= 2) & (n0 >= 2), var, np.nan)
        out["threshold"][cols] = np.where(usable, thr, np.nan)
        out["sensitivity"][cols] = np.where(usable, se_best, np.nan)
        out["specificity"][cols] = np.where(usable, sp_best, np.nan)
        lt_all[cols] = lt
        n_opt[cols] = np.where(usable, n_optimal, 0)
    return _Kernel(
        out["n_cases"],
        out["n_controls"],
        out["auc"],
        lt_all,
        out["var"],
        out["threshold"],
        out["sensitivity"],
        out["specificity"],
        n_opt,
    )


def _youden_choice(
    r: RankPass, crit: NDArray[np.float64], lt: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Per row: the largest se + sp, the chosen block (-1 for the -Inf threshold) and the
    number of optima.

    pROC lists all optima in its curve order (decreasing sensitivity); the first is kept, i.e.
    the highest sensitivity: the smallest threshold for "<" (the -Inf threshold when it is
    optimal) and the largest for ">" (the -Inf threshold only when no block is optimal).
    """
    c = lt.size
    lo, hi = r.first_block[:-1], r.first_block[1:]
    has = hi > lo
    row_max = np.full(c, -np.inf)
    if has.any():
        row_max[has] = np.maximum.reduceat(crit, lo[has])
    best = np.maximum(row_max, 1.0)
    optimal = crit == best[r.row]
    n_optimal = r.row_sums(optimal.astype(np.int64)) + (best == 1.0)
    where = np.flatnonzero(optimal)
    i_first = np.searchsorted(where, lo, side="left")
    i_last = np.searchsorted(where, hi, side="left") - 1
    first = np.where(i_first < where.size, where[np.minimum(i_first, max(where.size - 1, 0))] if where.size else -1, -1)
    first = np.where((first >= lo) & (first < hi), first, -1)
    last = where[np.maximum(i_last, 0)] if where.size else np.full(c, -1)
    last = np.where((i_last >= 0) & (last >= lo) & (last < hi), last, -1)
    chosen = np.where(lt, np.where(best == 1.0, -1, first), last)
    return best, chosen.astype(np.int64), n_optimal.astype(np.int64)


def _curve_1d(score: NDArray[np.float64], is_case: NDArray[np.bool_], lt: bool) -> tuple[
    NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]
]:
    """Thresholds, sensitivities and specificities as pROC ``coords(roc, "all")``: ascending
    thresholds for "<", descending for ">" (sensitivity decreasing in both)."""
    r = rank_pass(score[None, :], is_case)
    vals = r.value
    nxt = np.append(vals[1:], np.inf)
    n1, n0 = float(r.n_a[0]), float(r.n_b[0])
    a_upto = r.a_through.astype(np.float64)
    b_upto = (r.end + 1.0) - a_upto
    lt_arr = np.full(vals.shape, lt)
    thr = np.concatenate([[-np.inf], _midpoint(vals, nxt, lt_arr)])
    if lt:
        tp = np.concatenate([[n1], n1 - a_upto])
        tn = np.concatenate([[0.0], b_upto])
    else:
        tp = np.concatenate([[0.0], a_upto])
        tn = np.concatenate([[n0], n0 - b_upto])
    thr, se, sp = thr, tp / n1, tn / n0
    if not lt:  # pROC lists ">" curves from +Inf down, so sensitivity always decreases
        thr, se, sp = thr[::-1], se[::-1], sp[::-1]
    return thr, se, sp


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


def _out(values: NDArray[Any], one_d: bool) -> Any:
    if one_d:
        item = values[0]
        return item.item() if hasattr(item, "item") else item
    return values


@dataclass(frozen=True, eq=False)
class AucCI:
    """AUC with its confidence interval; scalars for one marker, arrays for a panel."""

    auc: Any
    lower: Any
    upper: Any
    se: Any
    method: str
    level: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "auc": np.atleast_1d(self.auc),
                "lower": np.atleast_1d(self.lower),
                "upper": np.atleast_1d(self.upper),
                "se": np.atleast_1d(self.se),
                "method": self.method,
                "level": self.level,
            }
        )


@dataclass(frozen=True, eq=False)
class YoudenCutoff:
    """Threshold maximising Youden's J = sensitivity + specificity - 1.

    When several thresholds share the maximal J (pROC ``coords(..., "best")`` returns all of
    them, in its curve order), the first of pROC's list is reported: the optimum with the
    highest sensitivity, i.e. the smallest threshold for direction "<" and the largest for ">".
    ``n_optimal`` says how many tied; ``all_thresholds`` lists them in pROC's order for a single
    marker (empty for a panel).
    """

    threshold: Any
    sensitivity: Any
    specificity: Any
    youden: Any
    n_optimal: Any
    direction: Any
    all_thresholds: tuple[float, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "threshold": np.atleast_1d(self.threshold),
                "sensitivity": np.atleast_1d(self.sensitivity),
                "specificity": np.atleast_1d(self.specificity),
                "youden": np.atleast_1d(self.youden),
                "n_optimal": np.atleast_1d(self.n_optimal),
                "direction": np.atleast_1d(self.direction),
            }
        )


@dataclass(frozen=True, eq=False)
class RocCurve:
    """All pROC thresholds with sensitivity and specificity (``coords(roc, "all")``)."""

    thresholds: NDArray[np.float64]
    sensitivity: NDArray[np.float64]
    specificity: NDArray[np.float64]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "threshold": self.thresholds,
                "sensitivity": self.sensitivity,
                "specificity": self.specificity,
            }
        )


@dataclass(frozen=True, eq=False)
class OperatingPoint:
    """Classification at a fixed threshold: counts, sensitivity, specificity, PPV, NPV and CIs.

    Each ``*_ci`` is a (lower, upper) pair from :func:`cartscope.stats.proportions.proportion_ci`
    (NaN when the denominator is 0, e.g. PPV when nobody is called positive).
    """

    threshold: Any
    direction: Any
    tp: Any
    fp: Any
    tn: Any
    fn: Any
    sensitivity: Any
    specificity: Any
    ppv: Any
    npv: Any
    sensitivity_ci: tuple[Any, Any]
    specificity_ci: tuple[Any, Any]
    ppv_ci: tuple[Any, Any]
    npv_ci: tuple[Any, Any]
    ci_method: str
    level: float

    def to_frame(self) -> pd.DataFrame:
        rows: dict[str, Any] = {
            "threshold": np.atleast_1d(self.threshold),
            "direction": np.atleast_1d(self.direction),
        }
        for name in ("tp", "fp", "tn", "fn"):
            rows[name] = np.atleast_1d(getattr(self, name))
        for name in ("sensitivity", "specificity", "ppv", "npv"):
            rows[name] = np.atleast_1d(getattr(self, name))
            lo, hi = getattr(self, f"{name}_ci")
            rows[f"{name}_lower"] = np.atleast_1d(lo)
            rows[f"{name}_upper"] = np.atleast_1d(hi)
        frame = pd.DataFrame(rows)
        frame["ci_method"] = self.ci_method
        frame["level"] = self.level
        return frame


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
    cases above it; both from binary searches in the sorted other class, O(n log n).
    """
    x = score[is_case] if lt else -score[is_case]
    y = score[~is_case] if lt else -score[~is_case]
    ys = np.sort(y)
    xs = np.sort(x)
    v10 = (np.searchsorted(ys, x, "left") + np.searchsorted(ys, x, "right")) / (2.0 * y.size)
    v01 = 1.0 - (np.searchsorted(xs, y, "left") + np.searchsorted(xs, y, "right")) / (2.0 * x.size)
    return v10, v01, float(v10.mean())


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
    rule) as ``pROC::roc`` does before ``roc.test``. Patients missing either score are dropped
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
    ra = roc(a, is_case, direction=dirs[0])
    rb = roc(b, is_case, direction=dirs[1])
    n1, n0 = int(is_case.sum()), int((~is_case).sum())
    if n1 < 2 or n0 < 2:
        raise ValueError("DeLong's test needs at least 2 cases and 2 controls")
    xa, ya, ta = _placements(a, is_case, ra.direction == "<")
    xb, yb, tb = _placements(b, is_case, rb.direction == "<")
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
        str(ra.direction), str(rb.direction), alternative, n1, n0,
    )
