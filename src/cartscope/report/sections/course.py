"""Patient course: the swimmer plot of every patient from the index infusion."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cartscope.report.items import FigureItem, Item, NoteItem, recipe
from cartscope.report.sections._base import SectionInput

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from cartscope.cohort.model import Cohort


def course_section(inp: SectionInput) -> list[Item]:
    return course_items(inp.results.endpoints, inp.cohort)


def course_items(endpoints: pd.DataFrame, cohort: Cohort | None) -> list[Item]:
    """The patient course from the study's endpoints (one row per patient) and the cohort's
    infusions alone: nothing an analysis computes, so the report can build (and start
    drawing) it before the analyses run."""
    ep = endpoints[endpoints["index_day"].notna()]
    if ep.empty:
        return [NoteItem("No patient has an index infusion.", "missing")]
    infusions = cohort.infusions if cohort is not None and "infusions" in cohort.present else None
    group = "disease_group" if "disease_group" in ep and ep["disease_group"].nunique() > 1 else None
    caption = ("Course of every patient from the index infusion (day 0): response, relapse "
               "(CD19-positive filled, CD19-negative open), HSCT, death and loss to follow-up; an "
               "arrow marks patients alive and still followed.")
    from cartscope.report.figures.swimmer_pages import swimmer_order, swimmer_pages

    pages = swimmer_pages(ep)
    xmax = float(swimmer_order(ep)["followup_end"].max())
    if len(pages) == 1:
        return [FigureItem("swimmer", recipe("figures.swimmer:swimmer_figure", ep, infusions=infusions, group=group),
                           caption)]
    items: list[Item] = []
    first = 1
    for k, page in enumerate(pages, 1):
        last = first + len(page) - 1
        items.append(FigureItem(f"swimmer_{k}", recipe("figures.swimmer:swimmer_figure", page, infusions=infusions,
                                                       group=group, xmax=xmax),
                                f"{caption} Part {k} of {len(pages)}: patients {first}\u2013{last} of {len(ep)}, "
                                "longest follow-up first."))
        first = last + 1
    return items
