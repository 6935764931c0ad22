"""Build the malformed-cohort corpus: each case is a good fixture with exactly one defect.

Run ``python tests/cohort/malformed/make_corpus.py`` to (re)write every case folder and
``cases.yaml``; ``tests/cohort/test_validate.py`` checks that each case yields exactly the
problem the manifest names, and that the committed CSV cases match this script.

Line numbers in the manifest are what a user sees: the CSV header is line 1.
"""

from __future__ import annotations

import csv
import io
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
GOOD = HERE.parent / "good"

Files = dict[str, object]
"""File name -> list of CSV rows (list of cells) or raw bytes."""


@dataclass(frozen=True)
class Case:
    name: str
    code: str
    file: str
    row: int | None
    column: str | None
    edit: Callable[[Files], None]
    base: str = "days"
    severity: str = "error"
    xlsx: bool = False


# --- edits ---------------------------------------------------------------------------------


def _rows(files: Files, table: str) -> list[list[str]]:
    rows = files[f"{table}.csv"]
    assert isinstance(rows, list)
    return rows


def set_cell(table: str, line: int, column: str, value: str) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        rows = _rows(files, table)
        rows[line - 1][rows[0].index(column)] = value
    return edit


def add_row(table: str, values: dict[str, str]) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        rows = _rows(files, table)
        rows.append([values.get(c, "") for c in rows[0]])
    return edit


def add_raw_row(table: str, cells: list[str]) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        _rows(files, table).append(cells)
    return edit


def del_row(table: str, line: int) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        del _rows(files, table)[line - 1]
    return edit


def del_col(table: str, column: str) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        rows = _rows(files, table)
        i = rows[0].index(column)
        for r in rows:
            del r[i]
    return edit


def add_col(table: str, column: str, values: dict[int, str] | None = None) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        rows = _rows(files, table)
        rows[0].append(column)
        for line, r in enumerate(rows[1:], start=2):
            r.append((values or {}).get(line, ""))
    return edit


def rename_col(table: str, old: str, new: str) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        rows = _rows(files, table)
        rows[0][rows[0].index(old)] = new
    return edit


def drop_table(table: str) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        del files[f"{table}.csv"]
    return edit


def raw_file(name: str, data: bytes) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        files[name] = data
    return edit


def header_only(table: str) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        del _rows(files, table)[1:]
    return edit


def latin1_cell(table: str, line: int, column: str, text: str) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        rows = _rows(files, table)
        rows[line - 1][rows[0].index(column)] = text
        files[f"{table}.csv"] = _csv_bytes(rows).decode("utf-8").encode("latin-1")
    return edit


def days_to_dates(table: str) -> Callable[[Files], None]:
    """Rename ``day`` to ``date`` and write each day as a date counted from 2023-01-01."""
    import datetime as dt

    def edit(files: Files) -> None:
        rows = _rows(files, table)
        i = rows[0].index("day")
        rows[0][i] = "date"
        for r in rows[1:]:
            if r[i]:
                r[i] = (dt.date(2023, 1, 1) + dt.timedelta(days=int(r[i]))).isoformat()
    return edit


def raw_line(table: str, line: int, text: str) -> Callable[[Files], None]:
    """Replace one physical line of a CSV file verbatim (for defects a CSV writer would not make)."""
    def edit(files: Files) -> None:
        lines = _csv_bytes(_rows(files, table)).decode("utf-8").splitlines(keepends=True)
        lines[line - 1] = text + "\n"
        files[f"{table}.csv"] = "".join(lines).encode("utf-8")
    return edit


def both(*edits: Callable[[Files], None]) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        for e in edits:
            e(files)
    return edit


# --- the cases -----------------------------------------------------------------------------

P, I, A, E, L, K, T = "patients", "infusions", "assessments", "events", "labs", "kinetics", "toxicity_daily"

