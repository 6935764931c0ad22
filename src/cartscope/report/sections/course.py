"""Patient course: the swimmer plot of every patient from the index infusion."""

from __future__ import annotations

from cartscope.report.items import FigureItem, Item, NoteItem, recipe
from cartscope.report.sections._base import SectionInput


def course_section(inp: SectionInput) -> list[Item]:
    ep = inp.results.endpoints
    ep = ep[ep["index_day"].notna()]
    if ep.empty:
        return [NoteItem("No patient has an index infusion.", "missing")]
    infusions = inp.cohort.infusions if inp.cohort is not None and "infusions" in inp.cohort.present else None
    group = "disease_group" if "disease_group" in ep and ep["disease_group"].nunique() > 1 else None
    caption = ("Course of every patient from the index infusion (day 0): response, relapse "
               "(CD19-positive filled, CD19-negative open), HSCT, death and loss to follow-up; an "
               "arrow marks patients alive and still followed.")
    return [FigureItem("swimmer", recipe("figures.swimmer:swimmer_figure", ep, infusions=infusions, group=group),
                       caption)]
