"""Partial-likelihood engine of the Cox model: risk sets, derivatives, Newton-Raphson.

The data are sorted once by (stratum, time). Every risk-set sum is a reverse cumulative sum
over the groups of tied (stratum, time); every information matrix is one weighted cross
product ``Z' diag(c) Z`` minus the outer products of the risk-set means, so one evaluation
costs O(n p^2) with no loop over patients.

Tied deaths follow Efron (1977): with ``d`` deaths at a time, the k-th of the ``d`` terms
(k = 1..d) uses the risk set ``rest + (k/d) * dead``, where ``rest`` holds everyone at risk
except the tied deaths and ``dead`` their risk scores; Breslow uses the whole risk set ``d``
times. The Newton-Raphson loop, its start at zero, the step halving, the convergence rule
``|1 - loglik_best / loglik_new| <= eps`` and the rank test of the information matrix follow
R survival's ``coxph.fit`` (Therneau and Grambsch 2000, ch. 3), so the same data converge
to the same point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: R's ``coxph.control()$toler.chol``: a pivot below this fraction of the largest diagonal
#: of the information matrix marks the column as redundant.
CHOLESKY_TOLERANCE = float(np.finfo(float).eps) ** 0.75


@dataclass(frozen=True)
class RiskSets:
    """The sort order and tie structure of one data set (stratum, time).

    Attributes:
        order: indices that sort the input by (stratum, time), stable.
        event: event indicator (0/1 float) in sorted order.
        group: tie-group index of each sorted row.
        group_start: first sorted row of each tie group.
        group_deaths: number of deaths in each tie group.
        stratum_bounds: first tie group of each stratum, plus the number of groups.
        term_group, term_fraction, term_weight: one entry per likelihood term. Efron has a
            term per death, ``k/d`` being the fraction of the tied deaths' risk kept in its
            risk set; Breslow has one term per death time with fraction 1 and weight ``d``.
    """

    order: IntArray
    event: FloatArray
    group: IntArray
    group_start: IntArray
    group_deaths: FloatArray
    stratum_bounds: IntArray
    term_group: IntArray
    term_fraction: FloatArray
    term_weight: FloatArray


def build_risk_sets(
    time: FloatArray, event: FloatArray, strata: IntArray, ties: str
) -> RiskSets:
    """Sort once and describe the tie groups and the Efron/Breslow terms of each death time."""
    order = np.lexsort((time, strata))
    s_time = time[order]
    s_strata = strata[order]
    s_event = event[order]
    n = s_time.shape[0]
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (s_time[1:] != s_time[:-1]) | (s_strata[1:] != s_strata[:-1])
    group_start = np.flatnonzero(new_group)
    group = np.cumsum(new_group) - 1
    group_deaths = np.add.reduceat(s_event, group_start)
    g_strata = s_strata[group_start]
    new_stratum = np.ones(group_start.shape[0], dtype=bool)
    new_stratum[1:] = g_strata[1:] != g_strata[:-1]
    stratum_bounds = np.append(np.flatnonzero(new_stratum), group_start.shape[0])

    death_groups = np.flatnonzero(group_deaths > 0)
    d = group_deaths[death_groups]
    if ties == "efron":
        counts = d.astype(np.intp)
        term_group = np.repeat(death_groups, counts)
        first = np.cumsum(counts) - counts
        k = np.arange(term_group.shape[0]) - np.repeat(first, counts) + 1.0
        term_fraction = k / np.repeat(d, counts)
        term_weight = np.ones(term_group.shape[0])
    else:
        term_group = death_groups
        term_fraction = np.ones(death_groups.shape[0])
        term_weight = d.astype(float)
    return RiskSets(
        order=order,
        event=s_event,
        group=group,
        group_start=group_start,
        group_deaths=group_deaths,
        stratum_bounds=stratum_bounds,
        term_group=term_group,
        term_fraction=term_fraction,
        term_weight=term_weight,
    )


def _reverse_cumsum_after(values: FloatArray, bounds: IntArray) -> FloatArray:
    """Per stratum, the sum of ``values`` over the groups strictly after each group."""
    out = np.zeros_like(values)
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        if hi - lo > 1:
            out[lo : hi - 1] = np.cumsum(values[hi - 1 : lo : -1], axis=0)[::-1]
    return out


def _cumsum_before(values: FloatArray, bounds: IntArray) -> FloatArray:
    """Per stratum, the sum of ``values`` over the groups strictly before each group."""
    out = np.zeros_like(values)
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        if hi - lo > 1:
            out[lo + 1 : hi] = np.cumsum(values[lo : hi - 1], axis=0)
    return out


#: Rows per block of a tall-skinny product Z' W Z: small enough that OpenBLAS runs each block
#: on one thread (its cut-off is m n k <= 262,144), where waking threads for a 10-column
#: product costs more than the product itself on a busy machine.
_GRAM_ROWS = 2048


def _gram(a: FloatArray, b: FloatArray) -> FloatArray:
    """a' b for tall a (n x p) and b (n x q), summed over blocks of rows."""
    out = np.zeros((a.shape[1], b.shape[1]))
    for lo in range(0, a.shape[0], _GRAM_ROWS):
        out += a[lo : lo + _GRAM_ROWS].T @ b[lo : lo + _GRAM_ROWS]
    return out


