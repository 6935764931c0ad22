"""The haematology extension of the preset cohorts: nothing existing moves, and it validates.

``add_hematology`` draws from its own stream (``default_rng([seed, 16])``); the preset's own
rows must be byte-identical with and without it, and the extended cohort must pass validation
once written to CSV (the same path ``cartscope synth`` takes).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd
import pytest

from cartscope.clinical.icaht import grade_icaht
from cartscope.cohort.validate import validate
from cartscope.cohort.write import write_cohort


def _with_and_without(name: str, monkeypatch: pytest.MonkeyPatch):
    mod = importlib.import_module(f"cartscope.analysis.presets.{name}")
    full = mod.synthesize(seed=7)
    monkeypatch.setattr(mod, "add_hematology", lambda cohort, preset, seed: cohort)
    bare = mod.synthesize(seed=7)
    return bare, full


@pytest.mark.slow
@pytest.mark.parametrize("name", ["li2023", "lu2021"])
def test_existing_rows_are_unchanged(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    bare, full = _with_and_without(name, monkeypatch)
    for table in ("patients", "infusions", "assessments", "kinetics", "toxicity_daily"):
        pd.testing.assert_frame_equal(bare.table(table), full.table(table))
    for table in ("labs", "events"):
        pd.testing.assert_frame_equal(bare.table(table), full.table(table).iloc[: len(bare.table(table))])
        assert len(full.table(table)) > len(bare.table(table))
    added = full.events.iloc[len(bare.events):]
    assert set(added["type"]) <= {"infection", "ivig", "g_csf", "transfusion", "tocilizumab", "corticosteroid",
                                  "anakinra", "icu_admission", "icu_discharge"}
    # nothing after a patient's last existing observation
    last = pd.concat([bare.table(t)[["patient_id", "day"]] for t in ("events", "labs", "assessments", "kinetics",
                                                                     "toxicity_daily")])
    last = last[pd.to_numeric(last["day"]) >= 0].groupby("patient_id")["day"].max()
    new_labs = full.labs.iloc[len(bare.labs):]
    for frame in (added, new_labs):
        assert (pd.to_numeric(frame["day"]).to_numpy() <= frame["patient_id"].map(last).to_numpy()).all()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["li2023", "lu2021"])
def test_extended_cohort_validates(name: str, tmp_path: Path) -> None:
    from cartscope.analysis.presets import synthesize

    cohort = synthesize(name, seed=2023)
    path = write_cohort(cohort, tmp_path / name)
    errors = [p for p in validate(path) if p.severity.name == "ERROR"]
    assert errors == []


def test_li2023_courses_grade() -> None:
    from cartscope.analysis.presets import synthesize

    c = synthesize("li2023", seed=2023)
    res = grade_icaht(c.labs, c.events, patients=c.patients).patients
    assert res["early_grade"].notna().all() and res["t_early_grade"].notna().all()
    assert (c.labs["analyte"] == "igg").any()
