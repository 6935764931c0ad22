"""Partial likelihood of the Cox model over counting-process (start, stop] data.

A row ``i`` is at risk at a death time ``t`` of its stratum when ``start_i < t <= stop_i``
(Andersen and Gill 1982); it dies at ``t`` when ``stop_i = t`` and its event is 1. Ordinary
right-censored data are the special case ``start = 0`` (less than every time).

Death times are grouped per (stratum, time). Each row is at risk in a contiguous range of
death groups ``[lo_i, hi_i)``, so the risk-set sums S0 = sum r, S1 = sum r x and
S2 = sum r x x' of every group come from one difference array and a cumulative sum (the
rows entering minus the rows that left, as R survival's ``agfit4`` adds and removes them).

Ties (for a group with d deaths, D its deaths):

* ``breslow``: one term of weight d, denominator S0;
* ``efron``: d terms k = 0..d-1 with S0 - (k/d) S0_D (Efron 1977), the same for S1, S2;
* ``exact``: the exact (discrete, conditional-logistic) partial likelihood of Kalbfleisch
  and Prentice / Cox (1972): the term is exp(sum_D eta) / B_d, where B_d sums
  prod r over every subset of size d of the risk set: the z^d coefficient of
  prod_i (1 + r_i z), whose recursion B_k(m) = B_k(m-1) + r_m B_(k-1)(m-1) is Gail, Lubin
  and Rubinstein's (1981) and R's ``coxexact`` / ``agexact``; here the product is formed
  pairwise in a balanced tree with the derivatives carried along. A group with one death
  needs none of it (B_1 = S0).

The Newton-Raphson loop starts at zero and stops when the relative change of the log
likelihood is at most ``eps`` and no step is being halved (R ``agfit4``/``coxexact``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cartscope.stats._cox_fit import NewtonFit, maximise

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class CountingSets:
    """Death groups and the range of groups in which each row is at risk.

    ``lo``/``hi``: row i is at risk in groups ``lo[i] <= g < hi[i]``; a row with an event
    dies in group ``hi[i] - 1``. ``group_time``/``group_stratum`` describe each group
    (sorted by stratum, then time); ``deaths`` counts the deaths per group; ``death_group``
    is the group of each row's death (-1 if none).
    """

    lo: IntArray
    hi: IntArray
    group_time: FloatArray
    group_stratum: IntArray
    deaths: FloatArray
    death_group: IntArray
    event: FloatArray


def build_counting_sets(
    start: FloatArray, stop: FloatArray, event: FloatArray, strata: IntArray
) -> CountingSets:
    """Group the death times per stratum and find each row's range of risk sets."""
    n = stop.shape[0]
    lo = np.zeros(n, dtype=np.intp)
    hi = np.zeros(n, dtype=np.intp)
    times: list[FloatArray] = []
    strats: list[IntArray] = []
    offset = 0
    for s in np.unique(strata):
        rows = np.flatnonzero(strata == s)
        dead = rows[event[rows] > 0]
        u = np.unique(stop[dead])
        lo[rows] = offset + np.searchsorted(u, start[rows], side="right")
        hi[rows] = offset + np.searchsorted(u, stop[rows], side="right")
        times.append(u)
        strats.append(np.full(u.shape[0], s, dtype=np.intp))
        offset += u.shape[0]
    group_time = np.concatenate(times) if times else np.zeros(0)
    group_stratum = np.concatenate(strats) if strats else np.zeros(0, dtype=np.intp)
    death_group = np.where(event > 0, hi - 1, -1).astype(np.intp)
    deaths = np.bincount(death_group[event > 0], minlength=offset).astype(float)
    return CountingSets(lo, hi, group_time, group_stratum, deaths, death_group, event)


def _range_sums(sets: CountingSets, values: FloatArray) -> FloatArray:
    """For each group, the sum of ``values`` (rows x q) over the rows at risk in it."""
    g = sets.group_time.shape[0]
    out = np.zeros((g, values.shape[1]))
    for j in range(values.shape[1]):
        acc = np.bincount(sets.lo, weights=values[:, j], minlength=g + 1)
        acc -= np.bincount(sets.hi, weights=values[:, j], minlength=g + 1)
        out[:, j] = np.cumsum(acc)[:g]
    return out


