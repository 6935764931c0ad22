"""Time: ``day`` or ``date`` per table, dates to days, and the choice of index infusion.

Convention (design.md, "Time, units and identity"): a ``day`` is counted from the patient's
first infusion (``infusion_no`` 1 is day 0); a ``date`` (ISO ``YYYY-MM-DD`` or a real
spreadsheet date cell) is converted to days from that patient's first-infusion date. When
another infusion is chosen as index (a number or a ``label`` such as ``CART2``), every time of
the patient is shifted so that infusion is day 0.

A table uses one convention: rows giving only ``day`` mixed with rows giving only ``date`` is
an error, and a row giving both must agree. Spreadsheet serial numbers (days since 1899-12-30)
are recognised and reported rather than guessed at.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from cartscope.cohort.checks_common import MISSING, Table, emit, number_text, parse_unique
from cartscope.cohort.checks_columns import parse_number
from cartscope.cohort.problems import Problem

EXCEL_EPOCH = dt.date(1899, 12, 30)
SERIAL_LOW, SERIAL_HIGH = 20000, 80000
"""Numbers in this range (1954-2119) read as spreadsheet date serials."""
DAY_LIMIT = 20000
"""A day beyond this (about 55 years) cannot be a follow-up time."""

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_OTHER_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")


def _serial_date(value: float) -> str:
    return (EXCEL_EPOCH + dt.timedelta(days=int(value))).isoformat()


def parse_day(cell: object) -> tuple[object, tuple[str, str] | None]:
    if isinstance(cell, dt.date | pd.Timestamp):
        return None, ("not-a-number", f"{cell} is a date; give dates in a 'date' column, days in 'day'")
    value, error = parse_number(cell)
    if error:
        return None, ("not-a-number", error)
    assert isinstance(value, float)
    if abs(value) > DAY_LIMIT:
        return None, ("day-excel-serial",
                      f"day {number_text(value)} looks like a spreadsheet date serial (= {_serial_date(value)})"
                      if SERIAL_LOW <= value <= SERIAL_HIGH else
                      f"day {number_text(value)} is not a plausible number of days from the infusion")
    return value, None


def parse_date(cell: object) -> tuple[object, tuple[str, str] | None]:
    """Ordinal day number (``date.toordinal``) of a date cell."""
    if isinstance(cell, pd.Timestamp):
        return float(cell.date().toordinal()), None
    if isinstance(cell, dt.datetime):
        return float(cell.date().toordinal()), None
    if isinstance(cell, dt.date):
        return float(cell.toordinal()), None
    if isinstance(cell, np.datetime64):
        return float(pd.Timestamp(cell).date().toordinal()), None
    if isinstance(cell, bool | np.bool_):
        return None, ("bad-date", f"{cell} is not a date")
    number: float | None = None
    if isinstance(cell, int | float | np.integer | np.floating):
        number = float(cell)
    else:
        text = str(cell).strip()
        if not text:
            return MISSING, None
        match = _ISO.match(text)
        if match:
            try:
                return float(dt.date(*map(int, match.groups())).toordinal()), None
            except ValueError:
                return None, ("bad-date", f"{text!r} is not a calendar date")
        if re.fullmatch(r"[+-]?\d+(\.\d+)?", text):
            number = float(text)
        elif _OTHER_DATE.match(text):
            return None, ("bad-date", f"{text!r} is ambiguous; write dates as YYYY-MM-DD")
        else:
            return None, ("bad-date", f"{text!r} is not a date (write YYYY-MM-DD)")
    if SERIAL_LOW <= number <= SERIAL_HIGH:
        return None, ("date-excel-serial",
                      f"{number_text(number)} looks like a spreadsheet date serial (= {_serial_date(number)}); "
                      "format the column as dates or write YYYY-MM-DD")
    return None, ("bad-date", f"{number_text(number)} is not a date (write YYYY-MM-DD)")


def _parse_time_column(table: Table, column: str, parse, out: list[Problem]) -> tuple[np.ndarray, np.ndarray]:
    """Parsed floats (NaN where missing or invalid) and a mask of rows that gave a value."""
    raw = table.raw[table.source_columns[column]]
    if column == "date" and pd.api.types.is_datetime64_any_dtype(raw.dtype):
        stamps = pd.to_datetime(raw)
        if stamps.dt.tz is not None:
            stamps = stamps.dt.tz_localize(None)
        days = (stamps.dt.normalize() - pd.Timestamp("1970-01-01")).dt.days
        ordinal = days.to_numpy(dtype="float64", na_value=np.nan) + dt.date(1970, 1, 1).toordinal()
        return ordinal, ~stamps.isna().to_numpy()
    values, errors, missing = parse_unique(raw, parse)
    bad = np.array([e is not None for e in errors], dtype=bool)
    if bad.any():
        for code in sorted({e[0] for e in errors[bad]}):
            sel = bad & np.array([e is not None and e[0] == code for e in errors], dtype=bool)
            emit(out, table, sel, column, code, [e[1] for e in errors[sel]])
    numeric = np.array([np.nan if v is None else v for v in values], dtype="float64")
    return numeric, ~missing


def parse_times(table: Table, out: list[Problem]) -> None:
    """Fill internal columns ``_day_given``, ``_date_ord`` and ``_given_date`` for a timed table."""
    n = len(table.frame)
    day, day_given = np.full(n, np.nan), np.zeros(n, dtype=bool)
    date, date_given = np.full(n, np.nan), np.zeros(n, dtype=bool)
    if not table.has("day") and not table.has("date"):
        out.append(Problem(table.file, table.header_row, "day", "missing-time-column",
                           f"{table.name} needs a 'day' column (days from the first infusion) or a 'date' column"))
        table.usable = False
    if table.has("day"):
        day, day_given = _parse_time_column(table, "day", parse_day, out)
    if table.has("date"):
        date, date_given = _parse_time_column(table, "date", parse_date, out)
    if table.has("day") and table.has("date"):
        only_day, only_date = day_given & ~date_given, date_given & ~day_given
        if only_day.any() and only_date.any():
            minority = only_date if only_date.sum() <= only_day.sum() else only_day
            majority = only_day if minority is only_date else only_date
            first = int(np.flatnonzero(minority)[0])
            mask = np.zeros(n, dtype=bool)
            mask[first] = True
            col = "date" if minority is only_date else "day"
            other = "day" if col == "date" else "date"
            emit(out, table, mask, col, "mixed-time-convention",
                 f"this row gives only {col} while row {int(table.rows[majority][0])} gives only {other}; "
                 "use one convention per table")
    neither = ~day_given & ~date_given
    if table.name == "labs":  # a healthy-donor reference sample has no time since infusion
        neither &= ~(table.frame["role"] == "healthy_donor").fillna(False).to_numpy(dtype=bool)
    if table.usable:
        emit(out, table, neither, "day" if table.has("day") else "date", "missing-time",
             "no day or date in this row")
    table.frame["_day_given"] = day
    table.frame["_date_ord"] = date
    table.frame["_from_date"] = np.isnan(day) & ~np.isnan(date)


def first_infusion_dates(infusions: Table | None) -> pd.Series | None:
    """Ordinal date of each patient's infusion 1, or ``None`` when infusions carry no dates."""
    if infusions is None or "_date_ord" not in infusions.frame or infusions.frame["_date_ord"].isna().all():
        return None
    f = infusions.frame
    first = f[(f["infusion_no"] == 1).fillna(False).to_numpy() & f["_date_ord"].notna().to_numpy()]
    return first.drop_duplicates("patient_id").set_index("patient_id")["_date_ord"]


