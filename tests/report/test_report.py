"""The HTML/PDF report: sections per protocol, numbered tables and figures with the expected
headers, no external reference, byte-identical builds, skipped sections with their reason,
exported files, and the PDF pages rendered to images (non-blank, a plausible page count)."""

from __future__ import annotations

import dataclasses
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from cartscope.analysis.presets import synthesize
from cartscope.analysis.protocol import load_protocol
from cartscope.analysis.study import run_study
from cartscope.report.document import build_document
from cartscope.report.html import export_items, render_html, write_report
from printing import needs_printing


class ReportParser(HTMLParser):
    """Collects what a reader sees: sections, figures, tables (caption, header), text, and
    every attribute value (to look for external references)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[str] = []
        self.section_text: dict[str, list[str]] = {}
        self.attributes: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.figures = 0
        self.svgs = 0
        self.tables: list[dict] = []
        self.styles: list[str] = []
        self.ids: list[str] = []
        self._stack: list[str] = []
        self._caption: list[str] | None = None
        self._th: list[str] | None = None
        self._section: str | None = None
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        for name, value in attrs:
            self.attributes.append((tag, name, value or ""))
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "section":
            self._section = a.get("id")
            self.sections.append(self._section)
            self.section_text[self._section] = []
        elif tag == "figure" and "figure" in (a.get("class") or "").split():
            self.figures += 1
        elif tag == "figure" and "table" in (a.get("class") or "").split():
            self.tables.append({"caption": "", "header": [], "rows": 0})
        elif tag == "svg":
            self.svgs += 1
        elif tag == "figcaption" and self.tables and not self.tables[-1]["caption"]:
            self._caption = []
        elif tag == "th":
            self._th = []
        elif tag == "tr" and self._stack and "tbody" in self._stack:
            self.tables[-1]["rows"] += 1
        elif tag == "style":
            self._in_style = True
        self._stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "figcaption" and self._caption is not None:
            self.tables[-1]["caption"] = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag == "th" and self._th is not None:
            self.tables[-1]["header"].append("".join(self._th).strip())
            self._th = None
        elif tag == "style":
            self._in_style = False
        elif tag == "section":
            self._section = None
        while self._stack and self._stack.pop() != tag:
            pass

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)
            return
        if self._caption is not None:
            self._caption.append(data)
        if self._th is not None:
            self._th.append(data)
        if self._section is not None:
            self.section_text[self._section].append(data)

    def text(self, section: str) -> str:
        return " ".join(" ".join(self.section_text[section]).split())


def parse(html: str) -> ReportParser:
    p = ReportParser()
    p.feed(html)
    p.close()
    return p


@pytest.fixture(scope="module")
def jin():
    cohort = synthesize("jin2023", seed=2023)
    return cohort, run_study(cohort, load_protocol("jin2023"))


@pytest.fixture(scope="module")
def jin_report(jin, tmp_path_factory):
    cohort, results = jin
    out = tmp_path_factory.mktemp("jin_report")
    files = write_report(results, out, cohort=cohort, pdf=True, exports=False)
    html = files.html.read_text("utf-8")
    return files, html, parse(html)


JIN_SECTIONS = ["methods", "cohort", "response", "course", "relapse_timing", "survival", "competing_risks",
                "toxicity", "kinetics", "biomarkers", "validation", "cox", "exclusions"]


def test_jin2023_sections_in_protocol_order(jin_report):
    _, _, p = jin_report
    assert p.sections == JIN_SECTIONS


def test_jin2023_figures(jin_report):
    _, html, p = jin_report
    # swimmer (3 pages of 40 patients), relapse bars, KM 2 endpoints x (all + disease + CRS +
    # B-ALL and B-NHL alone + CRS within each), 2 CIF, CAR and cytokine kinetics, Venn, heatmap,
    # ROC, 2 marker dot plots, 2 cutoff KM, 1 validation KM, forest, CONSORT flow
    assert p.figures == 3 + 1 + 14 + 2 + 2 + 1 + 1 + 1 + 2 + 2 + 1 + 1 + 1
    assert p.svgs == p.figures
    assert "<script" not in html.lower()
    assert len(p.ids) == len(set(p.ids)), "element ids repeat across inline figures"


def _table(p: ReportParser, title: str) -> dict:
    hits = [t for t in p.tables if t["caption"].split(". ", 1)[1] == title]
    assert len(hits) == 1, [t["caption"] for t in p.tables]
    return hits[0]


def test_jin2023_tables_numbered_with_headers(jin_report):
    _, _, p = jin_report
    assert [int(t["caption"].split(".")[0].split()[1]) for t in p.tables] == list(range(1, len(p.tables) + 1))
    t1 = _table(p, "Baseline characteristics")
    assert t1["header"] == ["Characteristic", "B-ALL (n=35)", "B-NHL (n=84)", "Overall (n=119)", "p", "Test"]
    assert _table(p, "Time from infusion to relapse")["header"] == [
        "Time to relapse, months", "B-ALL (n=11)", "B-NHL (n=30)", "Overall (n=41)"]
    screen = _table(p, "Biomarker screening (training cohort)")
    assert screen["header"] == ["Marker", "Median fold change, NR/ER", "Median fold change, durable", "p", "q",
                                "AUC (95% CI)"]
    assert screen["rows"] == 25  # top 25 of the 70 analytes; the export has all
    cut = _table(p, "Frozen cut-off for NR/ER in the training cohort and the validation cohort")
    assert cut["header"] == ["Marker", "Cohort", "Cut-off", "TP/(TP+FN)", "Sensitivity, % (95% CI)",
                             "TN/(TN+FP)", "Specificity, % (95% CI)"]
    assert _table(p, "Cox regression of progression-free survival")["header"] == ["Variable", "HR (95% CI)", "p"]
    lm = _table(p, "Landmark survival estimates by disease group")
    assert lm["header"] == ["Endpoint", "All patients, % (95% CI)", "B-ALL, % (95% CI)", "B-NHL, % (95% CI)"]
    ex = _table(p, "Every patient left out of an analysis, with the reason")
    assert ex["rows"] == 26


def test_jin2023_numbers_in_the_page(jin_report):
    _, _, p = jin_report
    # the published sensitivities at the MIP3a cut-off (modified Wilson interval)
    assert "92.3 (66.7\u201399.6)" in p.text("biomarkers")
    assert "Log-rank" in p.text("survival") or "log-rank" in p.text("survival")
    assert "Gray" in p.text("competing_risks")
    flow = p.text("exclusions")
    # the CONSORT figure (its SVG text is in the page) and the flow list under it
    assert "Cohort: 119 patients" in flow and "Left out: 19 patients" in flow


def test_no_external_references(jin_report):
    _, html, p = jin_report
    for tag, name, value in p.attributes:
        assert "http" not in value.lower() and not value.startswith("//"), (tag, name, value)
        if name in ("href", "xlink:href", "src"):
            assert value.startswith(("#", "data:image/png;base64,")), (tag, name, value[:40])
    assert not any(t in p.tags for t in ("script", "link", "img", "iframe", "object"))
    css = "".join(p.styles)
    assert "url(" not in css and "@import" not in css and "http" not in css


def test_header_and_methods(jin, jin_report):
    _, results = jin
    _, html, p = jin_report
    head = html.split("</header>")[0]
    assert results.data_hash in head and "jin2023" in head
    assert "CD19/CD22 CAR-T cocktail" in head
    methods = p.text("methods")
    for phrase in ("modified Wilson", "DeLong", "log-log", "Kaplan-Meier", "Gray's test", "Mann-Whitney",
                   "Benjamini-Hochberg", "Clopper-Pearson", "efron", results.data_hash, "protocol jin2023",
                   f"numpy {results.versions['numpy']}", "day 182.625 (6 months)"):
        assert phrase in methods, phrase


def test_partial_skip_reason_shown(jin_report):
    _, _, p = jin_report
    text = p.text("validation")
    assert "Not analysed:" in text and "Eotaxin: Eotaxin is not measured in" in text


def test_byte_identical_builds(jin, jin_report):
    cohort, results = jin
    files, _, _ = jin_report
    again = render_html(build_document(results, cohort))
    assert files.html.read_bytes() == again.encode("utf-8")


@pytest.fixture(scope="module")
def li():
    cohort = synthesize("li2023", seed=2023)
    return cohort, run_study(cohort, load_protocol("li2023"))


@pytest.mark.parametrize("preset, sections, figures", [
    ("li2023", ["methods", "cohort", "response", "course", "survival", "toxicity", "kinetics",
                "infusion_comparison", "exclusions"], 9),  # a cytokine course per cytokines analysis (CART1, CART2)
    ("lu2021", ["methods", "cohort", "response", "course", "survival", "competing_risks", "toxicity", "kinetics",
                "ae_table", "correlations", "compare", "exclusions"], 18),  # 4 km survival_mrd_vs_active, 4 compare
])
def test_other_presets_render(preset, sections, figures, tmp_path, li):
    if preset == "li2023":
        cohort, results = li
    else:
        cohort = synthesize(preset, seed=2023)
        results = run_study(cohort, load_protocol(preset))
    files = write_report(results, tmp_path, cohort=cohort, pdf=False, exports=False)
    assert files.pdf is None and files.pdf_note == "PDF not requested"
    p = parse(files.html.read_text("utf-8"))
    assert p.sections == sections
    assert p.figures == figures
    assert all(t["header"] and t["rows"] > 0 for t in p.tables)
    if preset == "li2023":  # fractional extra columns are summarised, not listed value by value
        assert "Age at the second CAR-T infusion (years), median (range) 8.36 (6.96–15.10)" in p.text("cohort")


def test_skipped_section_shows_reason_and_no_cohort_is_said(jin):
    _, results = jin
    why = "no toxicity_daily table"
    skipped = dataclasses.replace(
        results, sections=tuple(s for s in results.sections if s != "toxicity"),
        skipped={**results.skipped, "toxicity": why})
    p = parse(render_html(build_document(skipped)))  # without the cohort
    assert "toxicity" in p.sections
    assert p.text("toxicity") == f"Toxicity Not analysed: {why}."
    # Table 1 comes from the describe analysis' own per-patient values, so it needs no cohort
    assert p.text("cohort").startswith("Patients Table 1. Baseline characteristics Characteristic B-ALL (n=35)")
    assert "heatmap and the marker dot plots need the patient-level cohort" in p.text("biomarkers")
    assert p.figures == 32 - 5  # no heatmap, no marker dot plots, no kinetics courses


def test_exports_beside_the_report(tmp_path, li):
    cohort, results = li
    full = build_document(results, cohort)
    # the patients and course sections: two tables, one figure (PNG at 300 dpi is the slow part)
    doc = dataclasses.replace(full, sections=tuple(s for s in full.sections if s.key in ("cohort", "course")))
    assert (len(doc.tables()), len(doc.figures())) == (2, 1)
    tables, figures = export_items(doc, tmp_path, formats=("svg", "pdf", "png", "pptx"))
    n_tables, n_figures = len(doc.tables()), len(doc.figures())
    assert len(tables) == 3 * n_tables and len(figures) == 4 * n_figures
    assert sorted({p.suffix for p in tables}) == [".csv", ".docx", ".xlsx"]
    assert sorted({p.suffix for p in figures}) == [".pdf", ".png", ".pptx", ".svg"]
    from pptx import Presentation

    slides = Presentation(str(next(p for p in figures if p.suffix == ".pptx"))).slides
    assert len(slides) == 1 and len(slides[0].shapes) == 1
    assert all(p.parent.name == "tables" for p in tables) and all(p.parent.name == "figures" for p in figures)
    first = doc.tables()[0]
    csv = (tmp_path / "tables" / f"{first.stem}.csv").read_text("utf-8-sig").splitlines()
    assert csv[0].split(",")[0] == str(first.table.display.columns[0])


def test_missing_pdf_engine_is_reported_not_raised(li, tmp_path, monkeypatch):
    _, results = li
    monkeypatch.setenv("CARTSCOPE_CHROMIUM", str(tmp_path / "no-such-browser"))
    files = write_report(results, tmp_path, pdf=True, exports=False)
    assert files.html.is_file() and files.pdf is None
    assert "no Chromium found" in files.pdf_note


def _page_texts(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


def test_pdf_places_the_figure_files_in_the_layout_of_the_page(jin_report, tmp_path):
    """The report PDF is the page printed with placeholders and the figure PDFs placed into
    them: the same pages as the page printed with its inline SVG figures, each figure (its
    caption and its own text) on the same page, and tagged with its caption as alternative
    text."""
    import re

    import pikepdf

    from cartscope.report.pdf import html_to_pdf

    needs_printing()
    files, html, p = jin_report
    assert files.pdf is not None, files.pdf_note
    inline = html_to_pdf(files.html, tmp_path / "inline.pdf")
    assert inline.path is not None, inline.reason
    placed, printed = _page_texts(files.pdf), _page_texts(inline.path)
    assert len(placed) == len(printed)

    def captions(pages: list[str]) -> list[list[str]]:
        return [re.findall(r"^\s*Figure (\d+)\.", t, re.M) for t in pages]

    assert captions(placed) == captions(printed)
    assert sum(len(c) for c in captions(placed)) == p.figures
    # the figures' own text is there: the number-at-risk rows of the Kaplan-Meier figures
    assert "Number at risk" in "".join(placed)
    alts = []
    with pikepdf.open(files.pdf) as pdf:
        def walk(e):
            if isinstance(e, pikepdf.Array):
                for kid in e:
                    walk(kid)
            elif isinstance(e, pikepdf.Dictionary) and "/S" in e:
                if e.S == "/Figure" and "/Alt" in e:
                    alts.append(str(e.Alt))
                walk(e.get("/K"))

        walk(pdf.Root.StructTreeRoot.K)
    assert [a.split(".")[0] for a in alts] == [f"Figure {k}" for k in range(1, p.figures + 1)]
    assert files.pdf.stat().st_size < inline.path.stat().st_size


def test_pdf_falls_back_to_the_inline_figures_when_placing_fails(li, tmp_path, monkeypatch):
    from cartscope.report import pdf_figures

    needs_printing()
    cohort, results = li

    def fail(*args, **kwargs):
        raise pdf_figures.PlacementError("placeholder of figure(s) [1] not in the printed page")

    monkeypatch.setattr(pdf_figures, "place_figures", fail)
    files = write_report(results, tmp_path, cohort=cohort, pdf=True, exports=False)
    assert files.pdf is not None and files.pdf_note == ""
    text = "".join(_page_texts(files.pdf))
    assert "Figure 1." in text and "Number at risk" in text


def test_pdf_pages_render(jin_report, tmp_path):
    files, _, _ = jin_report
    needs_printing()
    assert files.pdf is not None and files.pdf.read_bytes().startswith(b"%PDF"), files.pdf_note
    subprocess.run(["pdftoppm", "-r", "20", "-gray", files.pdf, tmp_path / "page"], check=True)
    pages = sorted(tmp_path.glob("page-*.pgm"))
    assert 12 <= len(pages) <= 36
    for page in pages:
        data = page.read_bytes()
        # binary PGM: "P5\n<w> <h>\n255\n" then one byte per pixel
        header_end = data.index(b"\n", data.index(b"\n", data.index(b"\n") + 1) + 1) + 1
        pixels = np.frombuffer(data[header_end:], dtype=np.uint8)
        ink = (pixels < 200).mean()
        assert ink > 0.002, f"{page.name} is blank"


def _word_boxes(pdf: Path) -> list[tuple[float, list[tuple[float, float, float, str]]]]:
    """(page width, [(xMin, xMax, height, word)]) of every page, from ``pdftotext -bbox``."""
    import re

    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    word = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')
    return [(float(width), [(float(x0), float(x1), float(y1) - float(y0), w) for x0, y0, x1, y1, w in word.findall(body)])
            for width, body in re.findall(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', out, re.S)]


def test_a_table_wider_than_the_page_wraps_in_print(tmp_path):
    """A table wider than the page wraps its cells in print: nothing runs off the paper and
    Chromium does not shrink the page to fit it (the paragraph's words keep their size)."""
    from cartscope.report.html import _asset
    from cartscope.report.pdf import html_to_pdf

    needs_printing()
    cells = "".join(f"<td>{k}/16 (68.8)</td><td>41.3\u201389.0</td>" for k in range(5))
    heads = "".join(f"<th>Group {k}, n/N (%)</th><th>Group {k}, 95% CI</th>" for k in range(5))
    body = (f"<p>Overall response rates with exact confidence intervals.</p><figure class='table'><div class='table-wrap'>"
            f"<table><thead><tr><th>Outcome</th>{heads}</tr></thead><tbody><tr><td>Overall response</td>{cells}</tr>"
            "</tbody></table></div></figure>")
    sizes = {}
    for name, content in (("wide", body), ("narrow", body.split("<figure")[0])):
        page = tmp_path / f"{name}.html"
        page.write_text(f"<!doctype html><html><head><meta charset='utf-8'><style>{_asset('report.css')}</style></head>"
                        f"<body>{content}</body></html>", encoding="utf-8")
        printed = html_to_pdf(page, tmp_path / f"{name}.pdf")
        assert printed.path is not None, printed.reason
        (width, words), = _word_boxes(printed.path)
        margin = 14 / 25.4 * 72
        outside = [w for x0, x1, _, w in words if x0 < margin - 1 or x1 > width - margin + 1]
        assert not outside, f"{name}: {outside[:5]} outside the margins"
        sizes[name] = next(h for _, _, h, w in words if w == "Overall")
    assert sizes["wide"] == pytest.approx(sizes["narrow"], rel=0.01)
