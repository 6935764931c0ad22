"""Restricted mean survival time (RMST) per group and the two-group contrasts of R ``survRM2``.

Per group, the RMST up to ``tau`` is the area under the Kaplan-Meier curve on [0, tau] with
R's standard error (``print(survfit(...), rmean = tau)``, see
:class:`cartscope.stats.km.RestrictedMean`):
Var = sum_{t_i <= tau} A_i^2 d_i / (n_i (n_i - d_i)), A_i the area from t_i to tau.

Two groups (``arm = 1`` versus the reference ``arm = 0``), as ``survRM2::rmst2`` (Uno et al.,
J Clin Oncol 2014;32:2380-2385; Royston and Parmar, BMC Med Res Methodol 2013;13:152):

* difference: RMST1 - RMST0, SE sqrt(V1 + V0), Wald CI and two-sided p;
* ratio: exp(log RMST1 - log RMST0), SE of the log ratio sqrt(V1/RMST1^2 + V0/RMST0^2)
  (delta method), CI exp(log ratio +- z SE), p of the log ratio;
* ratio of the restricted mean time lost RMTL = tau - RMST, the same on log scale.

``survRM2`` is not in Debian; the tests check each group against R survfit's ``rmean`` and
the contrasts against these formulas evaluated in R on R's per-group values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cartscope.stats._scipy_stats import stats as sps
from cartscope.stats._validation import as_labels, as_time_event, check_level
from cartscope.stats.km import RestrictedMean, kaplan_meier

__all__ = ["RmstComparison", "RmstContrast", "rmst", "rmst_compare"]


def rmst(time: ArrayLike, event: ArrayLike, tau: float, level: float = 0.95) -> RestrictedMean:
    """RMST on [0, tau] of one group with R's SE and a Wald interval."""
    return kaplan_meier(time, event, conf_type="log", level=level).rmst(tau)


@dataclass(frozen=True)
class RmstContrast:
    """One contrast of two RMSTs: estimate, SE (of the log for ratios), CI, p."""

    measure: str
    estimate: float
    std_err: float
    lower: float
    upper: float
    p_value: float


@dataclass(frozen=True, eq=False)
class RmstComparison:
    """Per-group RMST and RMTL and the survRM2 contrasts of ``group`` versus ``reference``."""

    tau: float
    levels: tuple[Any, ...]
    per_group: tuple[RestrictedMean, ...]
    n: tuple[int, ...]
    contrasts: tuple[RmstContrast, ...]
    level: float

    def to_frame(self) -> pd.DataFrame:
        """Per group then per contrast: measure, group, estimate, std_err, lower, upper, p_value."""
        rows = []
        for lev, r, n in zip(self.levels, self.per_group, self.n):
            rows.append({"measure": "rmst", "group": lev, "n": n, "estimate": r.estimate,
                         "std_err": r.std_err, "lower": r.lower, "upper": r.upper,
                         "p_value": np.nan})
            rows.append({"measure": "rmtl", "group": lev, "n": n, "estimate": self.tau - r.estimate,
                         "std_err": r.std_err, "lower": self.tau - r.upper,
                         "upper": self.tau - r.lower, "p_value": np.nan})
        label = f"{self.levels[1]} vs {self.levels[0]}"
        for c in self.contrasts:
            rows.append({"measure": c.measure, "group": label, "n": sum(self.n),
                         "estimate": c.estimate, "std_err": c.std_err, "lower": c.lower,
                         "upper": c.upper, "p_value": c.p_value})
        return pd.DataFrame(rows)

    def contrast(self, measure: str) -> RmstContrast:
        """The contrast named ``measure`` (rmst_difference, rmst_ratio, rmtl_ratio)."""
        return next(c for c in self.contrasts if c.measure == measure)

    def __repr__(self) -> str:
        d = self.contrast("rmst_difference")
        return (f"RmstComparison(tau={self.tau:g}, {self.levels[1]} - {self.levels[0]}: "
                f"{d.estimate:.4g} [{d.lower:.4g}, {d.upper:.4g}], p={d.p_value:.3g})")


def _log_ratio(measure: str, a: float, va: float, b: float, vb: float, z: float) -> RmstContrast:
    a, va, b, vb = np.float64(a), np.float64(va), np.float64(b), np.float64(vb)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_r = np.log(a) - np.log(b)
        se = float(np.sqrt(va / a**2 + vb / b**2))
        p = float(2.0 * sps.norm.sf(abs(log_r / se))) if se > 0 and np.isfinite(se) else float("nan")
    return RmstContrast(measure, float(np.exp(log_r)), se, float(np.exp(log_r - z * se)),
                        float(np.exp(log_r + z * se)), p)


def rmst_compare(
    time: ArrayLike,
    event: ArrayLike,
    group: ArrayLike,
    tau: float,
    reference: Any = None,
    level: float = 0.95,
) -> RmstComparison:
    """RMST of two groups up to ``tau`` with difference, ratio and RMTL ratio (``survRM2::rmst2``).

    ``reference`` is the arm-0 level (default: the first sorted level). Like survRM2, ``tau``
    may not exceed the shorter of the two groups' largest follow-up times (the curve would be
    extrapolated beyond the data).
    """
    level = check_level(level)
    t, e = as_time_event(time, event)
    g = as_labels(group, "group", t.shape[0])
    levels = sorted(set(g.tolist()), key=lambda v: (str(type(v)), v))
    if len(levels) != 2:
        raise ValueError(f"rmst_compare needs exactly two groups, got {len(levels)}: {levels}")
    if reference is not None:
        if reference not in levels:
            raise ValueError(f"reference {reference!r} is not a group; groups are {levels}")
        levels = [reference, next(v for v in levels if v != reference)]
    tau = float(tau)
    limit = min(float(t[g == lev].max()) for lev in levels)
    if not np.isfinite(tau) or tau <= 0 or tau > limit:
        raise ValueError(
            f"tau must be in (0, {limit:g}] (the shorter group's largest follow-up time), got {tau!r}"
        )
    fits = tuple(rmst(t[g == lev], e[g == lev], tau, level) for lev in levels)
    z = float(sps.norm.ppf(1.0 - (1.0 - level) / 2.0))
    r0, r1 = fits
    v0, v1 = r0.std_err**2, r1.std_err**2
    diff = r1.estimate - r0.estimate
    se = float(np.sqrt(v0 + v1))
    p = float(2.0 * sps.norm.sf(abs(diff / se))) if se > 0 else float("nan")
    contrasts = (
        RmstContrast("rmst_difference", diff, se, diff - z * se, diff + z * se, p),
        _log_ratio("rmst_ratio", r1.estimate, v1, r0.estimate, v0, z),
        _log_ratio("rmtl_ratio", tau - r1.estimate, v1, tau - r0.estimate, v0, z),
    )
    return RmstComparison(
        tau=tau, levels=tuple(levels), per_group=fits,
        n=tuple(int(np.sum(g == lev)) for lev in levels), contrasts=contrasts, level=level,
    )
