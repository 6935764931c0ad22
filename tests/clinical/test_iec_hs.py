"""IEC-HS boundary scenarios: each threshold at and beyond its edge, timing, and the grade ladder."""

from __future__ import annotations

import pandas as pd
import pytest

from cartscope.clinical.iec_hs import identify_iec_hs

UNITS = {"ferritin": "ng/mL", "ldh": "U/L", "ast": "U/L", "alt": "U/L", "fibrinogen": "g/L",
         "anc": "/uL", "platelets": "/uL"}


def lab(pid: str, day: float, analyte: str, value: float) -> dict:
    return {"patient_id": pid, "day": day, "analyte": analyte, "value": value, "unit": UNITS[analyte]}


def patient(pid: str, ferritin: float, *, day: float = 10, extra: list[dict] | None = None,
            baseline_ferritin: float | None = None) -> list[dict]:
    rows = [lab(pid, day, "ferritin", ferritin), lab(pid, day, "ldh", 200.0)]
    if baseline_ferritin is not None:
        rows.append(lab(pid, -1, "ferritin", baseline_ferritin))
    return rows + (extra or [])


def run(rows: list[dict], **kw) -> pd.DataFrame:
    return identify_iec_hs(pd.DataFrame(rows), **kw).patients.set_index("patient_id")


@pytest.mark.parametrize(("ferritin", "flag"), [(800.0, False), (801.0, True)])
def test_ferritin_must_exceed_twice_the_uln(ferritin: float, flag: bool) -> None:
    g = run(patient("p", ferritin, extra=[lab("p", 11, "ldh", 251.0)]))
    assert bool(g.loc["p", "iec_hs"]) is flag


def test_abnormal_baseline_ferritin_is_the_reference() -> None:
    rows = patient("a", 1900.0, baseline_ferritin=1000.0, extra=[lab("a", 11, "ldh", 300.0)])
    rows += patient("b", 2100.0, baseline_ferritin=1000.0, extra=[lab("b", 11, "ldh", 300.0)])
    g = run(rows)
    assert g.loc["a", "ferritin_reference"] == 1000.0
    assert not g.loc["a", "iec_hs"] and g.loc["b", "iec_hs"]


@pytest.mark.parametrize(("analyte", "edge", "beyond"), [
    ("ldh", 250.0, 251.0), ("ast", 200.0, 201.0), ("alt", 200.0, 201.0), ("fibrinogen", 1.5, 1.49),
    ("anc", 1000.0, 999.0), ("platelets", 50000.0, 49999.0),
])
def test_each_manifestation_at_and_beyond_its_threshold(analyte: str, edge: float, beyond: float) -> None:
    rows = patient("edge", 5000.0, extra=[lab("edge", 12, analyte, edge)])
    rows += patient("beyond", 5000.0, extra=[lab("beyond", 12, analyte, beyond)])
    if analyte in ("anc", "platelets"):  # same CTCAE grade at baseline: not a worsening
        rows += [lab("edge", -1, analyte, edge), lab("beyond", -1, analyte, edge)]
    g = run(rows)
    assert not g.loc["edge", "iec_hs"], analyte
    assert g.loc["beyond", "iec_hs"], analyte
    assert g.loc["beyond", "n_manifestations"] == 1


def test_onset_must_be_on_or_after_the_crs_peak() -> None:
    tox = pd.DataFrame([{"patient_id": p, "day": d, "temperature_c": 39.0, "hypotension": d == 5}
                        for p in ("early", "late") for d in (3, 4, 5)])
    tox = pd.concat([tox, tox[tox["patient_id"] == "early"].assign(patient_id="peak")])
    rows = patient("peak", 5000.0, day=5, extra=[lab("peak", 8, "ldh", 400.0)])  # on the peak day: not resolving
    rows += patient("early", 5000.0, day=4, extra=[lab("early", 8, "ldh", 400.0)])
    rows += patient("late", 5000.0, day=6, extra=[lab("late", 8, "ldh", 400.0)])
    g = run(rows, toxicity_daily=tox)
    assert g.loc["early", "crs_peak_day"] == 5
    assert not g.loc["early", "iec_hs"] and not g.loc["peak", "iec_hs"]
    assert g.loc["late", "iec_hs"] and g.loc["late", "onset_day"] == 6


def test_manifestation_before_onset_or_after_14_days_does_not_count() -> None:
    g = run(patient("p", 5000.0, day=10, extra=[lab("p", 9, "ldh", 900.0)])
            + patient("q", 5000.0, day=10, extra=[lab("q", 25, "ldh", 900.0)])
            + patient("r", 5000.0, day=10, extra=[lab("r", 24, "ldh", 900.0)]))
    assert not g.loc["p", "iec_hs"] and not g.loc["q", "iec_hs"] and g.loc["r", "iec_hs"]


def test_cytopenia_must_worsen_after_onset() -> None:
    steady = patient("s", 5000.0, extra=[lab("s", 5, "anc", 300.0), lab("s", 12, "anc", 300.0)])
    worse = patient("w", 5000.0, extra=[lab("w", 5, "anc", 800.0), lab("w", 12, "anc", 300.0)])
    g = run(steady + worse)
    assert not g.loc["s", "iec_hs"] and g.loc["w", "iec_hs"]


def test_grade_ladder() -> None:
    extra = lambda p: [lab(p, 11, "ldh", 400.0)]  # noqa: E731
    rows = sum((patient(p, 5000.0, extra=extra(p)) for p in ("g1", "g1b", "g2", "g3", "g4")), [])
    events = pd.DataFrame([
        {"patient_id": "g1b", "day": 5, "type": "anakinra"},           # before onset: grade 1
        {"patient_id": "g2", "day": 12, "type": "anakinra"},
        {"patient_id": "g3", "day": 12, "type": "corticosteroid", "agent": "dexamethasone"},
        {"patient_id": "g3", "day": 13, "type": "transfusion", "agent": "cryoprecipitate"},
        {"patient_id": "g4", "day": 12, "type": "icu_admission"},
    ])
    tox = pd.DataFrame([{"patient_id": "g4", "day": 14, "hypotension": True, "vasopressors": 1}])
    g = run(rows, events=events, toxicity_daily=tox)
    assert g["grade"].to_dict() == {"g1": 1, "g1b": 1, "g2": 2, "g3": 3, "g4": 4}
    assert g.loc["g3", "criteria_met"] == "ferritin, timing, ldh"


def test_no_ferritin_gives_na_with_reason() -> None:
    res = identify_iec_hs(pd.DataFrame(patient("a", 900.0)), patients=["a", "b"])
    b = res.patients.set_index("patient_id").loc["b"]
    assert pd.isna(b["iec_hs"]) and b["reason"].startswith("no ferritin")
    assert "IEC-HS: 0 of 2" in repr(res)
