"""The XLSX tables written as SpreadsheetML are the workbooks openpyxl builds for the same
cells (the writer the report used before): the worksheet XML byte for byte, and every cell's
value, font, rules and alignment, the column widths and the frozen panes as openpyxl reads
them back."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from cartscope.report.tables import Table, export_table
from cartscope.report.tables.sheetml import sheet_xml

SHEET = "xl/worksheets/sheet1.xml"


def _openpyxl_workbook(table: Table, caption: str) -> bytes:
    """The workbook built through openpyxl's object model, cell by cell (the reference)."""
    import datetime

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    from cartscope.safe_output import neutralise

    wb = Workbook()
    ws = wb.active
    ws.title = "Table"
    header = [str(c) for c in table.display.columns]
    ws.cell(row=1, column=1, value=neutralise(caption)).font = Font(bold=True, size=12)
    ws["A1"].data_type = "s"
    rule = Side(style="thin")
    for j, name in enumerate(header, start=1):
        cell = ws.cell(row=2, column=j, value=neutralise(name))
        cell.data_type = "s"
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
        ws.column_dimensions[get_column_letter(j)].width = max(8, min(60, max(len(t) for t in texts) + 2))
    ws.freeze_panes = "A3"
    wb.properties.created = wb.properties.modified = datetime.datetime(2000, 1, 1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    return buf.getvalue()


def _table(rows: list[list[str]], columns: list[str], footnotes: tuple[str, ...] = ()) -> Table:
    display = pd.DataFrame(rows, columns=columns, dtype=object)
    return Table(frame=display.copy(), display=display, title="Response & outcome <by group>", footnotes=footnotes)


TABLES = {
    "full": _table([["Age (years), median (range)", "33 (11\u201360)", "47 (17\u201367)", "0.0053"],
                    ["Sex, n (%)", "", "", "0.0029"],
                    ["    Female", "22 (62.9)", "28 (33.3)", ""],
                    ["", "=SUM(A1)", "\u2265 2 \u00b5g/L", "<0.001"]],
                   ["Characteristic", "B-ALL (n=35)", "B-NHL (n=84)", "p"],
                   ("Values are n (%).", " Mann-Whitney: two-sided. ")),
    "one column": _table([["alpha"], ["beta"]], ["Marker"]),
    "no rows": _table([], ["Marker", "AUC", "p"], ("No marker reached the screen.",)),
    "wide": _table([[f"v{i}" for i in range(30)]], [f"column {i}" for i in range(30)]),
}


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def _read_back(data: bytes) -> tuple:
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(data)).active
    def side(s: object) -> object:
        return getattr(s, "style", None)

    cells = [(c.coordinate, c.value, c.data_type, c.font.b, c.font.i, c.font.sz, side(c.border.top),
              side(c.border.bottom), c.alignment.horizontal, c.alignment.wrap_text)
             for row in ws.iter_rows() for c in row]
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    return ws.title, ws.freeze_panes, ws.dimensions, cells, widths


@pytest.mark.parametrize("name", list(TABLES))
def test_workbook_is_the_one_openpyxl_builds(name: str, tmp_path: Path) -> None:
    table = TABLES[name]
    (path,) = export_table(table, tmp_path / "t", formats=("xlsx",), number=3)
    ours = path.read_bytes()
    reference = _openpyxl_workbook(table, table.caption(3))
    assert _read_back(ours) == _read_back(reference)
    mine, theirs = _parts(ours), _parts(reference)
    assert list(mine) == list(theirs)
    if name == "full":  # openpyxl numbers formats in order of first use: here the order of ours
        assert mine[SHEET] == theirs[SHEET]
    for part in theirs:
        if part not in (SHEET, "xl/styles.xml"):
            assert mine[part] == theirs[part], part


def test_workbook_is_reproducible(tmp_path: Path) -> None:
    table = TABLES["full"]
    first = export_table(table, tmp_path / "a", formats=("xlsx",))[0].read_bytes()
    second = export_table(table, tmp_path / "b", formats=("xlsx",))[0].read_bytes()
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_column_letters() -> None:
    header = [f"c{j}" for j in range(1, 704)]
    xml = sheet_xml("caption", header, [["x"] * len(header)], [], [8] * len(header))
    for ref in ("A2", "Z2", "AA2", "AZ2", "BA2", "ZZ2", "AAA2", "AAA3"):
        assert f'<c r="{ref}"' in xml
    assert '<dimension ref="A1:AAA3"/>' in xml
