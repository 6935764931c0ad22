"""One drawing of a figure into its SVG and its PDF at once.

Why by hand: matplotlib saves one format per ``savefig``, and every save walks the whole
artist tree again: ticks are located and formatted, texts laid out, legends and tables
placed, transforms composed. On the report's figures that walk is about half the cost of
the PDF save (the other half is the PDF's own drawing), so saving the PDF from the SVG's
walk saves a third of a figure's rendering. No library offers a renderer that fans one
walk out to two backends; this module is that renderer (:class:`_Tee`).

How: the SVG is saved as usual (``savefig``, which sets the figure's dpi to 72 and applies
the tight box); at the moment matplotlib's SVG writer draws the figure, the figure is drawn
once into a :class:`_Tee` holding that SVG renderer and a PDF renderer on the same page
size, the PDF is finished, then the SVG. Every drawing call goes to both renderers, each
with its own graphics context; every question (text extents, canvas size, image
magnification) is answered by the SVG renderer, so the SVG receives exactly the calls of a
plain SVG save and is byte-identical to it (``tests/report/test_figure_tee.py``). The PDF
is laid out with the SVG's text metrics (matplotlib's PDF writer would use its own, hinted,
ones: positions differ by hundredths of a point) and keeps its fonts, paths and text as a
plain PDF save writes them.

Figures this cannot serve exactly are saved the usual way, one walk per format
(:func:`can_tee`): images (their resampling depends on each renderer's resolution),
rasterized artists and filters, path effects, TeX text, and figures with a live layout
engine.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

_DRAWS = ("draw_path", "draw_markers", "draw_path_collection", "draw_quad_mesh", "draw_gouraud_triangles",
          "draw_image", "open_group", "close_group")
"""Renderer calls that draw (forwarded to both renderers; texts by :meth:`_Tee.draw_text`);
every other attribute is the SVG renderer's. (An image reaches both at the SVG's resolution:
:func:`can_tee` keeps figures with images out.)"""


class _TeeGC:
    """A graphics context that sets every property on two: the SVG's and the PDF's."""

    def __init__(self, first: Any, second: Any) -> None:
        self._pair = (first, second)

    def __getattr__(self, name: str) -> Any:
        first, second = self._pair
        if not (name.startswith("set_") or name in ("restore", "copy_properties")):
            return getattr(first, name)
        return _both(getattr(first, name), getattr(second, name))


def _both(one: Any, two: Any) -> Any:
    """A call of ``one`` then ``two`` (its result), each given its own side of a
    :class:`_TeeGC` argument."""

    def call(*args: Any, **kwargs: Any) -> Any:
        one(*(_side(a, 0) for a in args), **{k: _side(v, 0) for k, v in kwargs.items()})
        return two(*(_side(a, 1) for a in args), **{k: _side(v, 1) for k, v in kwargs.items()})

    return call


def _side(value: Any, k: int) -> Any:
    return value._pair[k] if isinstance(value, _TeeGC) else value


class _Tee:
    """A renderer drawing into two (see the module docstring)."""

    def __init__(self, first: Any, second: Any) -> None:
        self._pair = (first, second)
        self._raster_depth = 0  # read and set by matplotlib's rasterization decorators
        self._rasterizing = False

    def new_gc(self) -> _TeeGC:
        return _TeeGC(self._pair[0].new_gc(), self._pair[1].new_gc())

    def draw_text(self, gc: _TeeGC, x: float, y: float, *args: Any, **kwargs: Any) -> None:
        """A text at (x, y) as :class:`~matplotlib.text.Text` placed it for the SVG renderer,
        whose y axis points down (``flipy``): the PDF's points up, so its y is flipped back."""
        self._text("draw_text", gc, x, y, args, kwargs)

    def draw_tex(self, gc: _TeeGC, x: float, y: float, *args: Any, **kwargs: Any) -> None:
        """A TeX text, placed as :meth:`draw_text` places a text."""
        self._text("draw_tex", gc, x, y, args, kwargs)

    def _text(self, name: str, gc: _TeeGC, x: float, y: float, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        first, second = self._pair
        getattr(first, name)(gc._pair[0], x, y, *args, **kwargs)
        if first.flipy() != second.flipy():
            y = first.get_canvas_width_height()[1] - y
        getattr(second, name)(gc._pair[1], x, y, *args, **kwargs)

    def start_rasterizing(self) -> None:
        raise RuntimeError("a rasterized artist cannot be drawn into two renderers")

    start_filter = start_rasterizing

    def __getattr__(self, name: str) -> Any:
        if name not in _DRAWS:
            return getattr(self._pair[0], name)
        return _both(*(getattr(r, name) for r in self._pair))


def can_tee(fig: Figure) -> bool:
    """Whether ``fig`` can be drawn into its SVG and PDF at once (see the module docstring)."""
    from matplotlib.image import _ImageBase
    from matplotlib.text import Text

    if fig.get_layout_engine() is not None:
        return False
    for artist in fig.findobj(include_self=True):
        if (isinstance(artist, _ImageBase) or artist.get_rasterized() or artist.get_agg_filter() is not None
                or artist.get_path_effects() or (isinstance(artist, Text) and artist.get_usetex())):
            return False
    return True


@contextmanager
def drawing_both(fig: Figure, pdf: Path | io.IOBase, pdf_dpi: float, pdf_metadata: dict[str, Any]) -> Iterator[None]:
    """While active, the figure's next draw (the SVG writer's) draws into the SVG renderer it
    is given and a PDF renderer writing ``pdf`` (finished before the SVG is)."""
    from matplotlib.backends.backend_mixed import MixedModeRenderer
    from matplotlib.backends.backend_pdf import PdfFile, RendererPdf

    draw = fig.draw
    done: list[bool] = []

    def drawn_twice(renderer: Any) -> None:
        if done:  # only the first draw goes to the PDF
            return draw(renderer)
        done.append(True)
        width, height = fig.get_size_inches()
        file = PdfFile(pdf, metadata=pdf_metadata)
        try:
            file.newPage(width, height)
            second = MixedModeRenderer(fig, width, height, pdf_dpi, RendererPdf(file, pdf_dpi, height, width))
            draw(_Tee(renderer, second))
            second.finalize()
            file.finalize()
        finally:
            file.close()

    fig.draw = drawn_twice  # type: ignore[method-assign]
    try:
        yield
    finally:
        del fig.draw
    if not done:
        raise RuntimeError("the SVG writer did not draw the figure")


__all__ = ["can_tee", "drawing_both"]
