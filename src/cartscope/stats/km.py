"""Kaplan-Meier estimator with R ``survfit`` semantics.

For right-censored data with distinct times t_1 < ... < t_k (event and censoring times alike),
n_i at risk (time >= t_i) and d_i events at t_i:

    S(t)   = prod_{t_i <= t} (1 - d_i / n_i)
    H-scale standard error:  sigma(t) = sqrt( sum_{t_i <= t} d_i / (n_i (n_i - d_i)) )
    Greenwood standard error of S:  S(t) * sigma(t)

``std_err`` is sigma, the standard error of log S (= of the cumulative hazard), which is what R
``survfit`` stores in ``std.err``; ``std_err_surv`` is the Greenwood SE of S itself (what papers
print as "61.2 % +- 14.0 %"). At a time where everyone at risk has the event, sigma is infinite
and S is 0, as in R.

Pointwise limits, z = Phi^-1(1 - (1 - level)/2) (R ``survfit_confint``):

- ``plain``:   S +- z S sigma, clipped to [0, 1];
- ``log``:     exp(log S +- z sigma), upper clipped at 1; undefined (NaN) where S = 0;
- ``log-log``: exp(-exp(log(-log S) -+ z sigma / log S)); undefined (NaN) where S is 0 or 1.

R's default is ``conf.type="log"``; cartscope's default is ``"log-log"`` (the SAS, Stata and
GraphPad convention, design.md). A report that must match a paper computed with R defaults has
to pass ``conf_type="log"``.

Ties: all events at a time are counted before the censorings at that time (censored patients
are at risk for the events at their own censoring time), as in R. Times that differ by rounding
error only (closer than sqrt(machine epsilon) ~ 1.5e-8, absolutely or relative to the mean
time) are one time, as R's ``timefix`` (``aeqSurv``) makes them: 0.1 + 0.2 and 0.3 are tied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cartscope.stats._scipy_stats import stats as sps
from cartscope.stats._timefix import merge_near_ties
from cartscope.stats._validation import as_1d, as_time_event, check_level

ConfType = Literal["plain", "log", "log-log"]
CONF_TYPES: tuple[str, ...] = ("plain", "log", "log-log")

#: Tolerance R uses when it asks whether a survival value "equals" 0.5 (``all.equal``).
_TOL = float(np.sqrt(np.finfo(np.float64).eps))

#: 6, 12 and 24 months in days (365.25 / 2 per half-year).
DEFAULT_LANDMARKS: tuple[float, ...] = (182.625, 365.25, 730.5)


def _confint(
    surv: NDArray[np.float64], se: NDArray[np.float64], conf_type: str, level: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Pointwise limits from S and the standard error of log S (R ``survfit_confint``)."""
    z = float(sps.norm.ppf(1.0 - (1.0 - level) / 2.0))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            half = se * surv * z
            return np.maximum(surv - half, 0.0), np.minimum(surv + half, 1.0)
        if conf_type == "log":
            xx = np.where(surv == 0, np.nan, surv)
            return np.exp(np.log(xx) - z * se), np.minimum(np.exp(np.log(xx) + z * se), 1.0)
        xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
        shift = z * se / np.log(xx)
        loglog = np.log(-np.log(xx))
        return np.exp(-np.exp(loglog - shift)), np.exp(-np.exp(loglog + shift))


def _first_below_half(y: NDArray[np.float64], x: NDArray[np.float64]) -> float:
    """Time where a non-increasing curve first drops to 0.5 (R ``print.survfit`` rule).

    The first x with y < 0.5 (+ tolerance); if y equals 0.5 there (within sqrt(eps)) and later
    drops below it, the midpoint of that x and the first x with a lower y. NaN if never.
    """
    keep = ~np.isnan(y) & (y < 0.5 + _TOL)
    if not keep.any():
        return float("nan")
    xk, yk = x[keep], y[keep]
    if abs(yk[0] - 0.5) < _TOL:
        lower = np.flatnonzero(yk < yk[0])
        if lower.size:
            return float((xk[0] + xk[lower[0]]) / 2.0)
    return float(xk[0])


