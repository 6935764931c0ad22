"""Kaplan-Meier over counting-process (start, stop] rows, and the Simon-Makuch estimator.

A row is at risk at t when start < t <= stop. At each distinct stop time t_i of the rows,
n_i = rows at risk, d_i = rows ending with the event, and the product-limit
S(t) = prod (1 - d_i / n_i) with Greenwood's variance, exactly as R
``survfit(Surv(start, stop, event) ~ 1)`` (limits as :mod:`cartscope.stats.km`; times closer
than R's ``timefix`` tolerance are merged first, over start and stop together).

Simon-Makuch (Simon and Makuch, Stat Med 1984;3:35-44): when a patient's group changes
during follow-up (a transplant, a response), each patient contributes to a group's risk
set only while in that group; the data are split at the change into (start, stop] rows
carrying the current group, and the group curves are the counting-process KM of each
group's rows, i.e. R ``survfit(Surv(start, stop, event) ~ group)`` on the split data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cartscope.stats._timefix import merge_near_ties
from cartscope.stats._validation import as_1d, as_labels, check_level
from cartscope.stats.km import CONF_TYPES, KaplanMeier, _confint

__all__ = ["kaplan_meier_counting", "simon_makuch"]


def _intervals(start: ArrayLike, stop: ArrayLike, event: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    t1 = as_1d(start, "start").astype(np.float64)
    t2 = as_1d(stop, "stop").astype(np.float64)
    e = as_1d(event, "event")
    if not (t1.shape[0] == t2.shape[0] == e.shape[0]):
        raise ValueError(f"start, stop and event must have the same length, got "
                         f"{t1.shape[0]}, {t2.shape[0]} and {e.shape[0]}")
    if t1.shape[0] == 0:
        raise ValueError("no rows: start, stop and event are empty")
    if not (np.isfinite(t1).all() and np.isfinite(t2).all()):
        raise ValueError("start and stop must be finite numbers")
    # R's timefix over both columns together (aeqSurv on Surv(start, stop, event))
    both = merge_near_ties(np.concatenate([t1, t2]))
    t1, t2 = both[: t1.shape[0]], both[t1.shape[0]:]
    bad = np.flatnonzero(t1 >= t2)
    if bad.size:
        raise ValueError(f"start must be less than stop; first bad row at position {int(bad[0])} "
                         f"({t1[bad[0]]!r} >= {t2[bad[0]]!r})")
    ev = e.astype(np.float64)
    if not np.all((ev == 0) | (ev == 1)):
        raise ValueError("event must be 0/1 or True/False")
    return t1, t2, ev == 1


def kaplan_meier_counting(
    start: ArrayLike,
    stop: ArrayLike,
    event: ArrayLike,
    conf_type: str = "log-log",
    level: float = 0.95,
) -> KaplanMeier:
    """Product-limit estimate over (start, stop] rows (R ``survfit(Surv(start, stop, event) ~ 1)``)."""
    level = check_level(level)
    if conf_type not in CONF_TYPES:
        raise ValueError(f"unknown conf_type {conf_type!r}; choose one of {', '.join(CONF_TYPES)}")
    t1, t2, e = _intervals(start, stop, event)
    uniq = np.unique(t2)
    s1 = np.sort(t1)
    s2 = np.sort(t2)
    # at risk at u: stop >= u minus start >= u
    n_risk = (t2.shape[0] - np.searchsorted(s2, uniq, side="left")) - (
        t1.shape[0] - np.searchsorted(s1, uniq, side="left"))
    idx = np.searchsorted(uniq, t2)
    n_event = np.bincount(idx[e], minlength=uniq.shape[0])
    n_censor = np.bincount(idx[~e], minlength=uniq.shape[0])
    d = n_event.astype(np.float64)
    nr = n_risk.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(nr > 0, 1.0 - d / np.where(nr > 0, nr, 1.0), 1.0))
        terms = np.where(d == 0, 0.0, np.where(nr == d, np.inf, d / (nr * (nr - d))))
    std_err = np.sqrt(np.cumsum(terms))
    with np.errstate(invalid="ignore"):
        std_err_surv = np.where(surv == 0, np.where(np.isinf(std_err), np.nan, 0.0), surv * std_err)
    lower, upper = _confint(surv, std_err, conf_type, level)
    return KaplanMeier(
        time=uniq, n_risk=n_risk.astype(np.int64), n_event=n_event.astype(np.int64),
        n_censor=n_censor.astype(np.int64), survival=surv, std_err=std_err,
        std_err_surv=std_err_surv, lower=lower, upper=upper, conf_type=conf_type, level=level,
    )


def simon_makuch(
    start: ArrayLike,
    stop: ArrayLike,
    event: ArrayLike,
    group: ArrayLike,
    conf_type: str = "log-log",
    level: float = 0.95,
) -> dict[Any, KaplanMeier]:
    """Simon-Makuch curves: the counting-process KM of each group's (start, stop] rows.

    ``group`` is the group of each row (the status during that row's interval), so one
    patient can contribute rows to several groups. Returns one curve per group, in sorted
    group order.
    """
    t1, t2, e = _intervals(start, stop, event)
    g = as_labels(group, "group", t1.shape[0])
    levels = sorted(set(g.tolist()), key=lambda v: (str(type(v)), v))
    return {lev: kaplan_meier_counting(t1[g == lev], t2[g == lev], e[g == lev],
                                       conf_type=conf_type, level=level) for lev in levels}
