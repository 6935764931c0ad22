"""Calendar dates as hospitals export them: day-first or month-first, text or spreadsheet serials.

A date column is read in one order for the whole column (ISO ``YYYY-MM-DD`` is always
accepted):

- the **values decide** when one of them can only be read one way: ``31/07/2021`` is day-first
  (DMY) because 31 is no month, ``07/31/2021`` is month-first (MDY); a column with both is an
  error, since no single order reads it;
- otherwise the order given by the user decides (``--date-order DMY|MDY|YMD``,
  ``load_cohort(..., date_order=)``, or ``date_order`` in ``cohort.yaml``, per column there);
- a column whose values read both ways and which nobody ordered is one error (at the header),
  not one per row; values such as ``05/05/2021`` read the same either way and never need an order.

Month names (``31-Jul-2021``, ``Jul 31, 2021``) are unambiguous. A time of day after the date is
allowed and dropped (times are whole days from the infusion). Two-digit years are refused
(``01/02/03`` has six readings).

Spreadsheet serial numbers (days since the workbook's epoch; Excel's default 1900 date system
counts from 1899-12-30, the Mac 1904 system from 1904-01-01) are accepted in a date column with
a warning naming the epoch used; a CSV carries no epoch, so the 1900 system is assumed and the
warning says so.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

DATE_ORDERS = ("DMY", "MDY", "YMD")
EPOCH_1900 = dt.date(1899, 12, 30)
EPOCH_1904 = dt.date(1904, 1, 1)
SERIAL_LOW, SERIAL_HIGH = 20000, 80000
"""Numbers in this range read as spreadsheet date serials (1954-2119 in the 1900 system)."""

_TIME = r"(?:[T ]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?)?"
_NUMERIC = re.compile(r"^(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})" + _TIME + "$")
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_DAY_MON_YEAR = re.compile(r"^(\d{1,2})[ ./-]([A-Za-z]{3,9})\.?[ ./-](\d{4})" + _TIME + "$")
_MON_DAY_YEAR = re.compile(r"^([A-Za-z]{3,9})\.?[ ./-](\d{1,2}),?[ ./-](\d{4})" + _TIME + "$")
_YEAR_MON_DAY = re.compile(r"^(\d{4})[ ./-]([A-Za-z]{3,9})\.?[ ./-](\d{1,2})" + _TIME + "$")


def normalise_order(text: object) -> str | None:
    """``"dmy"``, ``"DD/MM/YYYY"``, ``"day-first"`` ... -> ``"DMY"``; ``None`` when not an order."""
    if text is None:
        return None
    key = re.sub(r"[^a-z]", "", str(text).strip().lower())
    spellings = {"dmy": "DMY", "ddmmyyyy": "DMY", "ddmmyy": "DMY", "dayfirst": "DMY",
                 "mdy": "MDY", "mmddyyyy": "MDY", "mmddyy": "MDY", "monthfirst": "MDY",
                 "ymd": "YMD", "yyyymmdd": "YMD", "iso": "YMD", "yearfirst": "YMD"}
    return spellings.get(key)


def _month(name: str) -> int | None:
    key = name.strip().lower()
    if key == "sept":
        key = "sep"
    if len(key) > 3:
        full = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                "october", "november", "december")
        return full.index(key) + 1 if key in full else None
    return _MONTHS.get(key)


@dataclass(frozen=True)
class DateText:
    """A date written as text, split into its parts before an order is chosen.

    ``fixed`` is the date when the text reads only one way (ISO, month names); otherwise
    ``first``/``second``/``year`` are the two leading numbers and the year of ``a/b/yyyy``.
    """

    fixed: dt.date | None = None
    first: int = 0
    second: int = 0
    year: int = 0
    error: str | None = None

    @property
    def votes(self) -> str | None:
        """``"DMY"`` or ``"MDY"`` when the value can only be read that way, else ``None``."""
        if self.fixed is not None or self.error:
            return None
        if self.first > 12 >= self.second:
            return "DMY"
        if self.second > 12 >= self.first:
            return "MDY"
        return None

    @property
    def ambiguous(self) -> bool:
        return (self.fixed is None and not self.error and self.first <= 12 and self.second <= 12
                and self.first != self.second)

    def resolve(self, order: str | None) -> tuple[dt.date | None, str | None]:
        """The date under ``order`` (``DMY``/``MDY``; ``None`` only for unambiguous text)."""
        if self.error:
            return None, self.error
        if self.fixed is not None:
            return self.fixed, None
        if order is None:
            if self.first == self.second:
                order = "DMY"
            elif self.votes is not None:
                order = self.votes
            else:
                return None, "reads day-first or month-first"
        if order == "YMD":
            return None, "is not year-first (YYYY-MM-DD)"
        day, month = (self.first, self.second) if order == "DMY" else (self.second, self.first)
        try:
            return dt.date(self.year, month, day), None
        except ValueError:
            what = "day-first" if order == "DMY" else "month-first"
            return None, f"is not a calendar date read {what} ({order})"


def split_date_text(text: str) -> DateText | None:
    """The parts of a textual date, or ``None`` when the text does not look like a date."""
    text = text.strip()
    match = _NUMERIC.match(text)
    if match:
        a, _, b, c = match.groups()
        if len(a) == 4:
            try:
                return DateText(fixed=dt.date(int(a), int(b), int(c)))
            except ValueError:
                return DateText(error="is not a calendar date")
        if len(c) != 4:
            return DateText(error="has a two-digit year; write the year in full")
        first, second = int(a), int(b)
        if first > 12 and second > 12 or first > 31 or second > 31:
            return DateText(error="is not a calendar date")
        return DateText(first=first, second=second, year=int(c))
    for pattern, parts in ((_DAY_MON_YEAR, (0, 1, 2)), (_MON_DAY_YEAR, (1, 0, 2)), (_YEAR_MON_DAY, (2, 1, 0))):
        match = pattern.match(text)
        if match:
            groups = match.groups()
            day, month_name, year = groups[parts[0]], groups[parts[1]], groups[parts[2]]
            month = _month(month_name)
            if month is None:
                return DateText(error=f"has no month called {month_name!r}")
            try:
                return DateText(fixed=dt.date(int(year), month, int(day)))
            except ValueError:
                return DateText(error="is not a calendar date")
    return None


def serial_to_date(value: float, epoch: dt.date) -> dt.date:
    """The calendar day of a spreadsheet serial (its fraction is a time of day, dropped)."""
    return epoch + dt.timedelta(days=int(value // 1))


def epoch_name(epoch: dt.date) -> str:
    return "1904" if epoch == EPOCH_1904 else "1900"


@dataclass(frozen=True)
class OrderDecision:
    """How one date column is read: the order, and why (for the message)."""

    order: str | None
    reason: str
    conflict: tuple[tuple[str, int], tuple[str, int]] | None = None
    """(day-first example, row), (month-first example, row) when the values disagree."""


def decide_order(
    parts: list[tuple[DateText, str, int]], given: str | None
) -> OrderDecision:
    """Choose the order of a column from its textual dates ``(parts, text, row)``.

    Values that read one way only decide; a conflicting column, or a column whose values
    contradict ``given``, is reported by the caller from ``conflict``.
    """
    dmy = next(((t, r) for p, t, r in parts if p.votes == "DMY"), None)
    mdy = next(((t, r) for p, t, r in parts if p.votes == "MDY"), None)
    if dmy and mdy:
        return OrderDecision(given, "conflict", (dmy, mdy))
    if given is not None:
        return OrderDecision(given, "given")
    if dmy:
        return OrderDecision("DMY", f"{dmy[0]!r} (row {dmy[1]}) cannot be month-first")
    if mdy:
        return OrderDecision("MDY", f"{mdy[0]!r} (row {mdy[1]}) cannot be day-first")
    return OrderDecision(None, "undecided")