CASES: list[Case] = [
    # files and structure
    Case("missing_table", "missing-table", "events.csv", None, None, drop_table(E)),
    Case("missing_sheet", "missing-sheet", "cohort.xlsx", None, None, drop_table(E), xlsx=True),
    Case("unknown_table", "unknown-table", "notes.csv", None, None,
         raw_file("notes.csv", b"note\nchecked by hand\n"), severity="warning"),
    Case("empty_required_file", "empty-file", "events.csv", None, None, raw_file("events.csv", b"")),
    Case("empty_optional_file", "empty-file", "kinetics.csv", None, None, raw_file("kinetics.csv", b""),
         severity="warning"),
    Case("header_only_required", "header-only", "events.csv", None, None, header_only(E)),
    Case("header_only_optional", "header-only", "toxicity_daily.csv", None, None, header_only(T),
         severity="warning"),
    Case("not_utf8", "not-utf8", "labs.csv", 3, None, latin1_cell(L, 3, "timepoint", "pic élevé")),
    Case("missing_column", "missing-column", "patients.csv", 1, "disease", del_col(P, "disease")),
    Case("missing_time_column", "missing-time-column", "toxicity_daily.csv", 1, "day", del_col(T, "day")),
    Case("unknown_column", "unknown-column", "events.csv", 1, "comment",
         add_col(E, "comment", {3: "autopsy"}), severity="warning"),
    Case("duplicate_column", "duplicate-column", "patients.csv", 1, "age",
         add_col(P, "age", {2: "34", 3: "12", 4: "61", 5: "45"})),
    Case("blank_header", "blank-header", "patients.csv", 1, None, add_col(P, "", {3: "x"})),
    Case("ragged_row", "ragged-row", "events.csv", 4, None, raw_line(E, 4, "P02,365,last_contact,,,,,extra")),
    # cell types
    Case("age_not_number", "not-a-number", "patients.csv", 2, "age", set_cell(P, 2, "age", "thirty")),
    Case("decimal_comma", "not-a-number", "infusions.csv", 2, "dose_per_kg", set_cell(I, 2, "dose_per_kg", "1,5")),
    Case("prior_lines_not_integer", "not-integer", "patients.csv", 3, "prior_lines",
         set_cell(P, 3, "prior_lines", "2.5")),
    Case("unknown_category", "unknown-category", "patients.csv", 4, "disease", set_cell(P, 4, "disease", "DLBLC")),
    Case("unknown_response", "unknown-category", "assessments.csv", 4, "response",
         set_cell(A, 4, "response", "complete")),
    Case("bad_bool", "bad-bool", "patients.csv", 2, "cns_involvement", set_cell(P, 2, "cns_involvement", "maybe")),
    Case("missing_value", "missing-value", "events.csv", 5, "type", set_cell(E, 5, "type", "")),
    Case("missing_id", "missing-id", "labs.csv", 9, "patient_id", set_cell(L, 9, "patient_id", "")),
    # ranges
    Case("age_impossible", "out-of-range", "patients.csv", 2, "age", set_cell(P, 2, "age", "150")),
    Case("blasts_impossible", "out-of-range", "assessments.csv", 2, "blasts_pct", set_cell(A, 2, "blasts_pct", "120")),
    Case("ice_impossible", "out-of-range", "toxicity_daily.csv", 2, "ice_score", set_cell(T, 2, "ice_score", "11")),
    Case("fahrenheit", "out-of-range", "toxicity_daily.csv", 3, "temperature_c",
         set_cell(T, 3, "temperature_c", "102.9")),
    Case("negative_lab", "out-of-range", "labs.csv", 2, "value", set_cell(L, 2, "value", "-12")),
    Case("implausible_lab", "implausible-value", "labs.csv", 4, "value", set_cell(L, 4, "value", "2150000"),
         severity="warning"),
    # units and lab values
    Case("unknown_unit", "unknown-unit", "labs.csv", 5, "unit", set_cell(L, 5, "unit", "mg/deciL")),
    Case("incompatible_unit", "incompatible-unit", "labs.csv", 6, "unit", set_cell(L, 6, "unit", "G/L")),
    Case("unit_missing", "unit-missing", "labs.csv", 8, "unit", set_cell(L, 8, "unit", "")),
    Case("kinetics_unknown_unit", "unknown-unit", "kinetics.csv", 4, "unit", set_cell(K, 4, "unit", "cells/drop")),
    Case("mixed_units", "mixed-units", "labs.csv", 11, "unit", both(
        add_row(L, {"patient_id": "P01", "day": "5", "analyte": "sCD163", "value": "400", "unit": "ng/mL",
                    "role": "patient"}),
        add_row(L, {"patient_id": "P01", "day": "6", "analyte": "sCD163", "value": "2", "unit": "U/L",
                    "role": "patient"}))),
    Case("unknown_qualifier", "unknown-qualifier", "labs.csv", 4, "qualifier", add_col(L, "qualifier", {4: "~"})),
    Case("qualifier_conflict", "qualifier-conflict", "labs.csv", 3, "qualifier", add_col(L, "qualifier", {3: "<"})),
    Case("lab_value_text", "not-a-number", "labs.csv", 7, "value", set_cell(L, 7, "value", "high")),
    # identity and references
    Case("duplicate_patient", "duplicate-patient", "patients.csv", 6, "patient_id", add_raw_row(
        P, ["P02", "B-ALL", "M", "12", "training", "2", "first relapse", "none", "yes", "no", "0", "220", "250", "", ""])),
    Case("duplicate_infusion", "duplicate-key", "infusions.csv", 8, "infusion_no",
         add_row(I, {"patient_id": "P01", "infusion_no": "2", "day": "60", "product": "CD22"})),
    Case("duplicate_patient_day", "duplicate-key", "toxicity_daily.csv", 6, "day",
         add_row(T, {"patient_id": "P02", "day": "1", "temperature_c": "38.0"})),
    Case("unknown_patient_event", "unknown-patient", "events.csv", 8, "patient_id",
         add_row(E, {"patient_id": "P09", "day": "100", "type": "last_contact"})),
    Case("unknown_patient_lab", "unknown-patient", "labs.csv", 6, "patient_id", set_cell(L, 6, "patient_id", "P2")),
    Case("role_missing", "role-missing", "labs.csv", 9, "role", set_cell(L, 9, "role", "")),
    Case("donor_is_patient", "donor-is-patient", "labs.csv", 10, "patient_id", set_cell(L, 10, "patient_id", "P02")),
    Case("unknown_infusion", "unknown-infusion", "kinetics.csv", 4, "infusion_no", set_cell(K, 4, "infusion_no", "3")),
    # infusions
    Case("no_infusion", "no-infusion", "patients.csv", 5, "patient_id", del_row(I, 7)),
    Case("infusion_not_from_1", "infusion-numbering", "infusions.csv", 6, "infusion_no",
         set_cell(I, 6, "infusion_no", "2")),
    Case("infusion_gap", "infusion-numbering", "infusions.csv", 3, "infusion_no", set_cell(I, 3, "infusion_no", "3")),
    Case("infusion_order", "infusion-order", "infusions.csv", 5, "day", set_cell(I, 5, "day", "0")),
    Case("index_day_not_zero", "index-day-not-zero", "infusions.csv", 7, "day", set_cell(I, 7, "day", "3")),
    # time
    Case("missing_time", "missing-time", "kinetics.csv", 4, "day", set_cell(K, 4, "day", "")),
    Case("day_excel_serial", "day-excel-serial", "events.csv", 4, "day", set_cell(E, 4, "day", "45322")),
    Case("day_not_number", "not-a-number", "assessments.csv", 4, "day", set_cell(A, 4, "day", "2023-02-07")),
    Case("date_excel_serial", "date-serial", "events.csv", 5, "date", set_cell(E, 5, "date", "45005"),
         base="dates", severity="warning"),
    Case("bad_date", "bad-date", "events.csv", 6, "date", set_cell(E, 6, "date", "2023-02-30"), base="dates"),
    Case("ambiguous_date", "ambiguous-date", "infusions.csv", 5, "date", set_cell(I, 5, "date", "07/03/2023"),
         base="dates"),
    Case("mixed_time_convention", "mixed-time-convention", "events.csv", 4, "day",
         both(add_col(E, "day", {4: "365"}), set_cell(E, 4, "date", "")), base="dates"),
    Case("day_date_disagree", "day-date-disagree", "events.csv", 2, "date", add_col(E, "day", {2: "181"}),
         base="dates"),
    Case("date_without_infusion_date", "date-without-infusion-date", "events.csv", 1, "date", days_to_dates(E)),
    # clinical order
    Case("event_before_infusion", "event-before-infusion", "events.csv", 5, "day", set_cell(E, 5, "day", "-2")),
    Case("response_before_infusion", "response-before-infusion", "assessments.csv", 5, "day",
         set_cell(A, 5, "day", "-10")),
    Case("lab_far_before", "far-before-index", "labs.csv", 2, "day", set_cell(L, 2, "day", "-400"),
         severity="warning"),
    Case("lab_after_death", "after-death", "labs.csv", 9, "day", set_cell(L, 9, "day", "90")),
    Case("event_after_death", "after-death", "events.csv", 8, "day",
         add_row(E, {"patient_id": "P04", "day": "100", "type": "last_contact"})),
    Case("two_deaths", "duplicate-death", "events.csv", 8, "type",
         add_row(E, {"patient_id": "P04", "day": "70", "type": "death", "cause": "disease"})),
    Case("relapse_without_response", "relapse-without-response", "events.csv", 2, "type",
         set_cell(A, 3, "response", "SD")),
    Case("cause_without_death", "cause-without-death", "events.csv", 5, "cause", set_cell(E, 5, "cause", "disease"),
         severity="warning"),
]


