"""Text files as hospitals and spreadsheet programs write them, made plain before parsing.

- **Encoding**: UTF-8 with or without a byte-order mark; UTF-16 (little or big endian) with its
  BOM, as Excel's "Unicode text" writes it; any other encoding only when named
  (``encoding:`` in ``cohort.yaml``), never guessed.
- **Separator**: ``,``, ``;`` (Excel in locales with a decimal comma), tab or ``|``, chosen
  from the header line when it is not named; a file read with a separator other than ``,`` is
  a warning that says so.
- **Decimal comma**: in a ``;``- or tab-separated file (or with ``decimal: ","``), cells that
  are a number written with a decimal comma (``12,5``, ``-0,75``, ``1.234,5``) are read as
  numbers (``12.5``); a warning counts them.

:func:`normalise_csv_bytes` returns plain UTF-8, comma-separated bytes with the same lines,
so row numbers in problems stay the lines of the user's file.

**Header row**: :func:`pick_header` chooses, among the first rows, the one naming the most
columns of the table, so title lines and merged group-header rows above the real header
("Baseline" spanning three columns) are skipped, with a warning naming them.
"""

from __future__ import annotations

import codecs
import csv
import io
import re

from cartscope.cohort.problems import Problem, Severity

SEPARATORS = (",", ";", "\t", "|")
_DECIMAL_COMMA = re.compile(r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+$")
HEADER_SEARCH_ROWS = 6
"""How many leading non-empty rows may hold the header."""


def decode_bytes(data: bytes, encoding: str | None = None) -> tuple[str | None, str]:
    """The text of ``data`` and the encoding used; ``None`` when it is not UTF-8 (nor UTF-16
    with a BOM, nor ``encoding``)."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            return None, encoding
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            return None, "utf-16"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return None, "utf-8"


def sniff_separator(text: str) -> str:
    """The separator of the first non-empty line: the candidate splitting it into most fields."""
    for line in text.splitlines():
        if line.strip():
            counts = {sep: len(next(csv.reader([line], delimiter=sep))) for sep in SEPARATORS}
            best = max(SEPARATORS, key=lambda s: (counts[s], s == ","))
            return best if counts[best] > 1 else ","
    return ","


def decimal_comma_number(cell: str) -> str | None:
    """``"1.234,5"`` -> ``"1234.5"``; ``None`` when the cell is not a decimal-comma number."""
    text = cell.strip()
    if not _DECIMAL_COMMA.match(text):
        return None
    return text.replace(".", "").replace(",", ".")


def normalise_csv_bytes(
    data: bytes, file: str, out: list[Problem], *, encoding: str | None = None,
    separator: str | None = None, decimal: str | None = None,
) -> bytes:
    """``data`` as UTF-8, comma-separated CSV with the same lines (see the module docstring).

    Returns ``data`` unchanged when it is already plain (or cannot be decoded: the caller
    reports that).
    """
    text, used = decode_bytes(data, encoding)
    if text is None:
        if encoding:
            out.append(Problem(file, None, None, "not-utf8", f"{file} cannot be read as {encoding}"))
        return data
    sep = separator or sniff_separator(text)
    comma_decimal = decimal == "," or (decimal is None and sep in (";", "\t"))
    plain_encoding = used == "utf-8" and not data.startswith(codecs.BOM_UTF8)
    if sep == "," and not comma_decimal and plain_encoding:
        return data
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    converted = 0
    if comma_decimal:
        for row in rows:
            for i, cell in enumerate(row):
                number = decimal_comma_number(cell)
                if number is not None:
                    row[i] = number
                    converted += 1
    notes = []
    if used != "utf-8":
        notes.append(f"read as {used}")
    if sep != ",":
        notes.append(f"separated by {'tab' if sep == chr(9) else repr(sep)}")
    if converted:
        notes.append(f"{converted} number(s) with a decimal comma read as decimals")
    if notes:
        out.append(Problem(file, None, None, "csv-dialect", "; ".join(notes), Severity.WARNING))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:  # a blank line is an empty row, written back as a blank line: lines keep their numbers
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def pick_header(rows: list[list[object]], names: set[str]) -> int:
    """Index (into ``rows``, the leading non-empty rows) of the header row: the first row naming
    the most of ``names`` (lower case); 0 when no later row names more than the first."""
    def score(row: list[object]) -> int:
        return sum(1 for c in row if c is not None and str(c).strip().lower() in names)

    best, best_score = 0, score(rows[0]) if rows else 0
    for i, row in enumerate(rows[1:HEADER_SEARCH_ROWS], start=1):
        s = score(row)
        if s > best_score:
            best, best_score = i, s
    return best


def skipped_header_problem(file: str, skipped: list[int], header_row: int) -> Problem:
    lines = ", ".join(str(r) for r in skipped)
    return Problem(file, header_row, None, "rows-above-header",
                   f"row(s) {lines} above the header (row {header_row}) are titles or merged group headers; "
                   "ignored", Severity.WARNING)


def split_header(
    records: list[list[object]], numbers: list[int], table: str, file: str, out: list[Problem]
) -> tuple[list[object], int, list[list[object]], list[int]]:
    """Header cells, header row number, data rows and their numbers from the non-empty rows
    of a table (``records`` non-empty); rows above a later header are reported (see :func:`pick_header`)."""
    from cartscope.cohort.schema import SOURCE_TABLES, TABLES

    schema = TABLES.get(table) or SOURCE_TABLES.get(table)
    names = {n.lower() for n in schema.names} if schema is not None else set()
    h = pick_header(records[:HEADER_SEARCH_ROWS], names) if names else 0
    if h:
        out.append(skipped_header_problem(file, numbers[:h], numbers[h]))
    return records[h], numbers[h], records[h + 1:], numbers[h + 1:]
