"""A report table as an XLSX workbook, written as SpreadsheetML text.

Why not openpyxl per table: building a sheet cell by cell through openpyxl's object model
(a style object per cell, then the stylesheet, theme and package parts serialised again)
costs about 30 ms per table, most of the report's table export. The workbook of a report
table always has one sheet and the same ten cell formats, so the package parts that never
change (content types, relationships, workbook, stylesheet, theme, document properties) are
taken once per process from a workbook openpyxl writes with those formats, and only
``xl/worksheets/sheet1.xml`` is written per table, as the XML openpyxl writes for the same
cells (``tests/report/test_sheetml.py`` compares the two, part by part).

Layout (see :func:`cartscope.report.tables.export.write_xlsx`): the caption in A1 (bold,
12 pt), the header row (bold, thin rules above and below, wrapped; first column left, the
others centred), the grid (centred but for the first column) closed by a thin rule, a blank
row, the footnotes (italic, 9 pt); column widths fitted to the text; panes frozen below the
header. Every text cell is a string (never a formula: the caller neutralises the text).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from cartscope.report.tables.wordml import ZipEntry, write_zip

# cell formats, in the order the stylesheet holds them (index = the ``s`` attribute); the
# last two are the header of a table without rows, whose closing rule replaces its own
PLAIN, TITLE, HEAD_LEFT, HEAD_CENTRE, CENTRE, RULE, RULE_CENTRE, FOOTNOTE, HEAD_LEFT_RULE, HEAD_CENTRE_RULE = range(10)

_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_PART = "xl/worksheets/sheet1.xml"


def _text(value: str) -> str:
    """``value`` as the XML of an inline string's ``<t>`` (as openpyxl writes it)."""
    value = _BAD_XML.sub("", value)
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = "".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in escaped)
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f"<t{space}>{escaped}</t>"


def _cell(ref: str, style: int, value: str | None) -> str:
    s = f' s="{style}"' if style else ""
    if value is None:
        return f'<c r="{ref}"{s} t="n"></c>'
    return f'<c r="{ref}"{s} t="inlineStr"><is>{_text(value)}</is></c>'


def sheet_xml(caption: str, header: Sequence[str], rows: Sequence[Sequence[str]], footnotes: Sequence[str],
              widths: Sequence[float]) -> str:
    """The worksheet of one table (see the module docstring); ``""`` cells are empty."""
    from openpyxl.utils import get_column_letter as column_letter  # loaded already for the fixed parts

    n_col = max(1, len(header))
    last = 2 + len(rows)
    cells: list[list[str]] = [[_cell("A1", TITLE, caption)]]
    head = []
    for j, name in enumerate(header, start=1):
        if last == 2:  # no rows: the closing rule replaces the header's rules
            style = HEAD_LEFT_RULE if j == 1 else HEAD_CENTRE_RULE
        else:
            style = HEAD_LEFT if j == 1 else HEAD_CENTRE
        head.append(_cell(f"{column_letter(j)}2", style, name))
    cells.append(head)
    for i, row in enumerate(rows, start=3):
        line = []
        for j, text in enumerate(row, start=1):
            if i == last:
                style = RULE if j == 1 else RULE_CENTRE
            else:
                style = PLAIN if j == 1 else CENTRE
            line.append(_cell(f"{column_letter(j)}{i}", style, text if text != "" else None))
        cells.append(line)
    body = [f'<row r="{r}">{"".join(c)}</row>' for r, c in enumerate(cells, start=1) if c]
    for k, note in enumerate(footnotes, start=last + 2):
        body.append(f'<row r="{k}">{_cell(f"A{k}", FOOTNOTE, note)}</row>')
    bottom = last + 1 + len(footnotes) if footnotes else last
    cols = "".join(f'<col width="{_num(w)}" customWidth="1" min="{j}" max="{j}"/>'
                   for j, w in enumerate(widths, start=1))
    return ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetPr>'
            '<outlinePr summaryBelow="1" summaryRight="1"/><pageSetUpPr/></sheetPr>'
            f'<dimension ref="A1:{column_letter(n_col)}{bottom}"/><sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A1" sqref="A1"/></sheetView></sheetViews>'
            f'<sheetFormatPr baseColWidth="8" defaultRowHeight="15"/><cols>{cols}</cols>'
            f'<sheetData>{"".join(body)}</sheetData>'
            '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/></worksheet>')


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


@cache
def _fixed_parts() -> tuple[ZipEntry, ...]:
    """Every package part but the worksheet, compressed once: taken from a workbook openpyxl
    writes with the ten cell formats registered in :data:`PLAIN` ... :data:`HEAD_CENTRE_RULE`
    order."""
    import io
    import zipfile

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.writer.excel import ExcelWriter

    from cartscope.report.tables.export import _FIXED_TIME

    wb = Workbook()
    ws = wb.active
    ws.title = "Table"
    rule = Side(style="thin")
    formats = [  # TITLE ... FOOTNOTE (PLAIN is the default format 0)
        {"font": Font(bold=True, size=12)},
        {"font": Font(bold=True), "border": Border(top=rule, bottom=rule),
         "alignment": Alignment(horizontal="left", wrap_text=True)},
        {"font": Font(bold=True), "border": Border(top=rule, bottom=rule),
         "alignment": Alignment(horizontal="center", wrap_text=True)},
        {"alignment": Alignment(horizontal="center")},
        {"border": Border(bottom=rule)},
        {"border": Border(bottom=rule), "alignment": Alignment(horizontal="center")},
        {"font": Font(italic=True, size=9)},
        {"font": Font(bold=True), "border": Border(bottom=rule),
         "alignment": Alignment(horizontal="left", wrap_text=True)},
        {"font": Font(bold=True), "border": Border(bottom=rule),
         "alignment": Alignment(horizontal="center", wrap_text=True)},
    ]
    for k, fmt in enumerate(formats, start=1):
        cell = ws.cell(row=k, column=1, value="x")
        for name, value in fmt.items():
            setattr(cell, name, value)
    wb.properties.created = wb.properties.modified = _FIXED_TIME
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        return tuple(ZipEntry(i.filename, z.read(i)) for i in z.infolist())


def write_xlsx_table(path: Path | str, caption: str, header: Sequence[str], rows: Sequence[Sequence[str]],
                     footnotes: Sequence[str], widths: Sequence[float]) -> None:
    """Write the workbook of one table to ``path`` (fixed ZIP timestamps: the same table gives
    the same bytes)."""
    sheet = ZipEntry(_SHEET_PART, sheet_xml(caption, header, rows, footnotes, widths).encode("utf-8"))
    write_zip(path, [sheet if e.name == _SHEET_PART else e for e in _fixed_parts()])


__all__ = ["sheet_xml", "write_xlsx_table"]
