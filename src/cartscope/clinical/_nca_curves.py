"""Non-compartmental CAR-T kinetics of many curves at once (the rules of
:mod:`cartscope.clinical.kinetics`, vectorised over curves).

Every curve's parameters are those of ``kinetics._nca`` applied to that curve alone, bit for
bit: the trapezoid areas are added in day order, segment by segment, for all curves together
(one pass per segment position, not per curve), and the log-linear fits are computed for all
curves with the same number of points as rows of one matrix, whose row sums numpy adds exactly
as it adds a single curve's points.
"""

from __future__ import annotations

import numpy as np


def _areas(t1: np.ndarray, c1: np.ndarray, t2: np.ndarray, c2: np.ndarray, log_down: bool) -> np.ndarray:
    """Trapezoid area of each segment; log-linear on a falling segment under ``log_down``."""
    dt = t2 - t1
    area = 0.5 * (c1 + c2) * dt
    if log_down:
        falling = (c2 < c1) & (c2 > 0)
        with np.errstate(all="ignore"):
            area = np.where(falling, (c1 - c2) / np.log(c1 / c2) * dt, area)
    return area


def _interpolate(t1, c1, t2, c2, at: float, log_down: bool) -> np.ndarray:
    """Level at day ``at`` between (t1, c1) and (t2, c2): linear, or log-linear on a fall."""
    with np.errstate(all="ignore"):
        f = (at - t1) / (t2 - t1)
        level = c1 + f * (c2 - c1)
        if log_down:
            falling = (c2 < c1) & (c2 > 0)
            level = np.where(falling, np.exp(np.log(c1) + f * (np.log(c2) - np.log(c1))), level)
    return level


def _auc(pt: np.ndarray, pc: np.ndarray, m: np.ndarray, end: float | None, log_down: bool) -> np.ndarray:
    """Trapezoid AUC of each row's first ``m`` points of (pt, pc), from the first point to
    ``end`` (interpolated inside the data; beyond the last point: up to it), areas added in
    order (as ``kinetics.auc``)."""
    total = np.zeros(len(m))
    alive = m >= 2
    with np.errstate(all="ignore"):
        for j in range(pt.shape[1] - 1):
            alive &= j < m - 1
            if not alive.any():
                break
            t1, c1, t2, c2 = pt[:, j], pc[:, j], pt[:, j + 1], pc[:, j + 1]
            if end is None:
                total = np.where(alive, total + _areas(t1, c1, t2, c2, log_down), total)
                continue
            alive &= t1 < end
            cut = alive & (t2 > end)
            c_end = _interpolate(t1, c1, t2, c2, end, log_down)
            part = np.where(cut, _areas(t1, c1, np.full_like(t1, end), c_end, log_down),
                            _areas(t1, c1, t2, c2, log_down))
            total = np.where(alive, total + part, total)
            alive &= ~cut
    return total


