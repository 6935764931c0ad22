"""Patients left out of each analysis: the CONSORT flow diagram and the list with reasons."""

from __future__ import annotations

from cartscope.report.items import FigureItem, FlowItem, Item, NoteItem, TableItem, recipe
from cartscope.report.labels import analysis_label, humanise_codes
from cartscope.report.sections._base import SectionInput, grid_table, text


def exclusions_section(inp: SectionInput) -> list[Item]:
    ex = inp.results.exclusions
    n = len(inp.results.endpoints)
    if ex is None or ex.empty:
        return [FlowItem(n, ()), NoteItem("No patient was left out of any analysis.")]
    ex = ex.assign(reason=ex["reason"].astype(str).map(lambda r: humanise_codes(inp.labels, r)))
    flows = []
    for analysis in dict.fromkeys(ex["analysis"].astype(str)):
        part = ex[ex["analysis"].astype(str) == analysis]
        reasons = part.groupby("reason", sort=True)["patient_id"].nunique()
        flows.append((analysis_label(inp.labels, analysis), int(part["patient_id"].nunique()),
                      tuple((str(r), int(k)) for r, k in reasons.items())))
    flow = FlowItem(n, tuple(flows))
    items: list[Item] = [
        FigureItem("consort", recipe("figures.consort:consort_figure", flow.total, flow.analyses),
                   "Flow of patients: the cohort, then for each analysis the patients left out with the "
                   "reasons and the patients analysed (CONSORT style)."),
        flow,
    ]
    items.append(TableItem("exclusions", grid_table(
        ex.assign(analysis=ex["analysis"].astype(str).map(lambda a: analysis_label(inp.labels, a))),
        [("patient_id", "Patient", text), ("analysis", "Analysis", text), ("reason", "Reason", text)],
        "Every patient left out of an analysis, with the reason")))
    return items
