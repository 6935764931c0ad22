"""The publication-ready report: one self-contained HTML file, its PDF and every table and
figure as separate files.

:func:`write_report` writes, under ``out_dir``:

- ``report.html``: inline CSS and inline SVG figures, no script, no external reference (the
  file opens offline and can be e-mailed as is). The same ``Results`` give a byte-identical
  file: there is no timestamp, figure ids are salted with their file stem, and every
  number is formatted by the table builders.
- ``report.pdf``: the same page printed (see :mod:`cartscope.report.pdf`), its figures the
  figures' own PDF drawings placed into their boxes (:mod:`cartscope.report.pdf_figures`);
  skipped with the reason when no engine is available, never an error.
- ``tables/tableNN_<key>.csv|.xlsx|.docx`` and ``figures/figureNN_<key>.<format>`` (SVG and
  PDF by default; PNG and PPTX on request, :mod:`cartscope.report.render`) with the numbers
  of the report.

Every file is reproducible: the same ``Results`` give byte-identical files (the PDF's dates
and the Office files' ZIP timestamps are fixed, see :mod:`cartscope.report.pdf` and
:mod:`cartscope.report.tables.wordml`).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from cartscope.report.document import (FigureItem, FlowItem, NoteItem, ReportDocument, Section, TableItem,
                                       build_document, number_sections)
from cartscope.report.numbers import NumberFormat
from cartscope.report.tables.base import INDENT

if TYPE_CHECKING:  # pragma: no cover
    from cartscope.analysis.results import Results
    from cartscope.cohort.model import Cohort
    from cartscope.report.render import FigurePool

REPORT_NAME = "report.html"
PDF_NAME = "report.pdf"


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`write_report` wrote: the HTML, the PDF (None with ``pdf_note`` giving the
    reason when it was not written), and the exported tables and figures."""

    html: Path
    pdf: Path | None
    pdf_note: str
    tables: tuple[Path, ...]
    figures: tuple[Path, ...]


@cache
def _asset(name: str) -> str:
    return resources.files("cartscope.report").joinpath("templates", name).read_text("utf-8")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             loader=jinja2.FunctionLoader(lambda name: _asset(name)))
    return env


_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(\bid="|href="#|url\(#)(?=([^"\)]+)["\)])')


def inline_svg(svg: str, prefix: str) -> str:
    """An SVG element ready for the page: RDF metadata and namespace declarations dropped (the
    HTML parser gives inline SVG its namespace) and every id prefixed with ``prefix`` so that
    ids stay unique across the figures of one page."""
    svg = _METADATA.sub("", svg)
    svg = _XMLNS.sub("", svg)
    ids = set(_ID.findall(svg))
    if not ids:
        return svg.strip()
    if any(")" in i for i in ids):  # an id the one-token rule below cannot delimit: the alternation of every id
        pattern = re.compile(r'(\bid="|href="#|url\(#)(' + "|".join(re.escape(i) for i in
                                                                  sorted(ids, key=len, reverse=True)) + r')(?=["\)])')
        return pattern.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg).strip()
    # the token after each reference opener, up to its closing quote or parenthesis, is renamed
    # when it is one of the ids (one pass, instead of a regular expression of every id)
    return _REF.sub(lambda m: f"{m.group(1)}{prefix}-" if m.group(2) in ids else m.group(1), svg).strip()


def _table_view(item: TableItem) -> dict[str, Any]:
    grid = item.table.display
    rows = []
    nested = any(str(v).startswith(INDENT) for v in grid.iloc[:, 0]) if len(grid.columns) else False
    for values in grid.itertuples(index=False):
        cells = [str(v) for v in values]
        cls = ""
        if cells and cells[0].startswith(INDENT):
            cells[0] = cells[0].strip()
            cls = "sub"
        elif nested and len(cells) > 1 and cells[0] and not any(c.strip() for c in cells[1:]):
            cls = "head"
        rows.append({"cells": cells, "cls": cls})
    return {"kind": "table", "number": item.number, "stem": item.stem, "title": item.table.title,
            "header": [str(c) for c in grid.columns], "rows": rows, "footnotes": list(item.table.footnotes)}


