"""Writing figures to disk (SVG, PDF, PNG) and inline SVG for the HTML report.

Output is reproducible: the same figure gives byte-identical files. SVG ids use a fixed
hash salt, and the metadata that would carry the time of writing (SVG ``dc:date``, PDF
``CreationDate``/``ModDate``) is left out.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from cartscope.report.figures.style import SVG_HASH_SALT, figure_style

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


def _write(fig: Figure, target: str | Path | io.IOBase, fmt: str, dpi: float, salt: str) -> None:
    with figure_style({"svg.hashsalt": salt}):
        fig.savefig(target, format=fmt, dpi=dpi, metadata=_METADATA[fmt])


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
