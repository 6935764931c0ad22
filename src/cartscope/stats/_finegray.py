"""Numerical kernel of the Fine-Gray subdistribution-hazard regression, as R ``cmprsk::crr``.

:func:`design_matrix` turns the user's covariates into a numeric matrix (the one input
adapter here); everything else works on arrays already sorted by time and validated by
:func:`cartscope.stats.competing.fine_gray`, and checks nothing again.

Notation (one censoring group, time-fixed covariates):

- ``t_i`` observed times (ascending), ``c_i`` status: 0 censored, 1 cause of interest,
  2 any competing cause; ``x_i`` covariate rows, ``e_i = exp(x_i' b)``.
- ``G(t-)`` the Kaplan-Meier estimate of the censoring distribution just before ``t``
  (censoring is the "event"; every subject with time >= t is at risk). As in ``crr``,
  a subject observed at time 0 gets ``G(0)`` rather than ``G(0-)``.
- ``tau_k`` the distinct times of the cause of interest with ``d_k`` events and
  ``G_k = G(tau_k-)``.
- Fine & Gray's weighted risk set at ``tau_k``: ``w_ik = 1`` when ``t_i >= tau_k``;
  ``w_ik = G_k / G(t_i-)`` when ``t_i < tau_k`` and subject ``i`` failed from a competing
  cause; 0 otherwise.

Because ``w_ik`` factors into a part that depends on ``k`` and a part that depends on ``i``,
every risk-set sum is one cumulative sum: ``S0_k = sum_{t_i >= tau_k} e_i + G_k *
sum_{t_i < tau_k, c_i = 2} e_i / G(t_i-)``, and similarly for ``S1_k`` (covariate-weighted).
Sums of ``S2_k / S0_k`` are folded into one per-subject weight, so nothing is ``O(n * K)``:
the kernel is ``O(n log n + (n + K) p^2)``.

The objective is the negative log pseudo-likelihood
``f(b) = -sum_{c_i = 1} x_i' b + sum_k d_k log S0_k``, minimised by the same damped
Newton-Raphson as ``crr`` (step halving under an Armijo condition, stop when
``max_j |grad_j| * max(|b_j|, 1) < max(|f|, 1) * gtol``), so the iterates are the ones R takes.

The variance is ``crr``'s sandwich ``I^-1 (sum_i r_i r_i') I^-1`` where ``r_i = eta_i + psi_i``:
``eta_i`` is the score residual of subject ``i`` and ``psi_i`` the correction for having
estimated ``G`` (Fine & Gray 1999, JASA 94:496-509, section 3; ``crrvv`` in cmprsk).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def censoring_survival_before(time: FloatArray, censored: NDArray[np.bool_]) -> FloatArray:
    """Kaplan-Meier censoring survival evaluated just before each (sorted) time.

    ``G(t-) = prod_{s < t} (1 - c(s) / Y(s))`` with ``c(s)`` censorings at ``s`` and
    ``Y(s) = #{t_i >= s}``; a time of exactly 0 gets ``G(0)`` (cmprsk evaluates the step
    function at ``t * (1 - 100 eps)``, which is 0 itself).
    """
    uniq, first, counts = np.unique(time, return_index=True, return_counts=True)
    n = time.shape[0]
    at_risk = n - first
    cens = np.bincount(np.searchsorted(uniq, time[censored]), minlength=uniq.shape[0])
    factor = 1.0 - cens / at_risk
    surv_after = np.cumprod(factor)
    surv_before = np.concatenate(([1.0], surv_after[:-1]))
    if uniq[0] == 0.0:
        surv_before[0] = surv_after[0]
    return surv_before[np.searchsorted(uniq, time)]


def design_matrix(covariates: Any, n: int) -> tuple[FloatArray, tuple[str, ...]]:
    """Numeric design matrix and column names.

    A DataFrame's numeric (and boolean, as 0/1) columns pass through; any other column is
    categorical and becomes treatment dummies ``name[level]`` for every level but the
    first (the reference: the first category of a pandas Categorical, else the smallest
    value), like R's ``model.matrix`` with treatment contrasts. An array is used as is,
    with columns named ``x1, x2, ...``.
    """
    if isinstance(covariates, pd.Series):
        covariates = covariates.to_frame()
    if isinstance(covariates, pd.DataFrame):
        if covariates.shape[0] != n:
            raise ValueError(f"covariates has {covariates.shape[0]} rows but time has {n}")
        blocks: list[FloatArray] = []
        names: list[str] = []
        for name in covariates.columns:
            col = covariates[name]
            if col.isna().any():
                raise ValueError(
                    f"covariate {name!r} has {int(col.isna().sum())} missing value(s); "
                    "drop those patients first"
                )
            categorical = isinstance(col.dtype, pd.CategoricalDtype)
            if pd.api.types.is_bool_dtype(col) or (
                pd.api.types.is_numeric_dtype(col) and not categorical
            ):
                blocks.append(col.to_numpy(dtype=np.float64)[:, None])
                names.append(str(name))
                continue
            cat = col if categorical else col.astype("category")
            cats = list(cat.cat.remove_unused_categories().cat.categories)
            if len(cats) < 2:
                raise ValueError(f"categorical covariate {name!r} has a single level {cats!r}")
            codes = cat.cat.set_categories(cats).cat.codes.to_numpy()
            dummies = (codes[:, None] == np.arange(1, len(cats))[None, :]).astype(np.float64)
            blocks.append(dummies)
            names.extend(f"{name}[{lev}]" for lev in cats[1:])
        return np.hstack(blocks), tuple(names)
    try:
        x = np.asarray(covariates, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "covariates must be numeric when given as an array; pass a DataFrame to have "
            "categorical columns turned into dummies"
        ) from None
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"covariates must be 2-D (patients x covariates), got shape {x.shape}")
    if x.shape[0] != n:
        raise ValueError(f"covariates has {x.shape[0]} rows but time has {n}")
    if not np.all(np.isfinite(x)):
        raise ValueError("covariates contain missing or infinite values; drop those patients first")
    return x, tuple(f"x{j + 1}" for j in range(x.shape[1]))


@dataclass(frozen=True, slots=True)
class FGData:
    """Sorted, validated inputs and the time structure shared by every evaluation."""

    time: FloatArray  # (n,) ascending
    status: NDArray[np.int8]  # (n,) 0 censored, 1 cause of interest, 2 competing cause
    x: FloatArray  # (n, p)
    g_before: FloatArray  # (n,) G(t_i-)
    event_times: FloatArray  # (K,) distinct times of the cause of interest
    d: FloatArray  # (K,) events of the cause of interest at each of them
    first: NDArray[np.intp]  # (K,) first sorted index with time == tau_k
    g_event: FloatArray  # (K,) G(tau_k-)
    # for every subject: number of event times <= t_i (so tau_k <= t_i iff k < n_le[i])
    n_le: NDArray[np.intp]


def prepare(time: FloatArray, status: NDArray[np.int8], x: FloatArray) -> FGData:
    """Build :class:`FGData` from arrays sorted by time (status coded 0/1/2)."""
    g_before = censoring_survival_before(time, status == 0)
    event_times, d = np.unique(time[status == 1], return_counts=True)
    first = np.searchsorted(time, event_times, side="left")
    n_le = np.searchsorted(event_times, time, side="right")
    return FGData(
        time=time,
        status=status,
        x=x,
        g_before=g_before,
        event_times=event_times,
        d=d.astype(np.float64),
        first=first,
        g_event=g_before[first],
        n_le=n_le,
    )


@dataclass(frozen=True, slots=True)
class _RiskSums:
    e: FloatArray  # (n,)
    s0: FloatArray  # (K,)
    xbar: FloatArray  # (K, p)


def _risk_sums(data: FGData, beta: FloatArray) -> _RiskSums:
    x = data.x
    e = np.exp(x @ beta)
    other = data.status == 2
    # sum over t_i >= tau_k: reverse cumulative sums read at the first index of tau_k
    rev0 = np.cumsum(e[::-1])[::-1]
    rev1 = np.cumsum((e[:, None] * x)[::-1], axis=0)[::-1]
    # sum over t_i < tau_k among competing failures, divided by G(t_i-)
    oe = np.where(other, e / data.g_before, 0.0)
    fwd0 = np.concatenate(([0.0], np.cumsum(oe)))
    fwd1 = np.vstack((np.zeros((1, x.shape[1])), np.cumsum(oe[:, None] * x, axis=0)))
    k = data.first
    s0 = rev0[k] + data.g_event * fwd0[k]
    s1 = rev1[k] + data.g_event[:, None] * fwd1[k]
    return _RiskSums(e=e, s0=s0, xbar=s1 / s0[:, None])


def neg_loglik(data: FGData, beta: FloatArray) -> float:
    """``f(b)``: the negative log pseudo-likelihood of ``crr`` (its ``crrf``).

    A trial step far out may overflow ``exp``; the result is then inf or NaN, which the
    line search treats as "too far" (as ``crr`` does with ``is.na``).
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        rs = _risk_sums(data, beta)
        lin = data.x[data.status == 1] @ beta
        return float(-lin.sum() + np.sum(data.d * np.log(rs.s0)))