def _findq(x: NDArray[np.float64], y: NDArray[np.float64], probs: NDArray[np.float64]) -> NDArray[np.float64]:
    """Quantiles of a step distribution function (R ``quantile.survfit``'s ``findq``).

    ``x`` = (start, times), ``y`` = (0, 1 - curve). Repeated y values are dropped (keeping the
    first time each is reached). For each p the index of the first knot y >= p is looked up
    twice, with y shifted by +sqrt(eps) and by -sqrt(eps) (R ``approx(method = "constant",
    f = 1)``, which orders the knots by y first - so a confidence band that is not monotone,
    as the log-scale upper band can be, is read in sorted order - and is NA outside the knots'
    range); the quantile is the midpoint of the two times, so a curve sitting at exactly 1 - p
    over an interval gives that interval's midpoint. p = 0 gives the start time, and when the
    curve ends at exactly 1 - p the midpoint of the first such time and the last time, NA if
    that first time is not found (so a band that stays at 1 has no quantile at p = 0, as in R).
    """
    out = np.full(probs.shape, np.nan)
    if np.all(np.isnan(y)) or np.nanmax(y) < probs.min():
        return out
    xmax = x[-1]
    # drop repeated y values, keeping the first time each value is reached (R duplicated(),
    # which also counts a repeated NA as a duplicate)
    key = np.where(np.isnan(y), np.inf, y)
    _, first = np.unique(key, return_index=True)
    first = np.sort(first)
    x, y = x[first], y[first]
    n = y.shape[0]
    valid = np.flatnonzero(~np.isnan(y))
    order = valid[np.argsort(y[valid], kind="stable")]
    knots = y[order]

    def step_index(shift: float, p: float) -> int | None:
        kn = knots + shift
        if kn.size == 0 or p < kn[0] or p > kn[-1]:
            return None
        return int(order[np.searchsorted(kn, p, side="left")])

    for j, p in enumerate(probs):
        i1 = step_index(_TOL, p)
        i2 = step_index(-_TOL, p)
        q = np.nan if (i1 is None or i2 is None) else (x[i1] + x[i2]) / 2.0
        if p == 0:
            q = x[0]
        if not np.isnan(y[n - 1]) and abs(p - y[n - 1]) < _TOL:
            q = np.nan if i1 is None else (x[i1] + xmax) / 2.0
        out[j] = q
    return out


@dataclass(frozen=True, eq=False)
class SurvivalEstimates:
    """S(t) at chosen times, with the Greenwood SE of S and pointwise limits."""

    time: NDArray[np.float64]
    survival: NDArray[np.float64]
    std_err_surv: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    n_risk: NDArray[np.int64]
    conf_type: str
    level: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "time": self.time,
                "n_risk": self.n_risk,
                "survival": self.survival,
                "std_err_surv": self.std_err_surv,
                "lower": self.lower,
                "upper": self.upper,
            }
        )


@dataclass(frozen=True, eq=False)
class RiskTable:
    """Number at risk (time >= t) and cumulative events / censorings up to and including t."""

    time: NDArray[np.float64]
    n_risk: NDArray[np.int64]
    cum_events: NDArray[np.int64]
    cum_censored: NDArray[np.int64]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "time": self.time,
                "n_risk": self.n_risk,
                "cum_events": self.cum_events,
                "cum_censored": self.cum_censored,
            }
        )


@dataclass(frozen=True, eq=False)
class RestrictedMean:
    """Restricted mean survival time up to ``tau`` (area under S on [0, tau]).

    ``std_err`` is R's (``print(survfit, rmean=tau)``):
    Var = sum_{t_i <= tau} A_i^2 d_i / (n_i (n_i - d_i)), A_i = area under S from t_i to tau
    (terms with n_i = d_i set to 0). Limits: estimate +- z std_err.
    """

    tau: float
    estimate: float
    std_err: float
    lower: float
    upper: float
    level: float

    def to_frame(self) -> pd.DataFrame:
        fields = ("tau", "estimate", "std_err", "lower", "upper", "level")
        return pd.DataFrame([{k: getattr(self, k) for k in fields}])


