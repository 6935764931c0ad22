"""ASTCT ICANS grading (Lee et al. 2019): ICE/CAPD boundaries and every domain (ref. 2.2-2.4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartscope.clinical.icans import IcansRules, grade_icans, grade_icans_daily

NORMAL = {
    "ice_score": 10, "capd_score": np.nan, "consciousness": "alert", "seizure": "none",
    "motor_weakness": False, "cerebral_edema": "none",
}
ADULT = pd.DataFrame({"patient_id": ["p"], "age": [45.0]})
CHILD = pd.DataFrame({"patient_id": ["p"], "age": [7.0]})


def day(pid: str, d: int, **values: object) -> dict[str, object]:
    return {"patient_id": pid, "day": d, **NORMAL, **values}


def one_day(patients: pd.DataFrame | None = ADULT, **values: object) -> pd.Series:
    return grade_icans_daily(pd.DataFrame([day("p", 1, **values)]), patients).iloc[0]


@pytest.mark.parametrize(
    ("ice", "unarousable", "grade"),
    [
        (10, False, 0), (9, False, 1), (7, False, 1), (6, False, 2), (3, False, 2),
        (2, False, 3), (0, False, 3),  # awake with global aphasia
        (0, True, 4), (2, True, 4), (np.nan, True, 4), (np.nan, False, 0),
    ],
)
def test_ice_score_boundaries(ice: float, unarousable: bool, grade: int) -> None:
    row = one_day(ice_score=ice, consciousness="unarousable" if unarousable else "alert")
    assert row["ice_grade"] == grade
    assert row["icans_grade"] == grade


@pytest.mark.parametrize(
    ("capd", "consciousness", "grade"),
    [
        (0, "alert", 0), (1, "alert", 1), (8, "alert", 1), (9, "alert", 3), (20, "alert", 3),
        (8, "voice", 2),  # CAPD 1-8 raised to grade 2 by awakening to voice
        (np.nan, "unarousable", 4),
    ],
)
def test_capd_in_a_child(capd: float, consciousness: str, grade: int) -> None:
    row = one_day(CHILD, ice_score=np.nan, capd_score=capd, consciousness=consciousness)
    assert row["tool"] == "capd"
    assert row["icans_grade"] == grade


def test_tool_follows_age_and_override() -> None:
    rows = pd.DataFrame([day("p", 1, ice_score=10, capd_score=9)])
    assert grade_icans_daily(rows, ADULT)["icans_grade"].tolist() == [0]
    assert grade_icans_daily(rows, CHILD)["icans_grade"].tolist() == [3]
    twelve = pd.DataFrame({"patient_id": ["p"], "age": [12.0]})
    assert grade_icans_daily(rows, twelve)["tool"].tolist() == ["ice"]
    ncit = IcansRules(capd_age_below=13.0)
    assert grade_icans_daily(rows, twelve, rules=ncit)["tool"].tolist() == ["capd"]
    delayed = pd.DataFrame({"patient_id": ["p"], "age": [15.0], "icans_tool": ["capd"]})
    assert grade_icans_daily(rows, delayed)["icans_grade"].tolist() == [3]
    only_capd = pd.DataFrame([day("p", 1, ice_score=np.nan, capd_score=4)])
    assert grade_icans_daily(only_capd)["tool"].tolist() == ["capd"]


@pytest.mark.parametrize(
    ("values", "grade"),
    [
        ({"consciousness": "spontaneous"}, 1),
        ({"consciousness": "voice"}, 2),
        ({"consciousness": "tactile"}, 3),
        ({"consciousness": "unarousable"}, 4),
        ({"seizure": "resolving"}, 3),
        ({"seizure": "prolonged"}, 4),
        ({"motor_weakness": True}, 4),
        ({"cerebral_edema": "focal"}, 3),
        ({"cerebral_edema": "diffuse"}, 4),
        ({"ice_score": 3, "seizure": "resolving"}, 3),  # ASTCT worked example
        ({"ice_score": 8, "consciousness": "voice"}, 2),
    ],
)
def test_domains(values: dict[str, object], grade: int) -> None:
    assert one_day(**values)["icans_grade"] == grade


def test_patient_summary_and_missing_patient() -> None:
    rows = pd.DataFrame([
        day("a", 0), day("a", 2, ice_score=6), day("a", 3, ice_score=2, seizure="resolving"),
        day("a", 4, ice_score=8), day("a", 5),
    ])
    patients = pd.DataFrame({"patient_id": ["a", "b"], "age": [60.0, 70.0]})
    out = grade_icans(rows, patients).set_index("patient_id")
    a = out.loc["a"]
    assert a["icans_grade"] == 3
    assert (a["onset_day"], a["resolution_day"], a["duration_days"]) == (2, 5, 3)
    assert a["min_ice_score"] == 2 and a["seizure"] == "resolving"
    assert a["cerebral_edema"] == "none" and not bool(a["motor_weakness"])
    assert pd.isna(out.loc["b", "icans_grade"])
    assert out.loc["b", "reason"] == "no toxicity_daily rows: ICANS not gradable"


def test_grade_5_from_death_due_to_icans() -> None:
    rows = pd.DataFrame([day("a", 1, cerebral_edema="diffuse")])
    events = pd.DataFrame({"patient_id": ["a"], "day": [4], "type": ["death"], "cause": ["icans"]})
    out = grade_icans(rows, None, events).iloc[0]
    assert out["icans_grade"] == 5 and out["reason"] == "death from ICANS on day 4"
    crs_death = events.assign(cause="crs")
    assert grade_icans(rows, None, crs_death)["icans_grade"].iloc[0] == 4


def test_bad_input_messages() -> None:
    with pytest.raises(ValueError, match="ice_score must lie in 0-10"):
        grade_icans_daily(pd.DataFrame([day("a", 1, ice_score=11)]))
    with pytest.raises(ValueError, match="unknown categories"):
        grade_icans_daily(pd.DataFrame([day("a", 1, seizure="maybe")]))
    with pytest.raises(ValueError, match="icans_tool"):
        grade_icans_daily(
            pd.DataFrame([day("a", 1)]),
            pd.DataFrame({"patient_id": ["a"], "icans_tool": ["mmse"]}),
        )


# --- properties ---------------------------------------------------------------------------

day_strategy = st.fixed_dictionaries({
    "ice_score": st.sampled_from([10, 9, 7, 6, 3, 2, 0, np.nan]),
    "capd_score": st.sampled_from([0, 1, 8, 9, 15, np.nan]),
    "consciousness": st.sampled_from(["alert", "spontaneous", "voice", "tactile", "unarousable"]),
    "seizure": st.sampled_from(["none", "none", "resolving", "prolonged"]),
    "motor_weakness": st.booleans(),
    "cerebral_edema": st.sampled_from(["none", "none", "focal", "diffuse"]),
})


@st.composite
def cohorts(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, ages = [], []
    for k in range(draw(st.integers(1, 4))):
        ages.append(draw(st.sampled_from([5.0, 11.9, 12.0, 40.0])))
        for d in draw(st.lists(st.integers(0, 20), min_size=1, max_size=8, unique=True)):
            rows.append({"patient_id": f"p{k}", "day": d, **draw(day_strategy)})
    patients = pd.DataFrame({"patient_id": [f"p{k}" for k in range(len(ages))], "age": ages})
    return pd.DataFrame(rows), patients


PROPS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(cohorts(), st.booleans())
def test_patient_grade_is_max_daily_grade_or_5(data: tuple[pd.DataFrame, pd.DataFrame], dies: bool) -> None:
    tox, patients = data
    events = pd.DataFrame({"patient_id": ["p0"], "day": [9], "type": ["death"], "cause": ["icans"]})
    out = grade_icans(tox, patients, events if dies else None).set_index("patient_id")
    expected = grade_icans_daily(tox, patients).groupby("patient_id")["icans_grade"].max()
    if dies:
        expected["p0"] = 5
    assert out["icans_grade"].astype(int).to_dict() == expected.to_dict()


@PROPS
@given(cohorts(), st.integers(21, 40))
def test_adding_a_normal_day_changes_no_grade(data: tuple[pd.DataFrame, pd.DataFrame], extra_day: int) -> None:
    tox, patients = data
    child = patients.set_index("patient_id")["age"] < 12
    extra = pd.DataFrame([
        day(pid, extra_day, **({"ice_score": np.nan, "capd_score": 0} if child[pid] else {}))
        for pid in tox["patient_id"].unique()
    ])
    before = grade_icans(tox, patients)
    after = grade_icans(pd.concat([tox, extra], ignore_index=True), patients)
    assert before["icans_grade"].tolist() == after["icans_grade"].tolist()
    assert before["onset_day"].equals(after["onset_day"])


@PROPS
@given(cohorts(), st.randoms(use_true_random=False))
def test_row_order_changes_nothing(data: tuple[pd.DataFrame, pd.DataFrame], rnd: object) -> None:
    tox, patients = data
    order = list(range(len(tox)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    shuffled = tox.iloc[order].reset_index(drop=True)
    pd.testing.assert_frame_equal(grade_icans(tox, patients), grade_icans(shuffled, patients))
