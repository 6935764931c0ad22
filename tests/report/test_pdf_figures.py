"""The report PDF's figures are the figures' own PDF files placed into the page printed with
placeholders (cartscope.report.pdf_figures): each in its placeholder's box, inside its tagged
``Figure`` with the caption as alternative text, identical font files kept once, the same
bytes every time; a placeholder missing or doubled is an error, never a wrong figure."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pikepdf
import pytest

from cartscope.report.figures.export import FigureFiles, shared_text_metrics
from cartscope.report.pdf import html_to_pdf
from cartscope.report.pdf_figures import PlacementError, place_figures, placeholder_png, placeholder_src
from cartscope.report.render import draw_and_save
from printing import needs_printing


def _figure(title: str, width: float = 3.0, height: float = 2.0) -> object:
    from cartscope.report.figures.style import figure_style, new_figure

    with figure_style():
        fig = new_figure(width, height)
        ax = fig.add_subplot()
        ax.plot([0, 6, 12, 24], [1.0, 0.8, 0.7, 0.5])
        ax.set_title(title)
        ax.set_xlabel("Months since infusion")
        fig.tight_layout()
    return fig


def test_placeholders_are_distinct_valid_pngs() -> None:
    import io

    from PIL import Image

    seen = set()
    for k in (0, 1, 7, 40):
        data = placeholder_png(k)
        with Image.open(io.BytesIO(data)) as im:
            assert im.size == (2 + k, 2) and im.mode == "RGB"
            pixels = im.tobytes()
        assert pixels not in seen
        seen.add(pixels)
    assert placeholder_src(3).startswith("data:image/png;base64,iVBORw0KGgo")


@pytest.fixture(scope="module")
def placed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Two figures (PDF files) placed into a printed page of two placeholders, of which the
    second comes first on the page."""
    needs_printing()
    tmp = tmp_path_factory.mktemp("placed")
    figures = [draw_and_save(stem, _figure(title, w, h), str(tmp), ("svg", "pdf"), 72)
               for stem, title, w, h in (("figure01_os", "Overall survival", 3.0, 2.0),
                                         ("figure02_pfs", "Progression-free survival", 4.0, 2.5))]
    boxes = [(3.0 * 72, 2.0 * 72), (4.0 * 72, 2.5 * 72)]
    imgs = [f'<p>Figure {k + 1} here</p><img alt="Figure {k + 1}. caption {k + 1}" src="{placeholder_src(k)}" '
            f'style="display:block;width:{w}pt;height:{h}pt">' for k, (w, h) in enumerate(boxes)]
    page = tmp / "page.html"
    page.write_text('<!doctype html><html lang="en"><head><meta charset="utf-8"><style>@page { size: A4; margin: 20mm }'
                    "</style></head><body><h1>Report</h1>" + imgs[1] + imgs[0] + "</body></html>", encoding="utf-8")
    printed = html_to_pdf(page, tmp / "printed.pdf")
    assert printed.path is not None, printed.reason
    pdfs = [f.pdf for f in figures]
    assert all(p is not None for p in pdfs)
    place_figures(printed.path, pdfs, tmp / "report.pdf")
    place_figures(printed.path, pdfs, tmp / "again.pdf")
    return {"tmp": tmp, "printed": printed.path, "pdfs": pdfs, "out": tmp / "report.pdf", "boxes": boxes}


def test_each_figure_is_drawn_in_its_placeholder_box(placed: dict[str, object]) -> None:
    out = placed["out"]
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    # the figures' own text, in the page's order: figure 2 first
    assert text.index("Progression-free survival") < text.index("Overall survival")
    assert text.count("Months since infusion") == 2
    with pikepdf.open(out) as pdf:
        page = pdf.pages[0]
        forms = {name: x for name, x in page.Resources.XObject.items()}
        assert all(x.Subtype == "/Form" for x in forms.values()) and len(forms) == 2
        content = page.Contents.read_bytes() if isinstance(page.Contents, pikepdf.Stream) else b"".join(
            c.read_bytes() for c in page.Contents)
        drawn = []
        for operands, op in pikepdf.parse_content_stream(page):
            if str(op) == "cm":
                last = [float(v) for v in operands]
            if str(op) == "Do":
                form = forms[str(operands[0])]
                bbox = [float(v) for v in form.BBox]
                matrix = [float(v) for v in form.Matrix]
                drawn.append((bbox, matrix, last))
        assert content and len(drawn) == 2
        for (bbox, matrix, _), (w, h) in zip(drawn, [placed["boxes"][1], placed["boxes"][0]]):
            # the form maps its box onto the unit square the placeholder image was drawn in
            assert matrix[0] * (bbox[2] - bbox[0]) == pytest.approx(1.0, rel=1e-3)
            assert matrix[3] * (bbox[3] - bbox[1]) == pytest.approx(1.0, rel=1e-3)
            # and that box is the figure's own size (its tight box, a little under the CSS box)
            assert 0.8 * w < bbox[2] - bbox[0] <= w + 1 and 0.8 * h < bbox[3] - bbox[1] <= h + 1