_SVG_SIZE = re.compile(r'<svg\b[^>]*?\swidth="([\d.]+)pt"[^>]*?\sheight="([\d.]+)pt"')


def _figure_view(item: FigureItem, svgs: dict[str, str] | None, placed: dict[str, int] | None) -> dict[str, Any]:
    if svgs is not None and item.stem in svgs:
        svg = svgs[item.stem]
    else:
        from cartscope.report.render import draw_and_save

        svg = draw_and_save(item.stem, item.recipe, None, (), 72).svg
    view = {"kind": "figure", "number": item.number, "stem": item.stem, "caption": item.caption,
            "svg": "", "placeholder": None}
    if placed is None or item.stem not in placed:
        view["svg"] = Markup(inline_svg(svg, item.stem))
        return view
    from cartscope.report.pdf_figures import placeholder_src

    size = _SVG_SIZE.search(svg)
    if size is None:
        raise ValueError(f"figure {item.stem}: its SVG gives no width and height in points")
    width, height = float(size.group(1)), float(size.group(2))
    # the box of the inline SVG (its width, at most the column's, and the print CSS's
    # max-height of 200 mm carried over to the width, as the SVG's viewBox keeps its shape)
    view["placeholder"] = {"src": placeholder_src(placed[item.stem]), "width": f"{width:.6f}",
                           "height": f"{height:.6f}", "ratio": f"{width / height:.9f}"}
    return view


def _view(item: Any, svgs: dict[str, str] | None = None, placed: dict[str, int] | None = None) -> dict[str, Any]:
    if isinstance(item, TableItem):
        return _table_view(item)
    if isinstance(item, FigureItem):
        return _figure_view(item, svgs, placed)
    if isinstance(item, FlowItem):
        return {"kind": "flow", "total": item.total,
                "analyses": [{"name": a, "n": n, "reasons": list(r)} for a, n, r in item.analyses]}
    assert isinstance(item, NoteItem)
    return {"kind": "note", "text": item.text, "cls": item.kind}


def render_html(doc: ReportDocument, svgs: dict[str, str] | None = None, *,
                placed: dict[str, int] | None = None) -> str:
    """The report page of ``doc`` as one HTML string; ``svgs`` (stem -> SVG) are figures
    drawn already (:func:`cartscope.report.render.render_figures`), the others are drawn here.

    ``placed`` (stem -> index): the page to print, with placeholder ``index`` instead of each
    of those figures, in the box the figure takes (:mod:`cartscope.report.pdf_figures`)."""
    sections = [{"key": s.key, "title": s.title, "skipped": s.skipped, "notes": list(s.notes),
                 "blocks": [_view(i, svgs, placed) for i in s.items]} for s in doc.sections]
    view = {"title": doc.title, "version": doc.version, "facts": list(doc.facts), "methods": list(doc.methods),
            "sections": sections, "protocol": doc.protocol, "data_hash": doc.data_hash, "versions": list(doc.versions.items())}
    template = _environment().get_template("report.html.j2")
    return template.render(doc=view, css=Markup(_asset("report.css")))


def export_tables(doc: ReportDocument, out_dir: Path | str) -> tuple[Path, ...]:
    """Every table (CSV, XLSX, DOCX; the complete version of a cut table) under ``tables/``."""
    from cartscope.report.tables.export import export_tables as write_tables

    return write_tables(_table_files(doc, Path(out_dir)))


def _table_files(doc: ReportDocument, out: Path) -> list[tuple[Any, Path, int]]:
    """(table, file stem, number) of every table file of ``doc`` under ``out/tables``."""
    return [(t.export or t.table, out / "tables" / t.stem, t.number) for t in doc.tables()]


