"""The section-form view of a plan, for readers written against the old protocol.

The report layer still reads ``results.protocol.survival``, ``.biomarkers``, ``.cox``,
``.subgroups``, ``.kinetics_measure`` and ``.sections``; :func:`legacy_view` fills these
from the plan's analyses (the first analysis of each kind), so those readers keep working
while they move to the ARD.
"""

from __future__ import annotations

import re

from cartscope.analysis.plan.registry import kinds
from cartscope.analysis.plan.schema import Plan
from cartscope.analysis.protocol import BiomarkerSpec, CoxSpec, Protocol, SurvivalSpec


def _first(plan: Plan, kind: str):
    for a in plan.analyses:
        if a.kind == kind:
            return a
    return None


def population_role(plan: Plan, population: str | None, default: str) -> str:
    """``X`` when the population is ``cohort_role == 'X'``, else ``default``."""
    if population is None or population not in plan.populations:
        return default
    m = re.fullmatch(r"\s*cohort_role\s*==\s*['\"]([^'\"]+)['\"]\s*", plan.populations[population].where)
    return m.group(1) if m else default


def legacy_view(plan: Plan) -> Protocol:
    """A :class:`Protocol` carrying the plan's endpoint rules and its first analyses' settings."""
    reg = kinds()
    sections: list[str] = []
    for a in plan.analyses:
        sec = reg[a.kind].section if a.kind in reg else ""
        if sec and sec not in sections:
            sections.append(sec)
    describe = _first(plan, "describe")
    subgroups = describe.by[0] if describe is not None and describe.by else "disease_group"
    km = _first(plan, "km")
    survival = SurvivalSpec()
    if km is not None:
        o = reg["km"].options.model_validate(km.options)
        by = tuple(km.by) if not km.within else tuple(f"{b}" for b in km.by)
        survival = SurvivalSpec(endpoints=tuple(o.endpoints), by=by, conf_type=o.conf_type, level=o.level,
                                landmark_months=tuple(o.landmark_months),
                                competing_risks=_first(plan, "cif") is not None)
    bm = None
    sc = _first(plan, "biomarker_screen")
    if sc is not None:
        o = reg["biomarker_screen"].options.model_validate(sc.options)
        val = _first(plan, "biomarker_validation")
        bm = BiomarkerSpec(
            timepoint=o.timepoint, baseline_timepoint=o.baseline_timepoint, analytes=o.analytes,
            reference=o.reference, training=population_role(plan, sc.population, "training"),
            validation=population_role(plan, val.population, "validation") if val is not None else None,
            subgroups=sc.by[0] if sc.by else None, fdr_method=o.fdr_method, fdr_level=o.fdr_level,
            significance=o.significance, ci_method=o.ci_method, markers=tuple(o.markers),
            survival_endpoint=o.survival_endpoint or "pfs", n_boot=o.n_boot, seed=o.seed)
    cox = []
    for a in plan.analyses:
        if a.kind == "cox":
            o = reg["cox"].options.model_validate(a.options)
            cox.append(CoxSpec(endpoint=o.endpoint, covariates=tuple(o.covariates), ties=o.ties))
    measure = "car_copies_per_ug"
    ck = _first(plan, "car_kinetics")
    if ck is not None and ck.options.get("measures"):
        measure = list(ck.options["measures"])[0]
    return Protocol(name=plan.name, title=plan.title, source=plan.source, endpoints=plan.endpoints,
                    subgroups=subgroups, survival=survival, biomarkers=bm, cox=tuple(cox),
                    crs_high_grade=plan.crs_high_grade, kinetics_measure=measure, sections=tuple(sections))


__all__ = ["legacy_view", "population_role"]
