"""Each figure drawn once and saved in every format from that drawing and its one layout;
the formats a report writes (defaults, names checked); reproducible figure files and PDF."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from cartscope.report.figures import export
from cartscope.report.figures.export import FigureFiles
from cartscope.report.pdf import FIXED_DATE, fix_dates
from cartscope.report.render import ALL_FORMATS, FORMATS, check_formats, draw_and_save, requested_formats


def _figure(title: str = "Overall survival \u2264 24 months") -> object:
    from cartscope.report.figures.style import figure_style, new_figure

    with figure_style():
        fig = new_figure(3.0, 2.0)
        fig.set_layout_engine("constrained")
        ax = fig.add_subplot()
        ax.plot([0, 6, 12, 24], [1.0, 0.8, 0.7, 0.5], label="B-ALL (n = 35)")
        ax.set_title(title)
        ax.set_xlabel("Months since infusion")
        ax.legend()
    return fig


def test_default_formats_are_the_vector_files_a_journal_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert FORMATS == ("svg", "pdf")
    monkeypatch.delenv("CARTSCOPE_FIGURE_FORMATS", raising=False)
    assert requested_formats() == FORMATS
    monkeypatch.setenv("CARTSCOPE_FIGURE_FORMATS", " SVG, png,pptx,svg ")
    assert requested_formats() == ("svg", "png", "pptx")
    monkeypatch.setenv("CARTSCOPE_FIGURE_FORMATS", "svg,tiff")
    with pytest.raises(ValueError, match="CARTSCOPE_FIGURE_FORMATS: unknown format 'tiff'"):
        requested_formats()
    with pytest.raises(ValueError, match=r"unknown format 'pfd' \(did you mean 'pdf'\?\); choose from svg, pdf, png, pptx"):
        check_formats("svg,pfd")
    with pytest.raises(ValueError, match="no format given"):
        check_formats(" , ")
    assert check_formats(list(ALL_FORMATS)) == ALL_FORMATS


def test_every_format_from_one_layout(tmp_path: Path) -> None:
    res = draw_and_save("figure01_km", _figure(), str(tmp_path), ("svg", "pdf", "png", "pptx"), 150)
    assert [p.name for p in res.files] == [f"figure01_km.{f}" for f in ("svg", "pdf", "png", "pptx")]
    svg = (tmp_path / "figure01_km.svg").read_text("utf-8")
    assert res.svg == svg[svg.index("<svg"):]  # the page's inline figure is the file
    w_pt, h_pt = (float(v) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
    pdf = (tmp_path / "figure01_km.pdf").read_bytes()
    box = [float(v) for v in re.search(rb"/MediaBox \[\s*([\d.\s]+)\]", pdf).group(1).split()]
    assert box[2] == pytest.approx(w_pt, abs=0.01) and box[3] == pytest.approx(h_pt, abs=0.01)
    from PIL import Image

    with Image.open(tmp_path / "figure01_km.png") as png:  # same tight box at 150 dpi
        assert png.size[0] == pytest.approx(w_pt / 72 * 150, abs=1.5)
        assert png.size[1] == pytest.approx(h_pt / 72 * 150, abs=1.5)
    with zipfile.ZipFile(tmp_path / "figure01_km.pptx") as z:  # the slide holds that same PNG
        media = [n for n in z.namelist() if n.startswith("ppt/media/")]
        assert [z.read(n) for n in media] == [(tmp_path / "figure01_km.png").read_bytes()]
    again = draw_and_save("figure01_km", _figure(), str(tmp_path / "again"), ("svg", "pdf", "png", "pptx"), 150)
    assert [p.read_bytes() for p in again.files] == [p.read_bytes() for p in res.files]


def test_pdf_font_subsets_do_not_depend_on_what_was_drawn_before(tmp_path: Path) -> None:
    export._SUBSETS.clear()
    first = FigureFiles(_figure(), "b")
    first.svg()
    first.write(tmp_path / "alone.pdf", "pdf", 72)
    other = FigureFiles(_figure("\u00c9v\u00e9nement \u00e0 \u00d8 jours \u03a9"), "a")  # other glyphs
    other.svg()
    other.write(tmp_path / "other.pdf", "pdf", 72)
    second = FigureFiles(_figure(), "b")
    second.svg()
    second.write(tmp_path / "after.pdf", "pdf", 72)
    assert (tmp_path / "after.pdf").read_bytes() == (tmp_path / "alone.pdf").read_bytes()
    assert b"/FontFile2" in (tmp_path / "alone.pdf").read_bytes()  # TrueType embedded (Type 42)
    if shutil.which("pdftotext"):  # the text is text, with its own glyphs, in either cache state
        for name, words in (("alone", "Overall survival \u2264 24 months"), ("other", "\u00c9v\u00e9nement \u00e0")):
            text = subprocess.run(["pdftotext", tmp_path / f"{name}.pdf", "-"], capture_output=True, text=True,
                                  check=True).stdout
            assert words in text


def test_pdf_dates_fixed_in_place() -> None:
    raw = b"<</Creator (x)\n/CreationDate (D:20261201132234+00'00')\n/ModDate (D:20261201132234+00'00')>>xref"
    fixed = fix_dates(raw)
    assert len(fixed) == len(raw) and fixed.count(FIXED_DATE) == 2
    assert fix_dates(b"/CreationDate (D:2026)") == b"/CreationDate (D:2026)"  # unknown shapes left alone


@pytest.mark.parametrize("layout", ["none", "frozen", "live"])
def test_measured_box_and_svg_equal_savefig_tight(layout: str) -> None:
    """The SVG saved with the box measured without drawing (no layout engine, or a frozen
    one) is the file ``savefig(bbox_inches="tight")`` writes after its dry-run draw; a live
    layout engine takes savefig's own path."""
    import io

    from cartscope.report.figures.style import figure_style, freeze_layout

    def build() -> object:
        fig = _figure()
        fig.axes[0].legend(loc="best")  # placed at draw time
        fig.axes[0].annotate("median", (12, 0.7), xytext=(16, 0.9), arrowprops={"arrowstyle": "->"})
        if layout == "none":
            fig.set_layout_engine("none")
        elif layout == "frozen":
            freeze_layout(fig)
        return fig

    expected = build()
    boxes: list[object] = []
    measure = expected.get_tightbbox
    expected.get_tightbbox = lambda *a, **k: boxes.append(measure(*a, **k)) or boxes[-1]
    buf = io.StringIO()
    with figure_style({"svg.hashsalt": "x"}):
        expected.savefig(buf, format="svg", dpi=72, metadata={"Date": None, "Creator": "cartscope"})
    fig = build()
    fixed = export._fixed_layout(fig)
    assert fixed == (layout != "live")
    saver = FigureFiles(fig, "x")
    assert saver.svg() == buf.getvalue()
    assert saver._bbox.bounds == pytest.approx(boxes[-1].padded(0.04).bounds, abs=1e-12)
    assert fig.get_layout_engine() is None  # later formats draw once
