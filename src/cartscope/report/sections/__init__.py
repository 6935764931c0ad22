"""Which tables and figures each report section shows, built from one ``Results``.

One module per report section (``cohort``, ``response``, ``course`` (the swimmer plot),
``relapse_timing``, ``survival``, ``competing_risks``, ``toxicity``, ``kinetics``,
``biomarkers``, ``validation``, ``cox``, ``ae_table``, ``infusion_comparison``,
``correlations``, ``compare``, ``exclusions``); a section the report has no builder for is rendered from
its result tables by :mod:`.generic`. Builders only select and lay out (see
:mod:`._base`): every number comes from the results, every label from the label registry,
every number's format from the report's :class:`~cartscope.report.numbers.NumberFormat`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from cartscope.report.items import Item, Section
from cartscope.report.models import SECTIONS as MODEL_SECTIONS
from cartscope.report.models import landmark_section, rmst_section, td_roc_section
from cartscope.report.labels import LabelRegistry, registry_for
from cartscope.report.numbers import DEFAULT_FORMAT, NumberFormat
from cartscope.report.sections._base import SectionInput, grid_table
from cartscope.report.sections.ae import ae_section
from cartscope.report.sections.biomarkers import biomarker_section
from cartscope.report.sections.cohort import cohort_section
from cartscope.report.sections.compare import compare_section
from cartscope.report.sections.competing import competing_section
from cartscope.report.sections.correlations import correlations_section
from cartscope.report.sections.course import course_items, course_section
from cartscope.report.sections.cox import cox_section
from cartscope.report.sections.exclusions import exclusions_section
from cartscope.report.sections.generic import further_analyses, generic_section
from cartscope.report.sections.infusions import infusion_section
from cartscope.report.sections.kinetics import kinetics_section
from cartscope.report.sections.logistic import logistic_section
from cartscope.report.sections.relapse import relapse_section
from cartscope.report.sections.response import response_section
from cartscope.report.sections.survival import survival_section
from cartscope.report.sections.toxicity import toxicity_section
from cartscope.report.sections.validation import validation_section

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from cartscope.analysis.results import Results
    from cartscope.cohort.model import Cohort

SECTION_TITLES: dict[str, str] = {
    "cohort": "Patients",
    "response": "Response and outcome",
    "course": "Patient course",
    "relapse_timing": "Relapse timing",
    "survival": "Survival",
    "competing_risks": "Competing risks",
    "toxicity": "Toxicity",
    "kinetics": "Cellular and cytokine kinetics",
    "biomarkers": "Biomarker screening",
    "validation": "Validation of the frozen cut-off",
    "cox": "Multivariable Cox regression",
    "ae_table": "Adverse events",
    "infusion_comparison": "Comparison of infusions",
    "correlations": "Correlations",
    "exclusions": "Patients left out of each analysis",
    "icaht": "Haematotoxicity (ICAHT)",
    "iec_hs": "IEC-associated HLH-like syndrome (IEC-HS)",
    "infections": "Infections",
    "hypogammaglobulinemia": "Hypogammaglobulinaemia and IVIG",
    "prolonged_cytopenia": "Prolonged cytopenia",
    "toxicity_treatment": "Toxicity treatment exposure",
    "logistic": "Logistic regression",
    "compare": "Group comparisons",
    **MODEL_SECTIONS,
}

BUILDERS: dict[str, Callable[[SectionInput], list[Item]]] = {
    "cohort": cohort_section,
    "response": response_section,
    "course": course_section,
    "relapse_timing": relapse_section,
    "survival": survival_section,
    "competing_risks": competing_section,
    "toxicity": toxicity_section,
    "kinetics": kinetics_section,
    "biomarkers": biomarker_section,
    "validation": validation_section,
    "cox": cox_section,
    "ae_table": ae_section,
    "infusion_comparison": infusion_section,
    "correlations": correlations_section,
    "exclusions": exclusions_section,
    "landmark": landmark_section,
    "rmst": rmst_section,
    "td_roc": td_roc_section,
    "logistic": logistic_section,
    "compare": compare_section,
}


def section_order(sections: Sequence[str]) -> list[str]:
    """The protocol's sections with the patient course (swimmer plot) after response."""
    order = list(sections)
    anchor = "response" if "response" in order else "cohort" if "cohort" in order else None
    order.insert(order.index(anchor) + 1 if anchor else 0, "course")
    return order


