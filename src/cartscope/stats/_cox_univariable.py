"""Univariable Cox models for every column of a (patients x markers) matrix, in one pass.

Each marker j gets R's ``coxph(Surv(time, event) ~ x_j)`` on the patients where x_j is known:
coefficient, standard error, hazard ratio with Wald limits, Wald z and p, and the
likelihood-ratio and score tests on 1 df (``summary(coxph(...))``), with Efron (R's default)
or Breslow ties.

How it is one pass. All markers share one time order: the patients are sorted by time once,
*descending*, so that the risk set of a distinct time t (everyone with time >= t) is the rows
above it, and every risk-set sum

    S0 = sum r_i,   S1 = sum r_i x_i,   S2 = sum r_i x_i^2,   r_i = exp(beta x_i)

is one running sum down a marker's sorted values; the tied deaths' own sums D0, D1, D2 are
added on the way. Efron's approximation (1977) with d tied deaths has the terms k = 0..d-1
with denominator S0 - (k/d) D0 and means (S1 - (k/d) D1) / den; the log partial likelihood,
the score and the information (a scalar per marker) add up over the terms. The scan runs per
marker in a compiled kernel (:mod:`cartscope.stats._cox_univariable_kernel`, where the reason
is given), so a marker's numbers never depend on the others of its block.

The Newton iterations are R survival's ``coxfit6`` (the same as :func:`cartscope.stats.cox`):
start at beta = 0, step halving when the log likelihood falls or is not finite, stop when
``|1 - loglik_best / loglik_new| <= tol`` (``coxph.control(eps = 1e-9)``), so each marker stops
at the same point as its own ``coxph`` fit; Newton's method is affine invariant, so centring
(R centres too) changes nothing but rounding.

Missing values. A marker's missing entries get weight 0: they leave every sum, the death
counts of the tied times (Efron's d is per marker) and the score, exactly as R drops the NA
rows of that marker's fit.

Where the result is NaN (with the reason in ``status``): fewer than two patients or no event
("too few"), a constant marker ("constant", R reports NA), no convergence ("not converged")
and a coefficient running to infinity ("infinite": monotone likelihood, where R warns
"Loglik converged before variable 1" and reports a meaningless large coefficient) -- the rule
of :func:`cartscope.stats.cox`.

Concordance (Harrell's C of ``coef * x`` with its infinitesimal-jackknife SE, as
``coxph``'s) on request: it is a pair count per marker, the one part that is not shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

from cartscope.stats._timefix import merge_near_ties
from cartscope.stats._validation import check_level

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: (patients x markers) elements per chunk: each chunk is copied once into the time order.
_CHUNK_ELEMENTS = 1 << 17


@dataclass(frozen=True)
class TimeOrder:
    """The shared time order of the patients and its death times.

    ``order`` sorts the patients by time, latest first, and inside a tied time the censored
    before the deaths. So the risk set of a death time is the prefix of rows 0..``last_row``
    and its deaths are the ``deaths`` rows just before ``last_row + 1``: their sums are the
    difference of two entries of the cumulative sums (no second pass over the death rows).
    """

    order: IntArray
    event: NDArray[np.bool_]
    last_row: IntArray
    before_deaths: IntArray
    deaths: FloatArray

    @property
    def n(self) -> int:
        return int(self.order.shape[0])


def time_order(time: FloatArray, event: NDArray[np.bool_]) -> TimeOrder:
    """Sort once (latest time first, deaths last within a time) for :func:`fit_chunk`."""
    t = merge_near_ties(np.asarray(time, dtype=np.float64))
    ev = np.asarray(event, dtype=bool)
    order = np.lexsort((ev, -t))
    ts = t[order]
    es = ev[order]
    n = ts.shape[0]
    last = np.ones(n, dtype=bool)
    if n > 1:
        last[:-1] = ts[:-1] != ts[1:]
    last_rows = np.flatnonzero(last)
    starts = np.concatenate([[0], last_rows[:-1] + 1]) if n else np.zeros(0, np.intp)
    deaths = np.add.reduceat(es.astype(np.float64), starts) if n else np.zeros(0)
    has = deaths > 0
    return TimeOrder(
        order=order,
        event=es,
        last_row=last_rows[has],
        before_deaths=(last_rows[has] - deaths[has]).astype(np.intp),
        deaths=deaths[has],
    )


def fit_chunk(xt: FloatArray, tord: TimeOrder, ties: str = "efron", max_iter: int = 30,
              tol: float = 1e-9) -> dict[str, FloatArray]:
    """Newton-Raphson for every row of ``xt`` (markers x patients, the patients in ``tord``
    order), one marker after the other in the compiled kernel
    (:func:`cartscope.stats._cox_univariable_kernel.fit_markers`).

    Returns per marker: n, n_events, coef, var, loglik_null, loglik, score_test, iterations
    and a status code (0 ok, 1 too few, 2 constant, 3 not converged, 4 infinite).
    """
    from cartscope.stats._cox_univariable_kernel import fit_markers

    xt = np.ascontiguousarray(xt, dtype=np.float64)
    m = xt.shape[0]
    out = np.empty((m, 7))
    status = np.zeros(m, dtype=np.int64)
    iterations = np.zeros(m, dtype=np.int64)
    fit_markers(xt, np.ascontiguousarray(tord.event), tord.last_row.astype(np.intp),
                tord.before_deaths.astype(np.intp), ties == "efron", int(max_iter), float(tol),
                out, status, iterations)
    fit = {k: out[:, i].copy() for i, k in
           enumerate(("n", "n_events", "coef", "var", "loglik_null", "loglik", "score_test"))}
    fit["iterations"] = iterations
    fit["status"] = status
    return fit


STATUS = ("ok", "too few", "constant", "not converged", "infinite")


@dataclass(frozen=True, eq=False)
class UnivariableCox:
    """One univariable Cox model per marker (arrays over ``markers``).

    ``p_value`` is the Wald p (``summary(coxph)``'s ``Pr(>|z|)``), ``lr_p`` and ``score_p``
    those of the likelihood-ratio and score tests; ``status`` says why a marker is NaN.
    ``concordance`` / ``concordance_se`` are NaN unless requested.
    """

    markers: tuple[str, ...]
    n: NDArray[np.int64]
    n_events: NDArray[np.int64]
    coef: FloatArray
    se: FloatArray
    hazard_ratio: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    z: FloatArray
    p_value: FloatArray
    loglik_null: FloatArray
    loglik: FloatArray
    lr_statistic: FloatArray
    lr_p: FloatArray
    score_statistic: FloatArray
    score_p: FloatArray
    concordance: FloatArray
    concordance_se: FloatArray
    iterations: NDArray[np.int64]
    status: NDArray[np.str_]
    ties: str
    level: float

    def to_frame(self) -> pd.DataFrame:
        """One row per marker."""
        names = ("n", "n_events", "coef", "se", "hazard_ratio", "ci_lower", "ci_upper", "z", "p_value",
                 "loglik_null", "loglik", "lr_statistic", "lr_p", "score_statistic", "score_p",
                 "concordance", "concordance_se", "iterations", "status")
        frame = pd.DataFrame({k: getattr(self, k) for k in names})
        frame.insert(0, "marker", list(self.markers))
        return frame

    def __repr__(self) -> str:
        ok = int(np.sum(self.status == "ok"))
        head = f"Univariable Cox ({self.ties} ties): {len(self.markers)} markers, {ok} fitted\n"
        frame = self.to_frame()[["marker", "n", "n_events", "coef", "se", "hazard_ratio", "p_value"]]
        return head + frame.head(10).to_string(index=False)


def _chi1_sf(x: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(x), np.nan, special.chdtrc(1.0, np.where(np.isnan(x), 0.0, np.maximum(x, 0.0))))


def assemble(fit: dict[str, FloatArray], markers: tuple[str, ...], ties: str, level: float,
             concordance: tuple[FloatArray, FloatArray] | None = None) -> UnivariableCox:
    """The result object from the per-marker arrays of :func:`fit_chunk` (concatenated)."""
    coef = fit["coef"]
    se = np.sqrt(fit["var"])
    q = float(special.ndtri((1.0 + level) / 2.0))
    with np.errstate(all="ignore"):
        z = coef / se
        lr = 2.0 * (fit["loglik"] - fit["loglik_null"])
    m = coef.shape[0]
    conc = concordance if concordance is not None else (np.full(m, np.nan), np.full(m, np.nan))
    return UnivariableCox(
        markers=markers,
        n=fit["n"].astype(np.int64),
        n_events=fit["n_events"].astype(np.int64),
        coef=coef,
        se=se,
        hazard_ratio=np.exp(coef),
        ci_lower=np.exp(coef - q * se),
        ci_upper=np.exp(coef + q * se),
        z=z,
        p_value=2.0 * special.ndtr(-np.abs(z)),
        loglik_null=fit["loglik_null"],
        loglik=fit["loglik"],
        lr_statistic=lr,
        lr_p=_chi1_sf(lr),
        score_statistic=fit["score_test"],
        score_p=_chi1_sf(fit["score_test"]),
        concordance=conc[0],
        concordance_se=conc[1],
        iterations=fit["iterations"].astype(np.int64),
        status=np.asarray([STATUS[s] for s in fit["status"]], dtype=str),
        ties=ties,
        level=level,
    )


def concordances(time: FloatArray, event: FloatArray, x: FloatArray, coef: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Harrell's C of ``coef_j * x_j`` per marker (coxph's), on each marker's known rows."""
    from cartscope.stats._cox_concordance import concordance

    m = x.shape[1]
    c = np.full(m, np.nan)
    se = np.full(m, np.nan)
    t = merge_near_ties(time)
    for j in np.flatnonzero(np.isfinite(coef)):
        col = x[:, j]
        ok = ~np.isnan(col)
        res = concordance(t[ok], event[ok].astype(np.float64), coef[j] * (col[ok] - np.mean(col[ok])),
                          np.zeros(int(ok.sum()), dtype=np.intp))
        c[j], se[j] = res.concordance, res.std_err
    return c, se


def marker_steps(n_patients: int, n_markers: int, elements: int = _CHUNK_ELEMENTS) -> list[slice]:
    """Column slices of about ``elements`` (patients x markers) entries each."""
    step = max(1, min(n_markers, elements // max(1, n_patients)))
    return [slice(s, min(n_markers, s + step)) for s in range(0, n_markers, step)]


def cox_univariable(
    time: ArrayLike,
    event: ArrayLike,
    values: ArrayLike,
    *,
    markers: Any = None,
    ties: str = "efron",
    level: float = 0.95,
    concordance: bool = False,
    max_iter: int = 30,
    tol: float = 1e-9,
) -> UnivariableCox:
    """R's ``coxph(Surv(time, event) ~ x_j)`` for every column j of ``values``, in one pass.

    Args:
        time, event: per patient (event 1/True = event); no missing values (drop such patients
            first: they belong to no marker's fit).
        values: patients x markers; NaN = missing (that marker's fit leaves the patient out).
        markers: marker names (default marker1..); a DataFrame's columns name them.
        ties: "efron" (R's default) or "breslow".
        level: confidence level of the hazard-ratio limits.
        concordance: also Harrell's C with its SE per marker (a pair count per marker).
        max_iter, tol: Newton-Raphson limits (as :func:`cartscope.stats.cox`).
    """
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties must be 'efron' or 'breslow'; got {ties!r}")
    lvl = check_level(level)
    if isinstance(values, pd.DataFrame):
        names = tuple(str(c) for c in values.columns)
        x = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        x = np.asarray(values, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        names = tuple(f"marker{j + 1}" for j in range(x.shape[1])) if x.ndim == 2 else ()
    if x.ndim != 2:
        raise ValueError(f"values must be 2-D (patients x markers); got {x.ndim}-D")
    if markers is not None:
        names = tuple(str(m) for m in markers)
        if len(names) != x.shape[1]:
            raise ValueError(f"markers has {len(names)} names but values has {x.shape[1]} columns")
    t = np.asarray(time, dtype=np.float64)
    e = np.asarray(event, dtype=np.float64)
    n = x.shape[0]
    if t.shape != (n,) or e.shape != (n,):
        raise ValueError(f"time and event need one value per patient ({n})")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(e))):
        raise ValueError("time and event must not be missing (leave such patients out)")
    if np.any((e != 0) & (e != 1)):
        raise ValueError("event must be 0/1 (or boolean)")
    if np.isinf(x).any():
        raise ValueError("values contain infinite numbers; use NaN for a missing value")
    tord = time_order(t, e > 0)
    parts = [fit_chunk(np.take(x[:, cols].T, tord.order, axis=1), tord, ties, max_iter, tol)
             for cols in marker_steps(n, x.shape[1])]
    fit = {k: np.concatenate([p[k] for p in parts]) if parts else np.zeros(0) for k in
           ("n", "n_events", "coef", "var", "loglik_null", "loglik", "score_test", "iterations", "status")}
    fit["status"] = fit["status"].astype(np.int64)
    conc = concordances(t, e, x, fit["coef"]) if concordance else None
    return assemble(fit, names, ties, lvl, conc)
