"""Fast, reproducible Office files: a DOCX table written as WordprocessingML text, and ZIP
packages with fixed timestamps.

Why not python-docx per table: building a table cell by cell through python-docx's object
model costs about 3 ms per cell (a report's 29 tables took 1.5 s, most of the report's table
export), and every saved package re-compresses python-docx's 800 kB of style parts. Here the
package parts that never change (styles, theme, settings, fonts, the section properties of a
portrait and a landscape page) are taken once per process from python-docx's own default
document, compressed once, and only ``word/document.xml`` is written per table, as the same
XML python-docx writes for the same calls (``tests/report/test_wordml.py`` compares the two).

Reproducible: every ZIP entry carries the fixed time 1980-01-01 00:00 (the ZIP epoch) instead
of the time of writing, so the same table gives a byte-identical file.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
"""Timestamp of every entry of the packages written here (the earliest a ZIP can hold)."""

_DOS_TIME = 0
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01


class ZipEntry:
    """One compressed ZIP member: name, CRC-32, sizes and the deflated bytes."""

    __slots__ = ("name", "crc", "size", "data")

    def __init__(self, name: str, raw: bytes) -> None:
        comp = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        self.name = name
        self.crc = zlib.crc32(raw) & 0xFFFFFFFF
        self.size = len(raw)
        self.data = comp.compress(raw) + comp.flush()


def write_zip(path: Path | str, entries: Iterable[ZipEntry]) -> None:
    """Write ``entries`` as a ZIP file (deflated, fixed timestamps, no extra fields), the
    layout :mod:`zipfile` writes, so every reader of Office packages opens it."""
    local: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for e in entries:
        name = e.name.encode("utf-8")
        flags = 0 if e.name.isascii() else 0x800
        head = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, 8, _DOS_TIME, _DOS_DATE, e.crc,
                           len(e.data), e.size, len(name), 0)
        local += (head, name, e.data)
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 0x0314, 20, flags, 8, _DOS_TIME,
                                   _DOS_DATE, e.crc, len(e.data), e.size, len(name), 0, 0, 0, 0,
                                   0o600 << 16, offset) + name)
        offset += len(head) + len(name) + len(e.data)
    directory = b"".join(central)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), len(directory), offset, 0)
    Path(path).write_bytes(b"".join(local) + directory + end)


def rezip(data: bytes, path: Path | str) -> None:
    """Write the ZIP package ``data`` (e.g. a workbook saved to memory) to ``path`` with every
    entry's timestamp fixed (see the module docstring); members keep their order and bytes."""
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        entries = [ZipEntry(i.filename, z.read(i)) for i in z.infolist()]
    write_zip(path, entries)


# --- DOCX ------------------------------------------------------------------------------------

_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _esc(text: str) -> str:
    """Text for an XML text node, as lxml escapes it; characters XML cannot hold become U+FFFD."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BAD_XML.sub("\ufffd", text)


def run_xml(text: str, rpr: str) -> str:
    """A ``w:r`` with properties ``rpr`` holding ``text`` as python-docx's ``add_run`` writes it:
    tabs as ``w:tab``, line breaks (``\\n``, ``\\r``) as ``w:br``, ``xml:space="preserve"`` on a
    text with leading or trailing white space, no text element for empty text."""
    parts = [f"<w:r>{rpr}"]
    for k, piece in enumerate(re.split(r"([\t\r\n])", text)):
        if k % 2:
            parts.append("<w:tab/>" if piece == "\t" else "<w:br/>")
        elif piece:
            space = ' xml:space="preserve"' if len(piece.strip()) < len(piece) else ""
            parts.append(f"<w:t{space}>{_esc(piece)}</w:t>")
    parts.append("</w:r>")
    return "".join(parts)


class _Template:
    """The constant parts of python-docx's default document, compressed once."""

    def __init__(self) -> None:
        import io
        import zipfile

        from docx import Document
        from docx.enum.section import WD_ORIENT

        doc = Document()
        self.caption_style = doc.styles["Caption"].style_id if "Caption" in doc.styles else None
        self.grid_style = doc.styles["Table Grid"].style_id
        self.block_width = {False: int(doc._block_width)}
        buf = io.BytesIO()
        doc.save(buf)
        with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
            self.names = [i.filename for i in z.infolist()]
            self.entries = {n: ZipEntry(n, z.read(n)) for n in self.names if n != "word/document.xml"}
            document = z.read("word/document.xml").decode("utf-8")
        self.head = document[: document.index("<w:body>") + len("<w:body>")]
        self.tail = {False: document[document.index("<w:sectPr"):]}
        section = doc.sections[0]
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
        self.block_width[True] = int(doc._block_width)
        buf = io.BytesIO()
        doc.save(buf)
        with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
            wide = z.read("word/document.xml").decode("utf-8")
        self.tail[True] = wide[wide.index("<w:sectPr"):]


