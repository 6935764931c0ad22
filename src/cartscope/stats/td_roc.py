"""Time-dependent ROC: cumulative/dynamic AUC(t) of a marker for a time-to-event outcome, IPCW.

At a horizon t, *cases* are the patients with the event by t (T_i <= t, event) and
*controls* those still event-free after t (T_j > t); censoring before t is handled by
inverse probability of censoring weights (Uno et al. 2007; Blanche, Dartigues and
Jacqmin-Gadda, Stat Med 2013;32:5381-5397): a case weighs a_i = 1 / G(T_i-), a control
b_j = 1 / G(t), G the Kaplan-Meier estimate of the censoring distribution. Then

    AUC(t) = sum_ij a_i b_j K_ij / (sum_i a_i sum_j b_j),   K_ij = 1{M_i > M_j} + 1{M_i = M_j} / 2

(the trapezoidal area under the weighted ROC curve), exactly R
``riskRegression::Score(..., metrics = "auc", cens.model = "km")``.

Standard error from the influence function, sd(IF) / sqrt(n), as Score:

* the U-statistic part with the weights held fixed (Score's ``conservative = TRUE``):
  IF_k = [ (1/n) sum_j (a_k b_j K_kj + a_j b_k K_jk) ] / (mu_a mu_b) - AUC (a_k/mu_a + b_k/mu_b);
* plus the censoring part (Score's default), the change of the case weights through
  G(T_i-) (the control weights share one G(t) and cancel):
  IF_k += sum_i c_i int_{u < T_i} dM^C_k(u) / y(u),
  c_i = a_i [ (1/n) sum_j b_j K_ij / mu_b - AUC ] / (n mu_a), with the censoring
  martingale dM^C_k(u) = dN^C_k(u) - 1{T_k >= u} dLambda^C(u) and y(u) the fraction at risk.

Limits AUC +- z SE, clipped to [0, 1] (as Score). Higher marker values mean earlier events
(``direction="higher"``); ``"lower"`` flips the marker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cartscope.stats._scipy_stats import stats as sps
from cartscope.stats._validation import as_1d, as_time_event, check_level

__all__ = ["TimeDependentAUC", "td_auc"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class TimeDependentAUC:
    """AUC(t) at each horizon with SE and limits; cases/controls are the unweighted counts."""

    times: FloatArray
    auc: FloatArray
    std_err: FloatArray
    lower: FloatArray
    upper: FloatArray
    n_cases: NDArray[np.int64]
    n_controls: NDArray[np.int64]
    n_censored_before: NDArray[np.int64]
    direction: str
    conservative: bool
    level: float

    def to_frame(self) -> pd.DataFrame:
        """One row per horizon: time, auc, std_err, lower, upper, n_cases, n_controls, n_censored_before."""
        return pd.DataFrame({
            "time": self.times, "auc": self.auc, "std_err": self.std_err, "lower": self.lower,
            "upper": self.upper, "n_cases": self.n_cases, "n_controls": self.n_controls,
            "n_censored_before": self.n_censored_before,
        })

    def __repr__(self) -> str:
        parts = ", ".join(f"t={t:g}: {a:.3f}" for t, a in zip(self.times, self.auc))
        return f"TimeDependentAUC({parts})"


def _censoring_km(time: FloatArray, event: NDArray[np.bool_]) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Distinct times, at-risk counts, censoring counts and G at each time (right-continuous)."""
    uniq, inv = np.unique(time, return_inverse=True)
    total = np.bincount(inv, minlength=uniq.shape[0])
    cens = np.bincount(inv[~event], minlength=uniq.shape[0]).astype(float)
    deaths = total - cens
    # events at a censoring time come first: they are no longer at risk of being censored
    # (the reverse Kaplan-Meier of prodlim, which Score uses for the weights)
    at_risk = np.cumsum(total[::-1])[::-1].astype(float) - deaths
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.cumprod(np.where(at_risk > 0, 1.0 - cens / np.where(at_risk > 0, at_risk, 1.0), 1.0))
    return uniq, at_risk, cens, g


def _g_before(uniq: FloatArray, g: FloatArray, s: FloatArray) -> FloatArray:
    """G(s-): the censoring survival just before s."""
    idx = np.searchsorted(uniq, s, side="left") - 1
    return np.where(idx < 0, 1.0, g[np.maximum(idx, 0)])


def _g_at(uniq: FloatArray, g: FloatArray, s: float) -> float:
    idx = int(np.searchsorted(uniq, s, side="right")) - 1
    return 1.0 if idx < 0 else float(g[idx])


def _pair_sums(marker: FloatArray, weights: FloatArray) -> tuple[FloatArray, FloatArray]:
    """For each i: sum_j w_j K(i, j) (marker_i above marker_j) and sum_j w_j K(j, i)."""
    order = np.argsort(marker, kind="mergesort")
    m = marker[order]
    w = weights[order]
    cum = np.concatenate([[0.0], np.cumsum(w)])
    lo = np.searchsorted(m, marker, side="left")
    hi = np.searchsorted(m, marker, side="right")
    below = cum[lo]
    tied = cum[hi] - cum[lo]
    above = cum[-1] - cum[hi]
    return below + tied / 2.0, above + tied / 2.0


