"""Raw reading of a cohort source into one untyped frame per table.

Three layouts are accepted: a folder of ``<table>.csv`` files, an ``.xlsx`` workbook with one
sheet per table, and a folder of ``<table>.parquet`` files. Reading does no type coercion: a
:class:`RawTable` holds the cells as the file gave them (text for CSV, Python values for XLSX
and Parquet) together with the row number the user sees in their own tool, so that every later
problem can point at ``file:row:column``.

Row numbers: CSV line number with the header as line 1; worksheet row for XLSX (header on its
first non-empty row); for Parquet, which has no visible header, data row ``i`` (0-based) is
reported as ``i + 2`` so that numbering matches the same table exported to CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd

from cartscope.cohort import input_limits
from cartscope.cohort.checks_common import MISSING_TOKENS
from cartscope.cohort.csvtext import normalise_csv_bytes, split_header
from cartscope.cohort.problems import Problem, Severity
from cartscope.cohort.schema import SOURCE_TABLES, TABLE_ORDER, TABLES



@dataclass
class RawTable:
    """One table as read: ``frame`` has the header's column names and object cells."""

    name: str
    file: str
    frame: pd.DataFrame
    rows: np.ndarray
    header_row: int = 1
    epoch: dt.date | None = None
    """Day 0 of spreadsheet serials in this table (the workbook's 1900 or 1904 system)."""
    date_order: str | None = None
    """Order of the date column when the source states it (manifest, REDCap validation)."""
    renames: dict[str, str] = field(default_factory=dict)
    """Header name -> cohort column name (manifest or REDCap mapping); problems keep the header name."""
    row_context: np.ndarray | None = None
    """Per row, where it came from when rows are not lines of a file (REDCap record and event)."""
    column_fields: dict[str, np.ndarray] = field(default_factory=dict)
    """Cohort column -> per-row source field, where one column gathers several fields."""


@dataclass
class RawSource:
    """Everything read from a cohort source, plus the problems met while reading."""

    fmt: str
    source: str
    tables: dict[str, RawTable] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    file_hashes: dict[str, str] = field(default_factory=dict)
    options: dict[str, object] = field(default_factory=dict)
    """Load options the source states (a manifest's date_order, data_cutoff)."""
    conversions: list = field(default_factory=list)
    """Unit conversions applied while reading (a manifest's units per column)."""
    analyte_entries: list = field(default_factory=list)
    """Analyte dictionary entries ``(where, entry)`` the source adds."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _severity_for(table: str) -> Severity:
    return Severity.ERROR if table in TABLES and TABLES[table].required else Severity.WARNING


def _clean_header(cells: list[object], file: str, header_row: int, out: list[Problem]) -> list[str | None]:
    """Stripped header names; blank and repeated names become ``None`` (column ignored)."""
    names: list[str | None] = []
    seen: set[str] = set()
    for cell in cells:
        name = "" if cell is None else str(cell).strip()
        if name and name.lower() in seen:
            out.append(Problem(file, header_row, name, "duplicate-column",
                               f"column {name!r} appears more than once; only the first is read"))
            names.append(_DUPLICATE)
            continue
        if not name:
            names.append(None)
            continue
        seen.add(name.lower())
        names.append(name)
    return names


_DUPLICATE = "\0duplicate"
"""Header slot of a repeated column name (reported once, then ignored)."""


def _frame_from_rows(header: list[str | None], rows: list[list[object]]) -> pd.DataFrame:
    keep = [i for i, n in enumerate(header) if n is not None and n != _DUPLICATE]
    if rows and min(map(len, rows)) >= len(header):  # no short row: each column in one C-level pass
        data = {str(header[i]): list(map(itemgetter(i), rows)) for i in keep}
    else:  # a short row's missing cells are None
        data = {str(header[i]): [r[i] if i < len(r) else None for r in rows] for i in keep}
    return pd.DataFrame(data, dtype=object, index=pd.RangeIndex(len(rows)))


def _blank_header_cells(header: list[str | None], rows: list[list[object]], row_numbers: list[int],
                        file: str, header_row: int, out: list[Problem]) -> None:
    """A column without a name that holds data is reported (its cells cannot be placed)."""
    for i, name in enumerate(header):
        if name is not None:
            continue
        for r, line in zip(rows, row_numbers):
            if i < len(r) and not _is_missing(r[i]):
                out.append(Problem(file, header_row, None, "blank-header",
                                   f"column {i + 1} has data (first at row {line}) but no name in the header"))
                break


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in MISSING_TOKENS
    if isinstance(value, float):
        return bool(np.isnan(value))
    return False


def read_csv_text(name: str, file: str, data: bytes, out: list[Problem]) -> RawTable | None:
    """Parse one CSV file's bytes; ``None`` when the file is unusable (problem recorded)."""
    severity = _severity_for(name)
    if not data.strip():
        out.append(Problem(file, None, None, "empty-file", f"{file} is empty (no header, no rows)", severity))
        return None
    too_large = input_limits.check_csv(data, file)
    if too_large is not None:
        out.append(too_large)
        return None
    data = normalise_csv_bytes(data, file, out)  # UTF-16 / BOM, ';' separators, decimal commas
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start
        line = data[:start].count(b"\n") + 1
        out.append(Problem(
            file, line, None, "not-utf8",
            f"not UTF-8 text: byte 0x{data[start]:02x} at offset {start} (line {line}); "
            "save the file as UTF-8 (in Excel: CSV UTF-8)"))
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str | None] | None = None
    header_row = 1
    rows: list[list[object]] = []
    numbers: list[int] = []
    last_line = 0
    try:
        for record in reader:
            first_line = last_line + 1
            last_line = reader.line_num
            if not (record and record[0].strip()) and not any(cell.strip() for cell in record):
                continue  # a blank row (the first cell decides for almost every row)
            rows.append(record)
            numbers.append(first_line)
    except csv.Error as exc:
        out.append(Problem(file, last_line + 1, None, "unreadable", f"cannot parse CSV: {exc}"))
        return None
    if not rows:
        out.append(Problem(file, None, None, "empty-file", f"{file} is empty (no header, no rows)", severity))
        return None
    cells, header_row, rows, numbers = split_header(rows, numbers, name, file, out)  # type: ignore[assignment]
    header = _clean_header(list(cells), file, header_row, out)
    for record, line in zip(rows, numbers):
        if len(record) > len(header) and any(str(c).strip() for c in record[len(header):]):
            out.append(Problem(file, line, None, "ragged-row",
                               f"row has {len(record)} fields but the header has {len(header)}; "
                               "the extra fields are ignored (an unquoted comma in a value?)"))
    _blank_header_cells(header, rows, numbers, file, header_row, out)
    frame = _frame_from_rows(header, rows)
    return RawTable(name, file, frame, np.asarray(numbers, dtype=np.int64), header_row)


