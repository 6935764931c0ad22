"""The report PDF's figures: each figure's own PDF file placed into the printed page.

Why: printed as it is, the page makes Chromium render every inline SVG figure once more,
after matplotlib has drawn it for the SVG and saved it as the figure's PDF file; on the
jin2023 report that print took about 3 CPU-seconds of the command's critical path. So the
page is printed with a placeholder image where each figure goes (:func:`placeholder_src`:
the figure's box, laid out by the same CSS, with the caption as its alternative text), and
:func:`place_figures` then replaces each placeholder with the figure's PDF page as a form
XObject scaled to the placeholder's box. The layout of the pages is the browser's, the
figures are matplotlib's vector drawings (text kept as text, TrueType fonts embedded), and
the PDF stays tagged: each figure is drawn inside the marked content of its ``Figure``
structure element, which carries the alternative text.

The PDF objects are read and written with pikepdf (qpdf): copying pages between files as
form XObjects, keeping the structure tree and writing a deterministic file (the same inputs
give the same bytes) is its job. Font files that several figures embed identically (their
subsets share the common glyphs, :mod:`cartscope.report.figures.export`) are kept once.

A placeholder is found by its size and its pixels (``2 + index`` pixels wide, two high, a
pattern of its own), never by position, so a page the browser lays out differently can
never get the wrong figure: a placeholder missing or found twice is a
:class:`PlacementError`, and the report then prints the page with its inline figures.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

PLACEHOLDER_HEIGHT = 2


class PlacementError(RuntimeError):
    """The printed page's placeholders do not match the figures (missing, or found twice)."""


def _pixels(index: int) -> bytes:
    """The RGB samples of placeholder ``index``, row by row."""
    width = 2 + index
    return bytes((index * 7 + x * 13 + y * 29 + 1) % 256 for y in range(PLACEHOLDER_HEIGHT) for x in range(3 * width))


def placeholder_png(index: int) -> bytes:
    """A PNG of placeholder ``index`` (``2 + index`` x 2 pixels, 8-bit RGB, see :func:`_pixels`)."""
    width, samples = 2 + index, _pixels(index)
    row = 3 * width
    raw = b"".join(b"\0" + samples[y * row:(y + 1) * row] for y in range(PLACEHOLDER_HEIGHT))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, PLACEHOLDER_HEIGHT, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def placeholder_src(index: int) -> str:
    """The ``data:`` URI of placeholder ``index``, for an ``<img src>``."""
    return "data:image/png;base64," + base64.b64encode(placeholder_png(index)).decode("ascii")


def _images(resources: Any, seen: set[tuple[int, int]]) -> Iterator[tuple[Any, Any, Any]]:
    """(XObject dictionary, name, image) of every image drawn through ``resources``, nested
    form XObjects included (each object once)."""
    import pikepdf

    xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
    if not isinstance(xobjects, pikepdf.Dictionary):
        return
    for name, obj in list(xobjects.items()):
        if not isinstance(obj, pikepdf.Stream) or obj.objgen in seen:
            continue
        seen.add(obj.objgen)
        kind = obj.stream_dict.get("/Subtype")
        if kind == "/Image":
            yield xobjects, name, obj
        elif kind == "/Form":
            yield from _images(obj.stream_dict.get("/Resources"), seen)


def _placeholder_index(image: Any, count: int) -> int | None:
    """The index of the placeholder ``image`` is (its size and its samples), else None."""
    import pikepdf

    try:
        width, height = int(image.stream_dict.get("/Width", 0)), int(image.stream_dict.get("/Height", 0))
    except (TypeError, ValueError):
        return None
    index = width - 2
    if height != PLACEHOLDER_HEIGHT or not 0 <= index < count:
        return None
    try:
        samples = pikepdf.PdfImage(image).read_bytes()
    except Exception:  # noqa: BLE001 - an image pikepdf cannot decode is not a placeholder
        return None
    return index if samples == _pixels(index) else None


def place_figures(printed: Path, figures: Sequence[Path], out: Path) -> None:
    """Write ``out``: the PDF ``printed`` with placeholder ``k`` replaced by the first page of
    ``figures[k]`` (a form XObject mapped onto the placeholder's box: an image is drawn in
    the unit square its transformation places, so the form's matrix maps its bounding box
    to that square). Identical embedded font files are kept once. Raises
    :class:`PlacementError` when a placeholder is missing or found twice, or a file cannot
    be read."""
    import pikepdf

    try:
        _place(printed, figures, out)
    except pikepdf.PdfError as exc:
        raise PlacementError(f"the figure PDFs could not be placed: {exc}") from exc


def _place(printed: Path, figures: Sequence[Path], out: Path) -> None:
    import pikepdf

    with pikepdf.open(printed) as pdf:
        found: dict[int, tuple[Any, Any]] = {}
        seen: set[tuple[int, int]] = set()
        for page in pdf.pages:
            for xobjects, name, image in _images(page.obj.get("/Resources"), seen):
                index = _placeholder_index(image, len(figures))
                if index is None:
                    continue
                if index in found:
                    raise PlacementError(f"placeholder of figure {index + 1} found twice in the printed page")
                found[index] = (xobjects, name)
        missing = [k + 1 for k in range(len(figures)) if k not in found]
        if missing:
            raise PlacementError(f"placeholder of figure(s) {missing} not in the printed page")
        fonts: dict[str, Any] = {}
        for index, path in enumerate(figures):
            with pikepdf.open(path) as source:
                page = source.pages[0]
                x0, y0, x1, y1 = (float(v) for v in page.mediabox)
                form = pdf.copy_foreign(page.as_form_xobject())
            width, height = x1 - x0, y1 - y0
            form.Matrix = pikepdf.Array([1 / width, 0, 0, 1 / height, -x0 / width, -y0 / height])
            _share_fonts(form, fonts)
            xobjects, name = found[index]
            xobjects[name] = form
        pdf.save(out, deterministic_id=True, compress_streams=True,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate)


_FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")


def _share_fonts(form: Any, fonts: dict[str, Any]) -> None:
    """Point every font descriptor of ``form`` whose embedded font file has the bytes of one
    seen before (``fonts``: digest -> stream) at that one."""
    import pikepdf

    resources = form.stream_dict.get("/Resources")
    font_dict = resources.get("/Font") if isinstance(resources, pikepdf.Dictionary) else None
    if not isinstance(font_dict, pikepdf.Dictionary):
        return
    for font in font_dict.values():
        descendants = font.get("/DescendantFonts")
        for part in [font, *(descendants if isinstance(descendants, pikepdf.Array) else [])]:
            descriptor = part.get("/FontDescriptor")
            if not isinstance(descriptor, pikepdf.Dictionary):
                continue
            for key in _FONT_FILES:
                stream = descriptor.get(key)
                if not isinstance(stream, pikepdf.Stream):
                    continue
                head = repr(sorted((k, str(v)) for k, v in stream.stream_dict.items() if k != "/Length"))
                digest = hashlib.sha256(head.encode() + stream.read_raw_bytes()).hexdigest()
                descriptor[key] = fonts.setdefault(digest, stream)


__all__ = ["PLACEHOLDER_HEIGHT", "PlacementError", "place_figures", "placeholder_png", "placeholder_src"]
