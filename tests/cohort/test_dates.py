"""Dates as hospitals export them: day-first / month-first per column, serials with the
workbook's 1900/1904 epoch, the --date-order option, the data cut-off, and column names."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from cartscope.cli import app
from cartscope.clinical.endpoints import derive_endpoints
from cartscope.cohort.dates import EPOCH_1900, EPOCH_1904, decide_order, normalise_order, split_date_text
from cartscope.cohort.load import load_cohort, load_cohort_with_problems
from cartscope.cohort.schema import TABLE_ORDER
from cartscope.cohort.validate import validate

HERE = Path(__file__).resolve().parent
GOOD_DATES = HERE / "good" / "dates"


def _frames(base: Path = GOOD_DATES) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(base.glob("*.csv"))}


def _reformat(frames: dict[str, pd.DataFrame], fmt) -> dict[str, pd.DataFrame]:
    out = {}
    for name, frame in frames.items():
        frame = frame.copy()
        if "date" in frame:
            frame["date"] = [fmt(dt.date.fromisoformat(v)) if v else "" for v in frame["date"]]
        out[name] = frame
    return out


def _write_csvs(frames: dict[str, pd.DataFrame], folder: Path, sep: str = ",") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False, sep=sep)
    return folder


def _write_book(frames: dict[str, pd.DataFrame], path: Path, *, serial_every: int = 0, epoch: dt.date = EPOCH_1900,
                dmy: bool = True) -> Path:
    """A workbook with dates as day-first text, every ``serial_every``-th one as a plain serial number."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if epoch == EPOCH_1904:
        wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    k = 0
    for name, frame in frames.items():
        ws = wb.create_sheet(name)
        ws.append(list(frame.columns))
        for rec in frame.itertuples(index=False):
            row = []
            for col, value in zip(frame.columns, rec):
                if col == "date" and value:
                    day = dt.date.fromisoformat(value)
                    k += 1
                    if serial_every and k % serial_every == 0:
                        row.append((day - epoch).days)
                    else:
                        row.append(day.strftime("%d/%m/%Y" if dmy else "%m/%d/%Y"))
                else:
                    row.append(value if value != "" else None)
            ws.append(row)
    wb.save(path)
    return path


def _same(a, b) -> None:
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(a.table(name), b.table(name), obj=name)


# --- the parts ---------------------------------------------------------------------------


def test_split_and_vote() -> None:
    assert split_date_text("31/07/2021").votes == "DMY"
    assert split_date_text("07/31/2021").votes == "MDY"
    assert split_date_text("05/05/2021").resolve(None)[0] == dt.date(2021, 5, 5)
    assert split_date_text("03/07/2021").ambiguous
    assert split_date_text("03/07/2021").resolve("DMY")[0] == dt.date(2021, 7, 3)
    assert split_date_text("03/07/2021").resolve("MDY")[0] == dt.date(2021, 3, 7)
    assert split_date_text("31-Jul-2021").resolve(None)[0] == dt.date(2021, 7, 31)
    assert split_date_text("Jul 31, 2021").resolve(None)[0] == dt.date(2021, 7, 31)
    assert split_date_text("31.07.2021 14:30").resolve(None)[0] == dt.date(2021, 7, 31)
    assert split_date_text("2021/07/31").resolve(None)[0] == dt.date(2021, 7, 31)
    assert "two-digit year" in split_date_text("31/07/21").error
    assert split_date_text("31/07/2021").resolve("MDY")[1] == "is not a calendar date read month-first (MDY)"
    assert split_date_text("hello") is None
    assert normalise_order("dd/mm/yyyy") == "DMY" and normalise_order("mdy") == "MDY"
    assert normalise_order("julian") is None


def test_decide_order() -> None:
    parts = [(split_date_text(t), t, r) for t, r in (("03/07/2021", 2), ("31/07/2021", 3))]
    assert decide_order(parts, None).order == "DMY"
    assert "'31/07/2021' (row 3) cannot be month-first" in decide_order(parts, None).reason
    mixed = parts + [(split_date_text("07/31/2021"), "07/31/2021", 4)]
    assert decide_order(mixed, None).conflict == (("31/07/2021", 3), ("07/31/2021", 4))
    assert decide_order(parts[:1], None).order is None
    assert decide_order(parts[:1], "MDY").order == "MDY"


# --- whole cohorts -----------------------------------------------------------------------


def test_day_first_workbook_with_serials_matches_clean_twin(tmp_path: Path) -> None:
    clean = load_cohort(GOOD_DATES)
    book = _write_book(_frames(), tmp_path / "hospital.xlsx", serial_every=3)
    cohort, problems = load_cohort_with_problems(book)
    assert not [p for p in problems if p.is_error]
    codes = {p.code for p in problems}
    assert codes <= {"date-order-detected", "date-serial"} and "date-serial" in codes
    serial = next(p for p in problems if p.code == "date-serial")
    assert "1900 date system" in serial.message and "CSV" not in serial.message
    _same(clean, cohort)
    pd.testing.assert_frame_equal(derive_endpoints(clean), derive_endpoints(cohort))


def test_1904_workbook_serials_use_its_epoch(tmp_path: Path) -> None:
    clean = load_cohort(GOOD_DATES)
    book = _write_book(_frames(), tmp_path / "mac.xlsx", serial_every=2, epoch=EPOCH_1904)
    cohort, problems = load_cohort_with_problems(book)
    assert not [p for p in problems if p.is_error]
    assert any("1904 date system" in p.message for p in problems if p.code == "date-serial")
    _same(clean, cohort)


