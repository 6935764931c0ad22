"""Figures as PowerPoint slides (python-pptx): one slide per figure holding the figure as a
300-dpi picture at its printed size, with its title in the notes; the editable vector
version of the same drawing is the SVG/PDF beside it in ``figures/``.

Why a picture and not native shapes: PowerPoint cannot import matplotlib paths as shapes, and
python-pptx has no SVG support; a 300-dpi PNG at the figure's printed size is what journals
and slide decks accept, while the editable vector version of every figure is its SVG/PDF.
"""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

EMU_PER_INCH = 914400


def figure_pptx(fig: Any, path: Path | str, *, title: str = "", dpi: float = 300, png: bytes | None = None) -> Path:
    """Write ``fig`` as a one-slide presentation at ``path``; the slide has the figure's
    aspect ratio and size (at least 4 inches wide) and carries ``title`` in its notes.
    ``png``: the figure's PNG at ``dpi`` when the caller rendered it already (the report
    renders it once for the PNG file and the slide); else it is rendered here."""
    from pptx import Presentation
    from pptx.util import Emu

    from cartscope.report.figures.export import _write

    w, h = (float(v) for v in fig.get_size_inches())
    scale = max(1.0, 4.0 / w)
    prs = Presentation()
    prs.slide_width = Emu(int(w * scale * EMU_PER_INCH))
    prs.slide_height = Emu(int(h * scale * EMU_PER_INCH))
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    if png is None:
        raster = io.BytesIO()
        _write(fig, raster, "png", dpi, title or "cartscope")
        png = raster.getvalue()
    buf = io.BytesIO(png)
    slide.shapes.add_picture(buf, 0, 0, width=prs.slide_width, height=prs.slide_height)
    if title:
        slide.notes_slide.notes_text_frame.text = title
    prs.core_properties.author = "cartscope"
    prs.core_properties.title = title
    fixed = datetime.datetime(2000, 1, 1)
    prs.core_properties.created = fixed
    prs.core_properties.modified = fixed
    prs.core_properties.last_modified_by = "cartscope"
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    _save_reproducibly(prs, out)
    return out


def _save_reproducibly(prs: Any, out: Path) -> None:
    """Save with fixed ZIP timestamps (python-pptx stamps each entry with the clock), so the
    same figure gives a byte-identical file."""
    from cartscope.report.tables.wordml import rezip

    buf = io.BytesIO()
    prs.save(buf)
    rezip(buf.getvalue(), out)


def figures_pptx(figures: Any, path: Path | str, *, dpi: float = 300) -> Path:
    """All ``figures`` ((title, figure) pairs) as one presentation, a slide per figure."""
    from pptx import Presentation
    from pptx.util import Emu, Inches

    from cartscope.report.figures.export import _write

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(10), Inches(7.5)
    for title, fig in figures:
        w, h = (float(v) for v in fig.get_size_inches())
        s = min(9.5 / w, 7.0 / h)
        slide = prs.slides.add_slide(prs.slide_layouts[6])
        buf = io.BytesIO()
        _write(fig, buf, "png", dpi, title)
        buf.seek(0)
        slide.shapes.add_picture(buf, Emu(int((10 - w * s) / 2 * EMU_PER_INCH)), Emu(int((7.5 - h * s) / 2 * EMU_PER_INCH)),
                                 width=Emu(int(w * s * EMU_PER_INCH)), height=Emu(int(h * s * EMU_PER_INCH)))
        slide.notes_slide.notes_text_frame.text = title
    fixed = datetime.datetime(2000, 1, 1)
    prs.core_properties.created = prs.core_properties.modified = fixed
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    _save_reproducibly(prs, out)
    return out