def _loglin(rows: np.ndarray, curve: np.ndarray, t: np.ndarray, c: np.ndarray, n_curves: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """Slope and adjusted R² of ln(c) on t per curve over the points ``rows`` (indices into t,
    c, in day order; ``curve`` their curve): NaN where a curve has no points, NaN R² below 3."""
    slope = np.full(n_curves, np.nan)
    r2adj = np.full(n_curves, np.nan)
    count = np.bincount(curve, minlength=n_curves)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    for n in np.unique(count[count > 0]):
        which = np.flatnonzero(count == n)
        idx = rows[start[which][:, None] + np.arange(n)]
        tt, y = t[idx], np.log(c[idx])
        tm, ym = tt.mean(axis=1), y.mean(axis=1)
        sxx = ((tt - tm[:, None]) ** 2).sum(axis=1)
        with np.errstate(all="ignore"):
            s = ((tt - tm[:, None]) * (y - ym[:, None])).sum(axis=1) / sxx
        s = np.where(sxx == 0.0, np.nan, s)
        slope[which] = s
        if n >= 3:
            resid = y - (ym[:, None] + s[:, None] * (tt - tm[:, None]))
            sst = ((y - ym[:, None]) ** 2).sum(axis=1)
            with np.errstate(all="ignore"):
                r2 = np.where(sst > 0, 1.0 - (resid ** 2).sum(axis=1) / sst, 1.0)
            r2adj[which] = np.where(sxx == 0.0, np.nan, 1.0 - (1.0 - r2) * (n - 1) / (n - 2))
    return slope, r2adj


def _first_last(rows: np.ndarray, curve: np.ndarray, n_curves: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last of ``rows`` (ascending) per curve, -1 where a curve has none."""
    first = np.full(n_curves, -1)
    last = np.full(n_curves, -1)
    if len(rows):
        u, i = np.unique(curve, return_index=True)
        first[u] = rows[i]
        u, i = np.unique(curve[::-1], return_index=True)
        last[u] = rows[::-1][i]
    return first, last


def nca_curves(t: np.ndarray, c: np.ndarray, starts: np.ndarray, *, lloq: float | None, log_down: bool,
               auc_end: float) -> list[dict]:
    """Parameters of each curve (``t`` sorted within curves, one value per day; curve i is
    ``[starts[i], starts[i + 1])``), as the dicts of ``kinetics._nca``."""
    n_curves = len(starts)
    if n_curves == 0:
        return []
    length = np.diff(np.append(starts, len(t)))
    curve_of = np.repeat(np.arange(n_curves), length)
    thr = lloq if lloq is not None else 0.0
    nan = np.full(n_curves, np.nan)

    n_pre = np.bincount(curve_of[t <= 0], minlength=n_curves)
    baseline = np.where(n_pre > 0, c[np.maximum(starts + n_pre - 1, 0)], np.nan)
    base_detect = np.isfinite(baseline) & (baseline > thr)
    post = np.flatnonzero(t > 0)  # rows after the infusion, per curve in day order
    p_curve = curve_of[post]
    tp, cp = t[post], c[post]
    n_post = length - n_pre
    detect = cp > thr

    cmax, tmax = nan.copy(), nan.copy()
    has_post = n_post > 0
    if len(post):
        new_curve = np.r_[True, p_curve[1:] != p_curve[:-1]]
        peak = np.maximum.reduceat(cp, np.flatnonzero(new_curve))[np.cumsum(new_curve) - 1]
        at_peak = np.flatnonzero(cp == peak)
        first_peak, _ = _first_last(at_peak, p_curve[at_peak], n_curves)  # the first day of the maximum
        cmax[has_post] = cp[first_peak[has_post]]
        tmax[has_post] = tp[first_peak[has_post]]
    tmax_row = tmax[p_curve]
    det_rows = np.flatnonzero(detect)
    first_det, last_det = _first_last(det_rows, p_curve[det_rows], n_curves)
    any_det = last_det >= 0
    clast = np.where(any_det, cp[np.maximum(last_det, 0)], np.nan) if len(post) else nan.copy()
    tlast = np.where(any_det, tp[np.maximum(last_det, 0)], np.nan) if len(post) else nan.copy()
    last_post_t = np.where(has_post, t[np.maximum(starts + length - 1, 0)], np.nan)

    # AUC points per curve: day 0 (the detectable baseline, else 0), then the samples kept
    # (BLQ -> 0 up to Tmax, BLQ dropped after Tmax), as rows of a padded matrix
    keep = np.flatnonzero(detect | (tp <= tmax_row))
    k_curve = p_curve[keep]
    n_keep = np.bincount(k_curve, minlength=n_curves)
    width = 1 + (int(n_keep.max()) if len(keep) else 0)
    pt = np.zeros((n_curves, width))
    pc = np.zeros((n_curves, width))
    pc[:, 0] = np.where(base_detect, baseline, 0.0)
    k_start = np.concatenate([[0], np.cumsum(n_keep)[:-1]])
    pos = 1 + np.arange(len(keep)) - k_start[k_curve]
    pt[k_curve, pos] = tp[keep]
    pc[k_curve, pos] = np.where(detect[keep], cp[keep], 0.0)
    upto_last = 1 + np.bincount(k_curve[tp[keep] <= tlast[k_curve]], minlength=n_curves)
    auc_tlast = np.where(any_det, _auc(pt, pc, upto_last, None, log_down), np.nan)
    has_auc = any_det & (last_post_t >= auc_end)
    auc_end_v = np.where(has_auc, _auc(pt, pc, 1 + n_keep, auc_end, log_down), np.nan)

    ref = np.where(base_detect, baseline, cp[np.maximum(first_det, 0)] if len(post) else np.nan)
    with np.errstate(all="ignore"):
        fold = np.where(any_det, cmax / ref, np.nan)

    after = np.flatnonzero((tp > tmax_row) & detect)
    n_after = np.bincount(p_curve[after], minlength=n_curves)
    fit3 = any_det & (n_after >= 3)
    sel = after[fit3[p_curve[after]]]
    slope_d, r2_d = _loglin(post[sel], p_curve[sel], t, c, n_curves)
    with np.errstate(all="ignore"):
        half_life = np.where(fit3 & (slope_d < 0), np.log(2) / -slope_d, np.nan)
    up = np.flatnonzero(detect & (tp <= tmax_row))
    n_up = np.bincount(p_curve[up], minlength=n_curves)
    fit2 = any_det & (n_up >= 2)
    sel = up[fit2[p_curve[up]]]
    slope_u, _ = _loglin(post[sel], p_curve[sel], t, c, n_curves)
    with np.errstate(all="ignore"):
        doubling = np.where(fit2 & (slope_u > 0), np.log(2) / slope_u, np.nan)

    out = []
    for i in range(n_curves):
        res = dict(n_samples=int(n_post[i]), baseline=float(baseline[i]), cmax=np.nan, tmax=np.nan, auc0_28=np.nan,
                   auc_0_tlast=np.nan, clast=np.nan, tlast=np.nan, persistence_day=np.nan,
                   expansion_fold=np.nan, fold_reference=None, half_life=np.nan, half_life_n=0,
                   half_life_r2_adj=np.nan, doubling_time=np.nan)
        if not has_post[i]:
            res["reason"] = "no post-infusion sample"
            out.append(res)
            continue
        res.update(cmax=float(cmax[i]), tmax=float(tmax[i]))
        if not any_det[i]:
            res["reason"] = "never detectable after infusion"
            out.append(res)
            continue
        reasons = [f"only {int(n_post[i])} post-infusion sample(s)"] if n_post[i] <= 2 else []
        res.update(clast=float(clast[i]), tlast=float(tlast[i]), persistence_day=float(tlast[i]),
                   auc_0_tlast=float(auc_tlast[i]))
        if has_auc[i]:
            res["auc0_28"] = float(auc_end_v[i])
        else:
            reasons.append(f"last sample (day {float(last_post_t[i]):g}) before day {auc_end:g}: no AUC0-{auc_end:g}")
        res.update(expansion_fold=float(fold[i]),
                   fold_reference="baseline" if base_detect[i] else "first post-infusion")
        if fit3[i]:
            res.update(half_life_n=int(n_after[i]), half_life_r2_adj=float(r2_d[i]))
            if slope_d[i] < 0:
                res["half_life"] = float(half_life[i])
            else:
                reasons.append("no decline after the peak: no half-life")
        else:
            reasons.append(f"{int(n_after[i])} detectable sample(s) after the peak (need 3): no half-life")
        if fit2[i] and slope_u[i] > 0:
            res["doubling_time"] = float(doubling[i])
        res["reason"] = "; ".join(reasons)
        out.append(res)
    return out