def _subject_weights(data: FGData, rs: _RiskSums) -> tuple[FloatArray, FloatArray]:
    """Per subject ``omega_i = sum_k d_k w_ik / S0_k`` and ``sum_k d_k w_ik xbar_k / S0_k``."""
    h0_inc = data.d / rs.s0
    h1_inc = h0_inc[:, None] * rs.xbar
    p = data.x.shape[1]
    # H(t) = sum over tau_k <= t; J(t) = sum over tau_k > t of G_k * (...)
    h0 = np.concatenate(([0.0], np.cumsum(h0_inc)))
    h1 = np.vstack((np.zeros((1, p)), np.cumsum(h1_inc, axis=0)))
    j0_inc = data.g_event * h0_inc
    j1_inc = data.g_event[:, None] * h1_inc
    j0 = np.concatenate((np.cumsum(j0_inc[::-1])[::-1], [0.0]))
    j1 = np.vstack((np.cumsum(j1_inc[::-1], axis=0)[::-1], np.zeros((1, p))))
    m = data.n_le
    scale = np.where(data.status == 2, 1.0 / data.g_before, 0.0)
    omega0 = h0[m] + scale * j0[m]
    omega1 = h1[m] + scale[:, None] * j1[m]
    return omega0, omega1


def objective(data: FGData, beta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    """``f(b)``, its gradient and its Hessian (the observed information), as ``crrfsv``."""
    rs = _risk_sums(data, beta)
    x = data.x
    fail = data.status == 1
    f = float(-(x[fail] @ beta).sum() + np.sum(data.d * np.log(rs.s0)))
    grad = -x[fail].sum(axis=0) + data.d @ rs.xbar
    omega0, _ = _subject_weights(data, rs)
    we = rs.e * omega0
    hess = (x * we[:, None]).T @ x - (rs.xbar * data.d[:, None]).T @ rs.xbar
    return f, grad, 0.5 * (hess + hess.T)


def score_residuals(data: FGData, beta: FloatArray) -> FloatArray:
    """``r_i = eta_i + psi_i`` of ``crrvv``: score residual plus censoring-weight correction."""
    rs = _risk_sums(data, beta)
    x, status, time = data.x, data.status, data.time
    n, p = x.shape
    omega0, omega1 = _subject_weights(data, rs)
    # eta_i: the dN_i part minus the compensator part
    eta = -rs.e[:, None] * (x * omega0[:, None] - omega1)
    fail = status == 1
    k_own = np.searchsorted(data.event_times, time[fail])
    eta[fail] += x[fail] - rs.xbar[k_own]

    # psi_i: q(u) at each censoring time u, with
    # q(u) = C1(u) M0(u) - C0(u) M1(u); C sums over competing failures before u of
    # e x / G(t-); M sums over tau_k >= u of d_k G_k (1, xbar_k) / S0_k.
    uniq, first, counts = np.unique(time, return_index=True, return_counts=True)
    at_risk = (n - first).astype(np.float64)
    cens_count = np.bincount(
        np.searchsorted(uniq, time[status == 0]), minlength=uniq.shape[0]
    ).astype(np.float64)
    oe = np.where(status == 2, rs.e / data.g_before, 0.0)
    c0 = np.concatenate(([0.0], np.cumsum(oe)))[first]
    c1 = np.vstack((np.zeros((1, p)), np.cumsum(oe[:, None] * x, axis=0)))[first]
    m_inc0 = data.d * data.g_event / rs.s0
    m_inc1 = m_inc0[:, None] * rs.xbar
    m0_all = np.concatenate((np.cumsum(m_inc0[::-1])[::-1], [0.0]))
    m1_all = np.vstack((np.cumsum(m_inc1[::-1], axis=0)[::-1], np.zeros((1, p))))
    k_ge = np.searchsorted(data.event_times, uniq, side="left")
    q = c1 * m0_all[k_ge][:, None] - c0[:, None] * m1_all[k_ge]
    ss2 = -np.cumsum((cens_count / at_risk**2)[:, None] * q, axis=0)
    block = np.searchsorted(uniq, time)
    psi = ss2[block]
    cens = status == 0
    psi[cens] += q[block[cens]] / at_risk[block[cens], None]
    return eta + psi


@dataclass(frozen=True, slots=True)
class NewtonResult:
    beta: FloatArray
    neg_loglik: float
    gradient: FloatArray
    information: FloatArray
    converged: bool
    iterations: int


def newton(
    data: FGData, init: FloatArray, gtol: float, max_iter: int
) -> NewtonResult:
    """Minimise ``f`` from ``init`` with ``crr``'s damped Newton-Raphson.

    Raises
    ------
    np.linalg.LinAlgError
        When the information matrix is singular (e.g. a constant covariate).
    """
    beta = init.astype(np.float64).copy()
    step_factor = 0.5
    converged = False
    iterations = 0
    f, grad, hess = objective(data, beta)
    for it in range(max_iter + 1):
        if it > 0:
            f, grad, hess = objective(data, beta)
        iterations = it
        if np.max(np.abs(grad) * np.maximum(np.abs(beta), 1.0)) < max(abs(f), 1.0) * gtol:
            converged = True
            break
        if it == max_iter:
            break
        step = -np.linalg.solve(hess, grad)
        candidate = beta + step
        f_new = neg_loglik(data, candidate)
        halvings = 0
        while not np.isfinite(f_new) or f_new > f + 1e-4 * float(step @ grad):
            halvings += 1
            step = step * step_factor
            candidate = beta + step
            f_new = neg_loglik(data, candidate)
            if halvings > 20:
                break
        if halvings > 20:
            break
        beta = candidate
    return NewtonResult(
        beta=beta,
        neg_loglik=f,
        gradient=grad,
        information=hess,
        converged=converged,
        iterations=iterations,
    )
