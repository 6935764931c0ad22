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


def describe_frames(inp: SectionInput) -> list[tuple[str, str, pd.DataFrame, list[str], list[str], list[str]]]:
    """Per ``describe`` analysis of the plan and per ``by`` variable: (analysis id, title, one
    row per patient of its population, the ``by`` column or '', the described variables in the
    plan's order, the continuous ones), from the analysis' ``cohort_values`` table."""
    values = inp.table("cohort_values")
    plan = getattr(inp.results, "plan", None)
    if values is None or plan is None:
        return []
    out = []
    for a in plan.analyses:
        if a.kind != "describe":
            continue
        rows = values[values["analysis"].astype(str) == a.id]
        if rows.empty:
            continue
        ids = list(dict.fromkeys(rows["patient_id"].astype(str)))
        frame = pd.DataFrame({"patient_id": ids})
        described, continuous = [], []
        for (var, role), part in rows.groupby(["variable", "role"], sort=False):
            part = part.set_index(part["patient_id"].astype(str)).reindex(ids)
            if part["type"].iloc[0] == "continuous":
                frame[var] = part["number"].to_numpy(dtype=float)
                continuous.append(var)
            else:
                col = part["text"].astype(object).where(part["text"].astype(str) != "", None)
                levels = str(part["levels"].dropna().iloc[0]) if part["levels"].notna().any() else ""
                if levels:
                    col = pd.Categorical(col, categories=levels.split("|"), ordered=False)
                frame[var] = col if not isinstance(col, pd.Series) else col.to_numpy()
            if role == "variable":
                described.append(var)
        for by in (a.by or ("",)):
            out.append((a.id, a.title, frame, by, [v for v in described if v != by], continuous))
    return out


def _table1(inp: SectionInput, key: str, title: str, pats: pd.DataFrame, group: str | None,
            variables: list[str], continuous: list[str] | None) -> TableItem:
    constant = constant_columns(pats, variables)
    variables = [v for v in variables if v not in constant and pats[v].notna().any()]
    grouped = group if group and group in pats and pats[group].notna().any() else None
    labels = {v: inp.labels(v) for v in variables}
    if grouped:
        labels[grouped] = inp.labels(grouped)
    t1 = table_one(pats, grouped, variables,
                   continuous=numeric_columns(pats, variables) if continuous is None else
                   [v for v in variables if v in continuous],
                   labels=labels, pct_decimals=inp.fmt.pct_decimals, p_format=inp.fmt.p, title=title)
    notes = list(t1.footnotes)
    if constant:
        notes.append("The same for every patient, so not tabulated: " + "; ".join(
            f"{inp.labels(c)} {pats[c].dropna().iloc[0]}" for c in constant) + ".")
    return TableItem(key, Table(t1.frame, t1.display, t1.title, tuple(notes)))


def _title(inp: SectionInput, title: str, by: str, first: bool) -> str:
    """The analysis' own title unless it is only a table number; the split named when the
    analysis has more than the one Table 1."""
    own = title.strip()
    if not own or own.lower().replace(" ", "") in ("table1", "table"):
        own = "Baseline characteristics"
    if not first and by and own == "Baseline characteristics":
        own += f" by {inp.labels(by, False).lower() if inp.labels(by, False)[1:].islower() else inp.labels(by, False)}"
    return own


def cohort_section(inp: SectionInput) -> list[Item]:
    items: list[Item] = []
    pats = _patients_frame(inp)
    group = inp.protocol.subgroups
    described = describe_frames(inp)
    if described:  # what the plan's describe analyses ask: their variables, split by their by
        seen: set[str] = set()
        for i, (aid, title, frame, by, variables, continuous) in enumerate(described):
            heading = _title(inp, title, by, i == 0)
            while heading in seen:
                heading += f" ({aid})"
            seen.add(heading)
            key = "table1" if i == 0 else f"table1_{aid}" + (f"_{by}" if by else "")
            items.append(_table1(inp, key, heading, frame, by or None, variables, continuous))
    elif pats is None:
        items.append(NoteItem("Table 1 needs the patient-level cohort; the report was written "
                              "from the results alone.", "missing"))
    else:
        drop = [c for c in ("cohort",) if c in pats.columns]
        variables = [c for c in pats.columns if c not in ("patient_id", group, *drop)
                     and pats[c].notna().any()]
        items.append(_table1(inp, "table1", "Baseline characteristics", pats, group, variables, None))
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
