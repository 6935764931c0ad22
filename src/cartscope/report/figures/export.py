"""Writing figures to disk (SVG, PDF, PNG) and inline SVG for the HTML report.

Output is reproducible: the same figure gives byte-identical files. SVG ids use a fixed
hash salt, and the metadata that would carry the time of writing (SVG ``dc:date``, PDF
``CreationDate``/``ModDate``) is left out.

One drawing, every format (:class:`FigureFiles`): the tight bounding box is measured once,
before the first save (the SVG), and every format is saved with it as ``bbox_inches`` and no
layout engine, so each costs one rendering pass instead of two, and every format shows the
same layout; the PDF comes from the SVG's pass itself (:mod:`cartscope.report.figures.tee`)
where the figure allows. A PDF embeds its TrueType subset through
:func:`pdf_font_subsets`, which subsets each font once per glyph set and process instead of
once per file (about 0.25 s per font and file otherwise).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from cartscope.report.figures.style import SVG_HASH_SALT, figure_style
from cartscope.report.figures.tee import can_tee, drawing_both

FORMATS: tuple[str, ...] = ("svg", "pdf", "png")

_METADATA: dict[str, dict[str, str | None]] = {
    "svg": {"Date": None, "Creator": "cartscope"},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": "cartscope"},
    "png": {"Software": "cartscope"},
}


def _check_figure(fig: object) -> Figure:
    if not isinstance(fig, Figure):
        raise TypeError(f"expected a matplotlib Figure, got {type(fig).__name__}")
    return fig


def _write(fig: Figure, target: str | Path | io.IOBase, fmt: str, dpi: float, salt: str, **kwargs: Any) -> None:
    with figure_style({"svg.hashsalt": salt}), pdf_font_subsets(fmt == "pdf"):
        fig.savefig(target, format=fmt, dpi=dpi, metadata=_METADATA[fmt], **kwargs)


class FigureFiles:
    """One drawn figure saved in several formats from one layout (see the module docstring).

    :meth:`svg` must come first (it is the HTML's inline figure and fixes the layout); then
    :meth:`write` saves any other format, and :meth:`png` gives the raster bytes once for both
    the PNG file and the PPTX slide.
    """

    def __init__(self, fig: Figure, salt: str) -> None:
        self.fig = _check_figure(fig)
        self.salt = salt
        self._bbox: Any = None
        self._png: dict[float, bytes] = {}

    def svg(self, pdf: Path | None = None, dpi: float = 300) -> str:
        """The SVG file text; the layout and the padded tight box it was saved with are kept
        for the other formats. ``pdf``: also write the PDF there, from the same drawing when
        the figure allows (:mod:`cartscope.report.figures.tee`), else by a save of its own.

        A figure whose layout is fixed (no layout engine, or one frozen by
        :func:`~cartscope.report.figures.style.freeze_layout`) is measured with an SVG
        renderer and saved with that box: one rendering pass. ``savefig`` with
        ``bbox_inches="tight"`` would first draw the whole figure with drawing switched off
        to find the same box (``tests/report/test_render_formats.py`` checks the boxes and
        the files are the same). A figure with a live layout engine is saved the long way,
        which runs its layout."""
        fig = self.fig
        buf = io.StringIO()
        with figure_style():
            pad = float(matplotlib_rc("savefig.pad_inches"))
        if _fixed_layout(fig):
            self._bbox = tight_box(fig).padded(pad)
            if pdf is not None and can_tee(fig):
                with pdf_font_subsets(), drawing_both(fig, pdf, dpi, _METADATA["pdf"]):
                    _write(fig, buf, "svg", 72, self.salt, bbox_inches=self._bbox)
                return buf.getvalue()
            _write(fig, buf, "svg", 72, self.salt, bbox_inches=self._bbox)
        else:
            self._save_live_svg(buf, pad)
        if pdf is not None:
            self.write(pdf, "pdf", dpi)
        return buf.getvalue()

    def _save_live_svg(self, buf: io.StringIO, pad: float) -> None:
        """Save the SVG of a figure with a live layout engine the long way (its layout runs),
        keeping the tight box ``savefig`` measured; the layout is then fixed."""
        fig = self.fig
        boxes: list[Any] = []
        measure = fig.get_tightbbox

        def spy(*args: Any, **kwargs: Any) -> Any:
            box = measure(*args, **kwargs)
            boxes.append(box)
            return box

        fig.get_tightbbox = spy  # type: ignore[method-assign]
        try:
            _write(fig, buf, "svg", 72, self.salt)
        finally:
            del fig.get_tightbbox
        if boxes:
            self._bbox = boxes[-1].padded(pad)
            _drop_layout_engine(fig)  # the layout is done; later saves keep it

    def _kwargs(self) -> dict[str, Any]:
        return {} if self._bbox is None else {"bbox_inches": self._bbox}

    def png(self, dpi: float) -> bytes:
        """The PNG bytes at ``dpi`` (rendered once per dpi)."""
        if dpi not in self._png:
            buf = io.BytesIO()
            _write(self.fig, buf, "png", dpi, self.salt, **self._kwargs())
            self._png[dpi] = buf.getvalue()
        return self._png[dpi]

    def write(self, path: Path, fmt: str, dpi: float) -> None:
        """Save the figure as ``fmt`` ("pdf", "png") at ``path``."""
        if fmt == "png":
            path.write_bytes(self.png(dpi))
        else:
            _write(self.fig, path, fmt, dpi, self.salt, **self._kwargs())


def _fixed_layout(fig: Figure) -> bool:
    """Whether nothing moves ``fig``'s artists at a save: no layout engine, or a frozen one
    (matplotlib's placeholder, which does nothing but makes every ``savefig`` draw twice);
    the placeholder is dropped."""
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    engine = fig.get_layout_engine()
    if isinstance(engine, PlaceHolderLayoutEngine):
        _drop_layout_engine(fig)
        return True
    return engine is None


def _drop_layout_engine(fig: Figure) -> None:
    """Leave ``fig`` without a layout engine (its layout stays as it is)."""
    import matplotlib

    with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)


def tight_box(fig: Figure) -> Any:
    """The tight bounding box of ``fig`` in inches, as ``savefig(bbox_inches="tight")`` finds
    it for an SVG (measured at 72 dpi with an SVG renderer, under the report's rc parameters,
    as :func:`_write` saves), without drawing the figure."""
    from matplotlib.backends.backend_mixed import MixedModeRenderer
    from matplotlib.backends.backend_svg import RendererSVG

    dpi = fig.dpi
    width, height = fig.get_size_inches()
    try:
        fig.dpi = 72
        renderer = MixedModeRenderer(fig, width, height, dpi, RendererSVG(width * 72, height * 72, io.StringIO(),
                                                                        image_dpi=dpi))
        with figure_style():
            return fig.get_tightbbox(renderer)
    finally:
        fig.dpi = dpi


def matplotlib_rc(key: str) -> Any:
    """The current value of the matplotlib rc parameter ``key``."""
    import matplotlib

    return matplotlib.rcParams[key]


#: Characters whose glyphs every embedded font subset holds, so that most figures share one
#: subset per font (a subset costs 0.2-0.5 s to make): printable ASCII, the symbols figures
#: use most, the spaces and typographic marks labels carry (thin and no-break spaces, quotes,
#: bullet, primes, degree), common accented letters of centre and group names, and the
#: ligatures matplotlib's text layout puts in words such as "fi".
COMMON_GLYPHS = ("".join(chr(c) for c in range(0x20, 0x7F))
                 + "\u00b1\u00b5\u00b7\u00d7\u2013\u2014\u2212\u2264\u2265\u2192\u2026\u03b1\u03b2\u03b3\u03ba"
                 + "\u00a0\u2009\u202f\u2022\u2018\u2019\u201c\u201d\u2032\u2033\u00b0\u00b2\u00b3\u2030"
                 + "\u2248\u2260\u221e\u2190\u2191\u2193\u0394\u03b4\u03bb\u03c3\u03c7"
                 + "\u00e0\u00e1\u00e4\u00e5\u00e7\u00e8\u00e9\u00ea\u00ed\u00f1\u00f3\u00f6\u00f8\u00fa\u00fc\u00df"
                 + "\ufb00\ufb01\ufb02\ufb03\ufb04")

_SUBSETS: dict[tuple[str, int, frozenset[int]], tuple[bytes, dict[int, int]]] = {}
_MAX_SUBSETS = 64


class _SubsetFont:
    """The subset font as matplotlib's PDF writer uses it: ``save`` writes the cached bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def save(self, fh: Any, reorderTables: bool = False) -> None:  # noqa: N803 - fontTools' name
        fh.write(self.data)


@contextmanager
def pdf_font_subsets(active: bool = True) -> Iterator[None]:
    """While active, matplotlib's PDF backend gets each TrueType subset from a per-process
    cache: the subset holds the glyphs asked for plus :data:`COMMON_GLYPHS`, so the fonts of
    most figures are subset once per process. The file depends only on the figure (the cache
    key is the glyph set), never on what was drawn before. Off when matplotlib lacks the
    hook this relies on (then every file subsets its fonts itself, as before)."""
    try:
        from matplotlib.backends import _backend_pdf_ps as pdfps
    except ImportError:  # pragma: no cover - matplotlib without the PDF helpers
        active = False
    if not active or not hasattr(pdfps, "SubsetResults") or not hasattr(pdfps, "get_glyphs_subset"):
        yield
        return
    original = pdfps.get_glyphs_subset

    def cached(fontfile: Any, glyphs: Any) -> Any:
        path, face = os.fspath(fontfile), int(getattr(fontfile, "face_index", 0) or 0)
        wanted = frozenset(int(g) for g in glyphs) | _common_gids(path)
        key = (path, face, wanted)
        hit = _SUBSETS.get(key)
        if hit is None:
            with original(fontfile, set(wanted)) as subset:
                buf = io.BytesIO()
                subset.font.save(buf, reorderTables=False)
                hit = (buf.getvalue(), dict(subset.glyph_index_map))
            if len(_SUBSETS) >= _MAX_SUBSETS:
                _SUBSETS.pop(next(iter(_SUBSETS)))
            _SUBSETS[key] = hit
        return _cm(pdfps.SubsetResults(_SubsetFont(hit[0]), dict(hit[1])))

    pdfps.get_glyphs_subset = cached
    try:
        yield
    finally:
        pdfps.get_glyphs_subset = original


@contextmanager
def _cm(value: Any) -> Iterator[Any]:
    yield value


_METRICS: dict[tuple[Any, ...], tuple[float, float, float]] = {}
_MAX_METRICS = 50_000
_RENDERERS = ("RendererSVG", "RendererPdf", "RendererAgg")
_FONT_RC = ("text.hinting", "text.hinting_factor", "text.kerning_factor")
"""The rc parameters a plain text's metrics depend on beyond its font (Agg's hinting and
kerning; matplotlib's font cache reads them)."""


_LAYOUTS: dict[tuple[Any, ...], tuple[Any, list[Any], Any]] = {}
_FAMILY_RC = ("font.serif", "font.sans-serif", "font.cursive", "font.fantasy", "font.monospace")
"""The rc parameters a generic font family ("sans-serif") resolves through (as matplotlib's
``findfont`` keys its own cache)."""
_LAYOUT_RC = ("pdf.use14corefonts", "ps.useafm")
"""The rc parameters that give a PDF or PostScript renderer font metrics of its own."""


@contextmanager
def shared_text_metrics() -> Iterator[None]:
    """While active, the width, height and descent of a plain text are measured once per
    process and renderer kind (SVG, PDF, Agg at one dpi) instead of once per renderer, and
    a plain text's layout (its lines, their offsets and its box about its anchor) is worked
    out once per process, renderer kind and text style.

    Why: matplotlib caches a text's metrics per renderer instance, so each of a figure's
    renderings (the constrained layout's raster pass, the box measured, the SVG saved, the
    PDF saved) shapes every label again (about 0.4 ms a text), and so does every figure for
    the same tick labels; on the jin2023 report that was 1-2 CPU-seconds of the figure
    workers. The metrics of a plain text are a function of the renderer's kind and dpi,
    the text, the font properties, the font files they resolve to and the hinting rc
    parameters: the key holds all of them, so a change of the rc parameters that picks
    another font or hinting cannot hit an old entry. Math text and TeX go to matplotlib's
    own cache, as do other renderers.

    The layout (``Text._get_layout``, which matplotlib 3.11 recomputes at every measure and
    every drawing, looking the font up again each time for its line gap) does not depend on
    where the text is: it is a function of the renderer's kind and dpi, the figure's dpi,
    the (wrapped) text, the font properties and the rc parameters they resolve through, the
    line spacing, the rotation and the alignments; the key holds all of them, and each
    caller gets its own copy of the box and the line list. A figure's box is measured, then
    drawn for the SVG and the PDF, and most tick labels and risk-table numbers recur from
    figure to figure, so most layouts are hits (on the jin2023 figures about a tenth of the
    workers' function calls went to it).

    The figure files are byte-identical with and without it
    (``tests/report/test_pdf_figures.py``). Off when matplotlib lacks the functions it relies
    on (then nothing changes)."""
    import matplotlib
    import matplotlib.text as mtext
    from matplotlib.font_manager import fontManager

    original = getattr(mtext, "_get_text_metrics_with_cache", None)
    find_fonts = getattr(fontManager, "_find_fonts_by_props", None)
    layout = getattr(mtext.Text, "_get_layout", None)
    if (original is None or find_fonts is None or layout is None
            or getattr(original, "_cartscope_shared", False)):
        yield  # matplotlib without these, or active already
        return
    rc = matplotlib.rcParams

    def measured(renderer: Any, text: str, fontprop: Any, ismath: Any, dpi: float) -> Any:
        base = getattr(renderer, "_renderer", renderer)  # the renderer a MixedModeRenderer draws with
        if ismath or type(base).__name__ not in _RENDERERS:
            return original(renderer, text, fontprop, ismath, dpi)
        prop = fontprop.copy()
        key = (type(base), getattr(base, "dpi", None), text, prop, tuple(find_fonts(prop)), dpi,
               tuple(rc.get(name) for name in _FONT_RC))
        hit = _METRICS.get(key)
        if hit is None:
            if len(_METRICS) >= _MAX_METRICS:
                _METRICS.clear()
            hit = _METRICS[key] = original(renderer, text, fontprop, ismath, dpi)
        return hit

    def laid_out(self: Any, renderer: Any) -> Any:
        base = getattr(renderer, "_renderer", renderer)
        text = self._get_wrapped_text()
        if (type(base).__name__ not in _RENDERERS or self.get_usetex()
                or ("$" in text and self.get_parse_math())):
            return layout(self, renderer)
        prop = self._fontproperties
        # the renderer's own part in a layout: its metrics (asked of the renderer it draws
        # with: MixedModeRenderer and the SVG-and-PDF tee pass them on) and its font heights
        key = (type(base), hasattr(renderer, "_get_font_height_metrics"), getattr(base, "dpi", None),
               self.figure.dpi, text,
               tuple(prop.get_family()), prop.get_style(), prop.get_variant(), prop.get_weight(),
               prop.get_stretch(), prop.get_size(), prop.get_file(), prop.get_math_fontfamily(),
               tuple(tuple(rc[name]) for name in _FAMILY_RC), tuple(rc[name] for name in _FONT_RC + _LAYOUT_RC),
               self._linespacing, self.get_rotation(), self.get_rotation_mode(), self._horizontalalignment,
               self._verticalalignment, self._get_multialignment())
        hit = _LAYOUTS.get(key)
        if hit is None:
            if len(_LAYOUTS) >= _MAX_METRICS:
                _LAYOUTS.clear()
            hit = _LAYOUTS[key] = layout(self, renderer)
        box, lines, corner = hit
        return box.frozen(), list(lines), corner

    measured._cartscope_shared = True  # type: ignore[attr-defined]
    mtext._get_text_metrics_with_cache = measured
    mtext.Text._get_layout = laid_out  # type: ignore[method-assign]
    try:
        yield
    finally:
        mtext._get_text_metrics_with_cache = original
        mtext.Text._get_layout = layout  # type: ignore[method-assign]


_COMMON: dict[str, frozenset[int]] = {}


def _common_gids(path: str) -> frozenset[int]:
    if path not in _COMMON:
        from matplotlib.ft2font import FT2Font

        charmap = FT2Font(path).get_charmap()
        _COMMON[path] = frozenset(charmap[ord(c)] for c in COMMON_GLYPHS if ord(c) in charmap)
    return _COMMON[path]


def save_figure(
    fig: Figure,
    stem: str | Path,
    formats: Sequence[str] = FORMATS,
    dpi: float = 300,
) -> list[Path]:
    """Write ``fig`` as ``stem.svg``, ``stem.pdf`` and ``stem.png`` (or the ``formats`` given).

    ``stem`` is a path without suffix; missing parent folders are created. ``dpi`` applies to
    the raster format (300 dpi is the usual journal minimum for halftones). Returns the paths
    written, in the order of ``formats``.
    """
    fig = _check_figure(fig)
    if isinstance(formats, str):
        formats = (formats,)
    unknown = [f for f in formats if f not in _METADATA]
    if unknown:
        raise ValueError(f"unknown figure format(s) {unknown}; choose from {', '.join(FORMATS)}")
    if not dpi or dpi <= 0:
        raise ValueError(f"dpi must be positive, got {dpi!r}")
    stem = Path(stem)
    if stem.suffix.lower().lstrip(".") in _METADATA:
        stem = stem.with_suffix("")
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = stem.parent / f"{stem.name}.{fmt}"
        _write(fig, path, fmt, dpi, SVG_HASH_SALT)
        paths.append(path)
    return paths


_PROLOGUE = re.compile(r"^.*?(?=<svg[\s>])", re.S)


def figure_svg(fig: Figure, id_salt: str = SVG_HASH_SALT) -> str:
    """The figure as an ``<svg>`` element for embedding in an HTML page.

    The XML declaration and DOCTYPE are dropped (not allowed inside HTML). Give each figure
    of one page its own ``id_salt`` (e.g. its file stem) so that clip-path ids of different
    figures cannot collide.
    """
    fig = _check_figure(fig)
    buf = io.StringIO()
    _write(fig, buf, "svg", 72, id_salt)
    return _PROLOGUE.sub("", buf.getvalue(), count=1)


def svg_element(svg_file: str) -> str:
    """An SVG file's text without the XML declaration and DOCTYPE (for embedding in HTML)."""
    return _PROLOGUE.sub("", svg_file, count=1)