FIGURE_FREE = frozenset({"cohort", "response"})
"""Sections whose builders never give a figure (``tests/report/test_render_pool.py`` checks
them on lu2021; :func:`~cartscope.report.document.build_document` refuses an early-numbered
figure that would get another number)."""


def early_course(endpoints: pd.DataFrame, cohort: Cohort | None, sections: Sequence[str]) -> list[Item] | None:
    """The patient course section's items (:func:`~cartscope.report.sections.course.course_items`),
    built from the endpoints before the analyses run, when their figure numbers are known
    then: when only sections of :data:`FIGURE_FREE` come before it, its figures are the
    report's first. None otherwise (the course is then built in its turn)."""
    order = section_order(sections)
    if not set(order[:order.index("course")]) <= leading_figure_free(sections):
        return None
    return course_items(endpoints, cohort)


def build_sections(results: Results, cohort: Cohort | None = None, *, number_format: NumberFormat = DEFAULT_FORMAT,
                   labels: LabelRegistry | None = None) -> list[Section]:
    """One :class:`Section` per protocol section (plus the patient course), protocol order."""
    return list(iter_sections(results, cohort, number_format=number_format, labels=labels))


def leading_figure_free(sections: Sequence[str]) -> frozenset[str]:
    """The sections of :data:`FIGURE_FREE` that come before every section with figures (the
    patient course included): building them after the others changes no figure's number."""
    order = section_order(sections)
    lead: set[str] = set()
    for key in order:
        if key not in FIGURE_FREE:
            break
        lead.add(key)
    return frozenset(lead)


def iter_sections(results: Results, cohort: Cohort | None = None, *, number_format: NumberFormat = DEFAULT_FORMAT,
                  labels: LabelRegistry | None = None, course: Sequence[Item] | None = None,
                  later: dict[str, Callable[[], tuple[Item, ...]]] | None = None) -> Iterator[Section]:
    """The sections of :func:`build_sections`, each given as soon as it is built and its place
    is final (so that a caller can start drawing its figures while the next is built). The
    "Further analyses" section goes before a closing exclusions section, so that one is held
    back until the end. ``course``: the patient course's items built already from the same
    endpoints (:func:`early_course`). ``later``: when given, the sections of
    :func:`leading_figure_free` are given in their place without items, and ``later[key]``
    builds their items when called (the caller builds them after the sections with figures,
    whose figures it can then start drawing sooner)."""
    labels = labels if labels is not None else registry_for(results.protocol, cohort=cohort,
                                                            plan=getattr(results, "plan", None))
    inp = SectionInput(results, cohort, number_format, labels)
    defer = leading_figure_free(results.protocol.sections) if later is not None else frozenset()
    shown: set[str] = set()
    held: Section | None = None  # an exclusions section, until a section follows it
    skipped = getattr(results, "skipped", {}) or {}
    for key in section_order(results.protocol.sections):
        title = SECTION_TITLES.get(key) or labels.text(key)
        notes = tuple(f"{k.split(':', 1)[1].replace(':', ', ')}: {why}" for k, why in skipped.items()
                      if k.startswith(f"{key}:"))
        if key in skipped:
            section = Section(key, title, skipped=skipped[key], notes=notes)
        elif key != "course" and key not in results.sections:
            section = Section(key, title, skipped="the section did not run", notes=notes)
        elif later is not None and key in defer:
            later[key] = functools.partial(_build, inp, key, None)
            section = Section(key, title, (), notes=notes)
        else:
            section = Section(key, title, _build(inp, key, course), notes=notes)
        shown.add(key)
        if held is not None:
            yield held
            held = None
        if key == "exclusions":
            held = section
        else:
            yield section
    further = further_analyses(inp, shown)
    if further:
        yield Section("further", "Further analyses", tuple(further))
    if held is not None:
        yield held


def _build(inp: SectionInput, key: str, course: Sequence[Item] | None) -> tuple[Item, ...]:
    """The items of section ``key`` (the patient course's own when built already)."""
    if key == "course" and course is not None:
        return tuple(course)
    builder = BUILDERS.get(key)
    return tuple(builder(inp) if builder is not None else generic_section(inp, key))


__all__ = ["BUILDERS", "FIGURE_FREE", "SECTION_TITLES", "SectionInput", "build_sections", "early_course",
           "generic_section", "grid_table", "iter_sections", "leading_figure_free", "section_order"]
