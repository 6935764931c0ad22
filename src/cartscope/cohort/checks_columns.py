"""Table structure and cell types: required columns, unknown columns, coercion per schema kind.

Kinds (``schema.Column.kind``): ``str`` (text; patient ids stay text), ``int`` (nullable
``Int64``), ``float`` (``float64``), ``bool`` (nullable ``boolean``; yes/no, true/false, y/n,
1/0 in any case), ``category`` (canonical label from ``schema.CATEGORY_ALIASES`` or a
case-insensitive match to ``allowed``; kept as text). ``day``/``date`` columns are parsed in
:mod:`cartscope.cohort.checks_time`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re

import numpy as np
import pandas as pd

from cartscope.cohort.checks_common import MISSING, ROW, Table, emit, fmt_value, number_text, parse_codes, parse_unique
from cartscope.cohort.problems import Problem, Severity
from cartscope.cohort.readers import RawTable
from cartscope.cohort.schema import CATEGORY_ALIASES, Column, TableSchema

STR_DTYPE = pd.StringDtype(na_value=np.nan)
"""Text columns use pandas' default string dtype (missing = NaN)."""

TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1", "1.0"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0", "0.0"})

_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


# --- cell parsers ------------------------------------------------------------------------


def parse_text(cell: object) -> tuple[object, str | None]:
    if isinstance(cell, bool | np.bool_):
        return str(bool(cell)).lower(), None
    if isinstance(cell, float | np.floating) and float(cell).is_integer():
        return str(int(cell)), None
    if isinstance(cell, dt.datetime) and cell.time() == dt.time(0):
        return cell.date().isoformat(), None
    if isinstance(cell, dt.date):
        return cell.isoformat(), None
    text = str(cell).strip()
    return (text if text else MISSING), None