_CAPTION_RPR = '<w:rPr><w:b/><w:sz w:val="22"/></w:rPr>'
_NOTE_RPR = '<w:rPr><w:sz w:val="16"/></w:rPr>'


@cache
def _template() -> _Template:
    return _Template()


def docx_xml(caption: str, header: Sequence[str], rows: Sequence[Sequence[str]], footnotes: Sequence[str]) -> str:
    """``word/document.xml`` of a document holding the caption paragraph (bold, 11 pt, the
    Caption style), a table whose header row is bold and repeats on every page (9 pt cells)
    and the footnotes (8 pt); landscape when there are more than six columns. The XML is what
    python-docx writes for the same document."""
    t = _template()
    wide = len(header) > 6
    ncol = len(header)
    width = round((t.block_width[wide] // ncol) / 635) if ncol else 0
    out = [t.head]
    style = f'<w:pPr><w:pStyle w:val="{t.caption_style}"/></w:pPr>' if t.caption_style else ""
    out.append(f"<w:p>{style}{run_xml(caption, _CAPTION_RPR)}</w:p>")
    out.append(f'<w:tbl><w:tblPr><w:tblStyle w:val="{t.grid_style}"/><w:tblW w:type="auto" w:w="0"/>'
               '<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" w:noHBand="0" '
               'w:noVBand="1" w:val="04A0"/></w:tblPr><w:tblGrid>')
    out.append(f'<w:gridCol w:w="{width}"/>' * ncol)
    out.append("</w:tblGrid>")
    cell_open = f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr><w:p>'
    bold, plain = '<w:rPr><w:b/><w:sz w:val="18"/></w:rPr>', '<w:rPr><w:b w:val="0"/><w:sz w:val="18"/></w:rPr>'
    out.append('<w:tr><w:trPr><w:tblHeader w:val="true"/></w:trPr>')
    out += [f"{cell_open}{run_xml(name, bold)}</w:p></w:tc>" for name in header]
    out.append("</w:tr>")
    for row in rows:
        out.append("<w:tr>")
        out += [f"{cell_open}{run_xml(text, plain)}</w:p></w:tc>" for text in row]
        out.append("</w:tr>")
    out.append("</w:tbl>")
    out += [f"<w:p>{run_xml(note, _NOTE_RPR)}</w:p>" for note in footnotes]
    out.append(t.tail[wide])
    return "".join(out)


def write_docx_table(path: Path | str, caption: str, header: Sequence[str], rows: Sequence[Sequence[str]],
                     footnotes: Sequence[str]) -> None:
    """Write the DOCX of :func:`docx_xml` to ``path`` (the other parts: python-docx's default
    document; fixed timestamps)."""
    t = _template()
    body = ZipEntry("word/document.xml", docx_xml(caption, header, rows, footnotes).encode("utf-8"))
    write_zip(path, [body if n == "word/document.xml" else t.entries[n] for n in t.names])


__all__ = ["ZIP_EPOCH", "ZipEntry", "docx_xml", "rezip", "run_xml", "write_docx_table", "write_zip"]