@dataclass(frozen=True, eq=False)
class Quantiles:
    """Survival-time quantiles (time by which a fraction ``prob`` has had the event) with CI."""

    prob: NDArray[np.float64]
    time: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"prob": self.prob, "time": self.time, "lower": self.lower, "upper": self.upper}
        )


@dataclass(frozen=True, eq=False)
class KaplanMeier:
    """Kaplan-Meier curve: one entry per distinct observed time (events and censorings).

    ``std_err`` is on R's scale (SE of log S, i.e. of the cumulative hazard); ``std_err_surv``
    is the Greenwood SE of S. ``lower``/``upper`` follow ``conf_type``.
    """

    time: NDArray[np.float64]
    n_risk: NDArray[np.int64]
    n_event: NDArray[np.int64]
    n_censor: NDArray[np.int64]
    survival: NDArray[np.float64]
    std_err: NDArray[np.float64]
    std_err_surv: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    conf_type: str
    level: float

    def __repr__(self) -> str:
        """As R ``print(survfit)``: n, events, median and its confidence limits."""
        from cartscope.stats._repr import _fmt

        lvl = f"{self.level:g}"
        lo, hi = self.median_ci
        head = ("n", "events", "median", f"{lvl}LCL", f"{lvl}UCL")
        vals = (str(self.n), str(self.n_events), _fmt(self.median), _fmt(lo), _fmt(hi))
        w = [max(len(a), len(b)) for a, b in zip(head, vals)]
        return (f"<KaplanMeier> {len(self.time)} times, conf_type {self.conf_type}\n"
                + "  ".join(h.rjust(k) for h, k in zip(head, w)) + "\n"
                + "  ".join(v.rjust(k) for v, k in zip(vals, w)))

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape(repr(self)) + "</pre>"

    @property
    def n(self) -> int:
        """Number of patients."""
        return int(self.n_risk[0])

    @property
    def n_events(self) -> int:
        """Total number of events."""
        return int(self.n_event.sum())

    def to_frame(self) -> pd.DataFrame:
        """The survfit table: time, n_risk, n_event, n_censor, survival, std_err, std_err_surv, lower, upper."""
        return pd.DataFrame(
            {
                "time": self.time,
                "n_risk": self.n_risk,
                "n_event": self.n_event,
                "n_censor": self.n_censor,
                "survival": self.survival,
                "std_err": self.std_err,
                "std_err_surv": self.std_err_surv,
                "lower": self.lower,
                "upper": self.upper,
            }
        )

    @property
    def table(self) -> pd.DataFrame:
        """Same as :meth:`to_frame`."""
        return self.to_frame()

    @property
    def median(self) -> float:
        """Median survival as R ``print(survfit)``: first time S < 0.5, or the midpoint of a
        segment where S = 0.5 and the next drop; NaN when the curve never reaches 0.5."""
        return _first_below_half(self.survival, self.time)

    @property
    def median_ci(self) -> tuple[float, float]:
        """CI of the median (Brookmeyer-Crowley as R ``print(survfit)``): where the lower and
        the upper pointwise band cross 0.5 (same rule as the median; NaN if never). Depends on
        ``conf_type``."""
        return _first_below_half(self.lower, self.time), _first_below_half(self.upper, self.time)

    def quantile(self, probs: ArrayLike = (0.25, 0.5, 0.75)) -> Quantiles:
        """Times by which a fraction ``probs`` has had the event, with CI, as R ``quantile.survfit``.

        Differs from :attr:`median` (R ``print``) in one corner only, as R itself does: when S
        stays at exactly 1 - p until the last observation, the quantile is the midpoint of the
        first time at 1 - p and the last observed time, while ``print`` reports the first time.
        """
        p = np.atleast_1d(np.asarray(probs, dtype=np.float64))
        if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
            raise ValueError(f"probs must be in [0, 1], got {probs!r}")
        x = np.concatenate([[0.0], self.time])
        return Quantiles(
            prob=p,
            time=_findq(x, np.concatenate([[0.0], 1.0 - self.survival]), p),
            lower=_findq(x, np.concatenate([[0.0], 1.0 - self.lower]), p),
            upper=_findq(x, np.concatenate([[0.0], 1.0 - self.upper]), p),
        )

    def survival_at(self, times: ArrayLike) -> SurvivalEstimates:
        """S(t) as a right-continuous step function, with its SE and limits at each t.

        Before the first observed time S = 1 with zero SE and limits 1 (as R
        ``summary(fit, times=)``). After the last observed time S is unknown (NaN) unless the
        curve has reached 0; R drops such times (or carries the last value with
        ``extend=TRUE``), cartscope refuses to extrapolate.
        """
        t = as_1d(times, "times").astype(np.float64)
        if np.isnan(t).any() or (t < 0).any():
            raise ValueError("times must be non-negative numbers")
        idx = np.searchsorted(self.time, t, side="right") - 1
        before = idx < 0
        safe = np.maximum(idx, 0)
        surv = np.where(before, 1.0, self.survival[safe])
        se = np.where(before, 0.0, self.std_err_surv[safe])
        lower = np.where(before, 1.0, self.lower[safe])
        upper = np.where(before, 1.0, self.upper[safe])
        beyond = (t > self.time[-1]) & (self.survival[-1] > 0)
        for arr in (surv, se, lower, upper):
            arr[beyond] = np.nan
        return SurvivalEstimates(
            time=t,
            survival=surv,
            std_err_surv=se,
            lower=lower,
            upper=upper,
            n_risk=self.risk_table(t).n_risk,
            conf_type=self.conf_type,
            level=self.level,
        )

    def landmarks(self, times: Sequence[float] | ArrayLike = DEFAULT_LANDMARKS) -> SurvivalEstimates:
        """Landmark rates S(t) with CI; default 6, 12 and 24 months in days."""
        return self.survival_at(times)

    def risk_table(self, times: ArrayLike) -> RiskTable:
        """Numbers at risk (time >= t) and cumulative events and censorings at each t (<= t)."""
        t = as_1d(times, "times").astype(np.float64)
        if np.isnan(t).any():
            raise ValueError("times must be numbers")
        start = np.searchsorted(self.time, t, side="left")
        n_risk = np.concatenate([self.n_risk, [0]])[start]
        upto = np.searchsorted(self.time, t, side="right")
        cum_e = np.concatenate([[0], np.cumsum(self.n_event)])[upto]
        cum_c = np.concatenate([[0], np.cumsum(self.n_censor)])[upto]
        return RiskTable(time=t, n_risk=n_risk, cum_events=cum_e, cum_censored=cum_c)

    def rmst(self, tau: float) -> RestrictedMean:
        """Restricted mean survival time on [0, tau] with R's standard error (see :class:`RestrictedMean`).

        R refuses tau below the first observed time; here that case is well defined (the
        area is tau, with SE 0) and returned.
        """
        tau = float(tau)
        if not np.isfinite(tau) or tau <= 0:
            raise ValueError(f"tau must be a positive number, got {tau!r}")
        keep = self.time <= tau
        t = np.concatenate([self.time[keep], [tau]])
        s = np.concatenate([self.survival[keep], [self.survival[keep][-1] if keep.any() else 1.0]])
        d = self.n_event[keep].astype(np.float64)
        nr = self.n_risk[keep].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.where(nr - d == 0, 0.0, d / (nr * (nr - d)))
        widths = np.diff(np.concatenate([[0.0], t]))
        heights = np.concatenate([[1.0], s[:-1]])
        rect = widths * heights
        # area from t_i to tau, for each kept time t_i
        area_after = np.cumsum(rect[::-1])[::-1][1:]
        var = float(np.sum(area_after**2 * h))
        est = float(rect.sum())
        se = float(np.sqrt(var))
        z = float(sps.norm.ppf(1.0 - (1.0 - self.level) / 2.0))
        return RestrictedMean(
            tau=tau, estimate=est, std_err=se, lower=est - z * se, upper=est + z * se, level=self.level
        )


