"""Recorded CRS / ICANS grades: read from patients or a toxicity table, used without daily data,
provenance shown, disagreement with daily grading warned per patient."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from cartscope.clinical.crs import grade_crs
from cartscope.clinical.recorded_grades import DAILY, RECORDED, has_toxicity_grades, patient_toxicity_grades
from cartscope.cohort.load import load_cohort, load_cohort_with_problems
from cartscope.cohort.problems import CohortError

GOOD = Path(__file__).resolve().parent / "good" / "days"


def _copy(tmp_path: Path, name: str = "c") -> Path:
    folder = tmp_path / name
    shutil.copytree(GOOD, folder)
    return folder


def _add_patient_columns(folder: Path, columns: dict[str, list[str]]) -> None:
    p = pd.read_csv(folder / "patients.csv", dtype=str, keep_default_na=False)
    for k, v in columns.items():
        p[k] = v
    p.to_csv(folder / "patients.csv", index=False)


def test_recorded_grades_without_daily_table(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "toxicity_daily.csv").unlink()
    _add_patient_columns(folder, {"crs_grade": ["2", "0", "", "3"], "crs_onset_day": ["1", "", "", "4"],
                                  "crs_duration_days": ["5", "", "", "9"], "icans_grade": ["1", "0", "0", ""]})
    cohort = load_cohort(folder)
    assert cohort.patients["crs_grade"].tolist()[:2] == [2, 0]
    assert has_toxicity_grades(cohort.patients, cohort.toxicity_daily)
    grades = patient_toxicity_grades(cohort.patients, cohort.toxicity_daily, cohort.events)
    t = grades.table.set_index("patient_id")
    assert t["crs_grade"].tolist()[:2] == [2, 0] and pd.isna(t.loc["P03", "crs_grade"])
    assert t.loc["P01", "crs_source"] == RECORDED and pd.isna(t.loc["P03", "crs_source"])
    assert t.loc["P04", "crs_onset_day"] == 4.0 and t.loc["P04", "crs_duration_days"] == 9.0
    assert t.loc["P03", "reason"] == "no toxicity_daily table"
    assert pd.isna(t.loc["P04", "icans_source"]) and t.loc["P03", "icans_grade"] == 0
    assert grades.warnings == ()
    assert "CRS: 3 recorded" in repr(grades)


def test_daily_grading_wins_and_disagreement_is_warned(tmp_path: Path) -> None:
    cohort = load_cohort(GOOD)
    daily = grade_crs(cohort.toxicity_daily, cohort.events, patients=cohort.patients[["patient_id"]])
    graded = daily.set_index("patient_id")["crs_grade"]
    pats = cohort.patients.copy()
    recorded = [int(graded["P01"]) + 1, int(graded["P02"]), None, None]
    pats["crs_grade"] = pd.array(recorded, dtype="Int64")
    grades = patient_toxicity_grades(pats, cohort.toxicity_daily, cohort.events)
    t = grades.table.set_index("patient_id")
    assert t.loc["P01", "crs_grade"] == graded["P01"] and t.loc["P01", "crs_source"] == DAILY
    assert grades.warnings == (
        f"patient P01: CRS grade {int(graded['P01'])} graded from daily data but {recorded[0]} recorded; "
        "the graded grade is used",)
    chosen = patient_toxicity_grades(pats, cohort.toxicity_daily, cohort.events, prefer="recorded").table
    assert chosen.set_index("patient_id").loc["P01", "crs_grade"] == recorded[0]
    assert chosen.set_index("patient_id").loc["P01", "crs_source"] == RECORDED
    # a patient without daily rows falls back to the record
    no_rows = cohort.toxicity_daily[cohort.toxicity_daily["patient_id"] != "P02"]
    t2 = patient_toxicity_grades(pats, no_rows, cohort.events).table.set_index("patient_id")
    assert t2.loc["P02", "crs_source"] == RECORDED and t2.loc["P02", "crs_grade"] == recorded[1]
    with pytest.raises(ValueError):
        patient_toxicity_grades(pats, prefer="either")


def test_toxicity_table_folds_into_patients(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "toxicity.csv").write_text("patient_id,crs_grade,icans_grade,crs_onset_day\nP01,2,1,3\nP04,1,,\n",
                                         encoding="utf-8")
    cohort, problems = load_cohort_with_problems(folder)
    assert problems == []
    pd.testing.assert_extension_array_equal(cohort.patients["crs_grade"].array,
                                            pd.array([2, None, None, 1], dtype="Int64"))
    assert cohort.patients["crs_onset_day"].tolist()[0] == 3.0
    assert "toxicity" not in cohort.present


def test_toxicity_table_problems_cite_it(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _add_patient_columns(folder, {"crs_grade": ["1", "", "", ""]})
    (folder / "toxicity.csv").write_text("patient_id,crs_grade\nP01,2\nP09,1\nP04,7\n", encoding="utf-8")
    with pytest.raises(CohortError) as info:
        load_cohort(folder)
    got = sorted((p.file, p.row, p.column, p.code) for p in info.value.problems)
    assert got == [("toxicity.csv", 2, "crs_grade", "recorded-twice"),
                   ("toxicity.csv", 3, "patient_id", "unknown-patient"),
                   ("toxicity.csv", 4, "crs_grade", "out-of-range")]
