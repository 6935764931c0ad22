"""Cox regression on counting-process (start, stop] data, robust variance and exact ties.

``cox_counting(start, stop, event, covariates, ...)`` is R survival's
``coxph(Surv(start, stop, event) ~ x + strata(s), ties = ties, cluster = id)``:

* (start, stop] rows (Andersen and Gill 1982): a row is at risk at the death times t with
  start < t <= stop, so a covariate that changes over follow-up (a transplant, a response)
  is one row per constant stretch, as R's ``tmerge`` builds them
  (:func:`cartscope.clinical.timevarying.counting_process_table`);
* ``ties``: ``"efron"`` (R's default), ``"breslow"`` or ``"exact"`` (the exact conditional
  partial likelihood, see :mod:`cartscope.stats._cox_counting`);
* ``cluster`` (or ``robust=True``): the robust "sandwich" variance of Lin and Wei (1989),
  V = D'D, where D holds the dfbeta residuals (score residuals times the model-based
  variance) summed within each cluster, e.g. the rows of one patient. The z tests, hazard
  ratio intervals and the Wald test then use V, the model-based variance is kept as
  ``naive_var``, and the robust score test is ``u' (T'T)^-1 u`` from the score residuals T
  at beta = 0 (R's ``rscore``), as ``summary(coxph(..., cluster = id))`` prints them;
* the concordance counts the pairs (i dies at t, j at risk at t) and its variance is the
  infinitesimal jackknife, summed per cluster when a cluster is given (R ``concordancefit``).

``cartscope.stats.cox(time, event, covariates, ...)`` calls this module when it is given
``start``, ``cluster``, ``robust=True`` or ``ties="exact"``.
"""

from __future__ import annotations

from collections.abc import Sequence
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cartscope.stats._cox_counting import (
    CountingSets,
    build_counting_sets,
    newton_raphson,
    score_residuals,
)
from cartscope.stats._cox_fit import CHOLESKY_TOLERANCE, ldl, ldl_solve
from cartscope.stats._scipy_stats import stats as sps
from cartscope.stats.cox import (
    CoxModelError,
    CoxResult,
    _check_options,
    _chisq_test,
    _count_events,
    _estimate,
    _merge_near_ties,
    _model_inputs,
    _result,
    _vector,
)

__all__ = ["TIES", "cox_counting", "counting_concordance"]

FloatArray = NDArray[np.float64]
TIES = ("efron", "breslow", "exact")


def _cluster_codes(cluster: ArrayLike | None, n: int) -> NDArray[np.intp] | None:
    if cluster is None:
        return None
    values = pd.Series(np.asarray(cluster, dtype=object).reshape(-1))
    if values.shape[0] != n:
        raise CoxModelError(f"cluster has {values.shape[0]} values but there are {n} rows")
    if values.isna().any():
        raise CoxModelError(f"cluster has {int(values.isna().sum())} missing value(s)")
    return pd.factorize(values, sort=True)[0].astype(np.intp)


def _collapse(values: FloatArray, codes: NDArray[np.intp] | None) -> FloatArray:
    """Rows summed within each cluster (each row its own cluster when ``codes`` is None)."""
    if codes is None:
        return values
    out = np.zeros((int(codes.max()) + 1, values.shape[1]))
    np.add.at(out, codes, values)
    return out


def counting_concordance(
    start: FloatArray,
    stop: FloatArray,
    event: FloatArray,
    predictor: FloatArray,
    strata: NDArray[np.intp],
    cluster: NDArray[np.intp] | None = None,
) -> tuple[float, float, tuple[float, float, float]]:
    """Harrell's C over (start, stop] rows with its infinitesimal-jackknife SE (R ``concordancefit``).

    A pair is comparable when row i dies at t and row j (same stratum) is at risk at t:
    start_j < t and (stop_j > t, or stop_j = t and j censored); tied deaths are not
    comparable. Concordant when the row that dies has the larger predictor. The SE is
    sqrt(sum_c dfbeta_c^2), dfbeta_i = ((c_i - d_i) - somers (c_i + d_i + t_i)) / (2 npair)
    summed per cluster c. Returns (C, SE, (concordant, discordant, tied_x)).
    """
    n = stop.shape[0]
    conc = np.zeros(n)
    disc = np.zeros(n)
    tied = np.zeros(n)
    for i in np.flatnonzero(event > 0):
        t = stop[i]
        at_risk = (strata == strata[i]) & (start < t) & ((stop > t) | ((stop == t) & (event == 0)))
        xi = predictor[i]
        xj = predictor[at_risk]
        c = xj < xi
        d = xj > xi
        e = xj == xi
        conc[i] += c.sum()
        disc[i] += d.sum()
        tied[i] += e.sum()
        idx = np.flatnonzero(at_risk)
        conc[idx[c]] += 1
        disc[idx[d]] += 1
        tied[idx[e]] += 1
    # every pair was added to both members: the totals count each pair twice
    concordant, discordant, tied_x = conc.sum() / 2, disc.sum() / 2, tied.sum() / 2
    npair = concordant + discordant + tied_x
    if npair == 0:
        return float("nan"), float("nan"), (concordant, discordant, tied_x)
    somers = (concordant - discordant) / npair
    dfbeta = ((conc - disc) - somers * (conc + disc + tied)) / (2.0 * npair)
    dfbeta = _collapse(dfbeta[:, None], cluster)[:, 0]
    return (somers + 1.0) / 2.0, float(np.sqrt(np.sum(dfbeta**2))), (concordant, discordant, tied_x)


