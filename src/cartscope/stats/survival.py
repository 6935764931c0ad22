"""Survival analysis entry points: Kaplan-Meier (``km``) and log-rank tests (``logrank``).

The implementations live in :mod:`cartscope.stats.km` and :mod:`cartscope.stats.logrank`;
this module gathers their public names, which ``cartscope.stats`` exports.
"""

from __future__ import annotations

from cartscope.stats.km import (
    CONF_TYPES,
    DEFAULT_LANDMARKS,
    KaplanMeier,
    MedianFollowUp,
    Quantiles,
    RestrictedMean,
    RiskTable,
    SurvivalEstimates,
    kaplan_meier,
    median_followup,
)
from cartscope.stats.logrank import LogRank, LogRankTrend, logrank, logrank_trend

__all__ = [
    "CONF_TYPES",
    "DEFAULT_LANDMARKS",
    "KaplanMeier",
    "LogRank",
    "LogRankTrend",
    "MedianFollowUp",
    "Quantiles",
    "RestrictedMean",
    "RiskTable",
    "SurvivalEstimates",
    "kaplan_meier",
    "logrank",
    "logrank_trend",
    "median_followup",
]
