"""Old protocols (the fixed ``sections`` form) read as plans of version 1.

A protocol without ``version`` is validated by the old schema
(:class:`cartscope.analysis.protocol.Protocol`) and translated section by section into
analyses; the message says so and names the ``version: 1`` form to write instead. A
protocol that fails the old schema too is refused with the old schema's problems.
"""

from __future__ import annotations

from typing import Any

from cartscope.analysis.protocol import Protocol

MIGRATION_NOTE = ("a protocol in the old section form (no 'version' key): read as an analysis plan of version 1; "
                  "write 'cartscope protocol explain' to see it, and see docs/protocol.md for the plan form")


def is_legacy(data: Any) -> bool:
    """A mapping without ``version`` that has old-form keys."""
    return isinstance(data, dict) and "version" not in data and "analyses" not in data


def migrate(protocol: Protocol) -> dict[str, Any]:
    """The plan mapping equivalent to an old :class:`Protocol`."""
    p = protocol
    groups = [p.subgroups] if p.subgroups else []
    variables: dict[str, Any] = {}
    populations: dict[str, Any] = {}
    analyses: list[dict[str, Any]] = []
    bm = p.biomarkers
    if bm is not None:
        populations["training"] = {"where": f"cohort_role == '{bm.training}'"}
        if bm.validation:
            populations["validation"] = {"where": f"cohort_role == '{bm.validation}'"}
    sv = p.survival
    for section in p.sections:
        if section == "cohort":
            analyses.append({"id": "cohort", "kind": "describe", "by": groups})
        elif section == "response":
            analyses.append({"id": "response", "kind": "response", "by": ["disease_group"],
                             "ci_method": bm.ci_method if bm else "wilson"})
        elif section == "relapse_timing":
            analyses.append({"id": "relapse_timing", "kind": "relapse_timing", "by": ["disease_group"]})
        elif section == "survival":
            analyses.append({"id": "survival", "kind": "km", "by": list(sv.by), "endpoints": list(sv.endpoints),
                             "conf_type": sv.conf_type, "level": sv.level,
                             "landmark_months": list(sv.landmark_months)})
            follow = "os" if "os" in p.endpoint_names() else sv.endpoints[0]
            analyses.append({"id": "followup", "kind": "followup", "by": ["disease_group"], "endpoint": follow,
                             "conf_type": sv.conf_type})
        elif section == "competing_risks" and sv.competing_risks:
            analyses.append({"id": "competing_risks", "kind": "cif", "by": ["disease_group"],
                             "landmark_months": list(sv.landmark_months)})
        elif section == "toxicity":
            analyses.append({"id": "toxicity", "kind": "toxicity", "by": ["disease_group"]})
        elif section == "ae_table":
            analyses.append({"id": "ae_table", "kind": "ae_table", "by": groups})
        elif section == "kinetics":
            analyses.append({"id": "kinetics", "kind": "car_kinetics"})
            analyses.append({"id": "cytokines", "kind": "cytokines", "by": ["disease_group"],
                             "analytes": ["il6", "ferritin"], "course": False})
        elif section == "biomarkers" and bm is not None:
            analyses.append({"id": "biomarkers", "kind": "biomarker_screen", "population": "training",
                             "by": [bm.subgroups] if bm.subgroups else [], "timepoint": bm.timepoint,
                             "baseline_timepoint": bm.baseline_timepoint,
                             "analytes": bm.analytes if bm.analytes == "all" else list(bm.analytes),
                             "reference": bm.reference, "outcome": "nr_er", "fdr_method": bm.fdr_method,
                             "fdr_level": bm.fdr_level, "significance": bm.significance,
                             "ci_method": bm.ci_method, "markers": list(bm.markers),
                             "survival_endpoint": bm.survival_endpoint, "conf_type": sv.conf_type,
                             "n_boot": bm.n_boot, "seed": bm.seed})
        elif section == "validation" and bm is not None and bm.validation:
            analyses.append({"id": "validation", "kind": "biomarker_validation", "population": "validation",
                             "screen": "biomarkers", "conf_type": sv.conf_type})
        elif section == "cox":
            for i, c in enumerate(p.cox):
                analyses.append({"id": f"cox{i + 1}", "kind": "cox", "endpoint": c.endpoint,
                                 "covariates": list(c.covariates), "ties": c.ties})
        elif section == "infusion_comparison":
            analyses.append({"id": "infusion_comparison", "kind": "infusion_comparison", "analyte": "il6",
                             "measure": p.kinetics_measure})
        elif section == "correlations":
            variables.update({
                "mrd": {"derive": "pre_infusion", "of": "mrd_pct", "title": "pre-infusion MRD %"},
                "peak_expansion": {"derive": "car_kinetics", "parameter": "cmax", "measure": p.kinetics_measure},
                "response_duration_days": {"derive": "response_duration"},
            })
            analyses.append({"id": "correlations", "kind": "correlation", "by": groups, "x": "mrd",
                             "y": ["peak_expansion", "response_duration_days"]})
        elif section == "exclusions":
            analyses.append({"id": "exclusions", "kind": "exclusions"})
    return {"version": 1, "name": p.name, "title": p.title, "source": p.source,
            "endpoints": p.endpoints.model_dump(mode="json"),  # type: ignore[attr-defined]
            "crs_high_grade": p.crs_high_grade, "variables": variables, "populations": populations,
            "analyses": analyses}


def untranslated(protocol: Protocol) -> list[tuple[str, str]]:
    """``(sections[i], message)`` for each listed section that :func:`migrate` gives no analysis:
    the newer kinds exist only in the plan form, and a few sections need a part of the old
    protocol that is missing. Each is an error, so that no listed section is dropped silently."""
    p = protocol
    out: list[tuple[str, str]] = []
    for i, section in enumerate(p.sections):
        if section in _TRANSLATED:
            reason = None
            if section == "competing_risks" and not p.survival.competing_risks:
                reason = "is listed but survival.competing_risks is false"
            elif section in ("biomarkers", "validation") and p.biomarkers is None:
                reason = "needs the biomarkers: block of the protocol"
            elif section == "validation" and p.biomarkers is not None and not p.biomarkers.validation:
                reason = "needs biomarkers.validation (the validation cohort)"
            elif section == "cox" and not p.cox:
                reason = "needs the cox: models of the protocol"
            if reason:
                out.append((f"sections[{i}]", f"section '{section}' {reason}"))
        else:
            out.append((f"sections[{i}]", f"section '{section}' exists only in the plan form: write 'version: 1' "
                                          f"and an analysis of kind '{_PLAN_KIND.get(section, section)}' "
                                          "(see docs/protocol.md)"))
    return out


_TRANSLATED = frozenset({"cohort", "response", "relapse_timing", "survival", "competing_risks", "toxicity",
                         "ae_table", "kinetics", "biomarkers", "validation", "cox", "infusion_comparison",
                         "correlations", "exclusions"})
_PLAN_KIND = {"correlations": "correlation"}

__all__ = ["MIGRATION_NOTE", "is_legacy", "migrate", "untranslated"]