def td_auc(
    time: ArrayLike,
    event: ArrayLike,
    marker: ArrayLike,
    times: ArrayLike,
    direction: str = "higher",
    conservative: bool = False,
    level: float = 0.95,
) -> TimeDependentAUC:
    """Cumulative/dynamic AUC(t) with IPCW (Kaplan-Meier censoring), as riskRegression ``Score``.

    Args:
        time, event: follow-up and event indicator (1 = event, 0 = censored).
        marker: one value per patient.
        times: the horizons t.
        direction: ``"higher"`` (higher marker, earlier event) or ``"lower"``.
        conservative: leave out the censoring part of the influence function (Score's
            ``conservative = TRUE``).
        level: confidence level.
    """
    level = check_level(level)
    if direction not in ("higher", "lower"):
        raise ValueError(f"direction must be 'higher' or 'lower', got {direction!r}")
    t, e = as_time_event(time, event)
    n = t.shape[0]
    x = as_1d(marker, "marker").astype(np.float64)
    if x.shape[0] != n:
        raise ValueError(f"marker must have one value per patient ({n}), got {x.shape[0]}")
    if not np.all(np.isfinite(x)):
        raise ValueError("marker has missing or non-finite values; drop those patients first")
    if direction == "lower":
        x = -x
    horizons = as_1d(times, "times").astype(np.float64)
    if not np.all(np.isfinite(horizons)) or np.any(horizons <= 0):
        raise ValueError("times must be positive numbers")
    uniq, at_risk, cens, g = _censoring_km(t, e)
    z = float(sps.norm.ppf(1.0 - (1.0 - level) / 2.0))
    g_minus = _g_before(uniq, g, t)
    out = {k: [] for k in ("auc", "se", "nc", "nk", "ncb")}
    for h in horizons:
        case = (t <= h) & e
        control = t > h
        a = np.where(case, 1.0 / np.where(case, g_minus, 1.0), 0.0)
        b = np.where(control, 1.0 / _g_at(uniq, g, h), 0.0)
        out["nc"].append(int(case.sum()))
        out["nk"].append(int(control.sum()))
        out["ncb"].append(int(np.sum((t <= h) & ~e)))
        if not case.any() or not control.any():
            out["auc"].append(np.nan)
            out["se"].append(np.nan)
            continue
        sum_b_below, sum_a_above = _pair_sums(x, b)[0], _pair_sums(x, a)[1]
        mu_a, mu_b = a.mean(), b.mean()
        auc = float(np.sum(a * sum_b_below) / (a.sum() * b.sum()))
        ic = (a * sum_b_below + b * sum_a_above) / n / (mu_a * mu_b) - auc * (a / mu_a + b / mu_b)
        if not conservative:
            ic = ic + _censoring_term(t, e, uniq, at_risk, cens, a, sum_b_below / n / mu_b, auc, mu_a)
        out["auc"].append(auc)
        out["se"].append(float(np.std(ic, ddof=1) / np.sqrt(n)))
    auc_arr = np.asarray(out["auc"], dtype=float)
    se_arr = np.asarray(out["se"], dtype=float)
    return TimeDependentAUC(
        times=horizons,
        auc=auc_arr,
        std_err=se_arr,
        lower=np.maximum(0.0, auc_arr - z * se_arr),
        upper=np.minimum(1.0, auc_arr + z * se_arr),
        n_cases=np.asarray(out["nc"], dtype=np.int64),
        n_controls=np.asarray(out["nk"], dtype=np.int64),
        n_censored_before=np.asarray(out["ncb"], dtype=np.int64),
        direction=direction,
        conservative=conservative,
        level=level,
    )


def _censoring_term(
    t: FloatArray, e: NDArray[np.bool_], uniq: FloatArray, at_risk: FloatArray, cens: FloatArray,
    a: FloatArray, kbar: FloatArray, auc: float, mu_a: float,
) -> FloatArray:
    """sum_i c_i int_{u < T_i} dM^C_k(u) / y(u) for every k (see the module docstring).

    Here, as in Score's influence function, the at-risk set of the censoring martingale is
    everyone with T >= u (y(u) = that count / n, dLambda^C = censorings / that count), while
    the weights use the reverse Kaplan-Meier with events first (``_censoring_km``).
    """
    n = t.shape[0]
    c = a * (kbar - auc) / (n * mu_a)
    pos = np.searchsorted(uniq, t)
    c_at = np.bincount(pos, weights=c, minlength=uniq.shape[0])
    above = np.cumsum(c_at[::-1])[::-1] - c_at  # A(u): sum of c_i over T_i > u
    n_at = np.cumsum(np.bincount(pos, minlength=uniq.shape[0])[::-1])[::-1].astype(float)
    y = n_at / n
    jump = above * (cens / n_at) / y  # A(u) dLambda^C(u) / y(u); n_at >= 1 at every time
    cum_jump = np.cumsum(jump)
    return np.where(~e, (above / y)[pos], 0.0) - cum_jump[pos]