def parse_number(cell: object) -> tuple[object, str | None]:
    """A finite float; text is read with '.' as decimal mark."""
    if isinstance(cell, bool | np.bool_):
        return None, f"{cell} is not a number"
    if isinstance(cell, int | float | np.integer | np.floating):
        value = float(cell)
    elif isinstance(cell, dt.date | dt.datetime | pd.Timestamp):
        return None, f"{cell} is a date, not a number"
    else:
        text = str(cell).strip()
        try:
            value = float(text)
        except ValueError:
            hint = ""
            if _DECIMAL_COMMA.match(text):
                hint = f" (decimal comma? write {text.replace(',', '.')})"
            elif re.match(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$", text):
                hint = f" (thousands separator? write {text.replace(',', '')})"
            elif _ISO_DATE.match(text):
                hint = " (a date? give dates in a 'date' column)"
            return None, f"{text!r} is not a number{hint}"
    if not math.isfinite(value):
        return None, f"{fmt_value(cell)} is not a finite number"
    return value, None


def parse_int(cell: object) -> tuple[object, str | None]:
    value, error = parse_number(cell)
    if error:
        return None, error
    assert isinstance(value, float)
    if not value.is_integer():
        return None, f"{number_text(value)} is not a whole number"
    return int(value), None


def parse_bool(cell: object) -> tuple[object, str | None]:
    if isinstance(cell, bool | np.bool_):
        return bool(cell), None
    text = parse_text(cell)[0]
    word = str(text).strip().lower()
    if word in TRUE_WORDS:
        return True, None
    if word in FALSE_WORDS:
        return False, None
    return None, f"{str(cell).strip()!r} is not yes/no (use yes/no, true/false, y/n or 1/0)"


def _category_key(text: str) -> str:
    return re.sub(r"[\s_]+", " ", text.strip().lower())


def category_parser(column: Column):
    """A parser mapping spellings to the canonical label of ``column``, with a did-you-mean."""
    lookup: dict[str, str] = {}
    for label in column.allowed:
        lookup[_category_key(label)] = label
        lookup[_category_key(label.replace("_", " "))] = label
    for alias, label in CATEGORY_ALIASES.get(column.name, {}).items():
        if label in column.allowed:
            lookup[_category_key(alias)] = label

    def parse(cell: object) -> tuple[object, str | None]:
        text = parse_text(cell)[0]
        if text is MISSING:
            return MISSING, None
        key = _category_key(str(text))
        if key in lookup:
            return lookup[key], None
        close = difflib.get_close_matches(key, list(lookup), n=1, cutoff=0.6)
        hint = f"; did you mean {lookup[close[0]]!r}?" if close else ""
        return None, f"unknown {column.name} {str(text)!r} (allowed: {', '.join(column.allowed)}){hint}"

    return parse


PARSERS = {"str": parse_text, "int": parse_int, "float": parse_number, "bool": parse_bool}


# --- coercion ----------------------------------------------------------------------------


def _typed(values: np.ndarray, kind: str) -> pd.Series:
    if kind == "int":
        return pd.Series(pd.array(list(values), dtype="Int64"))
    if kind == "float":
        return pd.Series(np.array([np.nan if v is None else v for v in values], dtype="float64"))
    if kind == "bool":
        return pd.Series(pd.array(list(values), dtype="boolean"))
    return pd.Series(values, dtype=STR_DTYPE)


def empty_column(kind: str, n: int = 0) -> pd.Series:
    if kind == "int":
        return pd.Series(pd.array([None] * n, dtype="Int64"))
    if kind in ("float", "day"):
        return pd.Series(np.full(n, np.nan))
    if kind == "bool":
        return pd.Series(pd.array([None] * n, dtype="boolean"))
    return pd.Series([None] * n, dtype=STR_DTYPE)


def coerce_cells(raw: pd.Series, column: Column) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Typed values, error messages (``None`` where fine) and the missing mask of one column."""
    if column.kind in ("int", "float") and pd.api.types.is_numeric_dtype(raw.dtype) and not \
            pd.api.types.is_bool_dtype(raw.dtype):
        numeric = pd.to_numeric(raw, errors="coerce").astype("float64").to_numpy()
        missing = np.isnan(numeric)
        errors = np.full(len(raw), None, dtype=object)
        if column.kind == "int":
            frac = ~missing & (numeric != np.floor(numeric))
            errors[frac] = [f"{number_text(v)} is not a whole number" for v in numeric[frac]]
            numeric = numeric.copy()
            numeric[frac] = np.nan
            return pd.Series(pd.array(numeric, dtype="Float64").round().astype("Int64")), errors, missing
        bad = ~missing & ~np.isfinite(numeric)
        errors[bad] = [f"{v} is not a finite number" for v in numeric[bad]]
        numeric = np.where(bad, np.nan, numeric)
        return pd.Series(numeric), errors, missing
    parser = category_parser(column) if column.kind == "category" else PARSERS[column.kind]
    codes, values, errors, missing = parse_codes(raw, parser)
    typed = _typed(values, column.kind)  # typed once per distinct cell, then spread over the rows
    return pd.Series(typed.array[codes]), errors[codes], missing[codes]


ERROR_CODES = {"int": "not-integer", "float": "not-a-number", "bool": "bad-bool", "category": "unknown-category"}


def coerce_column(table: Table, raw: pd.Series, column: Column, out: list[Problem]) -> pd.Series:
    """Coerce one schema column, reporting bad cells, missing required values and range breaks."""
    typed, errors, missing = coerce_cells(raw, column)
    bad = np.array([e is not None for e in errors], dtype=bool)
    if bad.any():
        code = ERROR_CODES.get(column.kind, "bad-value")
        if column.kind == "int":
            # a non-number in an integer column is the same mistake as in a float column
            nan_msgs = np.array(["not a number" in str(e) or "is a date" in str(e) for e in errors], dtype=bool)
            emit(out, table, bad & nan_msgs, column.name, "not-a-number", errors[bad & nan_msgs])
            emit(out, table, bad & ~nan_msgs, column.name, code, errors[bad & ~nan_msgs])
        else:
            emit(out, table, bad, column.name, code, errors[bad])
    if column.required:
        code = "missing-id" if column.name == "patient_id" else "missing-value"
        what = "patient_id" if column.name == "patient_id" else f"{column.name} (required)"
        emit(out, table, missing, column.name, code, f"no {what} in this row")
    if column.kind in ("int", "float") and (column.minimum is not None or column.maximum is not None):
        check_range(table, typed, column, out)
    return typed


def check_range(table: Table, values: pd.Series, column: Column, out: list[Problem]) -> None:
    numeric = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy(na_value=np.nan)
    low = column.minimum if column.minimum is not None else -np.inf
    high = column.maximum if column.maximum is not None else np.inf
    outside = ~np.isnan(numeric) & ((numeric < low) | (numeric > high))
    if not outside.any():
        return
    unit = f" {column.unit}" if column.unit else ""
    span = (f"between {number_text(low)} and {number_text(high)}" if np.isfinite(low) and np.isfinite(high)
            else f"at least {number_text(low)}" if np.isfinite(low) else f"at most {number_text(high)}")

    def message(v: float) -> str:
        hint = ""
        if column.name == "temperature_c" and 86 <= v <= 112:
            hint = f" (Fahrenheit? {v:g} F = {(v - 32) / 1.8:.1f} C)"
        return f"{column.name} {v:g}{unit} is impossible: must be {span}{hint}"

    emit(out, table, outside, column.name, "out-of-range", [message(v) for v in numeric[outside]])


def _covariate(raw: pd.Series) -> pd.Series:
    """An extra patients column: numeric if every value is a number, else text."""
    values, errors, missing = parse_unique(raw, parse_number)
    if not any(e is not None for e in errors) and not missing.all():
        return pd.Series(np.array([np.nan if v is None else v for v in values], dtype="float64"))
    text, _, _ = parse_unique(raw, parse_text)
    return pd.Series(text, dtype=STR_DTYPE)


def build_table(raw: RawTable, schema: TableSchema, out: list[Problem], skip: frozenset[str] = frozenset()) -> Table:
    """Map header names to schema columns, coerce every non-time column and report structure."""
    frame = raw.frame.reset_index(drop=True)
    by_lower: dict[str, str] = {}
    for name in frame.columns:  # a renamed header is matched by its cohort name, reported by its own
        by_lower.setdefault(str(raw.renames.get(str(name), name)).strip().lower(), str(name))
    source_columns: dict[str, str] = {}
    for col in schema.columns:
        if col.name in by_lower:
            source_columns[col.name] = by_lower[col.name]
    table = Table(schema, raw.file, pd.DataFrame({ROW: raw.rows}), raw.header_row, source_columns, raw=frame,
                  epoch=raw.epoch, date_order=raw.date_order, row_context=raw.row_context,
                  column_fields=dict(raw.column_fields))
    for col in schema.columns:
        if col.required and col.name not in source_columns:
            table.usable = table.usable and col.name != "patient_id"
            out.append(Problem(raw.file, raw.header_row, col.name, "missing-column",
                               f"required column {col.name!r} is missing from {schema.name}"))
    known = set(schema.names)
    columns: dict[str, object] = {}
    for lower, original in by_lower.items():
        if lower in known:
            continue
        if schema.keep_extra_columns:
            columns[str(raw.renames.get(original, original))] = _covariate(frame[original]).array
            continue
        close = difflib.get_close_matches(lower, list(known), n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        out.append(Problem(raw.file, raw.header_row, original, "unknown-column",
                           f"column {original!r} is not part of {schema.name}; ignored{hint}", Severity.WARNING))
    for col in schema.columns:
        if col.kind in ("day", "date"):
            continue
        if col.name in source_columns and col.name not in skip:
            typed = coerce_column(table, frame[source_columns[col.name]], col, out)
        else:
            typed = empty_column(col.kind, len(frame))
        columns[col.name] = typed.array
    table.frame = pd.concat([table.frame, pd.DataFrame(columns, index=table.frame.index)], axis=1)
    return table


def reorder_for_cohort(table: Table) -> pd.DataFrame:
    """Schema columns in schema order (``date`` dropped: times are days), covariates after."""
    frame = table.frame
    names = [c.name for c in table.schema.columns if c.kind != "date"]
    extra = [c for c in frame.columns if c not in names and c != ROW and not str(c).startswith("_")]
    return frame.loc[:, names + extra].reset_index(drop=True)
