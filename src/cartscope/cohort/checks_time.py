"""Time: ``day`` or ``date`` per table, dates to days, and the choice of index infusion.

Convention (design.md, "Time, units and identity"): a ``day`` is counted from the patient's
first infusion (``infusion_no`` 1 is day 0); a ``date`` (ISO ``YYYY-MM-DD`` or a real
spreadsheet date cell) is converted to days from that patient's first-infusion date. When
another infusion is chosen as index (a number or a ``label`` such as ``CART2``), every time of
the patient is shifted so that infusion is day 0.

A table uses one convention: rows giving only ``day`` mixed with rows giving only ``date`` is
an error, and a row giving both must agree. Dates may be written day-first or month-first
(:mod:`cartscope.cohort.dates` decides per column); spreadsheet serials are accepted in a
``date`` column with the workbook's epoch (a warning), and refused in a ``day`` column.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from cartscope.cohort.checks_columns import parse_number
from cartscope.cohort.checks_common import Table, emit, is_missing_value, number_text, parse_unique, source_column
from cartscope.cohort.dates import (
    EPOCH_1900,
    SERIAL_HIGH,
    SERIAL_LOW,
    decide_order,
    epoch_name,
    serial_to_date,
    split_date_text,
)
from cartscope.cohort.problems import Problem, Severity

EXCEL_EPOCH = EPOCH_1900
DAY_LIMIT = 20000
"""A day beyond this (about 55 years) cannot be a follow-up time."""

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


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


def _date_cell(cell: object, epoch: dt.date) -> tuple[str, object]:
    """Classify one distinct cell: ``("ord", ordinal)``, ``("serial", ordinal)``,
    ``("text", DateText)``, ``("missing", None)`` or ``("error", message)``."""
    if isinstance(cell, pd.Timestamp):
        return "ord", float(cell.date().toordinal())
    if isinstance(cell, dt.datetime):
        return "ord", float(cell.date().toordinal())
    if isinstance(cell, dt.date):
        return "ord", float(cell.toordinal())
    if isinstance(cell, np.datetime64):
        return "ord", float(pd.Timestamp(cell).date().toordinal())
    if isinstance(cell, bool | np.bool_):
        return "error", f"{cell} is not a date"
    number: float | None = None
    if isinstance(cell, int | float | np.integer | np.floating):
        number = float(cell)
    else:
        text = str(cell).strip()
        if not text:
            return "missing", None
        match = _ISO.match(text)
        if match:
            try:
                return "ord", float(dt.date(*map(int, match.groups())).toordinal())
            except ValueError:
                return "error", f"{text!r} is not a calendar date"
        if re.fullmatch(r"[+-]?\d+(\.\d+)?", text):
            number = float(text)
        else:
            parts = split_date_text(text)
            if parts is None:
                return "error", f"{text!r} is not a date (write YYYY-MM-DD)"
            return "text", parts
    if SERIAL_LOW <= number <= SERIAL_HIGH:
        return "serial", float(serial_to_date(number, epoch).toordinal())
    return "error", f"{number_text(number)} is not a date (write YYYY-MM-DD)"


def _parse_date_column(table: Table, out: list[Problem], date_order: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Ordinal days (NaN where missing or invalid) and the mask of rows that gave a value.

    The column's day/month order is chosen by :func:`cartscope.cohort.dates.decide_order`;
    spreadsheet serials use the table's epoch (1900 system when the file has none).
    """
    column = table.source_columns["date"]
    raw = table.raw[column]
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        stamps = pd.to_datetime(raw)
        if stamps.dt.tz is not None:
            stamps = stamps.dt.tz_localize(None)
        days = (stamps.dt.normalize() - pd.Timestamp("1970-01-01")).dt.days
        ordinal = days.to_numpy(dtype="float64", na_value=np.nan) + dt.date(1970, 1, 1).toordinal()
        return ordinal, ~stamps.isna().to_numpy()
    epoch = table.epoch or EPOCH_1900
    codes, uniques = pd.factorize(raw.astype(object), use_na_sentinel=True)
    rows = table.rows
    first_row = np.full(len(uniques), -1, dtype=np.int64)
    if len(codes):
        seen = codes >= 0
        order_idx = np.flatnonzero(seen)
        _, first = np.unique(codes[order_idx], return_index=True)
        first_row[np.unique(codes[order_idx])] = rows[order_idx[first]]
    kinds = [("missing", None) if is_missing_value(u) else _date_cell(u, epoch) for u in uniques]
    texts = [(k[1], str(u).strip(), int(r)) for k, u, r in zip(kinds, uniques, first_row) if k[0] == "text"]
    texts.sort(key=lambda t: t[2])
    given = table.date_order or date_order
    decision = decide_order(texts, given)
    value_u = np.full(len(uniques) + 1, np.nan)
    missing_u = np.ones(len(uniques) + 1, dtype=bool)
    error_u: list[str | None] = [None] * (len(uniques) + 1)
    ambiguous: list[tuple[str, int]] = []
    for i, (kind, item) in enumerate(kinds):
        if kind == "missing":
            continue
        missing_u[i] = False
        if kind in ("ord", "serial"):
            value_u[i] = item
        elif kind == "error":
            error_u[i] = item
        else:
            if decision.reason == "conflict" and given is None:
                continue  # the column is reported once below
            if decision.order is None and item.ambiguous:
                ambiguous.append((str(uniques[i]).strip(), int(first_row[i])))
                continue
            date, why = item.resolve(decision.order)
            if why:
                error_u[i] = f"{str(uniques[i]).strip()!r} {why}"
            else:
                value_u[i] = float(date.toordinal())
    display = source_column(table, "date")
    if decision.conflict is not None and given is None:  # with an order given, its misfits are bad dates
        (d_text, d_row), (m_text, m_row) = decision.conflict
        out.append(Problem(table.file, min(d_row, m_row), display, "mixed-date-order",
                           f"column {display!r} mixes day-first dates ({d_text!r}, row {d_row}) and month-first "
                           f"dates ({m_text!r}, row {m_row}); one order must read the whole column"))
    elif ambiguous:
        ambiguous.sort(key=lambda t: t[1])
        text, row = ambiguous[0]
        others = f" (and {len(ambiguous) - 1} more such value(s))" if len(ambiguous) > 1 else ""
        out.append(Problem(table.file, row, display, "ambiguous-date",
                           f"{text!r} reads day-first or month-first and no value in column {display!r} decides"
                           f"{others}; give --date-order DMY or MDY (or date_order in cohort.yaml), "
                           "or write YYYY-MM-DD"))
    elif decision.order in ("DMY", "MDY") and given is None and any(t[0].ambiguous for t in texts):
        out.append(Problem(table.file, table.header_row, display, "date-order-detected",
                           f"dates in column {display!r} read {'day' if decision.order == 'DMY' else 'month'}-first "
                           f"({decision.order}): {decision.reason}", Severity.WARNING))
    serial = np.array([k[0] == "serial" for k in kinds] + [False], dtype=bool)
    if serial[codes].any():
        sel = serial[codes]
        first = int(np.flatnonzero(sel)[0])
        example = raw.iloc[first]
        number = float(example)
        note = "" if table.epoch is not None else "; a CSV has no date system, so Excel's default is assumed"
        out.append(Problem(table.file, int(rows[first]), display, "date-serial",
                           f"{int(sel.sum())} value(s) in column {display!r} are spreadsheet date serials, read in "
                           f"the {epoch_name(epoch)} date system ({number_text(number)} = "
                           f"{serial_to_date(number, epoch).isoformat()}){note}", Severity.WARNING))
    errors = np.array(error_u, dtype=object)[codes]
    bad = np.array([e is not None for e in errors], dtype=bool)
    emit(out, table, bad, "date", "bad-date", list(errors[bad]))
    return value_u[codes], ~missing_u[codes]


def _parse_time_column(table: Table, column: str, parse, out: list[Problem]) -> tuple[np.ndarray, np.ndarray]:
    """Parsed floats (NaN where missing or invalid) and a mask of rows that gave a value."""
    raw = table.raw[table.source_columns[column]]
    values, errors, missing = parse_unique(raw, parse)
    bad = np.array([e is not None for e in errors], dtype=bool)
    if bad.any():
        for code in sorted({e[0] for e in errors[bad]}):
            sel = bad & np.array([e is not None and e[0] == code for e in errors], dtype=bool)
            emit(out, table, sel, column, code, [e[1] for e in errors[sel]])
    numeric = np.array([np.nan if v is None else v for v in values], dtype="float64")
    return numeric, ~missing


def parse_times(table: Table, out: list[Problem], date_order: str | None = None) -> None:
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
        date, date_given = _parse_date_column(table, out, date_order)
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