def export_items(doc: ReportDocument, out_dir: Path | str, *, formats: Sequence[str] | None = None,
                 workers: int | None = None) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """Every table under ``tables/`` and every figure (the ``formats``, default
    :func:`~cartscope.report.render.requested_formats`) under ``figures/``; returns (table
    paths, figure paths)."""
    from cartscope.report.render import check_formats, render_figures, requested_formats

    fmts = check_formats(formats) if formats is not None else requested_formats()
    rendered = render_figures(doc.figures(), Path(out_dir) / "figures", formats=fmts, workers=workers)
    return export_tables(doc, out_dir), tuple(p for r in rendered.values() for p in r.files)


ProgressFn = Callable[[str, float], None]


def write_report(results: Results, out_dir: Path | str, *, cohort: Cohort | None = None, pdf: bool = True,
                 exports: bool = True, formats: Sequence[str] | None = None, workers: int | None = None,
                 number_format: NumberFormat | None = None, progress: ProgressFn | None = None,
                 pool: FigurePool | None = None) -> ReportFiles:
    """Write the report of ``results`` under ``out_dir`` (created); see the module docstring.

    ``cohort``: the cohort behind ``results``, for Table 1, the heatmap, the marker dot plots
    and the kinetics courses (without it those parts say they need it). ``pdf=False`` skips
    the PDF; ``exports=False`` skips the separate table and figure files; ``formats`` are the
    figure files (default :data:`~cartscope.report.render.FORMATS`, SVG and PDF, or
    ``$CARTSCOPE_FIGURE_FORMATS``; "png" and "pptx" on request). Every figure is drawn once,
    in ``workers`` processes (:mod:`cartscope.report.render`), or in ``pool`` when the caller
    started one early (:class:`~cartscope.report.render.FigurePool`, e.g. while the analyses
    run). ``progress(step, fraction)`` is called as the report is built, drawn and printed.

    Order of work, so that no core waits: the figure workers start (and the PDF printer,
    Chromium) while this process builds the document; each section's figures go to the
    workers as soon as the section is built, and after the last of them the table files (a
    worker writes them when it has no figure left, while the others finish theirs); the
    workers return each figure's SVG first; the page is written as soon as the SVGs are in
    and printed with a placeholder in each figure's box, and while Chromium prints, the
    workers save the figures' other formats (PNG, PPTX) from the drawings they hold;
    then the figure PDFs are placed into the printed page (a PDF for the print is saved
    even when the figure files leave it out). :func:`start_report` and
    :meth:`PendingReport.finish` are the same in two steps, for a caller with work of its
    own to do while the figures are drawn (the command line writes the results files);
    :func:`prepare_report` comes before the analyses, so that the patient course, which
    needs only the endpoints, is drawn while they run.
    """
    return start_report(results, out_dir, cohort=cohort, pdf=pdf, exports=exports, formats=formats,
                        workers=workers, number_format=number_format, progress=progress, pool=pool).finish()


def start_report(results: Results, out_dir: Path | str, *, cohort: Cohort | None = None, pdf: bool = True,
                 exports: bool = True, formats: Sequence[str] | None = None, workers: int | None = None,
                 number_format: NumberFormat | None = None, progress: ProgressFn | None = None,
                 pool: FigurePool | None = None) -> PendingReport:
    """The first step of :func:`write_report` (same arguments): build the document and hand
    its figures to the workers, section by section; returns at once after, with the figures
    being drawn. :meth:`PendingReport.finish` writes everything else."""
    job = prepare_report(out_dir, cohort=cohort, pdf=pdf, exports=exports, formats=formats, workers=workers,
                         number_format=number_format, progress=progress, pool=pool)
    return job.build(results)