def _weighted_sum(w: FloatArray, a: FloatArray) -> FloatArray:
    """w' a for a tall a (n x p), without BLAS threads."""
    return np.einsum("i,ij->j", w, a)


def _dot(a: FloatArray, b: FloatArray) -> float:
    """a' b for long vectors, without BLAS threads."""
    return float(np.einsum("i,i->", a, b))


@dataclass(frozen=True)
class Derivatives:
    """Log partial likelihood and what its derivatives are built from, at one beta.

    Every Efron/Breslow term of a death group g has the risk-set sum ``rest[g] + f dead[g]``
    (``rest``: everyone at risk but the group's deaths, ``dead``: the deaths' risk scores,
    both weighted by z for the first moments). The terms' scalars (``inv_den`` = 1/den and
    ``frac_inv_den`` = f/den) are kept; vectors are only ever formed per group, so the
    score and the information cost O(groups x p^2) besides one pass over the rows.
    ``means`` (one row per term) is formed on demand.
    """

    loglik: float
    score: FloatArray
    risk: FloatArray
    inv_den: FloatArray
    frac_inv_den: FloatArray
    sets: RiskSets
    z: FloatArray
    rest1: FloatArray  # per group: sum of risk * z over the risk set without the deaths
    dead1: FloatArray  # per group: sum of risk * z over the deaths

    @property
    def means(self) -> FloatArray:
        """Risk-set mean of z for each term: (rest1 + f dead1) / den."""
        tg = self.sets.term_group
        f = self.sets.term_fraction
        num = self.rest1[tg] + f[:, None] * self.dead1[tg]
        return num * self.inv_den[:, None]

    def info(self, group_weight: FloatArray | None = None) -> FloatArray:
        """Information matrix, each death time weighted by ``group_weight`` (default 1).

        I(w) = sum over terms of w_g [ (C_rest + f C_dead) / den - mean mean' ], computed as
        Z' diag(r_i c_i) Z - sum_terms w_g mean mean', where c_i sums w_g / den over the terms
        whose risk set contains row i (w_g f / den for the tied deaths themselves), and the
        second sum is formed per group: with R = rest1, D = dead1 and the term sums
        a = sum w/den^2, b = sum w f/den^2, c = sum w f^2/den^2 of the group,
        sum_terms w mean mean' = a R R' + b (R D' + D R') + c D D'.
        """
        with np.errstate(all="ignore"):
            return self._info(group_weight)

    def _info(self, group_weight: FloatArray | None) -> FloatArray:
        sets = self.sets
        tw = sets.term_weight
        if group_weight is not None:
            tw = tw * group_weight[sets.term_group]
        n_groups = sets.group_start.shape[0]
        tg = sets.term_group
        h = np.bincount(tg, weights=tw * self.inv_den, minlength=n_groups)
        g = np.bincount(tg, weights=tw * self.frac_inv_den, minlength=n_groups)
        before = _cumsum_before(h, sets.stratum_bounds)
        own = np.where(sets.event > 0, g[sets.group], h[sets.group])
        c = self.risk * (before[sets.group] + own)
        imat = _gram(self.z * c[:, None], self.z)
        w_inv = tw * self.inv_den
        aa = np.bincount(tg, weights=w_inv * self.inv_den, minlength=n_groups)
        bb = np.bincount(tg, weights=w_inv * self.frac_inv_den, minlength=n_groups)
        cc = np.bincount(tg, weights=tw * self.frac_inv_den * self.frac_inv_den, minlength=n_groups)
        r1, d1 = self.rest1, self.dead1
        cross = _gram(r1 * bb[:, None], d1)
        imat -= _gram(r1 * aa[:, None], r1) + cross + cross.T + _gram(d1 * cc[:, None], d1)
        return (imat + imat.T) / 2.0

    def schoenfeld_mean(self) -> FloatArray:
        """Per death group, the average over its Efron terms of the risk-set mean."""
        sets = self.sets
        n_groups = sets.group_start.shape[0]
        tg = sets.term_group
        # sum over the group's terms of (rest1 + f dead1) / den, formed per group
        a = np.bincount(tg, weights=sets.term_weight * self.inv_den, minlength=n_groups)
        b = np.bincount(tg, weights=sets.term_weight * self.frac_inv_den, minlength=n_groups)
        total = self.rest1 * a[:, None] + self.dead1 * b[:, None]
        deaths = np.where(sets.group_deaths > 0, sets.group_deaths, 1.0)
        return total / deaths[:, None]


