"""The DOCX tables written as WordprocessingML are the documents python-docx builds for the
same calls (the writer the report used before), and every Office file the report writes is
reproducible (fixed ZIP timestamps and document dates)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from cartscope.report.tables import Table, export_table
from cartscope.report.tables.wordml import ZIP_EPOCH, ZipEntry, rezip, write_zip


def _python_docx(header: list[str], rows: list[list[str]], caption: str, footnotes: list[str]) -> bytes:
    """The table built through python-docx's object model, cell by cell (the reference)."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    if len(header) > 6:
        section = doc.sections[0]
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    run = doc.add_paragraph(style="Caption").add_run(caption)
    run.bold = True
    run.font.size = Pt(11)
    grid = doc.add_table(rows=1 + len(rows), cols=len(header))
    grid.style = "Table Grid"
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    grid.rows[0]._tr.get_or_add_trPr().append(repeat)
    for i, row in enumerate([header, *rows]):
        for j, text in enumerate(row):
            r = grid.rows[i].cells[j].paragraphs[0].add_run(text)
            r.bold = i == 0
            r.font.size = Pt(9)
    for note in footnotes:
        doc.add_paragraph().add_run(note).font.size = Pt(8)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _parts(data: bytes | Path) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


@pytest.mark.parametrize("ncol", [3, 8])  # portrait, landscape (more than six columns)
def test_docx_is_the_python_docx_document(ncol: int, tmp_path: Path) -> None:
    header = ["Characteristic", "B-ALL (n=35)", "p & q <0.05>"] + [f"c{k}" for k in range(3, ncol)]
    rows = [["Age, years", "  indented", "a\tb"], ["", "two\nlines", "\u2265 3 \u2013 5 \u00b5g"],
            ["trailing ", "=1+1", "'x"]]
    rows = [r + ["x"] * (ncol - 3) for r in rows]
    table = Table(frame=pd.DataFrame(), display=pd.DataFrame(rows, columns=header, dtype=object),
                  title="Baseline", footnotes=("Fisher's exact test.", "n (%)."))
    (path,) = export_table(table, tmp_path / "t", formats=("docx",), number=2)
    from cartscope.safe_output import neutralise

    expected = _parts(_python_docx([neutralise(h) for h in header], [[neutralise(c) for c in r] for r in rows],
                                   "Table 2. Baseline", list(table.footnotes)))
    got = _parts(path)
    assert list(got) == list(expected)
    for name in expected:
        assert got[name] == expected[name], name
    assert b'w:orient="landscape"' in got["word/document.xml"] if ncol > 6 else True


def test_office_files_carry_no_time_of_writing(tmp_path: Path) -> None:
    table = Table(frame=pd.DataFrame(), display=pd.DataFrame({"A": ["1"], "B": ["2"]}, dtype=object), title="T")
    paths = export_table(table, tmp_path / "t", formats=("xlsx", "docx"))
    for path in paths:
        with zipfile.ZipFile(path) as z:
            assert z.testzip() is None
            assert {i.date_time for i in z.infolist()} == {ZIP_EPOCH}
    core = _parts(paths[0])["docProps/core.xml"].decode()
    assert core.count("2000-01-01T00:00:00Z") == 2  # created and modified
    again = export_table(table, tmp_path / "u", formats=("xlsx", "docx"))
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]


def test_zip_writer_round_trip(tmp_path: Path) -> None:
    entries = [ZipEntry("a.xml", b"<a/>" * 100), ZipEntry("dir/\u00e9.txt", "h\u00e9".encode()), ZipEntry("e", b"")]
    write_zip(tmp_path / "x.zip", entries)
    assert _parts(tmp_path / "x.zip") == {"a.xml": b"<a/>" * 100, "dir/\u00e9.txt": "h\u00e9".encode(), "e": b""}
    rezip((tmp_path / "x.zip").read_bytes(), tmp_path / "y.zip")
    assert (tmp_path / "y.zip").read_bytes() == (tmp_path / "x.zip").read_bytes()