def kaplan_meier(
    time: ArrayLike,
    event: ArrayLike,
    conf_type: ConfType | str = "log-log",
    level: float = 0.95,
) -> KaplanMeier:
    """Kaplan-Meier estimate for right-censored data (R ``survfit(Surv(time, event) ~ 1)``).

    ``time`` >= 0 (days), ``event`` 1 = event, 0 = censored. ``conf_type``: "plain", "log"
    (R's default) or "log-log" (cartscope's default). O(n log n): one sort, then counts and
    cumulative sums over the distinct times.
    """
    level = check_level(level)
    if conf_type not in CONF_TYPES:
        raise ValueError(f"unknown conf_type {conf_type!r}; choose one of {', '.join(CONF_TYPES)}")
    t, e = as_time_event(time, event)
    t = merge_near_ties(t)
    uniq, inv = np.unique(t, return_inverse=True)
    k = uniq.shape[0]
    n_total = np.bincount(inv, minlength=k)
    n_event = np.bincount(inv[e], minlength=k)
    n_censor = n_total - n_event
    n_risk = np.cumsum(n_total[::-1])[::-1]
    d = n_event.astype(np.float64)
    nr = n_risk.astype(np.float64)
    surv = np.cumprod(1.0 - d / nr)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(d == 0, 0.0, np.where(nr == d, np.inf, d / (nr * (nr - d))))
    std_err = np.sqrt(np.cumsum(terms))
    with np.errstate(invalid="ignore"):
        std_err_surv = np.where(surv == 0, np.where(np.isinf(std_err), np.nan, 0.0), surv * std_err)
    lower, upper = _confint(surv, std_err, str(conf_type), level)
    return KaplanMeier(
        time=uniq,
        n_risk=n_risk,
        n_event=n_event,
        n_censor=n_censor,
        survival=surv,
        std_err=std_err,
        std_err_surv=std_err_surv,
        lower=lower,
        upper=upper,
        conf_type=str(conf_type),
        level=level,
    )