def derivatives(z: FloatArray, beta: FloatArray, sets: RiskSets) -> Derivatives:
    """Log partial likelihood, score and the pieces of the information at ``beta``.

    ``z`` is the covariate matrix already in sorted order (centred, possibly scaled).
    """
    # overflow of exp(eta) far from the optimum is expected: the Newton loop sees the
    # non-finite result and halves its step, as R does
    with np.errstate(all="ignore"):
        return _derivatives(z, beta, sets)


def _derivatives(z: FloatArray, beta: FloatArray, sets: RiskSets) -> Derivatives:
    eta = np.einsum("ij,j->i", z, beta)
    risk = np.exp(eta)
    rz = z * risk[:, None]
    starts = sets.group_start
    ev = sets.event
    s0_all = np.add.reduceat(risk, starts)
    s1_all = np.add.reduceat(rz, starts, axis=0)
    s0_dead = np.add.reduceat(risk * ev, starts)
    rz *= ev[:, None]
    s1_dead = np.add.reduceat(rz, starts, axis=0)
    del rz
    # everyone at risk at the group's time but its deaths: later groups plus own censored
    rest0 = _reverse_cumsum_after(s0_all, sets.stratum_bounds) + (s0_all - s0_dead)
    rest1 = _reverse_cumsum_after(s1_all, sets.stratum_bounds) + (s1_all - s1_dead)

    tg = sets.term_group
    f = sets.term_fraction
    den = rest0[tg] + f * s0_dead[tg]
    inv_den = 1.0 / den
    tw = sets.term_weight
    n_groups = starts.shape[0]
    # sum over terms of tw * mean = per group: rest1 * sum(tw/den) + dead1 * sum(tw f/den)
    a = np.bincount(tg, weights=tw * inv_den, minlength=n_groups)
    b = np.bincount(tg, weights=tw * f * inv_den, minlength=n_groups)
    loglik = float(_dot(eta, ev) - _dot(tw, np.log(den)))
    score = _weighted_sum(ev, z) - (_weighted_sum(a, rest1) + _weighted_sum(b, s1_dead))
    return Derivatives(
        loglik=loglik,
        score=score,
        risk=risk,
        inv_den=inv_den,
        frac_inv_den=f * inv_den,
        sets=sets,
        z=z,
        rest1=rest1,
        dead1=s1_dead,
    )


# --- generalised Cholesky (F D F'), with R survival's rule for redundant columns ------------


def ldl(matrix: FloatArray, toler: float = CHOLESKY_TOLERANCE) -> tuple[FloatArray, IntArray]:
    """Factor a symmetric matrix as F D F' (unit lower F, diagonal D).

    A pivot that is not finite or below ``toler`` times the largest diagonal is set to 0 and
    its column is reported as redundant (the rule of R survival's ``cholesky2``). Returns the
    factor (D on the diagonal, F below it) and the indices of the redundant columns.
    """
    a = np.array(matrix, dtype=float, copy=True)
    p = a.shape[0]
    diag_max = max(float(np.max(np.diag(a), initial=0.0)), 0.0)
    if not np.isfinite(diag_max) or diag_max == 0.0:
        return np.zeros_like(a), np.arange(p)
    eps = diag_max * toler
    redundant = []
    for i in range(p):
        pivot = a[i, i]
        if not np.isfinite(pivot) or pivot < eps:
            a[i, i] = 0.0
            a[i + 1 :, i] = 0.0
            redundant.append(i)
            continue
        col = a[i + 1 :, i] / pivot
        a[i + 1 :, i + 1 :] -= np.outer(col, a[i + 1 :, i])
        a[i + 1 :, i] = col
    return np.tril(a), np.asarray(redundant, dtype=np.intp)


