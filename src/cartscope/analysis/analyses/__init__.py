"""The study analyses, one small module each, registered by protocol section name.

Each section is an :class:`Analysis`: ``needs(ctx)`` returns why it cannot run on this cohort
('' when it can) and ``run(ctx)`` adds tables, objects, key numbers and exclusions to the
:class:`~cartscope.analysis.analyses._context.StudyContext`.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from cartscope.analysis.analyses import (
    biomarkers,
    competing,
    correlations,
    coxmodels,
    description,
    infusions,
    kinetics,
    response,
    survival,
    toxicity,
)
from cartscope.analysis.analyses._context import StudyContext


class Analysis(NamedTuple):
    needs: Callable[[StudyContext], str]
    run: Callable[[StudyContext], None]


SECTIONS: dict[str, Analysis] = {
    "cohort": Analysis(description.needs, description.run),
    "response": Analysis(response.needs, response.run),
    "relapse_timing": Analysis(response.needs_relapse_timing, response.run_relapse_timing),
    "survival": Analysis(survival.needs, survival.run),
    "competing_risks": Analysis(competing.needs, competing.run),
    "toxicity": Analysis(toxicity.needs, toxicity.run),
    "ae_table": Analysis(toxicity.needs_ae_table, toxicity.run_ae_table),
    "kinetics": Analysis(kinetics.needs, kinetics.run),
    "biomarkers": Analysis(biomarkers.needs, biomarkers.run),
    "validation": Analysis(biomarkers.needs_validation, biomarkers.run_validation),
    "cox": Analysis(coxmodels.needs, coxmodels.run),
    "infusion_comparison": Analysis(infusions.needs, infusions.run),
    "correlations": Analysis(correlations.needs, correlations.run),
}
"""Protocol section -> analysis (``exclusions`` is assembled by the runner itself)."""

__all__ = ["SECTIONS", "Analysis"]