def resolve_days(table: Table, anchors: pd.Series | None, out: list[Problem]) -> None:
    """Set ``day`` (days from infusion 1) from the given day or the converted date."""
    f = table.frame
    from_date = f["_date_ord"].notna().to_numpy()
    converted = np.full(len(f), np.nan)
    if from_date.any():
        if anchors is None:
            out.append(Problem(table.file, table.header_row, table.source_columns.get("date", "date"),
                               "date-without-infusion-date",
                               f"{table.name} gives dates but infusions give no date for infusion 1, so dates "
                               "cannot be turned into days; give infusion dates or days here"))
        else:
            anchor = f["patient_id"].map(anchors).to_numpy(dtype="float64", na_value=np.nan)
            converted = f["_date_ord"].to_numpy() - anchor
    given = f["_day_given"].to_numpy()
    both = ~np.isnan(given) & ~np.isnan(converted)
    disagree = both & (given != converted)
    if disagree.any():
        emit(out, table, disagree, "date", "day-date-disagree",
             [f"day {number_text(d)} but the date is day {number_text(c)} from infusion 1"
              for d, c in zip(given[disagree], converted[disagree])])
    f["day"] = np.where(np.isnan(given), converted, given)


def index_shift(
    infusions: Table | None, patients: Table | None, index_infusion: int | str | None, out: list[Problem]
) -> pd.Series | None:
    """Day (from infusion 1) of each patient's index infusion; ``None`` for the default index."""
    if index_infusion is None or infusions is None:
        return None
    f = infusions.frame
    if isinstance(index_infusion, str) and index_infusion.strip().isdigit():
        index_infusion = int(index_infusion.strip())
    if isinstance(index_infusion, int) and not isinstance(index_infusion, bool):
        chosen = (f["infusion_no"] == index_infusion).fillna(False).to_numpy()
        what = f"infusion {index_infusion}"
    else:
        label = str(index_infusion).strip().lower()
        chosen = (f["label"].str.strip().str.lower() == label).fillna(False).to_numpy()
        what = f"infusion labelled {str(index_infusion)!r}"
    shift = f.loc[chosen].drop_duplicates("patient_id").set_index("patient_id")["day"]
    if patients is not None and patients.usable:
        lacking = ~patients.frame["patient_id"].isin(shift.index).to_numpy() & patients.frame["patient_id"].notna().to_numpy()
        emit(out, patients, lacking, "patient_id", "index-infusion-missing",
             f"this patient has no {what}, the chosen index infusion; remove the patient or choose another index")
    return shift


def apply_shift(table: Table, shift: pd.Series) -> None:
    f = table.frame
    # rows of patients without the index infusion (reported) and healthy-donor rows keep their day
    offset = f["patient_id"].map(shift).to_numpy(dtype="float64", na_value=np.nan)
    f["day"] = f["day"].to_numpy() - np.nan_to_num(offset, nan=0.0)
