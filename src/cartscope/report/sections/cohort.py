"""Patients: Table 1 (baseline characteristics by the protocol's subgroup) and follow-up."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cartscope.report.items import Item, NoteItem, TableItem
from cartscope.report.sections._base import SectionInput, group_label, grid_table, integer, missing, text
from cartscope.report.tables import table_one
from cartscope.report.tables.base import Table


def _patients_frame(inp: SectionInput) -> pd.DataFrame | None:
    if inp.cohort is None:
        return None
    pats = inp.cohort.patients.copy()
    pats["patient_id"] = pats["patient_id"].astype(str)
    group = inp.protocol.subgroups
    ep = inp.results.endpoints
    if group not in pats.columns and group in ep.columns:
        pats[group] = pats["patient_id"].map(ep.set_index("patient_id")[group]).astype(object)
    return pats


def numeric_columns(frame: pd.DataFrame, columns: Sequence[str], min_levels: int = 6) -> list[str]:
    """Columns whose every known value is a number, with fractions or at least ``min_levels``
    distinct values: summarised as median (range), not one row per value (an integer score
    with few levels, e.g. ECOG, stays categorical)."""
    out = []
    for c in columns:
        known = frame[c].dropna()
        if known.dtype == bool or known.empty:
            continue
        numbers = pd.to_numeric(known.astype(object), errors="coerce")
        fractional = bool((numbers.dropna() % 1 != 0).any())
        if numbers.notna().all() and (numbers.nunique() >= min_levels or fractional):
            out.append(c)
    return out


def constant_columns(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """Columns with one known value for every patient who has one (e.g. an LDH upper limit of
    normal of 250 U/L for the whole cohort): a study constant, not a characteristic."""
    return [c for c in columns if frame[c].dropna().astype(str).nunique() == 1 and len(frame) > 1]


def cohort_section(inp: SectionInput) -> list[Item]:
    items: list[Item] = []
    pats = _patients_frame(inp)
    group = inp.protocol.subgroups
    if pats is None:
        items.append(NoteItem("Table 1 needs the patient-level cohort; the report was written "
                              "from the results alone.", "missing"))
    else:
        drop = [c for c in ("cohort",) if c in pats.columns]
        variables = [c for c in pats.columns if c not in ("patient_id", group, *drop)
                     and pats[c].notna().any()]
        constant = constant_columns(pats, variables)
        variables = [v for v in variables if v not in constant]
        grouped = group if group in pats and pats[group].notna().any() else None
        labels = {v: inp.labels(v) for v in variables}
        t1 = table_one(pats, grouped, variables, continuous=numeric_columns(pats, variables),
                       labels=labels, pct_decimals=inp.fmt.pct_decimals, p_format=inp.fmt.p,
                       title="Baseline characteristics")
        notes = list(t1.footnotes)
        if constant:
            notes.append("The same for every patient, so not tabulated: " + "; ".join(
                f"{inp.labels(c)} {pats[c].dropna().iloc[0]}" for c in constant) + ".")
        items.append(TableItem("table1", Table(t1.frame, t1.display, t1.title, tuple(notes))))
    fu = inp.table("followup")
    if fu is not None:
        fu = fu.assign(group=fu["group"].astype(str).map(group_label),
                       ci=[(f"{inp.est(m)} ({inp.fmt.range(lo, hi) or 'NR'})" if not missing(lo) else inp.est(m))
                           if not missing(m) else "not reached"
                           for m, lo, hi in zip(fu["median"], fu["lower"], fu["upper"])],
                       rng=[inp.fmt.range(a, b) for a, b in zip(fu["minimum"], fu["maximum"])])
        items.append(TableItem("followup", grid_table(
            fu, [("group", "Group", text), ("n", "n", integer), ("ci", "Median follow-up, days (95% CI)", text),
                 ("rng", "Range, days", text)],
            "Follow-up", ("Median follow-up by the reverse Kaplan-Meier method (deaths censor, "
                          "censorings are events). NR, not reached.",))))
    return items
