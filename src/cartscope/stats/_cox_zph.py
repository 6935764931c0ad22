"""Test of proportional hazards for a fitted Cox model, as R survival >= 3 ``cox.zph``.

Since survival 3.0 the test is an exact score test, not the Grambsch-Therneau (1994)
approximation: the model is extended with the terms ``x * g(t)``, ``g`` the chosen transform
of time centred at its mean over the events, and the score test for those extra terms is
computed at (beta_hat, 0) with the full 2p x 2p information matrix of the extended model.
Each term (all columns of a factor together) gets its own test, plus a global one.

The scaled Schoenfeld residuals ``beta_hat + V^-1 r_k`` use the stratum-averaged information
``V`` exactly as R does (R survival ``cox.zph``, Therneau and Grambsch 2000, sec. 6.2).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from cartscope.stats._cox_fit import build_risk_sets, derivatives
from cartscope.stats._scipy_stats import stats as sps

FloatArray = NDArray[np.float64]

TRANSFORMS = ("km", "rank", "identity")


def transformed_time(time: FloatArray, event: FloatArray, transform: str) -> FloatArray:
    """g(t) for every observation before centring.

    ``km``: 1 - S(t-), the left-continuous Kaplan-Meier of all observations pooled (strata
    ignored, as in R); ``rank``: average ranks of all times; ``identity``: t itself.
    """
    if transform == "identity":
        return time.astype(float)
    if transform == "rank":
        return sps.rankdata(time, method="average").astype(float)
    unique_t, inverse = np.unique(time, return_inverse=True)
    deaths = np.bincount(inverse, weights=event, minlength=unique_t.shape[0])
    leaving = np.bincount(inverse, minlength=unique_t.shape[0]).astype(float)
    at_risk = leaving[::-1].cumsum()[::-1]
    surv = np.cumprod(1.0 - deaths / at_risk)
    before = np.concatenate([[1.0], surv])
    return 1.0 - before[np.searchsorted(unique_t, time, side="left")]


def zph_statistics(
    time: FloatArray,
    event: FloatArray,
    x: FloatArray,
    strata: NDArray[np.intp],
    beta: FloatArray,
    ties: str,
    terms: Sequence[Sequence[int]],
    transform: str,
) -> dict[str, FloatArray]:
    """Score tests per term and global, plus the scaled Schoenfeld residuals."""
    n, p = x.shape
    sets = build_risk_sets(time, event, strata, ties)
    order = sets.order
    xc = x - x.mean(axis=0)
    z = xc[order]
    deriv = derivatives(z, beta, sets)

    ttimes = transformed_time(time, event, transform)
    gtime = ttimes - ttimes[event > 0].mean()
    g_sorted = gtime[order]
    g_group = g_sorted[sets.group_start]

    ev = sets.event
    tw = sets.term_weight * g_group[sets.term_group]
    u2 = (ev * g_sorted) @ z - tw @ deriv.means
    i11 = deriv.info()
    i12 = deriv.info(g_group)
    i22 = deriv.info(g_group**2)
    imat = np.block([[i11, i12], [i12.T, i22]])

    n_terms = len(terms)
    chisq = np.zeros(n_terms + 1)
    df = np.zeros(n_terms + 1)
    base = list(range(p))
    for t_idx, cols in enumerate(terms):
        kk = base + [p + c for c in cols]
        u = np.concatenate([np.zeros(p), u2[list(cols)]])
        chisq[t_idx] = float(u @ np.linalg.solve(imat[np.ix_(kk, kk)], u))
        df[t_idx] = len(cols)
    u_all = np.concatenate([np.zeros(p), u2])
    chisq[-1] = float(u_all @ np.linalg.solve(imat, u_all))
    df[-1] = p
    pval = sps.chi2.sf(chisq, df)

    # Schoenfeld residuals of the events, in (stratum, time) order
    dead_rows = np.flatnonzero(ev > 0)
    schoen = z[dead_rows] - deriv.schoenfeld_mean()[sets.group[dead_rows]]
    s_strata = strata[order]
    ustr = np.unique(s_strata)
    used = np.zeros((ustr.shape[0], p))
    xs = x[order]
    for s_idx, s in enumerate(ustr):
        rows = s_strata == s
        nonconst = np.ptp(xs[rows], axis=0) > 0
        used[s_idx] = np.where(nonconst, ev[rows].sum(), 0.0)
    for cols in terms:
        cols = list(cols)
        if len(cols) > 1 and np.any(used[:, cols] == 0):
            used[:, cols] = used[:, cols].max(axis=1, keepdims=True)
    wtmat = np.zeros((p, p))
    for row in used:
        wtmat += np.minimum.outer(row, row)
    vmean = i11 / np.where(wtmat == 0, 1.0, wtmat)
    sresid = schoen
    multi = any(len(c) > 1 for c in terms)
    if multi:
        temp = np.zeros((p, n_terms))
        for t_idx, cols in enumerate(terms):
            cols = list(cols)
            temp[cols, t_idx] = 1.0 if len(cols) == 1 else beta[cols]
        sresid = sresid @ temp
        vmean = temp.T @ vmean @ temp
        used = used[:, [list(c)[0] for c in terms]]
    sresid = np.array(sresid, dtype=float, copy=True)
    per_stratum = used.max(axis=1).astype(np.intp)
    sgrp = np.repeat(np.arange(used.shape[0]), per_stratum)
    for s_idx in range(used.shape[0]):
        k = np.flatnonzero(used[s_idx] > 0)
        if k.size:
            rows = np.flatnonzero(sgrp == s_idx)
            block = vmean[np.ix_(k, k)]
            sub = sresid[np.ix_(rows, k)]
            sresid[np.ix_(rows, k)] = np.linalg.solve(block, sub.T).T
            other = np.setdiff1d(np.arange(sresid.shape[1]), k)
            sresid[np.ix_(rows, other)] = np.nan
    for t_idx, cols in enumerate(terms):
        cols = list(cols)
        sresid[:, t_idx] += beta[cols[0]] if len(cols) == 1 else 1.0
    event_order = order[dead_rows]
    return {
        "chisq": chisq,
        "df": df,
        "p_value": pval,
        "x": ttimes[event_order],
        "time": time[event_order],
        "strata": strata[event_order],
        "y": sresid,
        "var": np.linalg.inv(vmean),
    }