def prepare_report(out_dir: Path | str, *, cohort: Cohort | None = None, pdf: bool = True, exports: bool = True,
                   formats: Sequence[str] | None = None, workers: int | None = None,
                   number_format: NumberFormat | None = None, progress: ProgressFn | None = None,
                   pool: FigurePool | None = None) -> PendingReport:
    """A report to come (the arguments of :func:`write_report` but the results), its figure
    workers starting: before the analyses run, :meth:`PendingReport.start_course` starts
    drawing the patient course as soon as the endpoints exist; :meth:`PendingReport.build`
    then builds the document from the results, and :meth:`PendingReport.finish` writes it."""
    from cartscope.report.render import FigurePool, check_formats, requested_formats

    fmts = (check_formats(formats) if formats is not None else pool.formats if pool is not None
            else requested_formats())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    own = pool is None
    figure_pool = FigurePool(workers, formats=fmts, pdf=pdf) if own else pool
    assert figure_pool is not None
    job = PendingReport(out, figure_pool, own, pdf, exports, progress)
    job.cohort, job.number_format = cohort, number_format
    try:
        figure_pool.start()  # workers (and the PDF printer) start while the document is built
        job.pending = figure_pool.stream(out / "figures" if exports else None, formats=fmts, print_dir=job.print_dir)
    except BaseException:
        job.close()
        raise
    return job