def _death_sums(sets: CountingSets, values: FloatArray) -> FloatArray:
    """For each group, the sum of ``values`` over the rows that die in it."""
    g = sets.group_time.shape[0]
    dead = sets.death_group >= 0
    idx = sets.death_group[dead]
    out = np.zeros((g, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(idx, weights=values[dead, j], minlength=g)
    return out


@dataclass(frozen=True)
class GroupSums:
    """Risk-set sums per death group at one beta (risk = exp(eta))."""

    risk: FloatArray
    s0: FloatArray
    s1: FloatArray
    s2: FloatArray
    d0: FloatArray
    d1: FloatArray
    d2: FloatArray


def group_sums(z: FloatArray, beta: FloatArray, sets: CountingSets) -> GroupSums:
    """S0, S1, S2 over the risk sets and over the deaths of every group."""
    n, p = z.shape
    with np.errstate(over="ignore", invalid="ignore"):
        risk = np.exp(z @ beta)
        outer = (z[:, :, None] * z[:, None, :]).reshape(n, p * p)
        cols = np.column_stack([risk, z * risk[:, None], outer * risk[:, None]])
    at_risk = _range_sums(sets, cols)
    dead = _death_sums(sets, cols)
    g = at_risk.shape[0]
    return GroupSums(
        risk=risk,
        s0=at_risk[:, 0],
        s1=at_risk[:, 1 : 1 + p],
        s2=at_risk[:, 1 + p :].reshape(g, p, p),
        d0=dead[:, 0],
        d1=dead[:, 1 : 1 + p],
        d2=dead[:, 1 + p :].reshape(g, p, p),
    )


@dataclass(frozen=True)
class Terms:
    """The likelihood terms of the Breslow / Efron approximations, one row per term.

    ``group``: its death group; ``downweight``: k/d (Efron) or 0 (Breslow); ``weight``:
    1 (Efron) or d (Breslow). Term sums are S - downweight * S_D.
    """

    group: IntArray
    downweight: FloatArray
    weight: FloatArray


def likelihood_terms(sets: CountingSets, ties: str) -> Terms:
    """Breslow: one term per group of weight d; Efron and exact: d terms, k/d downweighted."""
    groups = np.flatnonzero(sets.deaths > 0)
    d = sets.deaths[groups]
    if ties == "breslow":
        return Terms(groups, np.zeros(groups.shape[0]), d.copy())
    counts = d.astype(np.intp)
    tg = np.repeat(groups, counts)
    first = np.cumsum(counts) - counts
    k = np.arange(tg.shape[0]) - np.repeat(first, counts)
    return Terms(tg, k / np.repeat(d, counts), np.ones(tg.shape[0]))


def _truncated_product(
    f1: FloatArray, g1: FloatArray, h1: FloatArray, f2: FloatArray, g2: FloatArray, h2: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(F, G, H) of the product of two polynomials in z with their gradients and Hessians in
    beta, coefficients up to the degree kept (F: (m, d+1), G: (m, d+1, p), H: (m, d+1, p, p)).

    F = F1 F2, G = F1 G2 + G1 F2, H = F1 H2 + H1 F2 + G1 G2' + G2 G1'.
    """
    d1 = f1.shape[1]
    f = np.zeros_like(f1)
    g = np.zeros_like(g1)
    h = np.zeros_like(h1)
    for a in range(d1):
        n = d1 - a
        fa, ga, ha = f1[:, a], g1[:, a], h1[:, a]
        f[:, a:] += fa[:, None] * f2[:, :n]
        g[:, a:] += fa[:, None, None] * g2[:, :n] + ga[:, None, :] * f2[:, :n, None]
        cross = ga[:, None, :, None] * g2[:, :n, None, :]
        h[:, a:] += (fa[:, None, None, None] * h2[:, :n] + ha[:, None] * f2[:, :n, None, None]
                     + cross + np.swapaxes(cross, 2, 3))
    return f, g, h


def _exact_group(z: FloatArray, risk: FloatArray, rows: IntArray, d: int) -> tuple[float, FloatArray, FloatArray]:
    """log B_d, B_d'/B_d and B_d''/B_d over the risk set ``rows``.

    B(z) = prod_i (1 + r_i z) and B_d its coefficient of z^d (the sum over subsets of size d
    of prod r, the recursion of Gail et al. 1981 unrolled); its derivatives in beta travel
    with it as (value, gradient, Hessian) triples, multiplied pairwise in a balanced tree, so
    that the work is vectorised over the risk set. Scores are divided by their geometric
    mean first (B_d scales by c^d, the ratios not).
    """
    p = z.shape[1]
    r = risk[rows]
    c = float(np.exp(np.mean(np.log(r))))
    r = r / c
    x = z[rows]
    m = rows.shape[0]
    f = np.zeros((m, d + 1))
    f[:, 0] = 1.0
    f[:, 1] = r
    g = np.zeros((m, d + 1, p))
    g[:, 1] = r[:, None] * x
    h = np.zeros((m, d + 1, p, p))
    h[:, 1] = r[:, None, None] * x[:, :, None] * x[:, None, :]
    while f.shape[0] > 1:
        if f.shape[0] % 2:
            f = np.concatenate([f, np.eye(1, d + 1)])
            g = np.concatenate([g, np.zeros((1, d + 1, p))])
            h = np.concatenate([h, np.zeros((1, d + 1, p, p))])
        f, g, h = _truncated_product(f[0::2], g[0::2], h[0::2], f[1::2], g[1::2], h[1::2])
    b = f[0, d]
    return float(np.log(b) + d * np.log(c)), g[0, d] / b, h[0, d] / b


@dataclass(frozen=True)
class Derivatives:
    loglik: float
    score: FloatArray
    info: FloatArray


def derivatives(z: FloatArray, beta: FloatArray, sets: CountingSets, ties: str) -> Derivatives:
    """Log partial likelihood, score and information at ``beta``."""
    with np.errstate(all="ignore"):
        gs = group_sums(z, beta, sets)
        terms = likelihood_terms(sets, ties)
        dead = sets.event > 0
        eta = z @ beta
        loglik = float(np.sum(eta[dead]))
        score = z[dead].sum(axis=0)
        info = np.zeros((z.shape[1], z.shape[1]))
        tg, f, w = terms.group, terms.downweight, terms.weight
        if ties == "exact":
            tied = sets.deaths[tg] >= 2
            tg, f, w = tg[~tied], f[~tied], w[~tied]
        den = gs.s0[tg] - f * gs.d0[tg]
        m1 = (gs.s1[tg] - f[:, None] * gs.d1[tg]) / den[:, None]
        m2 = (gs.s2[tg] - f[:, None, None] * gs.d2[tg]) / den[:, None, None]
        loglik -= float(np.sum(w * np.log(den)))
        score -= np.einsum("t,tj->j", w, m1)
        info += np.einsum("t,tjk->jk", w, m2 - m1[:, :, None] * m1[:, None, :])
        if ties == "exact":
            for g in np.flatnonzero(sets.deaths >= 2):
                rows = np.flatnonzero((sets.lo <= g) & (sets.hi > g))
                logb, mean1, mean2 = _exact_group(z, gs.risk, rows, int(sets.deaths[g]))
                loglik -= logb
                score -= mean1
                info += mean2 - np.outer(mean1, mean1)
    return Derivatives(loglik, score, (info + info.T) / 2.0)


def newton_raphson(z: FloatArray, sets: CountingSets, ties: str, max_iter: int, eps: float) -> NewtonFit:
    """Maximise the partial likelihood from zero as R's ``agfit4`` / ``coxexact`` do."""

    def evaluate(beta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        d = derivatives(z, beta, sets, ties)
        return d.loglik, d.score, d.info

    return maximise(evaluate, z.shape[1], max_iter, eps, converge_while_halving=False)


@dataclass(frozen=True)
class Hazard:
    """Baseline hazard increments per death group, as R ``agsurv`` (survfit.coxph) forms them.

    ``hazard`` = sum over the group's terms of weight/den; ``varhaz`` = sum weight/den^2;
    ``xbar`` = sum weight * mean/den (the increments of the integral of xbar dLambda).
    For the exact method the Breslow increments are used (R does the same: a fit with
    ``ties = "exact"`` gets the Breslow curve).
    """

    hazard: FloatArray
    varhaz: FloatArray
    xbar: FloatArray


def hazard_increments(z: FloatArray, beta: FloatArray, sets: CountingSets, ties: str) -> Hazard:
    """Cumulative-hazard increments (Breslow, or Efron's for an Efron fit)."""
    gs = group_sums(z, beta, sets)
    terms = likelihood_terms(sets, "breslow" if ties == "exact" else ties)
    tg, f, w = terms.group, terms.downweight, terms.weight
    den = gs.s0[tg] - f * gs.d0[tg]
    m1 = (gs.s1[tg] - f[:, None] * gs.d1[tg]) / den[:, None]
    g = sets.group_time.shape[0]
    hazard = np.bincount(tg, weights=w / den, minlength=g)
    varhaz = np.bincount(tg, weights=w / den**2, minlength=g)
    xbar = np.column_stack([
        np.bincount(tg, weights=w * m1[:, j] / den, minlength=g) for j in range(z.shape[1])
    ]) if z.shape[1] else np.zeros((g, 0))
    return Hazard(hazard, varhaz, xbar)


def score_residuals(z: FloatArray, beta: FloatArray, sets: CountingSets, ties: str) -> FloatArray:
    """Score residuals per row (rows x p), as R ``residuals(fit, type = "score")``.

    L_i = sum over i's death of (x_i - average over the terms of xbar_k) minus
    r_i sum over the terms of the groups where i is at risk of w_ik (x_i - xbar_k) / den_k,
    w_ik = 1 - downweight_k for the tied deaths themselves and 1 otherwise (R ``agscore3``).
    For the exact method R uses the Breslow residuals; so does this.
    """
    n, p = z.shape
    gs = group_sums(z, beta, sets)
    terms = likelihood_terms(sets, "breslow" if ties == "exact" else ties)
    tg, f, w = terms.group, terms.downweight, terms.weight
    g = sets.group_time.shape[0]
    den = gs.s0[tg] - f * gs.d0[tg]
    m1 = (gs.s1[tg] - f[:, None] * gs.d1[tg]) / den[:, None]
    haz = np.bincount(tg, weights=w / den, minlength=g)
    xhaz = np.column_stack([np.bincount(tg, weights=w * m1[:, j] / den, minlength=g)
                            for j in range(p)])
    # what the deaths of a group do not get: the downweighted share of each term
    mh1 = np.bincount(tg, weights=w * f / den, minlength=g)
    mh2 = np.column_stack([np.bincount(tg, weights=w * f * m1[:, j] / den, minlength=g)
                           for j in range(p)])
    # the observed part: x minus the average of the terms' means (weighted by w / d)
    dsafe = np.where(sets.deaths > 0, sets.deaths, 1.0)
    mh3 = np.column_stack([np.bincount(tg, weights=w * m1[:, j], minlength=g)
                           for j in range(p)]) / dsafe[:, None]
    c_haz = np.concatenate([[0.0], np.cumsum(haz)])
    c_xhaz = np.vstack([np.zeros((1, p)), np.cumsum(xhaz, axis=0)])
    cum_h = c_haz[sets.hi] - c_haz[sets.lo]
    cum_x = c_xhaz[sets.hi] - c_xhaz[sets.lo]
    resid = -gs.risk[:, None] * (z * cum_h[:, None] - cum_x)
    dead = np.flatnonzero(sets.death_group >= 0)
    dg = sets.death_group[dead]
    resid[dead] += (z[dead] - mh3[dg]) + gs.risk[dead, None] * (
        z[dead] * mh1[dg, None] - mh2[dg]
    )
    return resid
