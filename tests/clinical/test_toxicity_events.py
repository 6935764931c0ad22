"""Infection and toxicity-treatment rows of the events table: loading and their checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from cartscope.cohort.load import load_cohort_with_problems
from cartscope.cohort.validate import validate

GOOD = Path(__file__).resolve().parents[1] / "cohort" / "good" / "days"


def _with_events(tmp_path: Path, rows: list[str]) -> Path:
    target = tmp_path / "c"
    shutil.copytree(GOOD, target)
    events = target / "events.csv"
    frame = pd.read_csv(events, dtype=str)
    extra = pd.DataFrame([dict(zip(["patient_id", "day", "type", "infection_type", "grade", "agent", "dose",
                                    "dose_unit"], r.split(","))) for r in rows])
    pd.concat([frame, extra], ignore_index=True).to_csv(events, index=False)
    return target


def test_infection_and_treatment_events_load_with_their_columns(tmp_path: Path) -> None:
    path = _with_events(tmp_path, [
        "P01,12,infection,Bacteria,3,,,",
        "P01,3,steroids,,,Dexamethasone,10,mg",
        "P01,2,G-CSF,,,filgrastim,5,ug/kg",
        "P01,4,ICU admission,,,,,",
    ])
    cohort, problems = load_cohort_with_problems(path)
    assert [p for p in problems if p.severity.name == "ERROR"] == []
    e = cohort.events[cohort.events["patient_id"] == "P01"].set_index("day")
    assert e.loc[12, "type"] == "infection" and e.loc[12, "infection_type"] == "bacterial"
    assert int(e.loc[12, "grade"]) == 3
    assert e.loc[3, "type"] == "corticosteroid" and float(e.loc[3, "dose"]) == 10.0
    assert e.loc[2, "type"] == "g_csf" and e.loc[4, "type"] == "icu_admission"


def test_stray_details_and_doses_without_unit_are_reported(tmp_path: Path) -> None:
    path = _with_events(tmp_path, [
        "P01,5,last_contact,viral,,,,",
        "P01,6,tocilizumab,,,tocilizumab,8,",
        "P01,7,infection,viral,6,,,",
    ])
    found = {(p.code, p.column, p.severity.name) for p in validate(path)}
    assert ("detail-on-wrong-event", "infection_type", "WARNING") in found
    assert ("dose-without-unit", "dose_unit", "ERROR") in found
    assert ("out-of-range", "grade", "ERROR") in found