def cox_counting(
    start: ArrayLike | None,
    stop: ArrayLike,
    event: ArrayLike,
    covariates: ArrayLike | pd.DataFrame,
    ties: str = "efron",
    strata: ArrayLike | None = None,
    cluster: ArrayLike | None = None,
    robust: bool | None = None,
    names: Sequence[str] | None = None,
    level: float = 0.95,
    max_iter: int = 30,
    tol: float = 1e-9,
) -> CoxResult:
    """Fit ``coxph(Surv(start, stop, event) ~ covariates + strata(s), ties, cluster = cluster)``.

    Args:
        start: entry time of each row (exclusive); ``None`` for right-censored data
            (``coxph(Surv(stop, event) ~ ...)``).
        stop: exit time of each row (inclusive), > start.
        event: 1 when the row ends with the event, else 0.
        covariates: rows x p numbers or a DataFrame (coded as :func:`cartscope.stats.cox`).
        ties: ``"efron"``, ``"breslow"`` or ``"exact"``.
        strata: optional stratum per row.
        cluster: optional cluster per row (e.g. patient id): robust variance summed per
            cluster.
        robust: robust variance; default True when ``cluster`` is given. ``robust=True``
            without a cluster treats every row as its own cluster (as R).
        names, level, max_iter, tol: as :func:`cartscope.stats.cox`.

    Raises:
        CoxModelError: mismatched lengths, missing values, start >= stop, no events,
            collinear covariates, a diverging coefficient or no convergence.
    """
    if ties not in TIES:
        raise CoxModelError(f"ties must be one of {', '.join(map(repr, TIES))}, got {ties!r}")
    _check_options(level, max_iter)
    t2 = _vector(stop, "stop" if start is not None else "time")
    n = t2.shape[0]
    if start is None:
        t1 = np.full(n, -np.inf)
        t2 = _merge_near_ties(t2)
    else:
        t1 = _vector(start, "start", n)
        both = _merge_near_ties(np.concatenate([t1, t2]))
        t1, t2 = both[:n], both[n:]
        bad = np.flatnonzero(t1 >= t2)
        if bad.size:
            raise CoxModelError(
                f"start must be less than stop: {bad.size} row(s), first at position "
                f"{int(bad[0])} ({t1[bad[0]]!r} >= {t2[bad[0]]!r})"
            )
    ev, x, col_names, terms, codes = _model_inputs(event, covariates, names, strata, n)
    clusters = _cluster_codes(cluster, n)
    robust = clusters is not None if robust is None else bool(robust)
    if robust and ties == "exact":
        raise CoxModelError(
            "no robust variance with ties=\"exact\": its dfbeta residuals are not defined "
            "(R survival refuses the same); use ties=\"efron\" or \"breslow\""
        )
    if clusters is not None and not robust:
        raise CoxModelError("a cluster was given with robust=False; drop one of them")
    n_events = _count_events(ev)

    sets = build_counting_sets(t1, t2, ev, codes)
    # rows at risk at no death time (R's "ignore") take no part in centring or scaling
    used = sets.hi > sets.lo
    means = x[used].mean(axis=0) if used.any() else x.mean(axis=0)
    xc = x - means
    abs_dev = np.abs(xc[used]).sum(axis=0)
    scale = np.where(abs_dev > 0, used.sum() / np.where(abs_dev > 0, abs_dev, 1.0), 1.0)
    z = xc * scale
    fit = newton_raphson(z, sets, ties, max_iter=max_iter, eps=tol)
    coef, naive_var, lp = _estimate(fit, x, col_names, scale, max_iter, tol, lambda b: xc @ b)

    p = coef.shape[0]
    var = naive_var
    robust_score = None
    if robust:
        resid = score_residuals(xc, coef, sets, ties)
        dfbeta = _collapse(resid @ naive_var, clusters)
        var = dfbeta.T @ dfbeta
        resid0 = _collapse(score_residuals(xc, np.zeros(p), sets, ties), clusters)
        u0 = resid0.sum(axis=0)
        factor0, _ = ldl(resid0.T @ resid0, CHOLESKY_TOLERANCE)
        robust_score = _chisq_test(float(u0 @ ldl_solve(factor0, u0)), p)

    if start is None and clusters is None:
        from cartscope.stats._cox_concordance import concordance as _concordance

        cc = _concordance(t2, ev, lp, codes)
        conc, conc_se = cc.concordance, cc.std_err
    else:
        conc, conc_se, _ = counting_concordance(t1, t2, ev, lp, codes, clusters)
    return _result(
        fit, coef, var, level=level, ties=ties, col_names=col_names, terms=terms, time=t2, event=ev, x=x,
        codes=codes, strata=strata, covariates=covariates, concordance=float(conc), concordance_se=float(conc_se),
        n_events=n_events, start=None if start is None else t1, naive_var=naive_var if robust else None,
        robust_score_test=robust_score, cluster=clusters,
    )


def with_sets(fit: CoxResult) -> tuple[CountingSets, FloatArray]:
    """The risk sets of a fit and its covariates centred at their mean (for predictions)."""
    start = fit.start if fit.start is not None else np.full(fit.time.shape[0], -np.inf)
    sets = build_counting_sets(start, fit.time, fit.event, fit.strata)
    return sets, fit.x - fit.x.mean(axis=0)

