"""Recorded CRS / ICANS grades drive the toxicity analyses when there is no daily table, with
their provenance in ``toxicity_patients``; a disagreement with daily grading is a note."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from cartscope.analysis.presets import synthesize
from cartscope.analysis.protocol import load_protocol
from cartscope.analysis.study import run_study


@pytest.fixture(scope="module")
def daily_run():
    cohort = synthesize("li2023", seed=2023)
    return cohort, run_study(cohort, load_protocol("li2023"))


def test_recorded_grades_give_the_same_toxicity_tables(daily_run) -> None:
    cohort, res = daily_run
    per = res.tables["toxicity_patients"].set_index("patient_id")
    assert set(per["crs_source"].dropna()) == {"graded from daily data"}
    patients = cohort.patients.copy()
    ids = patients["patient_id"].astype(str)
    patients["crs_grade"] = pd.array(ids.map(per["crs_grade"]).tolist(), dtype="Int64")
    patients["icans_grade"] = pd.array(ids.map(per["icans_grade"]).tolist(), dtype="Int64")
    recorded = dataclasses.replace(cohort, patients=patients, toxicity_daily=cohort.toxicity_daily.iloc[0:0],
                                   present=cohort.present - {"toxicity_daily"})
    res2 = run_study(recorded, load_protocol("li2023"))
    assert "toxicity" in res2.sections
    per2 = res2.tables["toxicity_patients"].set_index("patient_id")
    graded = per2["crs_grade"].notna()
    assert set(per2.loc[graded, "crs_source"]) == {"recorded"}
    pd.testing.assert_frame_equal(res.tables["toxicity_grades"], res2.tables["toxicity_grades"])
    pd.testing.assert_series_equal(res.endpoints["crs_grade"], res2.endpoints["crs_grade"])


def test_disagreement_is_a_note(daily_run) -> None:
    cohort, res = daily_run
    per = res.tables["toxicity_patients"].set_index("patient_id")
    first = per["crs_grade"].dropna().index[0]
    patients = cohort.patients.copy()
    wrong = [int(per.loc[first, "crs_grade"]) % 4 + 1 if str(p) == first else None for p in patients["patient_id"]]
    patients["crs_grade"] = pd.array(wrong, dtype="Int64")
    res2 = run_study(dataclasses.replace(cohort, patients=patients), load_protocol("li2023"))
    notes = [v for k, v in res2.skipped.items() if "grades-" in k]
    assert len(notes) == 1 and notes[0].startswith(f"patient {first}: CRS grade ")
    pd.testing.assert_frame_equal(res.tables["toxicity_grades"], res2.tables["toxicity_grades"])
