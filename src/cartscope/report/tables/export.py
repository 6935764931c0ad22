"""Write a :class:`~cartscope.report.tables.base.Table` as CSV, XLSX or DOCX.

The exporters render ``table.display`` cell for cell (the strings are final; no number is
re-formatted here):

- CSV: the grid only, UTF-8 with a byte-order mark so that Excel reads "≥" and "–" correctly;
- XLSX (openpyxl): caption in the first row, bold header row with a bottom border, the grid,
  then the footnotes; column widths fitted to the text; panes frozen below the header;
- DOCX (python-docx): the caption ("Table 1. Title") as a paragraph above a real Word table
  whose header row is bold and repeats on every page, footnotes in small type below; landscape
  when the table has more than six columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cartscope.report.tables.base import Table

FORMATS: tuple[str, ...] = ("csv", "xlsx", "docx")


def export_table(
    table: Table,
    stem: str | Path,
    formats: Iterable[str] = FORMATS,
    *,
    number: int | str | None = None,
) -> list[Path]:
    """Write ``table`` to ``stem.csv`` / ``stem.xlsx`` / ``stem.docx``; return the paths written.

    ``number`` makes the caption "Table <number>. <title>". Parent folders are created.
    """
    if not isinstance(table, Table):
        raise TypeError(f"export_table expects a Table, got {type(table).__name__}")
    wanted = [f.lower().lstrip(".") for f in formats]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format(s) {unknown}; choose from {', '.join(FORMATS)}")
    base = Path(stem)
    if base.suffix.lower().lstrip(".") in FORMATS:
        base = base.with_suffix("")
    base.parent.mkdir(parents=True, exist_ok=True)
    caption = table.caption(number)
    writers = {"csv": write_csv, "xlsx": write_xlsx, "docx": write_docx}
    paths = []
    for fmt in dict.fromkeys(wanted):
        path = base.with_name(f"{base.name}.{fmt}")
        writers[fmt](table, path, caption)
        paths.append(path)
    return paths


def write_csv(table: Table, path: Path, caption: str | None = None) -> None:
    """The display grid as CSV (caption and footnotes are not data and are left out); text a
    spreadsheet would run as a formula is neutralised (:mod:`cartscope.safe_output`)."""
    from cartscope.safe_output import neutralise_frame, private_file

    neutralise_frame(table.display).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")
    private_file(path)


def write_xlsx(table: Table, path: Path, caption: str | None = None) -> None:
    """Caption row, bold header, the grid, a blank row and the footnotes, in one sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    from cartscope.safe_output import neutralise, private_file

    wb = Workbook()
    ws = wb.active
    ws.title = "Table"
    header = [str(c) for c in table.display.columns]
    title = ws.cell(row=1, column=1, value=neutralise(caption or table.title))
    title.data_type = "s"
    title.font = Font(bold=True, size=12)
    rule = Side(style="thin")
    for j, name in enumerate(header, start=1):
        cell = ws.cell(row=2, column=j, value=neutralise(name))
        cell.data_type = "s"  # a string, never a formula
        cell.font = Font(bold=True)
        cell.border = Border(top=rule, bottom=rule)
        cell.alignment = Alignment(horizontal="left" if j == 1 else "center", wrap_text=True)
    values = table.display.to_numpy(dtype=object)
    for i, row in enumerate(values, start=3):
        for j, text in enumerate(row, start=1):
            cell = ws.cell(row=i, column=j, value=neutralise(str(text)) if text != "" else None)
            if cell.value is not None:
                cell.data_type = "s"
            if j > 1:
                cell.alignment = Alignment(horizontal="center")
    last = 2 + len(values)
    for j in range(1, len(header) + 1):
        ws.cell(row=last, column=j).border = Border(bottom=rule)
    for k, note in enumerate(table.footnotes, start=last + 2):
        foot = ws.cell(row=k, column=1, value=neutralise(note))
        foot.data_type = "s"
        foot.font = Font(italic=True, size=9)
    for j, name in enumerate(header, start=1):
        texts = [name, *(str(v) for v in values[:, j - 1])] if len(values) else [name]
        width = min(60, max(len(t) for t in texts) + 2)
        ws.column_dimensions[get_column_letter(j)].width = max(8, width)
    ws.freeze_panes = "A3"
    wb.save(path)
    private_file(path)


def write_docx(table: Table, path: Path, caption: str | None = None) -> None:
    """A Word document: caption paragraph, the table (header row repeated), footnotes."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    header = [str(c) for c in table.display.columns]
    if len(header) > 6:
        section = doc.sections[0]
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    para = doc.add_paragraph(style="Caption") if "Caption" in doc.styles else doc.add_paragraph()
    run = para.add_run(caption or table.title)
    run.bold = True
    run.font.size = Pt(11)

    values = table.display.to_numpy(dtype=object)
    grid = doc.add_table(rows=1 + len(values), cols=len(header))
    grid.style = "Table Grid"
    head_row = grid.rows[0]
    tr_pr = head_row._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    tr_pr.append(repeat)
    from cartscope.safe_output import neutralise, private_file

    for j, name in enumerate(header):
        _set_cell(head_row.cells[j], neutralise(name), bold=True)
    for i, row in enumerate(values, start=1):
        cells = grid.rows[i].cells
        for j, text in enumerate(row):
            _set_cell(cells[j], neutralise(str(text)), bold=False)
    for note in table.footnotes:
        p = doc.add_paragraph()
        r = p.add_run(note)
        r.font.size = Pt(8)
    doc.save(path)
    private_file(path)


def _set_cell(cell: Any, text: str, *, bold: bool) -> None:
    from docx.shared import Pt

    paragraph = cell.paragraphs[0]
    run = paragraph.add_run(text)
    run.bold = bold
    run.font.size = Pt(9)
