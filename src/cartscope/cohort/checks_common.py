"""Shared pieces of validation: the table being checked and vectorised problem reporting.

Checks work on whole columns. Parsing maps each *distinct* cell value once (``pd.factorize``)
so that a 100,000-row labs table costs one hash pass plus work proportional to the number of
different values, and problems are built only for the rows that have one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cartscope.cohort.problems import Problem, Severity
from cartscope.cohort.schema import TableSchema

ROW = "_row"
"""Internal column holding the user-visible row number of each record."""

MISSING = object()
"""Sentinel returned by a cell parser for a cell that holds no value."""

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "#n/a"})
"""Cell texts read as missing (compared case-insensitively after stripping); 'none' is a label."""


@dataclass
class Table:
    """A table under validation: typed columns so far plus where each row came from."""

    schema: TableSchema
    file: str
    frame: pd.DataFrame
    header_row: int = 1
    source_columns: dict[str, str] = field(default_factory=dict)
    """Schema column name -> the header spelling in the file (only columns the file has)."""
    usable: bool = True
    """False when a structural problem (e.g. no patient_id column) makes row checks pointless."""
    raw: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The cells as read, by header name (time columns are parsed from here)."""
    epoch: Any = None
    """``datetime.date`` day 0 of spreadsheet serials (the workbook's 1900/1904 system); ``None``: unknown (CSV)."""
    date_order: str | None = None
    """``DMY`` / ``MDY`` / ``YMD`` for this table's date column (manifest or option); ``None``: decide from values."""
    row_context: np.ndarray | None = None
    """Per row, a prefix naming where the row came from in a non-tabular source (REDCap record, event)."""
    column_fields: dict[str, np.ndarray] = field(default_factory=dict)
    """Schema column -> per-row source column name, where it differs by row (REDCap fields melted into labs)."""

    @property
    def name(self) -> str:
        return self.schema.name

    def has(self, column: str) -> bool:
        return column in self.source_columns

    @property
    def rows(self) -> np.ndarray:
        return self.frame[ROW].to_numpy()


def is_missing_value(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return value.strip().lower() in MISSING_TOKENS
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    return False


def parse_unique(
    values: pd.Series, parse: Callable[[Any], tuple[Any, str | None]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apply ``parse`` to each distinct non-missing cell.

    ``parse(cell) -> (value, error)`` returns ``MISSING`` as value for a cell that holds no
    value. Returns per row: parsed values (object array, ``None`` where missing or invalid),
    error messages (``None`` where fine) and a missing mask.
    """
    codes, parsed, errors, missing = parse_codes(values, parse)
    return parsed[codes], errors[codes], missing[codes]


def parse_codes(
    values: pd.Series, parse: Callable[[Any], tuple[Any, str | None]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`parse_unique` before it is spread over the rows: each row's code and, per distinct
    cell (one slot more, last, for the missing code -1), the parsed value, error and missing flag.
    ``parsed[codes]`` is :func:`parse_unique`'s first result (and so on); a typed column can be
    built from the distinct values alone and then spread."""
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    parsed: list[Any] = []
    errors: list[str | None] = []
    missing: list[bool] = []
    for u in uniques:
        if is_missing_value(u):
            parsed.append(None), errors.append(None), missing.append(True)
            continue
        value, error = parse(u)
        if value is MISSING:
            parsed.append(None), errors.append(None), missing.append(True)
        else:
            parsed.append(None if error else value), errors.append(error), missing.append(False)
    parsed.append(None), errors.append(None), missing.append(True)
    parsed_arr = np.empty(len(parsed), dtype=object)
    parsed_arr[:] = parsed
    errors_arr = np.empty(len(errors), dtype=object)
    errors_arr[:] = errors
    return codes, parsed_arr, errors_arr, np.asarray(missing, dtype=bool)


def emit(
    out: list[Problem],
    table: Table,
    mask: np.ndarray | pd.Series,
    column: str | None,
    code: str,
    messages: Iterable[str] | str,
    severity: Severity = Severity.ERROR,
) -> None:
    """Add one problem per row selected by ``mask`` (messages aligned to the selected rows)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    rows = table.rows[mask]
    col = source_column(table, column) if column else None
    n = len(rows)
    if isinstance(messages, str):
        messages = [messages] * n
    cols = [col] * n
    if column in table.column_fields:
        cols = [c if isinstance(c, str) and c else col for c in table.column_fields[column][mask]]
    if table.row_context is not None:
        messages = [f"{prefix}: {m}" if prefix else m for prefix, m in zip(table.row_context[mask], messages)]
    for row, c, message in zip(rows, cols, messages):
        out.append(Problem(table.file, int(row), c, code, message, severity))


def source_column(table: Table, column: str) -> str:
    """The name the file gives ``column``; a time problem of a table that has dates but no
    ``day`` column names its date column, never a ``day`` column the file does not have."""
    if column == "day" and "day" not in table.source_columns and "date" in table.source_columns:
        return table.source_columns["date"]
    return table.source_columns.get(column, column)


def fmt_value(value: object) -> str:
    """A cell value as shown in a message."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def number_text(value: float) -> str:
    return f"{value:g}"
