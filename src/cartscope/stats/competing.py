"""Competing risks: cumulative incidence (Aalen-Johansen), Gray's test, Fine-Gray regression.

Every number matches R ``cmprsk`` (``cuminc``, ``timepoints``, ``crr``; Gray RJ, Ann Stat
1988;16:1141-1154; Fine JP & Gray RJ, JASA 1999;94:496-509). The R scripts that check this
sit in ``tests/stats/r/competing.R``.

Conventions shared by the three entry points:

- ``time`` is a 1-D array of non-negative finite numbers.
- ``cause`` holds one code per patient, integers or strings; ``censor_code`` (default 0)
  marks censoring, every other code is a cause of failure.
- Missing values are refused with a ``ValueError``: dropping patients is the caller's
  decision (R would silently ``na.omit`` them).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cartscope.stats import _finegray
from cartscope.stats._scipy_stats import stats as _sps

FloatArray = NDArray[np.float64]

__all__ = [
    "CIFCurve",
    "CIFTimepoints",
    "CumulativeIncidence",
    "FineGrayResult",
    "GrayTest",
    "cumulative_incidence",
    "fine_gray",
    "gray_test",
]


# ----------------------------------------------------------------------------------------
# input validation (the only place inputs are checked)
# ----------------------------------------------------------------------------------------


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    a.setflags(write=False)
    return a


def _as_time(time: ArrayLike) -> FloatArray:
    try:
        t = np.asarray(time, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"time must be numeric: {exc}") from None
    if t.ndim != 1:
        raise ValueError(f"time must be 1-D, got shape {t.shape}")
    if t.shape[0] == 0:
        raise ValueError("time is empty: at least one patient is needed")
    bad = ~np.isfinite(t)
    if bad.any():
        raise ValueError(
            f"time has {int(bad.sum())} missing or infinite value(s) "
            f"(first at position {int(np.flatnonzero(bad)[0])}); drop those patients first"
        )
    if (t < 0).any():
        raise ValueError(
            f"time must be >= 0; position {int(np.flatnonzero(t < 0)[0])} is {t[t < 0][0]}"
        )
    return t


def _is_missing(values: NDArray[Any]) -> NDArray[np.bool_]:
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "O":
        return np.asarray(pd.isna(values), dtype=bool)
    return np.zeros(values.shape[0], dtype=bool)


def _as_labels(values: ArrayLike, name: str, n: int) -> tuple[NDArray[Any], NDArray[np.intp]]:
    """Sorted distinct labels and each patient's index into them."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} values but time has {n}")
    missing = _is_missing(arr)
    if missing.any():
        raise ValueError(
            f"{name} has {int(missing.sum())} missing value(s) "
            f"(first at position {int(np.flatnonzero(missing)[0])}); drop those patients first"
        )
    try:
        levels, codes = np.unique(arr, return_inverse=True)
    except TypeError:
        raise ValueError(
            f"{name} mixes values that cannot be ordered (e.g. numbers and strings); "
            "use one type of code"
        ) from None
    return levels, codes.reshape(-1)


def _label(value: Any) -> Hashable:
    """A numpy scalar as the plain Python value (so labels print and compare naturally)."""
    return value.item() if isinstance(value, np.generic) else value


def _find_level(levels: NDArray[Any], value: Hashable, name: str) -> int:
    matches = [i for i, lev in enumerate(levels) if _label(lev) == value]
    if not matches:
        shown = ", ".join(repr(_label(v)) for v in levels)
        raise ValueError(f"{name} {value!r} does not occur; present: {shown}")
    return matches[0]


@dataclass(frozen=True, slots=True)
class _Coded:
    """Validated inputs: time, cause index (-1 = censored), cause labels."""

    time: FloatArray
    cause: NDArray[np.intp]
    causes: tuple[Hashable, ...]


