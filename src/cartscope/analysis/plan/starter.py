"""A commented starter plan written from what a cohort holds (``cartscope protocol init``), and
the plan told in words (``cartscope protocol explain``).

The starter plan uses only what the data has: tables, analytes, lab time points, kinetics
measures and candidate grouping columns (2 to 6 levels, each with at least 2 patients), so it
checks and runs as written; the comments list what else could be named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import yaml

from cartscope.analysis.plan.registry import kinds
from cartscope.analysis.plan.schema import Plan
from cartscope.cohort.units import ANALYTES

if TYPE_CHECKING:  # pragma: no cover
    from cartscope.cohort.model import Cohort

CYTOKINE_ORDER = ("il6", "crp", "ferritin", "il2r", "il10", "ifng", "tnfa", "il8", "il1b", "il15", "il2", "gm_csf")


def _groups(cohort: "Cohort") -> list[str]:
    out = []
    for col in cohort.patients.columns:
        if col in ("patient_id", "icans_tool"):
            continue
        s = cohort.patients[col]
        if pd.api.types.is_float_dtype(s.dtype) and s.dropna().nunique() > 6:
            continue
        counts = s.dropna().astype(str).value_counts()
        if 2 <= len(counts) <= 6 and (counts >= 2).all():
            out.append(col)
    return out


def has_toxicity(cohort: "Cohort") -> bool:
    """True when CRS / ICANS can be graded: daily observations (``toxicity_daily``) or grades the
    centre recorded (``crs_grade`` / ``icans_grade`` in ``patients`` or a ``toxicity`` sheet,
    folded into ``patients`` on load); the ``toxicity`` kind runs from either source."""
    if "toxicity_daily" in cohort.present and not cohort.toxicity_daily.empty:
        return True
    return any(col in cohort.patients and cohort.patients[col].notna().any() for col in ("crs_grade", "icans_grade"))


def starter_plan(cohort: "Cohort", name: str = "my-study") -> str:
    """YAML text of a starter plan for ``cohort``, with comments."""
    from cartscope.analysis.plan.variables import analyte_key

    present = cohort.present
    groups = _groups(cohort)
    group = "disease" if "disease" in groups else (groups[0] if groups else None)
    labs = cohort.labs if "labs" in present else pd.DataFrame(columns=["analyte", "timepoint", "role"])
    if "role" in labs:
        labs = labs[labs["role"].astype(object).fillna("patient") != "healthy_donor"]
    analytes = sorted({str(a) for a in labs["analyte"].dropna()})
    keys = {analyte_key(a): a for a in analytes}
    cytokines = [keys[k] for k in CYTOKINE_ORDER if k in keys][:6]
    timepoints = sorted({str(t) for t in labs["timepoint"].dropna()}) if "timepoint" in labs else []
    measures = sorted({str(m) for m in cohort.kinetics["measure"].dropna()}) if "kinetics" in present else []
    by = {"by": group} if group else {}
    analyses: list[dict] = [
        {"id": "table1", "kind": "describe", **by},
        {"id": "response", "kind": "response", **by},
        {"id": "survival", "kind": "km", "endpoints": ["os", "pfs"], **by, "landmark_months": [6, 12]},
        {"id": "followup", "kind": "followup", "endpoint": "os"},
    ]
    if has_toxicity(cohort):
        analyses.append({"id": "toxicity", "kind": "toxicity", **by})
    if len(labs):
        analyses.append({"id": "ae_table", "kind": "ae_table"})
    if cytokines:
        analyses.append({"id": "cytokines", "kind": "cytokines", "analytes": cytokines, **by})
    car = [m for m in ("car_copies_per_ug", "car_cells_per_ul", "cd19_car_copies", "cd22_car_copies") if m in measures]
    if car:
        analyses.append({"id": "kinetics", "kind": "car_kinetics"})
    analyses += [{"id": "swimmer", "kind": "swimmer", **by}, {"id": "exclusions", "kind": "exclusions"}]
    doc = {
        "version": 1, "name": name, "title": f"{name}: starter plan",
        "endpoints": {"index_infusion": 1, "endpoints": [
            {"name": "os", "relapse": False, "death": True},
            {"name": "pfs", "relapse": True, "death": True, "no_response": "assessment"}]},
        "analyses": analyses,
    }
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    n = len(cohort.patients)
    head = [
        f"# Starter analysis plan written by `cartscope protocol init` from a cohort of {n} patients.",
        "# It checks and runs as it is; edit it, then `cartscope protocol check FILE --cohort PATH`.",
        "# Reference of every key: docs/protocol.md.",
        "#",
        f"# tables present: {', '.join(sorted(present))}",
        f"# candidate groups (by:): {', '.join(groups) or 'none'}",
        f"# patients columns: {', '.join(c for c in cohort.patients.columns if c != 'patient_id')}",
        f"# analytes: {', '.join(analytes) or 'none'}",
        f"# lab time points: {', '.join(timepoints) or 'none'}",
        f"# kinetics measures: {', '.join(measures) or 'none'}",
        f"# analysis kinds: {', '.join(kinds())}",
        "#",
        "# Examples to add (docs/protocol.md has more):",
        "# variables:",
        "#   crs3: {derive: crs, at_least: 3}                       # binary CRS grade >= 3",
        "#   cr_d28: {derive: response, by_day: 28}                # CR by day 28",
    ]
    if cytokines:
        head.append(f"#   peak_{analyte_key(cytokines[0])}: {{derive: cytokine, analyte: {cytokines[0]}, statistic: peak}}")
    if car:
        head.append("#   cmax: {derive: car_kinetics, parameter: cmax}")
    head += ["# populations:", "#   responders: {where: \"responder == True\"}", ""]
    return "\n".join(head) + "\n" + body


def explain(plan: Plan) -> list[str]:
    """The plan in words: endpoints, variables, populations, windows and each analysis."""
    reg = kinds()
    rules = plan.endpoint_rules()
    lines = [f"Plan {plan.name!r} (version {plan.version})" + (f": {plan.title}" if plan.title else ""),
             f"Day 0 is infusion {rules.index_infusion!r}."]
    for r in rules.endpoints:
        events = [w for w, on in (("relapse/progression", r.relapse), ("death", r.death)) if on]
        if r.no_response != "none":
            events.append(f"non-response ({'at day 0' if r.no_response == 'day0' else 'at its assessment'})")
        if r.hsct == "event":
            events.append("HSCT")
        hsct = {"censor": "; censored at HSCT", "ignore": "; HSCT neither counted nor censored", "event": ""}[r.hsct]
        lines.append(f"Endpoint {r.name}: events are {', '.join(events) or 'none'}{hsct}; otherwise censored at "
                     f"{r.censor_at.replace('_', ' ')}.")
    for name, v in plan.variables.items():
        extra = {k: x for k, x in v.model_dump().items() if k not in ("derive", "title") and x is not None}
        lines.append(f"Variable {name}: {v.derive} {extra}" + (f" - {v.title}" if v.title else ""))
    for name, p in plan.populations.items():
        lines.append(f"Population {name}: patients with {p.where}" + (f" ({p.title})" if p.title else ""))
    for name, w in plan.windows.items():
        from cartscope.analysis.plan.context import Window

        lines.append(f"Window {name}: " + Window(name, w, pd.Series(dtype=float), pd.Series(dtype=float)).text())
    for i, a in enumerate(plan.analyses, start=1):
        kind = reg.get(a.kind)
        who = f"population {a.population}" if a.population else "every patient with an index infusion"
        split = ""
        if a.by:
            split = f", overall and by {', '.join(a.by)}"
        if a.within:
            split += f", within each level of {a.within}"
        when = f", in window {a.window}" if a.window else ""
        what = kind.describe(a, kind.options.model_validate(a.options)) if kind else f"unknown kind {a.kind}"
        lines.append(f"{i}. [{a.id}] {a.kind} on {who}{split}{when}: {what}")
    return lines


__all__ = ["explain", "has_toxicity", "starter_plan"]
