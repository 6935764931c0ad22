"""Old protocols (the fixed ``sections`` form) read as plans of version 1.

A protocol without ``version`` is validated by the old schema
(:class:`cartscope.analysis.protocol.Protocol`) and translated section by section into
analyses; the message says so and names the ``version: 1`` form to write instead. A
protocol that fails the old schema too is refused with the old schema's problems.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cartscope.analysis.protocol import Protocol

MIGRATION_NOTE = ("a protocol in the old section form (no 'version' key): read as an analysis plan of version 1; "
                  "write 'cartscope protocol explain' to see it, and see docs/protocol.md for the plan form")


def is_legacy(data: Any) -> bool:
    """A mapping without ``version`` that has old-form keys."""
    return isinstance(data, dict) and "version" not in data and "analyses" not in data


Analyses = list[dict[str, Any]]


def _groups(p: Protocol) -> list[str]:
    return [p.subgroups] if p.subgroups else []


def _survival(p: Protocol) -> Analyses:
    sv = p.survival
    follow = "os" if "os" in p.endpoint_names() else sv.endpoints[0]
    return [{"id": "survival", "kind": "km", "by": list(sv.by), "endpoints": list(sv.endpoints),
             "conf_type": sv.conf_type, "level": sv.level, "landmark_months": list(sv.landmark_months)},
            {"id": "followup", "kind": "followup", "by": ["disease_group"], "endpoint": follow,
             "conf_type": sv.conf_type}]


def _biomarkers(p: Protocol) -> Analyses:
    bm = p.biomarkers
    assert bm is not None  # _needs_biomarkers
    return [{"id": "biomarkers", "kind": "biomarker_screen", "population": "training",
             "by": [bm.subgroups] if bm.subgroups else [], "timepoint": bm.timepoint,
             "baseline_timepoint": bm.baseline_timepoint,
             "analytes": bm.analytes if bm.analytes == "all" else list(bm.analytes),
             "reference": bm.reference, "outcome": "nr_er", "fdr_method": bm.fdr_method,
             "fdr_level": bm.fdr_level, "significance": bm.significance, "ci_method": bm.ci_method,
             "markers": list(bm.markers), "survival_endpoint": bm.survival_endpoint,
             "conf_type": p.survival.conf_type, "n_boot": bm.n_boot, "seed": bm.seed}]


def _correlation_variables(p: Protocol) -> dict[str, Any]:
    return {"mrd": {"derive": "pre_infusion", "of": "mrd_pct", "title": "pre-infusion MRD %"},
            "peak_expansion": {"derive": "car_kinetics", "parameter": "cmax", "measure": p.kinetics_measure},
            "response_duration_days": {"derive": "response_duration"}}


def _needs_biomarkers(p: Protocol) -> str | None:
    return None if p.biomarkers is not None else "needs the biomarkers: block of the protocol"


def _needs_validation(p: Protocol) -> str | None:
    if p.biomarkers is None:
        return "needs the biomarkers: block of the protocol"
    return None if p.biomarkers.validation else "needs biomarkers.validation (the validation cohort)"


@dataclass(frozen=True)
class _Section:
    """How one old section becomes analyses (and plan variables), and what it needs."""

    analyses: Callable[[Protocol], Analyses]
    missing: Callable[[Protocol], str | None] = lambda p: None  # why it gives no analysis
    variables: Callable[[Protocol], dict[str, Any]] = lambda p: {}


#: Every old section :func:`migrate` translates; any other listed section is refused by
#: :func:`untranslated` (it exists in the plan form only).
_SECTIONS: dict[str, _Section] = {
    "cohort": _Section(lambda p: [{"id": "cohort", "kind": "describe", "by": _groups(p)}]),
    "response": _Section(lambda p: [{"id": "response", "kind": "response", "by": ["disease_group"],
                                     "ci_method": p.biomarkers.ci_method if p.biomarkers else "wilson"}]),
    "relapse_timing": _Section(lambda p: [{"id": "relapse_timing", "kind": "relapse_timing",
                                           "by": ["disease_group"]}]),
    "survival": _Section(_survival),
    "competing_risks": _Section(
        lambda p: [{"id": "competing_risks", "kind": "cif", "by": ["disease_group"],
                    "landmark_months": list(p.survival.landmark_months)}],
        missing=lambda p: None if p.survival.competing_risks else "is listed but survival.competing_risks is false"),
    "toxicity": _Section(lambda p: [{"id": "toxicity", "kind": "toxicity", "by": ["disease_group"]}]),
    "ae_table": _Section(lambda p: [{"id": "ae_table", "kind": "ae_table", "by": _groups(p)}]),
    "kinetics": _Section(lambda p: [{"id": "kinetics", "kind": "car_kinetics"},
                                    {"id": "cytokines", "kind": "cytokines", "by": ["disease_group"],
                                     "analytes": ["il6", "ferritin"], "course": False}]),
    "biomarkers": _Section(_biomarkers, missing=_needs_biomarkers),
    "validation": _Section(lambda p: [{"id": "validation", "kind": "biomarker_validation",
                                       "population": "validation", "screen": "biomarkers",
                                       "conf_type": p.survival.conf_type}], missing=_needs_validation),
    "cox": _Section(lambda p: [{"id": f"cox{i + 1}", "kind": "cox", "endpoint": c.endpoint,
                                "covariates": list(c.covariates), "ties": c.ties} for i, c in enumerate(p.cox)],
                    missing=lambda p: None if p.cox else "needs the cox: models of the protocol"),
    "infusion_comparison": _Section(lambda p: [{"id": "infusion_comparison", "kind": "infusion_comparison",
                                                "analyte": "il6", "measure": p.kinetics_measure}]),
    "correlations": _Section(lambda p: [{"id": "correlations", "kind": "correlation", "by": _groups(p), "x": "mrd",
                                         "y": ["peak_expansion", "response_duration_days"]}],
                             variables=_correlation_variables),
    "exclusions": _Section(lambda p: [{"id": "exclusions", "kind": "exclusions"}]),
}
_PLAN_KIND = {"correlations": "correlation"}


def migrate(protocol: Protocol, source: str = "protocol") -> dict[str, Any]:
    """The plan mapping equivalent to an old :class:`Protocol`: each listed section's analyses,
    in the listed order. A listed section that gives no analysis (:func:`untranslated`) is
    refused: :class:`~cartscope.analysis.plan.check.PlanError` with every such section at its
    place in ``source``, so that none is dropped silently."""
    dropped = untranslated(protocol)
    if dropped:
        from cartscope.analysis.plan.check import PlanError, PlanProblem

        raise PlanError([PlanProblem(source, path, message) for path, message in dropped])
    p = protocol
    variables: dict[str, Any] = {}
    populations: dict[str, Any] = {}
    analyses: Analyses = []
    bm = p.biomarkers
    if bm is not None:
        populations["training"] = {"where": f"cohort_role == '{bm.training}'"}
        if bm.validation:
            populations["validation"] = {"where": f"cohort_role == '{bm.validation}'"}
    for section in p.sections:
        spec = _SECTIONS[section]
        analyses.extend(spec.analyses(p))
        variables.update(spec.variables(p))
    return {"version": 1, "name": p.name, "title": p.title, "source": p.source,
            "endpoints": p.endpoints.model_dump(mode="json"),  # type: ignore[attr-defined]
            "crs_high_grade": p.crs_high_grade, "variables": variables, "populations": populations,
            "analyses": analyses}


def untranslated(protocol: Protocol) -> list[tuple[str, str]]:
    """``(sections[i], message)`` for each listed section that :func:`migrate` gives no analysis:
    the newer kinds exist only in the plan form, and a few sections need a part of the old
    protocol that is missing. Each is an error, so that no listed section is dropped silently."""
    out: list[tuple[str, str]] = []
    for i, section in enumerate(protocol.sections):
        spec = _SECTIONS.get(section)
        if spec is None:
            out.append((f"sections[{i}]", f"section '{section}' exists only in the plan form: write 'version: 1' "
                                          f"and an analysis of kind '{_PLAN_KIND.get(section, section)}' "
                                          "(see docs/protocol.md)"))
        elif (reason := spec.missing(protocol)) is not None:
            out.append((f"sections[{i}]", f"section '{section}' {reason}"))
    return out


__all__ = ["MIGRATION_NOTE", "is_legacy", "migrate", "untranslated"]