@dataclass(frozen=True, eq=False)
class MedianFollowUp:
    """Median follow-up by the reverse Kaplan-Meier method, with the range of observed times."""

    median: float
    lower: float
    upper: float
    minimum: float
    maximum: float
    n: int
    conf_type: str
    level: float

    def to_frame(self) -> pd.DataFrame:
        fields = ("median", "lower", "upper", "minimum", "maximum", "n", "conf_type", "level")
        return pd.DataFrame([{k: getattr(self, k) for k in fields}])


def median_followup(
    time: ArrayLike,
    event: ArrayLike,
    conf_type: ConfType | str = "log-log",
    level: float = 0.95,
) -> MedianFollowUp:
    """Median potential follow-up: the Kaplan-Meier median with the roles of event and censoring
    swapped (Schemper & Smith, Control Clin Trials 1996;17:343-346), i.e. R
    ``survfit(Surv(time, 1 - event) ~ 1)``. Patients with an event are censored at their event
    time. Ties follow survfit on the swapped indicator (censorings of the original data, now
    "events", are counted first). ``minimum``/``maximum`` are the range of all observed times.
    """
    t, e = as_time_event(time, event)
    fit = kaplan_meier(t, ~e, conf_type=conf_type, level=level)
    lo, hi = fit.median_ci
    return MedianFollowUp(
        median=fit.median,
        lower=lo,
        upper=hi,
        minimum=float(t.min()),
        maximum=float(t.max()),
        n=int(t.shape[0]),
        conf_type=fit.conf_type,
        level=fit.level,
    )