def ldl_solve(factor: FloatArray, rhs: FloatArray) -> FloatArray:
    """Solve F D F' x = rhs; components on a zero pivot are set to 0 (as R does)."""
    p = factor.shape[0]
    y = np.array(rhs, dtype=float, copy=True)
    for i in range(p):
        y[i] -= factor[i, :i] @ y[:i]
    d = np.diag(factor)
    for i in range(p - 1, -1, -1):
        if d[i] == 0.0:
            y[i] = 0.0
        else:
            y[i] = y[i] / d[i] - factor[i + 1 :, i] @ y[i + 1 :]
    return y


def ldl_inverse(factor: FloatArray) -> FloatArray:
    """Inverse of F D F' with the rows and columns of zero pivots set to 0."""
    p = factor.shape[0]
    return np.column_stack([ldl_solve(factor, e) for e in np.eye(p)]) if p else np.zeros((0, 0))


@dataclass(frozen=True)
class NewtonFit:
    """Outcome of the Newton-Raphson loop, on the scale of ``z``."""

    beta: FloatArray
    var: FloatArray
    score: FloatArray
    loglik_null: float
    loglik: float
    score_test: float
    iterations: int
    converged: bool
    redundant_initial: IntArray
    redundant_final: IntArray
    halved: bool


def maximise(
    evaluate: Callable[[FloatArray], tuple[float, FloatArray, FloatArray]], p: int, max_iter: int, eps: float,
    *, converge_while_halving: bool,
) -> NewtonFit:
    """Newton-Raphson from beta = 0 with step halving, as R survival's fitting routines.

    ``evaluate(beta)`` gives the log partial likelihood, score and information. A step whose
    likelihood is not finite or lower than the best so far is halved towards the best beta;
    the fit has converged when ``|1 - best / loglik| <= eps``, also during a halving when
    ``converge_while_halving`` (``coxfit6``, right-censored data) and only after a full step
    otherwise (``agfit4`` / ``coxexact``). A redundant column in the information at zero
    stops the fit at once (``redundant_initial``).
    """
    beta = np.zeros(p)
    loglik_null, score0, info0 = evaluate(beta)
    factor, redundant0 = ldl(info0)
    step = ldl_solve(factor, score0)
    score_test = float(score0 @ step)
    if redundant0.size:
        return NewtonFit(
            beta, np.zeros((p, p)), score0, loglik_null, loglik_null, score_test, 0,
            False, redundant0, redundant0, False,
        )
    best = loglik_null
    new_beta = beta + step
    halving = 0
    for iteration in range(1, max_iter + 1):
        loglik, score, imat = evaluate(new_beta)
        factor, redundant = ldl(imat)
        finite = (
            np.isfinite(loglik)
            and bool(np.all(np.isfinite(score)))
            and bool(np.all(np.isfinite(imat)))
        )
        if finite and (converge_while_halving or halving == 0) and abs(1.0 - best / loglik) <= eps:
            return NewtonFit(
                new_beta, ldl_inverse(factor), score, loglik_null, loglik,
                score_test, iteration, True, redundant0, redundant, halving > 0,
            )
        if not finite or loglik < best:
            halving += 1
            new_beta = (new_beta + halving * beta) / (halving + 1.0)
        else:
            halving = 0
            best = loglik
            beta = new_beta
            new_beta = new_beta + ldl_solve(factor, score)
    loglik, score, imat = evaluate(beta)
    factor, redundant = ldl(imat)
    return NewtonFit(
        beta, ldl_inverse(factor), score, loglik_null, loglik, score_test,
        max_iter, False, redundant0, redundant, halving > 0,
    )


def newton_raphson(
    z: FloatArray, sets: RiskSets, max_iter: int, eps: float
) -> NewtonFit:
    """Maximise the partial likelihood from beta = 0 exactly as R's ``coxfit6`` does."""

    def evaluate(beta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        d = derivatives(z, beta, sets)
        return d.loglik, d.score, d.info()

    return maximise(evaluate, z.shape[1], max_iter, eps, converge_while_halving=True)