# --- writing -------------------------------------------------------------------------------


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def read_base(base: str) -> Files:
    files: Files = {}
    for path in sorted((GOOD / base).glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            files[path.name] = [list(r) for r in csv.reader(fh)]
    return files


def case_files(case: Case) -> dict[str, bytes]:
    """The bytes of every file of a CSV case."""
    files = read_base(case.base)
    case.edit(files)
    return {name: (content if isinstance(content, bytes) else _csv_bytes(content))  # type: ignore[arg-type]
            for name, content in sorted(files.items())}


def write_xlsx(files: dict[str, bytes], path: Path) -> None:
    """One sheet per table, numbers as numeric cells (as a spreadsheet user would have them)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, data in files.items():
        sheet = workbook.create_sheet(Path(name).stem)
        for row in csv.reader(io.StringIO(data.decode("utf-8"))):
            sheet.append([_cell(v) for v in row])
    workbook.save(path)


def _cell(text: str) -> object:
    if text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number


def case_path(case: Case) -> str:
    return f"{case.name}/cohort.xlsx" if case.xlsx else case.name


def manifest() -> list[dict[str, object]]:
    return [
        {"name": c.name, "path": case_path(c), "code": c.code, "file": c.file, "row": c.row, "column": c.column,
         "severity": c.severity}
        for c in CASES
    ]


def main(out: Path = HERE) -> None:
    for case in CASES:
        folder = out / case.name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        files = case_files(case)
        if case.xlsx:
            write_xlsx(files, folder / "cohort.xlsx")
        else:
            for name, data in files.items():
                (folder / name).write_bytes(data)
    header = "# Generated by make_corpus.py: one defect per case and the single problem it must yield.\n"
    (out / "cases.yaml").write_text(header + yaml.safe_dump(manifest(), sort_keys=False), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
