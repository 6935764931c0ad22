"""Numbers at risk and cumulative events of each cause under a cumulative incidence plot.

At each time mark ``t`` and within each group: the number still at risk (follow-up time
``>= t``, the risk set of the Aalen-Johansen estimator just before ``t``), the cumulative
number of events of each cause and of censorings up to and including ``t`` - the counts of
R ``summary(survfit(Surv(time, factor(cause)) ~ group), times = t)`` (``n.risk`` of the
initial state; ``n.event`` and ``n.censor`` summed over the intervals up to ``t``), which is
the risk table printed under ``cmprsk::cuminc`` plots. Inputs are validated exactly as by
:func:`cartscope.stats.competing.cumulative_incidence`.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cartscope.stats.competing import _code_causes, _group_codes

__all__ = ["CompetingRiskTable", "competing_risk_table"]


@dataclass(frozen=True, eq=False)
class CompetingRiskTable:
    """Counts per group (rows, ``groups`` order) and time mark (columns, ``times``).

    ``cum_events[k]`` holds the cumulative events of ``causes[k]``."""

    times: NDArray[np.float64]
    groups: tuple[Hashable | None, ...]
    causes: tuple[Hashable, ...]
    n_risk: NDArray[np.int64]  # (groups, times)
    cum_events: NDArray[np.int64]  # (causes, groups, times)
    cum_censored: NDArray[np.int64]  # (groups, times)

    def to_frame(self) -> pd.DataFrame:
        """One row per group and time: group, time, n_risk, censored, events_<cause> ..."""
        n_t = self.times.shape[0]
        out = pd.DataFrame({
            "group": [g for g in self.groups for _ in range(n_t)],
            "time": np.tile(self.times, len(self.groups)),
            "n_risk": self.n_risk.ravel(),
            "censored": self.cum_censored.ravel(),
        })
        for k, c in enumerate(self.causes):
            out[f"events_{c}"] = self.cum_events[k].ravel()
        return out

    def __repr__(self) -> str:
        head = f"<CompetingRiskTable: {len(self.groups)} group(s) x {self.times.shape[0]} time(s), causes "
        return head + ", ".join(map(str, self.causes)) + ">"


def competing_risk_table(
    time: ArrayLike,
    cause: ArrayLike,
    times: ArrayLike,
    group: ArrayLike | None = None,
    censor_code: Hashable = 0,
) -> CompetingRiskTable:
    """Numbers at risk (time >= t) and cumulative events of each cause and censorings (<= t).

    Parameters are those of :func:`~cartscope.stats.competing.cumulative_incidence`;
    ``times`` are the marks (any order; kept as given).
    """
    coded = _code_causes(time, cause, censor_code)
    marks = np.asarray(times, dtype=np.float64).ravel()
    if np.isnan(marks).any():
        raise ValueError("times must be numbers")
    n = coded.time.shape[0]
    levels, codes = _group_codes(group, n)
    n_c = len(coded.causes)
    n_risk = np.zeros((len(levels), marks.shape[0]), dtype=np.int64)
    cum_c = np.zeros_like(n_risk)
    cum_e = np.zeros((n_c, len(levels), marks.shape[0]), dtype=np.int64)
    for gi in range(len(levels)):
        m = codes == gi
        t, c = np.sort(coded.time[m]), coded.cause[m][np.argsort(coded.time[m], kind="stable")]
        n_risk[gi] = t.shape[0] - np.searchsorted(t, marks, side="left")
        upto = np.searchsorted(t, marks, side="right")
        cum_c[gi] = np.concatenate([[0], np.cumsum(c == -1)])[upto]
        for k in range(n_c):
            cum_e[k, gi] = np.concatenate([[0], np.cumsum(c == k)])[upto]
    return CompetingRiskTable(times=marks, groups=tuple(levels), causes=coded.causes, n_risk=n_risk,
                              cum_events=cum_e, cum_censored=cum_c)
