"""A figure's SVG and PDF from one walk of the figure (cartscope.report.figures.tee): the SVG
is the plain SVG save, byte for byte; the PDF shows what a plain PDF save shows (same page,
fonts, words, and pixels but anti-aliasing and sub-point text placement), drawn in half the
walks; figures it cannot serve exactly are saved the plain way."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from cartscope.report.figures.export import FigureFiles
from cartscope.report.figures.tee import can_tee
from printing import needs_poppler


def _figure(kind: str = "plot") -> object:
    """A figure with what the report's figures hold: steps and markers, a band, points, bars
    with hatching, a legend, rotated and multi-line texts, a log axis, non-ASCII labels."""
    from matplotlib import patheffects

    from cartscope.report.figures.style import figure_style, freeze_layout, new_figure

    with figure_style():
        fig = new_figure(5.0, 3.2)
        left, right = fig.subplots(1, 2)
        t = np.array([0, 3, 6, 9, 12, 18, 24])
        left.step(t, [1.0, 0.9, 0.8, 0.7, 0.62, 0.55, 0.5], where="post", label="B-ALL (n = 35)")
        left.plot([4, 10], [0.85, 0.68], "|", markersize=6, color="C0")
        left.fill_between(t, 0.4, 0.9, step="post", alpha=0.2)
        left.scatter([2, 8, 16], [0.3, 0.35, 0.4], s=12, marker="D", label="relapse \u2264 12 months")
        left.set_xlabel("Months since infusion")
        left.set_ylabel("Overall survival (%)")
        left.set_title("IL-6 (pg/mL) and \u00b5g")
        left.text(12, 0.15, "two\nlines", ha="center", va="top", rotation=30)
        left.legend(loc="lower left", title="Disease")
        right.bar([0, 1, 2], [10, 300, 4000], hatch="//", color=["C1", "C2", "C3"])
        right.set_yscale("log")
        right.set_xticks([0, 1, 2], ["CRS 0\u20131", "CRS \u2265 2", "none"], rotation=45, ha="right")
        right.annotate("peak", xy=(1, 300), xytext=(1.5, 1000), arrowprops={"arrowstyle": "->"})
        if kind == "image":
            right.imshow(np.arange(12.0).reshape(3, 4), extent=(0, 2, 10, 100), aspect="auto")
        elif kind == "rasterized":
            right.plot([0, 2], [10, 100], rasterized=True)
        elif kind == "effects":
            right.text(0, 20, "glow", path_effects=[patheffects.withStroke(linewidth=3, foreground="w")])
        freeze_layout(fig)
    return fig


def _plain(tmp_path: Path, kind: str = "plot") -> tuple[str, Path]:
    saver = FigureFiles(_figure(kind), "figure01_test")
    svg = saver.svg()
    pdf = tmp_path / f"plain_{kind}.pdf"
    saver.write(pdf, "pdf", 300)
    return svg, pdf


def _teed(tmp_path: Path, kind: str = "plot", name: str = "teed") -> tuple[str, Path]:
    pdf = tmp_path / f"{name}_{kind}.pdf"
    return FigureFiles(_figure(kind), "figure01_test").svg(pdf, 300), pdf


def test_the_svg_drawn_with_its_pdf_is_the_plain_svg(tmp_path: Path) -> None:
    plain, _ = _plain(tmp_path)
    teed, pdf = _teed(tmp_path)
    assert teed == plain
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_the_pdf_drawn_with_the_svg_shows_what_a_plain_pdf_shows(tmp_path: Path) -> None:
    import pikepdf

    needs_poppler()
    _, plain = _plain(tmp_path)
    _, teed = _teed(tmp_path)
    with pikepdf.open(plain) as a, pikepdf.open(teed) as b:
        assert len(a.pages) == len(b.pages) == 1
        assert [float(v) for v in a.pages[0].MediaBox] == [float(v) for v in b.pages[0].MediaBox]
        fonts = [sorted(str(f.BaseFont) for f in p.pages[0].Resources.Font.values()) for p in (a, b)]
        assert fonts[0] == fonts[1] and fonts[0]  # the same embedded (TrueType) fonts

    def words(path: Path) -> Counter[str]:
        return Counter(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                      check=True).stdout.split())

    assert words(teed) == words(plain)
    assert {"Overall", "survival", "(%)", "B-ALL", "\u2264", "\u2265", "\u00b5g", "peak"} <= set(words(teed))

    def pixels(path: Path) -> np.ndarray:
        from PIL import Image

        png = tmp_path / f"{path.stem}"
        subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(path), str(png)], check=True)
        return np.asarray(Image.open(f"{png}.png").convert("L"), dtype=float)

    a, b = pixels(plain), pixels(teed)
    assert a.shape == b.shape
    # anti-aliasing and texts placed by the SVG's metrics (hundredths of a point, a rotated
    # label up to a pixel): a text drawn upside down or off its place differs by far more
    assert np.mean(np.abs(a - b) > 64) < 0.002


def test_one_walk_draws_both_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.text

    calls = []
    draw = matplotlib.text.Text.draw
    monkeypatch.setattr(matplotlib.text.Text, "draw", lambda self, renderer: (calls.append(1), draw(self, renderer)))
    _plain(tmp_path)
    plain = len(calls)
    calls.clear()
    _teed(tmp_path)
    assert plain > 20 and len(calls) * 2 == plain  # the plain way walks every text twice


def test_the_pdf_drawn_with_the_svg_is_reproducible(tmp_path: Path) -> None:
    _, one = _teed(tmp_path, name="one")
    _, two = _teed(tmp_path, name="two")
    assert one.read_bytes() == two.read_bytes()


@pytest.mark.parametrize("kind", ["image", "rasterized", "effects"])
def test_figures_the_tee_cannot_serve_are_saved_the_plain_way(tmp_path: Path, kind: str) -> None:
    assert can_tee(_figure()) and not can_tee(_figure(kind))
    plain_svg, plain_pdf = _plain(tmp_path, kind)
    teed_svg, teed_pdf = _teed(tmp_path, kind)
    assert teed_svg == plain_svg
    assert teed_pdf.read_bytes() == plain_pdf.read_bytes()
