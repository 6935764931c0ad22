"""Loading: dates to days, index infusion, units, covariates, XLSX/Parquet round trips."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import cartscope
from cartscope.cohort.load import load_cohort, load_cohort_with_problems
from cartscope.cohort.model import UnitConversion
from cartscope.cohort.problems import CohortError
from cartscope.cohort.schema import TABLE_ORDER, TABLES

HERE = Path(__file__).resolve().parent
GOOD = HERE / "good" / "days"
GOOD_DATES = HERE / "good" / "dates"
TIMED = [n for n in TABLE_ORDER if TABLES[n].timed]


def assert_same_cohort(a: cartscope.cohort.Cohort, b: cartscope.cohort.Cohort) -> None:
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(a.table(name), b.table(name), obj=name)
    assert a.conversions == b.conversions


@pytest.fixture(scope="module")
def good() -> cartscope.cohort.Cohort:
    return load_cohort(GOOD)


def test_lazy_exports() -> None:
    assert cartscope.load_cohort is load_cohort
    from cartscope.cohort.validate import validate

    assert cartscope.validate is validate


def test_dates_become_days_from_first_infusion(good) -> None:
    from_dates = load_cohort(GOOD_DATES)
    assert_same_cohort(good, from_dates)
    # P01's first infusion 2023-01-10, relapse 2023-07-09 -> day 180; P02's last contact crosses 2024-02-29
    events = from_dates.events.set_index(["patient_id", "type"])["day"]
    assert events[("P01", "relapse")] == 180.0
    assert events[("P02", "last_contact")] == 365.0
    assert from_dates.labs["day"].tolist()[:2] == [-5.0, 5.0]
    assert "date" not in from_dates.events.columns


def _with_second_infusions(tmp_path: Path, base: Path) -> Path:
    folder = tmp_path / base.name
    shutil.copytree(base, folder)
    day_or_date = {"days": ("20", "10"), "dates": ("2023-01-09", "2023-04-30")}[base.name]
    with (folder / "infusions.csv").open("a") as fh:
        fh.write(f"P03,2,{day_or_date[0]},CART2,CD22,1.0,\nP04,2,{day_or_date[1]},CART2,CD22,1.0,\n")
    return folder


@pytest.mark.parametrize("index", [2, "2", "CART2", "cart2"])
def test_index_infusion_shifts_every_table(tmp_path: Path, index: int | str) -> None:
    folder = _with_second_infusions(tmp_path, GOOD)
    default = load_cohort(folder)
    shifted = load_cohort(folder, index_infusion=index)
    shift = {"P01": 30.0, "P02": 35.0, "P03": 20.0, "P04": 10.0}
    for name in TIMED:
        before, after = default.table(name), shifted.table(name)
        expected = before["day"] - before["patient_id"].map(shift).fillna(0.0)
        np.testing.assert_array_equal(after["day"].to_numpy(), expected.to_numpy(), err_msg=name)
    second = shifted.infusions[shifted.infusions["infusion_no"] == 2]
    assert second["day"].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert shifted.events.loc[shifted.events["type"] == "relapse", "day"].tolist() == [150.0]
    assert np.isnan(shifted.labs.loc[shifted.labs["role"] == "healthy_donor", "day"]).all()


def test_index_infusion_from_dates_matches_days(tmp_path: Path) -> None:
    by_days = load_cohort(_with_second_infusions(tmp_path, GOOD), index_infusion="CART2")
    by_dates = load_cohort(_with_second_infusions(tmp_path, GOOD_DATES), index_infusion="CART2")
    assert_same_cohort(by_days, by_dates)


def test_default_index_is_infusion_1(good) -> None:
    assert_same_cohort(good, load_cohort(GOOD, index_infusion=1))


def test_patient_without_index_infusion_is_an_error() -> None:
    with pytest.raises(CohortError) as info:
        load_cohort(GOOD, index_infusion="CART2")
    assert [(p.file, p.row, p.code) for p in info.value.problems] == [
        ("patients.csv", 4, "index-infusion-missing"),
        ("patients.csv", 5, "index-infusion-missing"),
    ]


def test_units_are_converted_and_recorded(good) -> None:
    labs = good.labs.set_index(["patient_id", "analyte", "day"])
    assert labs.loc[("P01", "crp", 5.0), "value"] == pytest.approx(82.0)
    assert labs.loc[("P02", "platelets", -3.0), "value"] == pytest.approx(95000.0)
    assert labs.loc[("P02", "il6", 6.0), "value"] == pytest.approx(300.0)
    assert labs.loc[("P03", "creatinine", 4.0), "value"] == pytest.approx(1.1 * 88.4, rel=1e-12)
    assert labs.loc[("P04", "hemoglobin", 2.0), "value"] == pytest.approx(92.0)
    assert labs.loc[("P01", "ferritin", 5.0), "value"] == 2150.0
    assert set(good.labs["unit"]) == {"pg/mL", "ng/mL", "mg/L", "/uL", "umol/L", "g/L"}
    assert good.conversions == (
        UnitConversion("labs", "value[creatinine]", "mg/dL", "umol/L", 88.4, 1),
        UnitConversion("labs", "value[crp]", "mg/dL", "mg/L", 10.0, 1),
        UnitConversion("labs", "value[ferritin]", "ug/L", "ng/mL", 1.0, 1),
        UnitConversion("labs", "value[hemoglobin]", "g/dL", "g/L", 10.0, 1),
        UnitConversion("labs", "value[il6]", "ng/mL", "pg/mL", 1000.0, 1),
        UnitConversion("labs", "value[platelets]", "x10^9/L", "/uL", 1000.0, 1),
    )
    assert good.kinetics["unit"].tolist() == ["copies/ug", "copies/ug", "/uL"]


def test_lab_comparators_become_qualifiers(good, tmp_path: Path) -> None:
    peak = good.labs[(good.labs["patient_id"] == "P01") & (good.labs["day"] == 5.0) & (good.labs["analyte"] == "il6")]
    assert (peak["value"].item(), peak["qualifier"].item()) == (5000.0, ">")
    assert set(good.labs["qualifier"]) == {"=", ">"}
    folder = tmp_path / "c"
    shutil.copytree(GOOD, folder)
    with (folder / "labs.csv").open("a") as fh:
        fh.write("P02,7,ferritin,>=50000,ng/mL,,serum,patient\nP02,8,IL-6,<5,pg/mL,,serum,patient\n"
                 "P02,9,IL-6,≥ 10,pg/mL,,serum,patient\n")
    labs = load_cohort(folder).labs.tail(3)
    assert labs["value"].tolist() == [50000.0, 5.0, 10.0]
    assert labs["qualifier"].tolist() == [">=", "<", ">="]


def test_extra_patient_columns_are_covariates(good) -> None:
    assert good.covariates() == ["karyotype", "cd19_pct"]
    assert good.patients["karyotype"].tolist()[:2] == ["complex", "normal"]
    assert pd.isna(good.patients["karyotype"].iloc[2])
    assert good.patients["cd19_pct"].dtype == np.float64
    assert good.patients["cd19_pct"].tolist()[:2] == [92.5, 88.0]


def test_types_follow_the_schema(good) -> None:
    p = good.patients
    assert p["prior_lines"].dtype == "Int64" and p["cns_involvement"].dtype == "boolean"
    assert p["cns_involvement"].tolist() == [False, True, False, False]
    assert good.toxicity_daily["oxygen"].tolist() == ["none", "low-flow", "none", "none"]
    assert good.assessments["day"].dtype == np.float64
    for name in TABLE_ORDER:
        schema_cols = [c.name for c in TABLES[name].columns if c.kind != "date"]
        assert list(good.table(name).columns[: len(schema_cols)]) == schema_cols


def test_bool_and_category_spellings(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    shutil.copytree(GOOD, folder)
    text = (folder / "patients.csv").read_text()
    text = text.replace("P01,B-ALL,F,34,training,3,refractory,allo,no,no",
                        "P01,b-all,female,34,Training,3,Primary Refractory,ALLO,No,FALSE")
    text = text.replace("P02,B-ALL,M,12,training,2,first relapse,none,yes,no",
                        "P02,ALL,male,12,training,2,relapse 1,none,Y,0")
    (folder / "patients.csv").write_text(text)
    p = load_cohort(folder).patients
    assert p["disease"].tolist()[:2] == ["B-ALL", "B-ALL"]
    assert p["sex"].tolist()[:2] == ["F", "M"]
    assert p["disease_status"].tolist()[:2] == ["refractory", "first relapse"]
    assert p["prior_hsct"].tolist()[0] == "allo"
    assert p["cns_involvement"].tolist()[:2] == [False, True]
    assert p["tp53"].tolist()[:2] == [False, False]


def test_absent_optional_tables_are_empty_frames(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    shutil.copytree(GOOD, folder)
    (folder / "kinetics.csv").unlink()
    (folder / "toxicity_daily.csv").unlink()
    (folder / "labs.csv").unlink()
    cohort = load_cohort(folder)
    assert cohort.present == frozenset({"patients", "infusions", "assessments", "events"})
    assert cohort.kinetics.empty and list(cohort.kinetics.columns) == [
        "patient_id", "infusion_no", "day", "measure", "value", "unit"]
    assert cohort.toxicity_daily["ice_score"].dtype == "Int64"
    assert cohort.labs["value"].dtype == np.float64
    assert cohort.conversions == ()


def test_file_hashes(good) -> None:
    expected = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(GOOD.glob("*.csv"))}
    assert good.file_hashes == expected
    assert good.source == str(GOOD)


def _typed_frames(base: Path) -> dict[str, pd.DataFrame]:
    """Each CSV read as a spreadsheet user has it: numbers as numbers, dates as dates."""
    frames = {}
    for path in sorted(base.glob("*.csv")):
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"patient_id": str})
        if "date" in frame.columns:
            frame["date"] = pd.to_datetime(frame["date"])
        frames[path.stem] = frame
    return frames


@pytest.mark.parametrize("base", [GOOD, GOOD_DATES], ids=["days", "dates"])
def test_xlsx_round_trip(tmp_path: Path, base: Path, good) -> None:
    book = tmp_path / "cohort.xlsx"
    with pd.ExcelWriter(book, engine="openpyxl") as writer:
        for name, frame in _typed_frames(base).items():
            frame.to_excel(writer, sheet_name=name, index=False)
    if base is GOOD_DATES:  # real date cells, not text
        sheet = openpyxl.load_workbook(book)["events"]
        assert sheet["B2"].is_date
    cohort, warnings = load_cohort_with_problems(book)
    assert warnings == []
    assert_same_cohort(good, cohort)
    assert list(cohort.file_hashes) == ["cohort.xlsx"]


@pytest.mark.parametrize("base", [GOOD, GOOD_DATES], ids=["days", "dates"])
def test_parquet_round_trip(tmp_path: Path, base: Path, good) -> None:
    folder = tmp_path / "pq"
    folder.mkdir()
    for name, frame in _typed_frames(base).items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    cohort, warnings = load_cohort_with_problems(folder)
    assert warnings == []
    assert_same_cohort(good, cohort)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_written_cohort_loads_back_identical(tmp_path: Path, fmt: str, good) -> None:
    from cartscope.cohort.write import write_cohort

    written = write_cohort(good, tmp_path / "out", fmt=fmt)
    again, warnings = load_cohort_with_problems(written)
    assert warnings == []
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(good.table(name), again.table(name), obj=name)
    assert again.conversions == ()  # already canonical


def test_xlsx_rows_are_worksheet_rows(tmp_path: Path) -> None:
    book = tmp_path / "cohort.xlsx"
    frames = _typed_frames(GOOD)
    with pd.ExcelWriter(book, engine="openpyxl") as writer:
        for name, frame in frames.items():
            frame.to_excel(writer, sheet_name=name, index=False, startrow=2 if name == "events" else 0)
    wb = openpyxl.load_workbook(book)
    wb["events"]["B7"] = 45005  # header on row 3, so worksheet row 7 is the fourth event
    wb.save(book)
    problems = cartscope.validate(book)
    assert [(p.file, p.row, p.column, p.code) for p in problems] == [
        ("cohort.xlsx[events]", 7, "day", "day-excel-serial"),
    ]


def test_excel_serial_in_date_cells(tmp_path: Path) -> None:
    book = tmp_path / "cohort.xlsx"
    with pd.ExcelWriter(book, engine="openpyxl") as writer:
        for name, frame in _typed_frames(GOOD_DATES).items():
            frame.to_excel(writer, sheet_name=name, index=False)
    wb = openpyxl.load_workbook(book)
    wb["events"]["B3"] = 45176  # a date pasted as its serial number, cell not formatted as a date
    wb["events"]["B3"].number_format = "General"
    wb.save(book)
    problems = cartscope.validate(book)
    assert [(p.row, p.column, p.code, p.severity.value) for p in problems] == [(3, "date", "date-serial", "warning")]
    assert "1900 date system (45176 = 2023-09-07)" in problems[0].message