def _group_codes(group: ArrayLike | None, n: int) -> tuple[list[Hashable | None], NDArray[np.intp]]:
    """The group levels (``[None]`` without a grouping) and each patient's level index."""
    if group is None:
        return [None], np.zeros(n, dtype=np.intp)
    levels, codes = _as_labels(group, "group", n)
    return [_label(v) for v in levels], codes


def _code_causes(time: ArrayLike, cause: ArrayLike, censor_code: Hashable) -> _Coded:
    t = _as_time(time)
    levels, codes = _as_labels(cause, "cause", t.shape[0])
    labels = [_label(v) for v in levels]
    cens = [i for i, lab in enumerate(labels) if lab == censor_code]
    causes = tuple(lab for lab in labels if lab != censor_code)
    remap = np.empty(len(labels), dtype=np.intp)
    k = 0
    for i in range(len(labels)):
        if cens and i == cens[0]:
            remap[i] = -1
        else:
            remap[i] = k
            k += 1
    coded = remap[codes]
    if not causes:
        raise ValueError(
            f"no events: every patient is censored (censor_code={censor_code!r}); "
            "cumulative incidence, Gray's test and Fine-Gray need at least one event"
        )
    return _Coded(time=t, cause=coded, causes=causes)


def _z_for(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return float(_sps.norm.isf((1.0 - level) / 2.0))


# ----------------------------------------------------------------------------------------
# cumulative incidence
# ----------------------------------------------------------------------------------------


def _loglog_ci(
    estimate: FloatArray, variance: FloatArray, z: float
) -> tuple[FloatArray, FloatArray]:
    """CI on the log(-log) scale: ``F ** exp(±z * sqrt(V) / (F * log F))``.

    With ``g = log(-log F)`` and ``se(g) = sqrt(V) / (F |log F|)`` (delta method), the
    back-transformed limits are ``F ** exp(±z se(g))`` (Pintilie, *Competing Risks*, 2006;
    the form ``tidycmprsk`` reports). Undefined (NaN) where ``F`` is 0 or 1; for ``F`` a
    rounding error below 1, ``exp`` overflows and the limits are the exact (0, 1).
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ok = (estimate > 0.0) & (estimate < 1.0) & np.isfinite(variance)
        safe = np.where(ok, estimate, 0.5)
        k = z * np.sqrt(np.where(ok, variance, 0.0)) / (safe * np.log(safe))
        upper = np.where(ok, safe ** np.exp(k), np.nan)
        lower = np.where(ok, safe ** np.exp(-k), np.nan)
    return lower, upper


@dataclass(frozen=True, slots=True)
class CIFCurve:
    """One cumulative incidence curve (one cause within one group).

    ``time`` holds the distinct times at which this cause has events in this group; the
    curve is a right-continuous step function that is 0 before ``time[0]`` and is defined
    up to ``max_time``, the group's last follow-up time (as ``cmprsk::timepoints``).
    """

    group: Hashable | None
    cause: Hashable
    time: FloatArray
    estimate: FloatArray
    variance: FloatArray
    lower: FloatArray
    upper: FloatArray
    n: int
    n_events: int
    max_time: float

    def step_index(self, times: FloatArray) -> NDArray[np.intp]:
        """Index into ``time`` of the last jump at or before each of ``times`` (-1: none)."""
        return np.searchsorted(self.time, times, side="right") - 1


@dataclass(frozen=True, slots=True)
class CIFTimepoints:
    """Curves read at fixed times (``cmprsk::timepoints``): rows = curves, columns = times.

    NaN where a time is negative or beyond the group's last follow-up time.
    """

    times: FloatArray
    curves: tuple[tuple[Hashable | None, Hashable], ...]  # (group, cause) per row
    estimate: FloatArray
    variance: FloatArray
    lower: FloatArray
    upper: FloatArray
    level: float

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: group, cause, time, estimate, variance, lower, upper."""
        n_t = self.times.shape[0]
        return pd.DataFrame(
            {
                "group": [g for g, _ in self.curves for _ in range(n_t)],
                "cause": [c for _, c in self.curves for _ in range(n_t)],
                "time": np.tile(self.times, len(self.curves)),
                "estimate": self.estimate.ravel(),
                "variance": self.variance.ravel(),
                "lower": self.lower.ravel(),
                "upper": self.upper.ravel(),
            }
        )


@dataclass(frozen=True, slots=True)
class CumulativeIncidence:
    """Aalen-Johansen cumulative incidence per cause and group, as ``cmprsk::cuminc``."""

    curves: tuple[CIFCurve, ...]
    causes: tuple[Hashable, ...]
    groups: tuple[Hashable | None, ...]
    censor_code: Hashable
    level: float
    conf_type: str = "log-log"
    variance_method: str = "cmprsk::cuminc (Aalen-type delta method)"

    def curve(self, cause: Hashable, group: Hashable | None = None) -> CIFCurve:
        """The curve of ``cause`` in ``group`` (omit ``group`` when ungrouped)."""
        for c in self.curves:
            if c.cause == cause and c.group == group:
                return c
        raise KeyError(
            f"no curve for cause {cause!r}, group {group!r}; "
            f"causes {self.causes}, groups {self.groups}"
        )

    def at(self, times: ArrayLike) -> CIFTimepoints:
        """Estimates at ``times`` (sorted, duplicates dropped), as ``cmprsk::timepoints``."""
        t = np.unique(np.asarray(times, dtype=np.float64).ravel())
        if np.isnan(t).any():
            raise ValueError("times must not contain NaN")
        z = _z_for(self.level)
        n_c = len(self.curves)
        est = np.full((n_c, t.shape[0]), np.nan)
        var = np.full((n_c, t.shape[0]), np.nan)
        for r, c in enumerate(self.curves):
            idx = c.step_index(t)
            inside = (t >= 0.0) & (t <= c.max_time)
            jumped = idx >= 0
            est[r] = np.where(inside, 0.0, np.nan)
            var[r] = np.where(inside, 0.0, np.nan)
            sel = inside & jumped
            est[r, sel] = c.estimate[idx[sel]]
            var[r, sel] = c.variance[idx[sel]]
        lower, upper = _loglog_ci(est, var, z)
        return CIFTimepoints(
            times=_readonly(t),
            curves=tuple((c.group, c.cause) for c in self.curves),
            estimate=_readonly(est),
            variance=_readonly(var),
            lower=_readonly(lower),
            upper=_readonly(upper),
            level=self.level,
        )

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame, one row per curve and jump time: group, cause, time, estimate,
        variance, lower, upper."""
        sizes = [c.time.shape[0] for c in self.curves]
        return pd.DataFrame(
            {
                "group": [c.group for c, k in zip(self.curves, sizes) for _ in range(k)],
                "cause": [c.cause for c, k in zip(self.curves, sizes) for _ in range(k)],
                "time": np.concatenate([c.time for c in self.curves]),
                "estimate": np.concatenate([c.estimate for c in self.curves]),
                "variance": np.concatenate([c.variance for c in self.curves]),
                "lower": np.concatenate([c.lower for c in self.curves]),
                "upper": np.concatenate([c.upper for c in self.curves]),
            }
        )


def _cif_one_group(
    time: FloatArray, cause: NDArray[np.intp], n_causes: int
) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.bool_], FloatArray]:
    """Estimates and cuminc variances of every cause within one group.

    Returns the distinct event times (any cause), then per time and cause the estimate,
    the variance, whether the cause jumps there, and the event counts. Estimator
    (Aalen-Johansen, ``cinc`` in cmprsk): with ``S(t-)`` the overall Kaplan-Meier just
    before ``t``, ``n`` at risk and ``d_j`` events of cause ``j``,
    ``F_j(t) = F_j(t-) + S(t-) d_j / n``. The variance is Gray's delta-method formula:
    accumulators ``v1, v2, v3`` gain, at every event time and for each kind of event
    (cause ``j`` itself, then all other causes), ``t6 = S(t-)^2 (1 - (d - 1)/(n - 1)) d / n^2``
    times ``a^2, a b, b^2`` with ``b = 1/S(t)`` and ``a = 1 + F_j(t) b`` for cause ``j`` or
    ``a = F_j(t) b`` for the others (skipped when ``S(t) = 0``); then
    ``Var F_j(t) = v1 + F_j^2 v3 - 2 F_j v2``.
    """
    n = time.shape[0]
    uniq, inverse = np.unique(time, return_inverse=True)
    first = np.searchsorted(time, uniq, side="left")  # time is sorted
    at_risk_all = (n - first).astype(np.float64)
    failed = cause >= 0
    counts = np.zeros((uniq.shape[0], n_causes))
    np.add.at(counts, (inverse[failed], cause[failed]), 1.0)
    d_all = counts.sum(axis=1)
    keep = d_all > 0
    t = uniq[keep]
    d1 = counts[keep]  # (T, C)
    nd = d_all[keep][:, None]  # (T, 1)
    rs = at_risk_all[keep][:, None]
    d2 = nd - d1
    surv_after = np.cumprod((rs[:, 0] - nd[:, 0]) / rs[:, 0])
    fk = np.concatenate(([1.0], surv_after[:-1]))[:, None]
    fkn = surv_after[:, None]
    est = np.cumsum(fk * d1 / rs, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t5_1 = np.where(d1 > 1, 1.0 - (d1 - 1.0) / (rs - 1.0), 1.0)
        t5_2 = np.where(d2 > 1, 1.0 - (d2 - 1.0) / (rs - 1.0), 1.0)
        inv_fkn = np.where(fkn > 0, 1.0 / fkn, 0.0)
    t6_2 = np.where((d2 > 0) & (fkn > 0), fk * fk * t5_2 * d2 / (rs * rs), 0.0)
    t4_2 = est * inv_fkn
    t6_1 = np.where(d1 > 0, fk * fk * t5_1 * d1 / (rs * rs), 0.0)
    t4_1 = 1.0 + inv_fkn * est
    v1 = np.cumsum(t4_2 * t4_2 * t6_2 + t4_1 * t4_1 * t6_1, axis=0)
    v2 = np.cumsum(inv_fkn * t4_2 * t6_2 + inv_fkn * t4_1 * t6_1, axis=0)
    v3 = np.cumsum(inv_fkn * inv_fkn * (t6_2 + t6_1), axis=0)
    var = v1 + est * est * v3 - 2.0 * est * v2
    return t, est, var, d1 > 0, d1


def cumulative_incidence(
    time: ArrayLike,
    cause: ArrayLike,
    group: ArrayLike | None = None,
    censor_code: Hashable = 0,
    level: float = 0.95,
) -> CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of each cause, per group, as ``cmprsk::cuminc``.

    Parameters
    ----------
    time : (n,) array of non-negative follow-up times.
    cause : (n,) array of codes (int or str); ``censor_code`` marks censoring.
    group : optional (n,) array of group labels; curves are estimated within each group.
    censor_code : the code of censored patients (default 0).
    level : confidence level of the pointwise intervals (default 0.95).

    Notes
    -----
    Estimates and variances equal ``cuminc``'s to rounding (variance: Gray's delta-method
    formula, see ``_cif_one_group``). The interval is on the log(-log) scale,
    ``F ** exp(±z sqrt(V) / (F log F))`` with ``z`` the normal quantile for ``level``; NaN
    where ``F`` is 0 or 1. Causes are every code other than ``censor_code`` that occurs in
    the data, in sorted order; a cause absent from a group gives an empty curve there
    (estimate 0 up to the group's last follow-up).
    """
    coded = _code_causes(time, cause, censor_code)
    z = _z_for(level)
    n = coded.time.shape[0]
    group_levels, group_codes = _group_codes(group, n)
    order = np.argsort(coded.time, kind="stable")
    t_sorted = coded.time[order]
    c_sorted = coded.cause[order]
    g_sorted = group_codes[order]
    n_causes = len(coded.causes)
    per_group: list[list[CIFCurve]] = [[] for _ in range(n_causes)]
    for gi, glabel in enumerate(group_levels):
        mask = g_sorted == gi
        tg = t_sorted[mask]
        t_ev, est, var, jumps, d1 = _cif_one_group(tg, c_sorted[mask], n_causes)
        for ci, clabel in enumerate(coded.causes):
            j = jumps[:, ci]
            e, v = est[j, ci], var[j, ci]
            lo, up = _loglog_ci(e, v, z)
            per_group[ci].append(
                CIFCurve(
                    group=glabel,
                    cause=clabel,
                    time=_readonly(t_ev[j].copy()),
                    estimate=_readonly(e),
                    variance=_readonly(v),
                    lower=_readonly(lo),
                    upper=_readonly(up),
                    n=int(tg.shape[0]),
                    n_events=int(d1[:, ci].sum()),
                    max_time=float(tg[-1]),
                )
            )
    curves = tuple(c for by_cause in per_group for c in by_cause)
    return CumulativeIncidence(
        curves=curves,
        causes=coded.causes,
        groups=tuple(group_levels),
        censor_code=censor_code,
        level=level,
    )


# ----------------------------------------------------------------------------------------
# Gray's test
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GrayTest:
    """Gray's K-sample test of equal cumulative incidence of one cause (``cuminc$Tests``)."""

    cause: Hashable
    statistic: float
    df: int
    p_value: float
    groups: tuple[Hashable, ...]
    score: FloatArray  # (df,) scores of all groups but the last
    variance: FloatArray  # (df, df) their estimated covariance
    rho: float
    n_strata: int
    method: str = "Gray 1988 (cmprsk::cuminc)"

    def __iter__(self) -> Iterator[float]:
        """Unpack as ``statistic, p_value``."""
        return iter((self.statistic, self.p_value))

    def to_frame(self) -> pd.DataFrame:
        """One row: cause, statistic, df, p_value, rho, n_strata."""
        return pd.DataFrame(
            {
                "cause": [self.cause],
                "statistic": [self.statistic],
                "df": [self.df],
                "p_value": [self.p_value],
                "rho": [self.rho],
                "n_strata": [self.n_strata],
            }
        )


def _gray_one_stratum(
    time: FloatArray, status: NDArray[np.int8], group: NDArray[np.intp], n_groups: int, rho: float
) -> tuple[FloatArray, FloatArray]:
    """Score (first ng-1 groups) and its covariance within one stratum (``crst`` in cmprsk).

    ``status``: 0 censored, 1 cause of interest, 2 other cause. At each event time, with
    ``n_g`` at risk, ``S_g(t-)`` the group's overall KM just before ``t``, ``F_g(t-)`` the
    group's CIF of the cause and ``F(t-)`` the pooled one (with risk weights ``n_g / S_g``):
    ``R_g = n_g (1 - F_g(t-)) / S_g(t-)``, score
    ``s_g += (1 - F(t-))^rho (d_1g - d_1 R_g / sum R)``; the covariance follows Gray (1988),
    section 2, as coded in ``crst``.
    """
    uniq, inverse = np.unique(time, return_inverse=True)
    n_u = uniq.shape[0]
    counts = np.zeros((n_u, 3, n_groups))
    np.add.at(counts, (inverse, status, group), 1.0)
    in_group = counts.sum(axis=1)  # (U, G) leaving at each time
    at_risk_all = in_group[::-1].cumsum(axis=0)[::-1]  # n_g(t): time >= t
    d1g = counts[:, 1, :]
    d2g = counts[:, 2, :]
    nd1 = d1g.sum(axis=1)
    nd2 = d2g.sum(axis=1)
    keep = (nd1 + nd2) > 0
    rs, d1g, d2g, nd1 = at_risk_all[keep], d1g[keep], d2g[keep], nd1[keep]
    present = rs > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(present, (rs - d1g - d2g) / np.where(present, rs, 1.0), 1.0)
        skm = np.cumprod(factor, axis=0)
        skmm = np.vstack((np.ones((1, n_groups)), skm[:-1]))
        f1_inc = np.where(present, skmm * d1g / np.where(present, rs, 1.0), 0.0)
        f1 = np.cumsum(f1_inc, axis=0)
        f1m = f1 - f1_inc
        t1 = np.where(present, rs / skmm, 0.0)  # h_g: risk weight n_g / S_g(t-)
        tr = t1.sum(axis=1)
        tq = np.where(present, rs * (1.0 - f1m) / skmm, 0.0).sum(axis=1)
        f_inc = nd1 / tr
        f = np.cumsum(f_inc)
        fm = f - f_inc
        fb = (1.0 - fm) ** rho
        # a[t] = fb (diag(h) - h h' / sum h); c accumulates a * d_1 / (sum h (1 - F(t-)))
        outer = t1[:, :, None] * t1[:, None, :] / tr[:, None, None]
        a = fb[:, None, None] * (t1[:, :, None] * np.eye(n_groups)[None] - outer)
        c = np.cumsum(a * (nd1 / (tr * (1.0 - fm)))[:, None, None], axis=0)
        expected = nd1[:, None] * rs * (1.0 - f1m) / (skmm * tq[:, None])
        score = (fb[:, None] * np.where(present, d1g - expected, 0.0)).sum(axis=0)
        # cause-of-interest events
        ev1 = (nd1 > 0)[:, None] & present
        t4 = np.where(skm > 0, 1.0 - (1.0 - f[:, None]) / skm, 1.0)
        ties = nd1[:, None] > 1
        t5 = np.where(ties, 1.0 - (nd1[:, None] - 1.0) / (tr[:, None] * skmm - 1.0), 1.0)
        t3 = np.where(ev1, t5 * skmm * nd1[:, None] / (tr[:, None] * rs), 0.0)
        t4 = np.where(ev1, t4, 0.0)
        amc = a - t4[:, None, :] * c  # (T, i, k)
        v3 = (t4 * t4 * t3).sum(axis=0)
        v2 = np.einsum("tik,tk->ik", amc, t4 * t3)
        v = np.einsum("tik,tjk,tk->ij", amc, amc, t3)
        # competing-cause events
        ev2 = (skm > 0) & (d2g > 0)
        t4b = np.where(ev2, (1.0 - f[:, None]) / np.where(ev2, skm, 1.0), 0.0)
        t5b = np.where(d2g > 1, 1.0 - (d2g - 1.0) / (rs - 1.0), 1.0)
        t3b = np.where(ev2, t5b * skmm * skmm * d2g / np.where(present, rs * rs, 1.0), 0.0)
        w = t4b * t4b * t3b
        v3 = v3 + w.sum(axis=0)
        v2 = v2 - np.einsum("tik,tk->ik", c, w)
        v = v + np.einsum("tik,tjk,tk->ij", c, c, w)
    cf = c[-1]
    v = v + (cf * v3[None, :]) @ cf.T + cf @ v2.T + v2 @ cf.T
    k = n_groups - 1
    return score[:k], v[:k, :k]


def gray_test(
    time: ArrayLike,
    cause: ArrayLike,
    group: ArrayLike,
    cause_of_interest: Hashable = 1,
    strata: ArrayLike | None = None,
    rho: float = 0.0,
    censor_code: Hashable = 0,
) -> GrayTest:
    """Gray's test that the cumulative incidence of ``cause_of_interest`` is equal across
    groups, as the ``$Tests`` row of ``cmprsk::cuminc(time, cause, group, strata, rho)``.

    The statistic is ``s' V^-1 s`` over the scores of all groups but the last, summed over
    strata when ``strata`` is given; chi-square with ``n_groups - 1`` df. The weight is
    ``(1 - F(t-))^rho`` (``rho = 0``: the default, log-rank-like). The p-value is the upper
    tail ``chi2.sf`` (R prints ``1 - pchisq``, which loses digits below about 1e-15).

    Raises
    ------
    ValueError
        Fewer than two groups, a cause that does not occur, or a singular score variance
        (R then reports the sentinel statistic -1): a group with nobody at risk at the
        cause's event times is the usual reason.
    """
    coded = _code_causes(time, cause, censor_code)
    n = coded.time.shape[0]
    levels, gcodes = _as_labels(group, "group", n)
    if levels.shape[0] < 2:
        raise ValueError("Gray's test needs at least two groups; group has one level")
    ci = _find_level(np.asarray(coded.causes, dtype=object), cause_of_interest, "cause_of_interest")
    if strata is None:
        scodes = np.zeros(n, dtype=np.intp)
        n_strata = 1
    else:
        slevels, scodes = _as_labels(strata, "strata", n)
        n_strata = int(slevels.shape[0])
    if not np.isfinite(rho):
        raise ValueError(f"rho must be a finite number, got {rho}")
    status = np.where(coded.cause < 0, 0, np.where(coded.cause == ci, 1, 2)).astype(np.int8)
    n_groups = int(levels.shape[0])
    k = n_groups - 1
    score = np.zeros(k)
    var = np.zeros((k, k))
    for s in range(n_strata):
        m = scodes == s
        order = np.argsort(coded.time[m], kind="stable")
        sc, vv = _gray_one_stratum(
            coded.time[m][order], status[m][order], gcodes[m][order], n_groups, float(rho)
        )
        score += sc
        var += vv
    sv = np.linalg.svd(var, compute_uv=False)
    if not np.all(np.isfinite(var)) or sv[-1] <= 1e-7 * max(sv[0], np.finfo(float).tiny):
        raise ValueError(
            f"Gray's test is undefined for cause {cause_of_interest!r}: the score variance "
            "matrix is singular (a group with nobody at risk at this cause's event times, "
            "or a cause too rare); cmprsk reports the sentinel statistic -1"
        )
    stat = float(score @ np.linalg.solve(var, score))
    return GrayTest(
        cause=cause_of_interest,
        statistic=stat,
        df=k,
        p_value=float(_sps.chi2.sf(stat, k)),
        groups=tuple(_label(v) for v in levels),
        score=_readonly(score),
        variance=_readonly(var),
        rho=float(rho),
        n_strata=n_strata,
    )


# ----------------------------------------------------------------------------------------
# Fine-Gray regression
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FineGrayResult:
    """Fine-Gray subdistribution-hazard model, as ``cmprsk::crr`` and ``summary.crr``."""

    names: tuple[str, ...]
    coef: FloatArray
    se: FloatArray
    hazard_ratio: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    z: FloatArray
    p_value: FloatArray
    variance: FloatArray  # sandwich: I^-1 (sum r r') I^-1
    information: FloatArray  # observed information at the estimate (crr's $inf)
    loglik: float  # log pseudo-likelihood at the estimate
    loglik_null: float  # at coef = 0
    lr_statistic: float  # -2 (loglik_null - loglik), as summary.crr's "pseudo LR test"
    converged: bool
    iterations: int
    n: int
    n_events: int  # events of the cause of interest
    n_competing: int  # events of any other cause
    cause_of_interest: Hashable
    level: float
    warnings: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        """One row per covariate: term, coef, se, hazard_ratio, ci_lower, ci_upper, z, p_value."""
        return pd.DataFrame(
            {
                "term": list(self.names),
                "coef": self.coef,
                "se": self.se,
                "hazard_ratio": self.hazard_ratio,
                "ci_lower": self.ci_lower,
                "ci_upper": self.ci_upper,
                "z": self.z,
                "p_value": self.p_value,
            }
        )


def fine_gray(
    time: ArrayLike,
    cause: ArrayLike,
    covariates: Any,
    cause_of_interest: Hashable = 1,
    censor_code: Hashable = 0,
    level: float = 0.95,
    gtol: float = 1e-6,
    max_iter: int = 10,
) -> FineGrayResult:
    """Fine-Gray proportional subdistribution-hazards regression, as ``cmprsk::crr``.

    Parameters
    ----------
    time, cause : follow-up times and cause codes (``censor_code`` = censored).
    covariates : (n, p) array or DataFrame (categorical columns -> treatment dummies, first
        level as reference).
    cause_of_interest : the failure code modelled (``crr``'s ``failcode``).
    level : confidence level of the hazard-ratio intervals.
    gtol, max_iter : ``crr``'s convergence tolerance and iteration limit (same defaults).

    Notes
    -----
    Subjects failing from a competing cause stay in the risk set with inverse-probability-
    of-censoring weights ``G(t-)/G(s-)`` (Kaplan-Meier of the censoring distribution over
    all patients, i.e. one ``cengroup``). The fit follows ``crr``'s Newton-Raphson step for
    step, the variance is its sandwich estimator (Fine & Gray 1999, section 3), the CI is
    ``exp(coef ± z se)`` and ``p = 2 * norm.sf(|coef| / se)`` (R's ``2 * (1 - pnorm)`` loses
    digits below about 1e-15). Time-varying covariates (``cov2``/``tf``) and several
    censoring groups are not supported. Cost: ``O(n log n + (n + K) p^2)`` per iteration,
    ``K`` the number of distinct event times; no loop over patients or event times.

    Raises
    ------
    ValueError
        Bad input, no event of ``cause_of_interest``, or a singular information matrix
        (e.g. a constant covariate or a covariate separating the events perfectly).
    """
    coded = _code_causes(time, cause, censor_code)
    n = coded.time.shape[0]
    z_crit = _z_for(level)
    ci = _find_level(np.asarray(coded.causes, dtype=object), cause_of_interest, "cause_of_interest")
    x, names = _finegray.design_matrix(covariates, n)
    if max_iter < 0:
        raise ValueError(f"max_iter must be >= 0, got {max_iter}")
    status = np.where(coded.cause < 0, 0, np.where(coded.cause == ci, 1, 2)).astype(np.int8)
    order = np.argsort(coded.time, kind="stable")
    data = _finegray.prepare(coded.time[order], status[order], x[order])
    try:
        fit = _finegray.newton(data, np.zeros(x.shape[1]), gtol, max_iter)
        info_inv = np.linalg.inv(fit.information)
    except np.linalg.LinAlgError:
        raise ValueError(
            "Fine-Gray information matrix is singular: a covariate is constant, collinear "
            f"with others, or has no variation among the patients at risk ({', '.join(names)})"
        ) from None
    resid = _finegray.score_residuals(data, fit.beta)
    variance = info_inv @ (resid.T @ resid) @ info_inv.T
    se = np.sqrt(np.diag(variance))
    beta = fit.beta
    with np.errstate(divide="ignore", invalid="ignore"):
        z = beta / se
    loglik = -fit.neg_loglik
    loglik_null = -_finegray.neg_loglik(data, np.zeros_like(beta))
    notes: list[str] = []
    if not fit.converged:
        notes.append(f"Newton-Raphson did not converge in {max_iter} iterations (gtol={gtol})")
    return FineGrayResult(
        names=names,
        coef=_readonly(beta),
        se=_readonly(se),
        hazard_ratio=_readonly(np.exp(beta)),
        ci_lower=_readonly(np.exp(beta - z_crit * se)),
        ci_upper=_readonly(np.exp(beta + z_crit * se)),
        z=_readonly(z),
        p_value=_readonly(2.0 * _sps.norm.sf(np.abs(z))),
        variance=_readonly(variance),
        information=_readonly(fit.information),
        loglik=loglik,
        loglik_null=loglik_null,
        lr_statistic=-2.0 * (loglik_null - loglik),
        converged=fit.converged,
        iterations=fit.iterations,
        n=n,
        n_events=int((status == 1).sum()),
        n_competing=int((status == 2).sum()),
        cause_of_interest=cause_of_interest,
        level=level,
        warnings=tuple(notes),
    )