def _table_files(root: Path, suffix: str, src: RawSource) -> Iterator[tuple[str, Path, bytes]]:
    """Each ``<table><suffix>`` file in ``root`` as (table, path, bytes), hashed on the way.

    Files that are not a cohort table are hashed too (they were part of the input) and
    reported as a warning.
    """
    for path in sorted(root.glob(f"*{suffix}")):
        name = path.stem.strip().lower()
        data, refused = input_limits.read_bounded(path, path.name, input_limits.limits().max_table_bytes)
        if data is None:
            src.problems.append(refused)
            src.unreadable.add(name)
            continue
        src.file_hashes[path.name] = _sha256(data)
        if name not in TABLES and name not in SOURCE_TABLES:
            src.problems.append(Problem(path.name, None, None, "unknown-table",
                                        f"{path.name} is not a cohort table (tables: {', '.join(TABLE_ORDER)}); ignored",
                                        Severity.WARNING))
            continue
        yield name, path, data


def _read_csv_folder(root: Path, src: RawSource) -> None:
    for name, path, data in _table_files(root, ".csv", src):
        table = read_csv_text(name, path.name, data, src.problems)
        if table is None:
            src.unreadable.add(name)
        else:
            src.tables[name] = table


def _read_parquet_folder(root: Path, src: RawSource) -> None:
    import pyarrow.parquet as pq

    for name, path, data in _table_files(root, ".parquet", src):
        too_large = input_limits.check_parquet(data, path.name)
        if too_large is not None:
            src.problems.append(too_large)
            src.unreadable.add(name)
            continue
        try:
            arrow = pq.read_table(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
            src.problems.append(Problem(path.name, None, None, "unreadable", f"cannot read Parquet file: {exc}"))
            src.unreadable.add(name)
            continue
        frame = arrow.to_pandas()
        frame.columns = [str(c).strip() for c in frame.columns]
        src.tables[name] = RawTable(name, path.name, frame.reset_index(drop=True),
                                    np.arange(2, len(frame) + 2, dtype=np.int64), 1)


def _read_workbook(path: Path, src: RawSource) -> None:
    import openpyxl

    data, refused = input_limits.read_bounded(path, path.name, input_limits.limits().max_workbook_bytes)
    scan = input_limits.check_xlsx(data, path.name) if data is not None else None
    if data is None or scan.problems:
        src.problems.extend([refused] if data is None else scan.problems)
        src.unreadable.update(TABLE_ORDER)
        return
    src.file_hashes[path.name] = _sha256(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile / xml errors for a damaged or mislabelled file
        src.problems.append(Problem(path.name, None, None, "unreadable", f"cannot read the workbook: {exc}"))
        src.unreadable.update(TABLE_ORDER)
        return
    try:
        for sheet_name in workbook.sheetnames:
            name = sheet_name.strip().lower()
            file = f"{path.name}[{sheet_name}]"
            if name not in TABLES and name not in SOURCE_TABLES:
                src.problems.append(Problem(file, None, None, "unknown-table",
                                            f"sheet {sheet_name!r} is not a cohort table "
                                            f"(tables: {', '.join(TABLE_ORDER)}); ignored", Severity.WARNING))
                continue
            table = _read_sheet(workbook[sheet_name], name, file, src.problems)
            if sheet_name in scan.sheets:
                src.problems.extend(input_limits.formula_problems(scan.sheets[sheet_name], file))
            if table is None:
                src.unreadable.add(name)
            else:
                table.epoch = workbook_epoch(workbook)
                src.tables[name] = table
    finally:
        workbook.close()


def workbook_epoch(workbook: object) -> dt.date:
    """Day 0 of the workbook's date serials: 1899-12-30 (1900 system) or 1904-01-01 (1904 system)."""
    epoch = getattr(workbook, "epoch", None)
    return epoch.date() if isinstance(epoch, dt.datetime) else dt.date(1899, 12, 30)


def _read_sheet(sheet: object, name: str, file: str, out: list[Problem]) -> RawTable | None:
    header: list[str | None] | None = None
    header_row = 1
    rows: list[list[object]] = []
    numbers: list[int] = []
    if hasattr(sheet, "reset_dimensions"):  # read every row, not only the declared used range
        sheet.reset_dimensions()
    for row_no, values in enumerate(sheet.iter_rows(values_only=True), start=1):  # type: ignore[attr-defined]
        cells = list(values)
        if all(_is_missing(v) for v in cells):
            continue
        rows.append(cells)
        numbers.append(row_no)
    if not rows:
        out.append(Problem(file, None, None, "empty-file", f"sheet {file} is empty (no header, no rows)",
                           _severity_for(name)))
        return None
    cells, header_row, rows, numbers = split_header(rows, numbers, name, file, out)
    header = _clean_header(list(cells), file, header_row, out)
    while header and header[-1] is None:
        header.pop()
    _blank_header_cells(header, rows, numbers, file, header_row, out)
    frame = _frame_from_rows(header, rows)
    return RawTable(name, file, frame, np.asarray(numbers, dtype=np.int64), header_row)


def _special_source(path: Path) -> RawSource | None:
    """A source read through a ``cohort.yaml`` manifest, or a folder with SPSS/Stata/SAS tables."""
    from cartscope.cohort.manifest import find_manifest, has_stat_tables, read_manifest_source, read_stat_folder

    manifest = find_manifest(path) if path.exists() else None
    if manifest is not None:
        return read_manifest_source(manifest)
    if has_stat_tables(path):
        return read_stat_folder(path)
    return None


def read_source(path: Path | str) -> RawSource:
    """Read the cohort at ``path`` (CSV folder, XLSX workbook or Parquet folder) without coercion."""
    path = Path(path)
    src = RawSource(fmt="", source=str(path))
    refused = input_limits.check_source_path(path)
    if refused is not None:
        src.problems.append(refused)
        src.unreadable.update(TABLE_ORDER)
        return src
    special = _special_source(path)
    if special is not None:
        return special
    if not path.exists():
        src.problems.append(Problem(path.name or str(path), None, None, "no-such-path",
                                    f"{path} does not exist"))
        src.unreadable.update(TABLE_ORDER)
        return src
    if path.is_file():
        if path.suffix.lower() == ".xlsx":
            src.fmt = "xlsx"
            _read_workbook(path, src)
            return src
        hint = " (save it as .xlsx)" if path.suffix.lower() in (".xls", ".ods") else ""
        src.problems.append(Problem(
            path.name, None, None, "unsupported-format",
            f"{path.name} is not a cohort source{hint}: give a folder of <table>.csv or <table>.parquet "
            "files, or an .xlsx workbook with one sheet per table"))
        src.unreadable.update(TABLE_ORDER)
        return src
    has_csv = any(p.stem.lower() in TABLES for p in path.glob("*.csv"))
    has_parquet = any(p.stem.lower() in TABLES for p in path.glob("*.parquet"))
    if has_csv and has_parquet:
        src.problems.append(Problem(path.name, None, None, "mixed-formats",
                                    "the folder has both CSV and Parquet table files; keep one format"))
        src.unreadable.update(TABLE_ORDER)
        return src
    if has_parquet:
        src.fmt = "parquet"
        _read_parquet_folder(path, src)
    else:
        src.fmt = "csv"
        _read_csv_folder(path, src)
    return src
