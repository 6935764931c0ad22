"""Correlations between the protocol's variables."""

from __future__ import annotations

from cartscope.report.items import Item, NoteItem, TableItem
from cartscope.report.sections._base import SectionInput
from cartscope.report.sections.biomarkers import corr_table


def correlations_section(inp: SectionInput) -> list[Item]:
    corr = inp.table("correlations")
    if corr is None:
        return [NoteItem("No correlation could be computed.", "missing")]
    return [TableItem("correlations", corr_table(inp, corr, "Correlations"))]