def test_month_first_csv_detected_per_column(tmp_path: Path) -> None:
    folder = _write_csvs(_reformat(_frames(), lambda d: d.strftime("%m/%d/%Y")), tmp_path / "us")
    problems = validate(folder)
    assert not [p for p in problems if p.is_error]
    detected = [p for p in problems if p.code == "date-order-detected"]
    assert detected and all("month-first (MDY)" in p.message for p in detected)
    _same(load_cohort(GOOD_DATES), load_cohort(folder))


def test_undecided_column_is_one_error_then_the_option_decides(tmp_path: Path) -> None:
    frames = _frames()
    frames["events"] = frames["events"].copy()
    # only dates whose day is at most 12: nothing in the column decides
    frames["events"]["date"] = ["2023-07-09", "2023-09-07", "2024-02-01", "2023-03-10", "2023-07-08", "2023-06-11"]
    folder = _write_csvs(_reformat(frames, lambda d: d.strftime("%d/%m/%Y")), tmp_path / "undecided")
    errors = [p for p in validate(folder) if p.is_error]
    assert [(p.file, p.row, p.column, p.code) for p in errors] == [("events.csv", 2, "date", "ambiguous-date")]
    assert "--date-order DMY or MDY" in errors[0].message and "5 more" in errors[0].message
    assert not [p for p in validate(folder, date_order="DMY") if p.is_error]
    events = load_cohort(folder, date_order="dmy").events
    assert events.loc[events["type"] == "relapse", "day"].tolist()[0] == 180.0
    result = CliRunner().invoke(app, ["validate", str(folder), "--date-order", "DMY"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["validate", str(folder), "--date-order", "XYZ"])
    assert result.exit_code != 0


def test_mixed_orders_in_one_column(tmp_path: Path) -> None:
    folder = _write_csvs(_frames(), tmp_path / "mixed")
    events = pd.read_csv(folder / "events.csv", dtype=str, keep_default_na=False)
    events.loc[0, "date"] = "09/07/2023"
    events.loc[1, "date"] = "30/09/2023"
    events.loc[2, "date"] = "02/13/2024"
    events.to_csv(folder / "events.csv", index=False)
    errors = [p for p in validate(folder) if p.is_error]
    assert [(p.row, p.column, p.code) for p in errors] == [(3, "date", "mixed-date-order")]
    assert "'30/09/2023', row 3" in errors[0].message and "'02/13/2024', row 4" in errors[0].message
    # an order given explicitly reads the column and refuses the value it cannot read
    errors = [p for p in validate(folder, date_order="DMY") if p.is_error]
    assert [(p.row, p.code) for p in errors] == [(4, "bad-date")]
    assert "'02/13/2024' is not a calendar date read day-first (DMY)" in errors[0].message


def test_problem_names_the_date_column_the_file_has(tmp_path: Path) -> None:
    folder = _write_csvs(_frames(), tmp_path / "before")
    events = pd.read_csv(folder / "events.csv", dtype=str, keep_default_na=False)
    events = events.rename(columns={"date": "Date"})
    events.loc[3, "Date"] = "2022-12-01"  # P03 progresses before the infusion (2022-12-20)
    events.to_csv(folder / "events.csv", index=False)
    errors = [p for p in validate(folder) if p.is_error]
    assert [(p.file, p.row, p.column, p.code) for p in errors] == [("events.csv", 5, "Date", "event-before-infusion")]


def test_data_cutoff_censors_follow_up(tmp_path: Path) -> None:
    cut = dt.date(2023, 8, 1)
    cohort, problems = load_cohort_with_problems(GOOD_DATES, data_cutoff=cut)
    later = [p for p in problems if p.code == "after-data-cutoff"]
    # P01 death 2023-09-07, P02 last contact 2024-02-01 -> left out, each with its place
    assert [(p.file, p.row, p.column) for p in later] == [("events.csv", 3, "date"), ("events.csv", 4, "date")]
    assert all(not p.is_error for p in problems)
    ev = cohort.events
    p01 = ev[ev["patient_id"] == "P01"].sort_values("day")
    assert p01["type"].tolist() == ["relapse", "last_contact"]
    assert p01["day"].tolist() == [180.0, float((cut - dt.date(2023, 1, 10)).days)]
    p02 = ev[ev["patient_id"] == "P02"]
    assert p02.loc[p02["type"] == "last_contact", "day"].tolist() == [float((cut - dt.date(2023, 2, 1)).days)]
    ep = derive_endpoints(cohort).set_index("patient_id")
    assert ep.loc["P01", "os_event"] == 0 and ep.loc["P01", "os_time"] == 203.0
    result = CliRunner().invoke(app, ["validate", str(GOOD_DATES), "--data-cutoff", "2023-08-01"])
    assert result.exit_code == 0 and "after-data-cutoff" in result.output


def test_cutoff_needs_dates_and_a_date() -> None:
    assert [p.code for p in validate(HERE / "good" / "days", data_cutoff="2023-08-01")] == ["cutoff-without-dates"]
    assert [p.code for p in validate(GOOD_DATES, data_cutoff="1 Aug")] == ["bad-option"]


@pytest.mark.parametrize("order", ["DMY", "MDY"])
def test_import_and_analyze_take_the_options(tmp_path: Path, order: str) -> None:
    fmt = "%d/%m/%Y" if order == "DMY" else "%m/%d/%Y"
    folder = _write_csvs(_reformat(_frames(), lambda d: d.strftime(fmt)), tmp_path / "c")
    result = CliRunner().invoke(app, ["import", str(folder), "--db", str(tmp_path / "s.duckdb"),
                                      "--date-order", order, "--data-cutoff", "2023-08-01"])
    assert result.exit_code == 0, result.output