def test_figures_stay_tagged_with_their_alternative_text(placed: dict[str, object]) -> None:
    alts = []
    with pikepdf.open(placed["out"]) as pdf:
        assert pdf.Root.MarkInfo.Marked

        def walk(e: object) -> None:
            if isinstance(e, pikepdf.Dictionary) and "/S" in e:
                if e.S == "/Figure" and "/Alt" in e:
                    alts.append(str(e.Alt))
                walk(e.get("/K"))
            elif isinstance(e, pikepdf.Array):
                for kid in e:
                    walk(kid)

        walk(pdf.Root.StructTreeRoot.K)
    assert alts == ["Figure 2. caption 2", "Figure 1. caption 1"]


def test_identical_font_files_are_kept_once_and_the_file_is_reproducible(placed: dict[str, object]) -> None:
    def font_files(path: object) -> int:
        with pikepdf.open(path) as pdf:
            return sum(isinstance(o, pikepdf.Stream) and "/Length1" in o.stream_dict for o in pdf.objects)

    out = placed["out"]
    # both figures embed the same DejaVu subsets (regular and bold): two font files beside
    # the page's own, not four
    assert [font_files(f) for f in placed["pdfs"]] == [2, 2]
    assert font_files(out) == font_files(placed["printed"]) + 2
    assert out.read_bytes() == (placed["tmp"] / "again.pdf").read_bytes()


def test_a_missing_placeholder_or_unreadable_print_is_an_error(placed: dict[str, object], tmp_path: Path) -> None:
    pdfs = placed["pdfs"]
    with pytest.raises(PlacementError, match=r"figure\(s\) \[3\] not in the printed page"):
        place_figures(placed["printed"], [*pdfs, pdfs[0]], tmp_path / "x.pdf")
    with pytest.raises(PlacementError, match="could not be placed"):
        (tmp_path / "not.pdf").write_text("<html></html>", encoding="utf-8")
        place_figures(tmp_path / "not.pdf", pdfs, tmp_path / "z.pdf")


def test_a_figure_pdf_for_the_print_when_no_pdf_file_is_asked(tmp_path: Path) -> None:
    res = draw_and_save("figure01_os", _figure("Overall survival"), None, (), 72, print_dir=str(tmp_path))
    assert res.files == () and res.pdf == tmp_path / "figure01_os.pdf" and res.pdf.read_bytes().startswith(b"%PDF")
    both = draw_and_save("figure01_os", _figure("Overall survival"), str(tmp_path / "files"), ("svg", "pdf"), 72,
                         print_dir=str(tmp_path / "print"))
    assert both.pdf == tmp_path / "files" / "figure01_os.pdf" and not (tmp_path / "print").exists()
    assert both.pdf.read_bytes() == res.pdf.read_bytes()


def test_shared_text_metrics_measure_each_text_once_and_change_no_byte(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.text as mtext

    from cartscope.report.figures import export

    calls: list[tuple[str, str]] = []
    original = mtext._get_text_metrics_with_cache

    def counting(renderer, text, fontprop, ismath, dpi):  # noqa: ANN001, ANN202 - matplotlib's signature
        calls.append((type(getattr(renderer, "_renderer", renderer)).__name__, text))
        return original(renderer, text, fontprop, ismath, dpi)

    monkeypatch.setattr(mtext, "_get_text_metrics_with_cache", counting)

    def save(folder: Path) -> list[bytes]:  # the figure files, drawn and saved as the workers do
        fig = _figure("Overall survival")
        files = FigureFiles(fig, "figure01_os")
        svg = files.svg()
        folder.mkdir(parents=True)
        files.write(folder / "f.pdf", "pdf", 72)
        return [svg.encode(), (folder / "f.pdf").read_bytes()]

    plain = save(tmp_path / "plain")
    alone = [kind for kind, text in calls if text == "Overall survival" and kind != "RendererAgg"]
    # without it: twice in each pass (its box, then its drawing), three passes
    assert sorted(alone) == ["RendererPdf"] * 2 + ["RendererSVG"] * 4
    calls.clear()
    export._METRICS.clear()
    export._LAYOUTS.clear()
    layouts: list[str] = []
    layout = mtext.Text._get_layout

    def laying_out(self, renderer):  # noqa: ANN001, ANN202 - matplotlib's signature
        if self.get_text() == "Overall survival":
            layouts.append(type(getattr(renderer, "_renderer", renderer)).__name__)
        return layout(self, renderer)

    monkeypatch.setattr(mtext.Text, "_get_layout", laying_out)
    with shared_text_metrics():
        assert mtext._get_text_metrics_with_cache is not counting
        shared = [save(tmp_path / d) for d in ("a", "b")]
    assert mtext._get_text_metrics_with_cache is counting  # put back
    assert mtext.Text._get_layout is laying_out
    # the title laid out once per vector renderer kind, for both figures and all their passes
    assert sorted(k for k in layouts if k != "RendererAgg") == ["RendererPdf", "RendererSVG"]
    # with it: once per vector renderer class for both figures (the measured box and the SVG
    # share one); raster measures (the layout engine's) are left to matplotlib
    titles = [kind for kind, text in calls if text == "Overall survival" and kind != "RendererAgg"]
    assert sorted(titles) == ["RendererPdf", "RendererSVG"]
    assert shared == [plain, plain]
