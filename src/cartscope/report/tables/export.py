"""Write a :class:`~cartscope.report.tables.base.Table` as CSV, XLSX or DOCX.

The exporters render ``table.display`` cell for cell (the strings are final; no number is
re-formatted here):

- CSV: the grid only, UTF-8 with a byte-order mark so that Excel reads "≥" and "–" correctly;
- XLSX (SpreadsheetML, :mod:`cartscope.report.tables.sheetml`): caption in the first row, bold
  header row with a bottom border, the grid, then the footnotes; column widths fitted to the
  text; panes frozen below the header;
- DOCX (python-docx): the caption ("Table 1. Title") as a paragraph above a real Word table
  whose header row is bold and repeats on every page, footnotes in small type below; landscape
  when the table has more than six columns.

XLSX and DOCX are reproducible: the same table gives a byte-identical file (fixed document
properties and ZIP timestamps, :mod:`cartscope.report.tables.wordml`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from pathlib import Path

from cartscope.report.tables.base import Table

FORMATS: tuple[str, ...] = ("csv", "xlsx", "docx")

_FIXED_TIME = datetime.datetime(2000, 1, 1)
"""The workbook's created/modified properties (the time of writing would make every file differ)."""


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


def export_tables(tables: Iterable[tuple[Table, str | Path, int | str | None]]) -> tuple[Path, ...]:
    """:func:`export_table` of each (table, stem, number), in every format; the paths written."""
    return tuple(path for table, stem, number in tables for path in export_table(table, stem, number=number))


def write_csv(table: Table, path: Path, caption: str | None = None) -> None:
    """The display grid as CSV (caption and footnotes are not data and are left out); text a
    spreadsheet would run as a formula is neutralised (:mod:`cartscope.safe_output`)."""
    from cartscope.safe_output import neutralise_frame, private_file

    neutralise_frame(table.display).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")
    private_file(path)


def write_xlsx(table: Table, path: Path, caption: str | None = None) -> None:
    """Caption row, bold header, the grid, a blank row and the footnotes, in one sheet;
    written as SpreadsheetML directly (:mod:`cartscope.report.tables.sheetml`, the XML
    openpyxl writes), with fixed ZIP timestamps and document dates."""
    from cartscope.report.tables.sheetml import write_xlsx_table
    from cartscope.safe_output import neutralise, private_file

    header = [str(c) for c in table.display.columns]
    values = table.display.to_numpy(dtype=object)
    rows = [[neutralise(str(text)) if text != "" else "" for text in row] for row in values]
    widths = []
    for j, name in enumerate(header):
        texts = [name, *(str(v) for v in values[:, j])] if len(values) else [name]
        widths.append(max(8, min(60, max(len(t) for t in texts) + 2)))
    write_xlsx_table(path, neutralise(caption or table.title), [neutralise(h) for h in header], rows,
                     [neutralise(n) for n in table.footnotes], widths)
    private_file(path)


def write_docx(table: Table, path: Path, caption: str | None = None) -> None:
    """A Word document: caption paragraph, the table (header row repeated), footnotes; written
    as WordprocessingML directly (:mod:`cartscope.report.tables.wordml`, the XML python-docx
    writes, about 50 times faster), with fixed ZIP timestamps."""
    from cartscope.report.tables.wordml import write_docx_table
    from cartscope.safe_output import neutralise, private_file

    header = [neutralise(str(c)) for c in table.display.columns]
    rows = [[neutralise(str(text)) for text in row] for row in table.display.to_numpy(dtype=object)]
    write_docx_table(path, caption or table.title, header, rows, table.footnotes)
    private_file(path)
