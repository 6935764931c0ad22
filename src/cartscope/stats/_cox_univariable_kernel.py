"""Compiled kernel of :mod:`cartscope.stats._cox_univariable`: one Cox model per marker.

Why by hand, and why compiled. A univariable Cox fit is a short scan per Newton step: the
patients in one shared time order (latest first), running risk-set sums S0, S1, S2 of
r = exp(beta x), r x and r x^2, and Efron's terms at each death time. numpy can only express
that for many markers at once as whole-array passes (an exp, three products, a cumulative sum,
gathers) that each read and write the whole block from memory -- some 25 passes per Newton
step, most of the screen's time. Compiled (numba, ``nogil``), the scan keeps its sums in
registers, reads each value once per step, and lets the screen's threads run blocks side by
side. No library offers a batch of univariable Cox fits with R's Newton path.

The arithmetic is R survival's ``coxfit6`` for one covariate:

* x is centred at its mean over the marker's known patients (R centres too);
* the risk set of a death time t is everyone with time >= t: the rows before it in the time
  order (latest first; inside a tied time the censored before the deaths), added one by one
  as in ``coxfit6``;
* Efron (1977) with d tied deaths whose own sums are D0, D1, D2: the terms k = 0..d-1 have
  the denominator S0 - (k/d) D0 and the mean (S1 - (k/d) D1) / den; the log partial likelihood
  takes ``beta * sum(x_death) - sum_k log(den_k)``, the score ``sum(x_death) - sum_k mean_k``
  and the information ``sum_k var_k``; Breslow uses d times the k = 0 term;
* Newton-Raphson from beta = 0, step halving when the log likelihood falls or is not finite,
  stop when ``|1 - loglik_best / loglik_new| <= tol`` (``coxph.control(eps = 1e-9)``): the
  rule of :func:`cartscope.stats._cox_fit.maximise` for one coefficient, written out again
  because a compiled function cannot call the numpy one.

A missing value (NaN) leaves the marker's sums and its death counts, as R drops the row from
that marker's fit. Each marker is computed alone, so its numbers never depend on the others
of its block.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

#: Efron's log(den) terms are multiplied together and one logarithm is taken of the product
#: when it leaves (_SAFE_LOW, _SAFE_HIGH) (the logarithm costs as much as the exponential);
#: a factor outside (1e-100, 1e100) is logged alone, so a product never over- or underflows.
#: The sum differs from the term-by-term sum by rounding only.
_SAFE_LOW, _SAFE_HIGH = 1e-200, 1e200

#: Status codes (see :data:`cartscope.stats._cox_univariable.STATUS`).
OK, TOO_FEW, CONSTANT, NOT_CONVERGED, INFINITE = 0, 1, 2, 3, 4


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _sums(xc: NDArray[np.float64], w: NDArray[np.float64], r: NDArray[np.float64],
          last_row: NDArray[np.intp], before_deaths: NDArray[np.intp], beta: float,
          efron: bool) -> tuple[float, float, float]:
    """Log partial likelihood, score and information at ``beta``.

    ``xc``: centred values (0 where missing), ``w``: 1 for a known value, 0 for a missing one
    (it leaves every sum and the death counts), ``r``: scratch for the risk scores.
    """
    if beta == 0.0:
        r[:] = w
    else:
        for i in range(xc.shape[0]):  # the exponentials first: independent, so they overlap
            r[i] = math.exp(beta * xc[i]) * w[i]
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    loglik = 0.0
    score = 0.0
    info = 0.0
    log_den = 0.0  # sum of log(den) over the Efron terms, taken from products (see _SAFE_LOW)
    prod = 1.0
    row = 0
    for g in range(last_row.shape[0]):
        first_death = before_deaths[g] + 1
        while row < first_death:  # the risk set grows by the rows above this time's deaths
            x = xc[row]
            rx = r[row] * x
            s0 += r[row]
            s1 += rx
            s2 += rx * x
            row += 1
        d0 = 0.0
        d1 = 0.0
        d2 = 0.0
        count = 0.0
        xsum = 0.0
        while row <= last_row[g]:  # this time's deaths: in the risk set and in D0, D1, D2
            x = xc[row]
            rx = r[row] * x
            d0 += r[row]
            d1 += rx
            d2 += rx * x
            count += w[row]
            xsum += x
            row += 1
        s0 += d0
        s1 += d1
        s2 += d2
        if count == 0.0:
            continue
        deaths = int(count)
        loglik += beta * xsum
        score += xsum
        if efron and deaths > 1:
            for k in range(deaths):
                f = k / deaths
                den = s0 - f * d0
                inv = 1.0 / den
                mean = (s1 - f * d1) * inv
                if 1e-100 < den < 1e100:  # log(den) joins a product (see _SAFE_LOW)
                    prod *= den
                    if not _SAFE_LOW < prod < _SAFE_HIGH:
                        log_den += math.log(prod)
                        prod = 1.0
                else:
                    log_den += math.log(den)
                score -= mean
                info += (s2 - f * d2) * inv - mean * mean
        else:
            inv = 1.0 / s0
            mean = s1 * inv
            loglik -= count * math.log(s0)
            score -= count * mean
            info += count * (s2 * inv - mean * mean)
    return loglik - (log_den + math.log(prod)), score, info


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _usable(info: float) -> bool:
    """A usable Newton pivot (R's ``cholesky2`` takes a non-positive one as 0)."""
    return math.isfinite(info) and info > 0.0


@numba.njit(cache=True, nogil=True, error_model="numpy")
def fit_markers(xt: NDArray[np.float64], event: NDArray[np.bool_], last_row: NDArray[np.intp],
                before_deaths: NDArray[np.intp], efron: bool, max_iter: int, tol: float,
                out: NDArray[np.float64], status: NDArray[np.int64], iterations: NDArray[np.int64]) -> None:
    """Fit every row of ``xt`` (markers x patients in the time order) into ``out``.

    ``out`` (markers x 7) gets n, n_events, coef, var, loglik_null, loglik, score_test;
    ``status`` the code (0 ok, 1 too few, 2 constant, 3 not converged, 4 infinite) and
    ``iterations`` the Newton steps taken (R's ``iter``).
    """
    m, n = xt.shape
    xc = np.empty(n)
    w = np.empty(n)
    r = np.empty(n)
    for j in range(m):
        total = 0.0
        count = 0
        n_events = 0
        lo = math.inf
        hi = -math.inf
        for i in range(n):
            v = xt[j, i]
            ok = not math.isnan(v)
            w[i] = 1.0 if ok else 0.0
            if ok:
                total += v
                count += 1
                if event[i]:
                    n_events += 1
                lo = min(lo, v)
                hi = max(hi, v)
        mean = total / count if count > 0 else 0.0
        for i in range(n):
            xc[i] = xt[j, i] - mean if w[i] > 0.0 else 0.0
        out[j, 0] = count
        out[j, 1] = n_events
        for k in range(2, 7):
            out[j, k] = math.nan
        iterations[j] = 0
        if count < 2 or n_events < 1:
            status[j] = TOO_FEW
            continue
        ll0, score0, info0 = _sums(xc, w, r, last_row, before_deaths, 0.0, efron)
        usable = _usable(info0)
        step = score0 / info0 if usable else 0.0
        out[j, 4] = ll0
        out[j, 6] = score0 * step
        code = OK if hi - lo > 0.0 and usable else CONSTANT
        if code != OK:
            status[j] = code
            continue
        beta = 0.0
        best = ll0
        new_beta = step
        halving = 0.0
        code = NOT_CONVERGED
        iterations[j] = max_iter
        for it in range(1, max_iter + 1):
            ll, score, info = _sums(xc, w, r, last_row, before_deaths, new_beta, efron)
            finite = math.isfinite(ll) and math.isfinite(score) and math.isfinite(info)
            if finite and abs(1.0 - best / ll) <= tol:
                var = 1.0 / info if info > 0.0 else 0.0
                iterations[j] = it
                code = OK
                infs = abs(score * var)
                if not math.isfinite(score) or (infs > tol and infs > math.sqrt(tol) * abs(new_beta)):
                    code = INFINITE
                else:
                    out[j, 2] = new_beta
                    out[j, 3] = var
                    out[j, 5] = ll
                break
            if not finite or ll < best:
                halving += 1.0
                new_beta = (new_beta + halving * beta) / (halving + 1.0)
            else:
                halving = 0.0
                best = ll
                beta = new_beta
                new_beta = new_beta + (score / info if _usable(info) else 0.0)
        status[j] = code
