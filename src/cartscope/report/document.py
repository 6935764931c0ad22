"""The report model: what a report shows, in which order, independent of HTML or PDF.

:func:`build_document` turns one :class:`~cartscope.analysis.results.Results` (and, when
given, the cohort it came from, for the figures that need patient-level values) into a
:class:`ReportDocument`: a header, the methods paragraphs and one :class:`Section` per
protocol section in the protocol's order, each a sequence of tables, figures and notes.
Tables and figures are numbered here, once, so the HTML, the PDF and the exported files
(``tables/table03_response.csv``, ``figures/figure02_km_os.svg``) share the same numbers.
A section the study skipped carries the reason instead of content.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cartscope.report.items import FigureItem, FigureRecipe, FlowItem, Item, NoteItem, Section, TableItem
from cartscope.report.labels import LabelRegistry, registry_for
from cartscope.report.methods import methods_paragraphs
from cartscope.report.numbers import DEFAULT_FORMAT, NumberFormat
from cartscope.report.sections import iter_sections

if TYPE_CHECKING:  # pragma: no cover
    from cartscope.analysis.results import Results
    from cartscope.cohort.model import Cohort


@dataclass(frozen=True)
class ReportDocument:
    """Everything one report shows, numbered and ordered."""

    title: str
    protocol: str
    source: str
    data_hash: str
    version: str
    facts: tuple[tuple[str, str], ...]
    methods: tuple[str, ...]
    sections: tuple[Section, ...]
    versions: dict[str, str] = field(default_factory=dict)

    def tables(self) -> list[TableItem]:
        return [i for s in self.sections for i in s.items if isinstance(i, TableItem)]

    def figures(self) -> list[FigureItem]:  # noqa: D102
        return [i for s in self.sections for i in s.items if isinstance(i, FigureItem)]


def number_sections(sections: Iterable[Section], on_figures: Callable[[list[FigureItem]], None] | None = None
                    ) -> tuple[Section, ...]:
    """Sections with tables and figures numbered 1, 2, ... in reading order; each section's
    numbered figures go to ``on_figures`` as soon as the section is numbered. A figure
    numbered already (built early, :func:`~cartscope.report.sections.early_course`) must get
    the same number again."""
    n_table = n_figure = 0
    out = []
    for s in sections:
        items: list[Item] = []
        for item in s.items:
            if isinstance(item, TableItem):
                n_table += 1
                item = TableItem(item.key, item.table, item.export, n_table)
            elif isinstance(item, FigureItem):
                n_figure += 1
                if item.number and item.number != n_figure:  # numbered early (the patient course)
                    raise RuntimeError(f"figure {item.stem} was numbered {item.number} before the report "
                                       f"placed it as figure {n_figure}")
                item = FigureItem(item.key, item.recipe, item.caption, n_figure)
            items.append(item)
        out.append(Section(s.key, s.title, tuple(items), s.skipped, s.notes))
        figures = [i for i in items if isinstance(i, FigureItem)]
        if on_figures is not None and figures:
            on_figures(figures)
    return tuple(out)


def build_document(results: Results, cohort: Cohort | None = None, *, number_format: NumberFormat = DEFAULT_FORMAT,
                   labels: LabelRegistry | None = None,
                   on_figures: Callable[[list[FigureItem]], None] | None = None,
                   course: Sequence[Item] | None = None) -> ReportDocument:
    """The report of ``results`` (see the module docstring).

    ``cohort`` is the cohort the results were computed from; without it the figures and
    tables that need patient-level data (Table 1, heatmap, marker dot plots, kinetics
    courses) are replaced by a note saying so. ``number_format`` is the number-format policy
    of every table, figure and text; ``labels`` the label registry (default: the built-in
    labels extended by the protocol's ``labels``). ``on_figures`` gets each section's
    numbered figures as soon as that section is built (the report starts drawing them while
    the next sections are built). ``course``: the patient course's items, built before the
    analyses ran from the same endpoints (:func:`~cartscope.report.sections.early_course`);
    their figures keep the numbers they were given then (checked).
    """
    labels = labels if labels is not None else registry_for(results.protocol, cohort=cohort,
                                                            plan=getattr(results, "plan", None))
    proto = results.protocol
    version = results.versions.get("cartscope", "unknown")
    n = len(results.endpoints)
    facts = (
        ("Protocol", proto.name),
        ("Source", proto.source or "not stated"),
        ("Patients", str(n)),
        ("Data hash (SHA-256)", results.data_hash),
        ("cartscope", version),
    )
    return ReportDocument(
        title=proto.title or f"Study {proto.name}",
        protocol=proto.name,
        source=proto.source,
        data_hash=results.data_hash,
        version=version,
        facts=facts,
        methods=tuple(methods_paragraphs(results, number_format=number_format, labels=labels)),
        sections=_sections(results, cohort, number_format, labels, on_figures, course),
        versions=dict(sorted(results.versions.items())),
    )


def _sections(results: Results, cohort: Cohort | None, number_format: NumberFormat, labels: LabelRegistry,
              on_figures: Callable[[list[FigureItem]], None] | None, course: Sequence[Item] | None
              ) -> tuple[Section, ...]:
    """The numbered sections. With ``on_figures``, the figure-free sections before the first
    figure (Table 1, the responses) are built after all the others
    (:func:`~cartscope.report.sections.leading_figure_free`): the workers start on the
    sections' figures while this process builds those tables, instead of waiting for them;
    no figure's number changes, and the tables are numbered once every section is built."""
    later: dict[str, Callable[[], tuple[Item, ...]]] = {}
    sections = number_sections(iter_sections(results, cohort, number_format=number_format, labels=labels,
                                             course=course, later=later if on_figures is not None else None),
                               on_figures)
    if not later:
        return sections
    built = []
    for s in sections:
        if s.key in later:
            items = later[s.key]()
            if any(isinstance(i, FigureItem) for i in items):
                raise RuntimeError(f"section {s.key!r}, built after the figures, has a figure")
            s = Section(s.key, s.title, items, s.skipped, s.notes)
        built.append(s)
    return number_sections(built)


__all__ = ["FigureItem", "FigureRecipe", "FlowItem", "Item", "NoteItem", "ReportDocument", "Section", "TableItem",
           "build_document", "number_sections"]
