"""The ROC kernel: AUC, DeLong variance and Youden optimum of every marker from one rank pass.

Used by :func:`cartscope.stats.roc.roc` (and the biomarker screen, which shares the rank pass
with the Mann-Whitney test). The conventions are pROC's, listed in :mod:`cartscope.stats.roc`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cartscope.stats._ranks import RankPass, marker_chunks, rank_pass

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


#: Fields of :func:`kernel_pass`, per marker.
KERNEL_FIELDS = ("n_cases", "n_controls", "auc", "var", "threshold", "sensitivity", "specificity",
                 "tp", "tn", "lt", "n_optimal", "median_cases", "median_controls")


def kernel_pass(r: RankPass, n: int, direction: str) -> dict[str, NDArray]:
    """AUC, DeLong variance and Youden optimum (with its counts) of the rows of one rank pass.

    The DeLong variance is S10 / n1 + S01 / n0 with S10 the sample variance of the cases'
    placement values P / (2 n0) and S01 that of the controls' 1 - P / (2 n1) (P the doubled
    placements of the rank pass). Both come from exact integer sums: with U2 = sum_cases P and
    Q = sum_cases P^2, S10 = (n1 Q - U2^2) / (4 n0^2 n1 (n1 - 1)); the controls' mean placement
    value is the AUC itself, so S01 = (n0 Q' - V2^2) / (4 n1^2 n0 (n0 - 1)) with their sums.
    The class medians (R's) come from the same sorted rows.
    """
    c = r.n_a.size
    n1 = r.n_a.astype(np.float64)
    n0 = r.n_b.astype(np.float64)
    b_through = (r.end + 1) - r.a_through
    med_controls = _median(r, b_through, n0, n)
    med_cases = _median(r, r.a_through, n1, n)
    if direction == "auto":
        lt = med_controls <= med_cases
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
        tp_best = np.where(at_inf, np.where(lt, n1, 0.0), tp[k])
        tn_best = np.where(at_inf, np.where(lt, 0.0, n0), tn[k])
    else:
        a_val = b_val = tp_best = tn_best = np.full(c, np.nan)
    thr = np.where(at_inf, -np.inf, _midpoint(a_val, b_val, lt))
    with np.errstate(divide="ignore", invalid="ignore"):
        se_best = np.where(at_inf, np.where(lt, 1.0, 0.0), tp_best / n1)
        sp_best = np.where(at_inf, np.where(lt, 0.0, 1.0), tn_best / n0)
    usable = (n1 >= 1) & (n0 >= 1)
    return {
        "n_cases": n1,
        "n_controls": n0,
        "auc": np.where(usable, np.where(lt, auc_lt, 1.0 - auc_lt), np.nan),
        "var": np.where((n1 >= 2) & (n0 >= 2), var, np.nan),
        "threshold": np.where(usable, thr, np.nan),
        "sensitivity": np.where(usable, se_best, np.nan),
        "specificity": np.where(usable, sp_best, np.nan),
        "tp": np.where(usable, tp_best, np.nan),
        "tn": np.where(usable, tn_best, np.nan),
        "lt": lt,
        "n_optimal": np.where(usable, n_optimal, 0).astype(np.int64),
        "median_cases": med_cases,
        "median_controls": med_controls,
    }


def _kernel(score: NDArray[np.float64], is_case: NDArray[np.bool_], direction: str) -> _Kernel:
    """:func:`kernel_pass` over every column of ``score`` (patients x markers), chunk by chunk."""
    n, m = score.shape
    out = {k: np.full(m, np.nan) for k in ("n_cases", "n_controls", "auc", "var", "threshold",
                                           "sensitivity", "specificity")}
    lt_all = np.zeros(m, dtype=bool)
    n_opt = np.zeros(m, dtype=np.int64)
    for cols in marker_chunks(n, m):
        part = kernel_pass(rank_pass(score[:, cols].T, is_case), n, direction)
        for key in out:
            out[key][cols] = part[key]
        lt_all[cols] = part["lt"]
        n_opt[cols] = part["n_optimal"]
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
