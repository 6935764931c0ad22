"""The analysis kinds of the plan language, one small module each.

Each module declares ``KINDS = (Kind(...), ...)`` (the contract in
:mod:`cartscope.analysis.plan`); a new kind is a new module plus ONE line below.
"""

from __future__ import annotations

KIND_MODULES: tuple[str, ...] = (
    "description",
    "response",
    "survival",
    "competing",
    "coxmodels",
    "toxicity",
    "kinetics",
    "biomarkers",
    "biomarker_resampling",
    "correlations",
    "infusions",
    "compare",
    "course",
    "icaht",
    "iec_hs",
    "infections",
    "hypogamma",
    "cytopenia",
    "toxicity_exposure",
    "logistic",
    "landmark",
    "rmst",
    "td_roc",
)
"""Modules under ``cartscope.analysis.analyses`` whose ``KINDS`` are registered (one per line)."""

__all__ = ["KIND_MODULES"]