class PendingReport:
    """A report whose document is built and whose figures are being drawn
    (:func:`start_report`); :meth:`finish` writes the page, the PDF and the files."""

    def __init__(self, out: Path, pool: FigurePool, own: bool, pdf: bool, exports: bool,
                 progress: ProgressFn | None) -> None:
        self.out, self.pool, self.own, self.pdf, self.exports = out, pool, own, pdf, exports
        self.progress = progress
        self.doc: ReportDocument | None = None
        self.pending: Any = None
        self.cohort: Cohort | None = None
        self.number_format: NumberFormat | None = None
        self._course: tuple[Any, list[Any]] | None = None
        self._tables: Callable[[], tuple[Path, ...]] | None = None
        """Waits for the table files (written by a worker after the figures, see :meth:`build`)."""
        self._print_tmp: tempfile.TemporaryDirectory[str] | None = None
        self.print_dir: Path | None = None
        """Folder of the page printed with figure placeholders and of the figure PDFs that are
        not among the figure files (:mod:`cartscope.report.pdf_figures`); None without a
        PDF or without a browser to print it."""
        if pdf:
            from cartscope.report.pdf import find_browser

            if find_browser() is not None:
                self._print_tmp = tempfile.TemporaryDirectory(prefix="cartscope-print-")
                self.print_dir = Path(self._print_tmp.name)

    def step(self, label: str, fraction: float) -> None:
        if self.progress is not None:
            self.progress(label, fraction)

    def start_course(self, endpoints: Any, sections: Sequence[str]) -> None:
        """Start drawing the patient course (swimmer plots) from the study's ``endpoints``
        before the analyses run, when the figure numbers are known then
        (:func:`~cartscope.report.sections.early_course`; ``sections``: the protocol's):
        the workers draw it on the core the analyses leave free. :meth:`build` keeps these
        items; the results must carry these same endpoints (``run_study(on_endpoints=)``
        gives them)."""
        from cartscope.report.sections import early_course

        items = early_course(endpoints, self.cohort, sections)
        if items is None:
            return
        # numbered as the report's first figures, and handed to the workers
        (course,) = number_sections([Section("course", "", tuple(items))], self.pending.add)
        self._course = (endpoints, list(course.items))

    def build(self, results: Results) -> PendingReport:
        """Build the document of ``results`` and hand its figures to the workers, section by
        section (see :func:`start_report`); returns self."""
        try:
            self.step("report: tables", 0.0)
            if self._course is not None and self._course[0] is not results.endpoints:
                raise ValueError("the patient course was started from other endpoints than the results carry")
            course = self._course[1] if self._course is not None else None
            doc = build_document(results, self.cohort, on_figures=self.pending.add, course=course,
                                 **({"number_format": self.number_format} if self.number_format else {}))
            self.doc = doc
            if self.exports:  # a worker writes the table files once it has no figure left
                from cartscope.report.tables.export import export_tables as write_tables

                self._tables = self.pending.call(write_tables, _table_files(doc, self.out))
        except BaseException:
            self.close()
            raise
        self.step(f"figure 0/{len(doc.figures())}", 0.1)
        return self

    def close(self) -> None:
        """Stop the figure workers and the printer when this report started them; remove the
        print folder."""
        if self.own:
            self.pool.close()
        if self._print_tmp is not None:
            self._print_tmp.cleanup()
            self._print_tmp = None

    def _submit(self, page: Path, pdf_path: Path) -> Any:
        if self.pool.printer is not None:
            return self.pool.printer.submit(page, pdf_path)
        from cartscope.report.pdf import start_pdf

        return start_pdf(page, pdf_path)

    def _print_placeholders(self, doc: ReportDocument, rendered: dict[str, Any], svgs: dict[str, str]
                            ) -> tuple[Any, list[Path]] | None:
        """Start printing the page with a placeholder for each figure, when every figure has
        its PDF (the figure PDFs are placed into the print by :meth:`_placed`); returns (the
        print, the figure PDFs in placeholder order), or None when the page itself is to be
        printed."""
        pdfs = [r.pdf for r in rendered.values()]
        if self.print_dir is None or not pdfs or any(p is None for p in pdfs):
            return None
        page = self.print_dir / "print.html"
        page.write_text(render_html(doc, svgs, placed={stem: k for k, stem in enumerate(rendered)}),
                        encoding="utf-8", newline="\n")
        return self._submit(page, self.print_dir / "printed.pdf"), [p for p in pdfs if p is not None]

    def _placed(self, outcome: Any, figures: list[Path], html_path: Path) -> Any:
        """The report PDF from the print with placeholders (``outcome``): the figure PDFs
        placed into it; the page with its inline figures printed instead when the placing
        fails (the PDF is complete either way)."""
        from cartscope.report.pdf import PdfOutcome, html_to_pdf
        from cartscope.report.pdf_figures import PlacementError, place_figures

        if outcome.path is None:
            return outcome
        target = self.out / PDF_NAME
        try:
            place_figures(outcome.path, figures, target)
        except PlacementError:
            return html_to_pdf(html_path, target)
        return PdfOutcome(target, "", outcome.engine)

    def finish(self, meanwhile: Callable[[], Any] | None = None) -> ReportFiles:
        """Wait for the figures, write the page, print it, and wait for the table files, the
        figure files and the PDF; see :func:`write_report`. ``meanwhile``: the caller's
        own work (e.g. writing the results files), run while the page prints, once the
        figures are drawn: until then the workers have both cores."""
        out, doc, pending = self.out, self.doc, self.pending
        assert doc is not None and pending is not None
        try:
            rendered = pending.collect(lambda k, n, stem: self.step(f"figure {k}/{n}", 0.1 + 0.7 * k / max(n, 1)))
            html_path = out / REPORT_NAME
            svgs = {s: r.svg for s, r in rendered.items()}
            figures = tuple(p for r in rendered.values() for p in r.files)
            # the page with placeholders prints while the page itself is written; without
            # placeholders the page itself is printed, once written
            started = self._print_placeholders(doc, rendered, svgs) if self.pdf else None
            printing, placing = started if started is not None else (None, None)
            html_path.write_text(render_html(doc, svgs), encoding="utf-8", newline="\n")
            if self.pdf and started is None:
                printing = self._submit(html_path, out / PDF_NAME)
            if meanwhile is not None:
                meanwhile()
            self.step("report: table files", 0.82)
            tables = self._tables() if self._tables is not None else ()
            self.step("report: figure files", 0.85)
            pending.finish()  # the workers saved the figures' other formats meanwhile
            pdf_path: Path | None = None
            note = "PDF not requested"
            if printing is not None:
                self.step("report: PDF", 0.88)
                outcome = printing.wait()
                if placing is not None:
                    outcome = self._placed(outcome, placing, html_path)
                pdf_path, note = outcome.path, outcome.reason
        finally:
            self.close()
        self.step("report: done", 1.0)
        return ReportFiles(html=html_path, pdf=pdf_path, pdf_note=note, tables=tables, figures=figures)
