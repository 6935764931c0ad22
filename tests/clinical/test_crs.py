"""ASTCT CRS grading (Lee et al. 2019): every boundary of domain-reference.md 1.1-1.4."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartscope.clinical.crs import CrsRules, crs_episodes, grade_crs, grade_crs_daily

NORMAL = {
    "temperature_c": 36.8, "hypotension": False, "vasopressors": 0, "vasopressin": False,
    "oxygen": "none", "oxygen_l_min": np.nan, "tocilizumab": False, "steroids": False,
    "antipyretics": False,
}


def day(pid: str, d: int, **values: object) -> dict[str, object]:
    return {"patient_id": pid, "day": d, **NORMAL, **values}


def one_day_grade(**values: object) -> int:
    out = grade_crs_daily(pd.DataFrame([day("p", 1, **values)]))
    return int(out["crs_grade"].iloc[0])


@pytest.mark.parametrize(
    ("values", "grade"),
    [
        ({"temperature_c": 38.0}, 1),  # 38.0 exactly is fever
        ({"temperature_c": 37.9}, 0),
        ({"temperature_c": 37.9, "hypotension": True}, 0),  # no fever, no CRS
        ({"temperature_c": 39.0, "hypotension": True}, 2),
        ({"temperature_c": 39.0, "hypotension": True, "vasopressors": 1}, 3),
        ({"temperature_c": 39.0, "hypotension": True, "vasopressors": 1, "vasopressin": True}, 3),
        ({"temperature_c": 39.0, "hypotension": True, "vasopressin": True}, 3),
        ({"temperature_c": 39.0, "hypotension": True, "vasopressors": 2}, 4),
        ({"temperature_c": 39.0, "hypotension": True, "vasopressors": 2, "vasopressin": True}, 4),
        ({"temperature_c": 39.0, "oxygen": "low-flow"}, 2),
        ({"temperature_c": 39.0, "oxygen": "high-flow"}, 3),
        ({"temperature_c": 39.0, "oxygen": "positive-pressure"}, 4),
        ({"temperature_c": 39.0, "oxygen": "low-flow", "oxygen_l_min": 6.0}, 2),
        ({"temperature_c": 39.0, "oxygen": "low-flow", "oxygen_l_min": 6.1}, 3),
        ({"temperature_c": 39.0, "oxygen": None, "oxygen_l_min": 6.0}, 2),
        ({"temperature_c": 39.0, "oxygen": None, "oxygen_l_min": 6.1}, 3),
        ({"temperature_c": 39.0, "oxygen": "positive-pressure", "oxygen_l_min": 2.0}, 4),
        ({"temperature_c": 38.5, "hypotension": True, "vasopressors": 1, "oxygen": "low-flow"}, 3),
        ({"temperature_c": 38.5, "hypotension": True, "oxygen": "high-flow"}, 3),
        ({"temperature_c": 38.5, "hypotension": None, "vasopressors": 1}, 3),  # pressor implies it
        ({"temperature_c": 38.5, "hypotension": False, "vasopressors": 1}, 1),  # recorded absent
        ({"temperature_c": np.nan}, 0),
    ],
)
def test_day_grade_boundaries(values: dict[str, object], grade: int) -> None:
    assert one_day_grade(**values) == grade


def test_vasopressin_alone_grade_is_a_rule() -> None:
    rows = pd.DataFrame([day("p", 1, temperature_c=39.0, hypotension=True, vasopressin=True)])
    out = grade_crs_daily(rows, rules=CrsRules(vasopressin_alone_grade=2))
    assert out["crs_grade"].tolist() == [2]


def test_category_wins_when_flow_does_not_decide() -> None:
    rows = pd.DataFrame([day("p", 1, temperature_c=39.0, oxygen="high-flow", oxygen_l_min=4.0)])
    assert grade_crs_daily(rows)["crs_grade"].tolist() == [2]
    kept = grade_crs_daily(rows, rules=CrsRules(flow_decides=False))
    assert kept["crs_grade"].tolist() == [3]


def test_fever_masked_by_tocilizumab_then_hypotension_still_graded() -> None:
    rows = pd.DataFrame([
        day("p", 0, temperature_c=36.9),
        day("p", 1, temperature_c=39.2, tocilizumab=True),
        day("p", 2, temperature_c=37.0, hypotension=True, vasopressors=1),
        day("p", 3, temperature_c=36.8, oxygen="low-flow"),
        day("p", 4),
    ])
    daily = grade_crs_daily(rows)
    assert daily["masked"].tolist() == [False, True, True, True, True]
    assert daily["crs_grade"].tolist() == [0, 1, 3, 2, 0]
    patient = grade_crs(rows).iloc[0]
    assert patient["crs_grade"] == 3
    assert (patient["onset_day"], patient["resolution_day"], patient["duration_days"]) == (1, 4, 3)
    assert bool(patient["tocilizumab"]) and not bool(patient["steroids"])
    assert patient["vasopressors"] == 1 and patient["oxygen"] == "low-flow"


def test_treatment_before_crs_does_not_mask() -> None:
    rows = pd.DataFrame([
        day("p", 0, steroids=True),
        day("p", 1, hypotension=True),
        day("p", 2, temperature_c=38.1),
        day("p", 3, hypotension=True, oxygen="high-flow"),
    ])
    assert grade_crs_daily(rows)["crs_grade"].tolist() == [0, 0, 1, 0]


def test_masking_by_steroids_and_antipyretics() -> None:
    for drug in ("steroids", "antipyretics"):
        rows = pd.DataFrame([
            day("p", 1, temperature_c=38.4, **{drug: True}),
            day("p", 2, oxygen="high-flow"),
        ])
        assert grade_crs_daily(rows)["crs_grade"].tolist() == [1, 3]
    no_antipyretic_rule = CrsRules(masking_treatments=("tocilizumab", "steroids"))
    out = grade_crs_daily(rows, rules=no_antipyretic_rule)
    assert out["crs_grade"].tolist() == [1, 0]


def test_febrile_patient_with_nothing_else_is_grade_1() -> None:
    rows = pd.DataFrame([day("p", 0), day("p", 1, temperature_c=38.6), day("p", 2)])
    patient = grade_crs(rows).iloc[0]
    assert patient["crs_grade"] == 1
    assert patient["max_temperature_c"] == 38.6
    assert (patient["onset_day"], patient["resolution_day"], patient["duration_days"]) == (1, 2, 1)
    assert patient["episodes"] == 1 and pd.isna(patient["reason"])


def test_grade_5_from_death_due_to_crs() -> None:
    rows = pd.DataFrame([day("p", 0, temperature_c=39.5, oxygen="positive-pressure")])
    events = pd.DataFrame({
        "patient_id": ["p", "q"], "day": [6, 3], "type": ["death", "death"],
        "cause": ["crs", "infection"],
    })
    out = grade_crs(rows, events, patients=pd.DataFrame({"patient_id": ["p", "q"]}))
    assert out["crs_grade"].iloc[0] == 5 and pd.isna(out["crs_grade"].iloc[1])
    assert out["reason"].iloc[0] == "death from CRS on day 6"
    assert "no toxicity_daily rows" in out["reason"].iloc[1]


def test_patient_without_rows_gets_a_reason_not_a_crash() -> None:
    rows = pd.DataFrame([day("a", 1, temperature_c=38.2), day("a", 2)])
    patients = pd.DataFrame({"patient_id": ["a", "b"], "disease": ["B-ALL", "B-ALL"]})
    out = grade_crs(rows, patients=patients)
    assert out["patient_id"].tolist() == ["a", "b"]
    b = out.iloc[1]
    assert pd.isna(b["crs_grade"]) and b["episodes"] == 0
    assert b["reason"] == "no toxicity_daily rows: CRS not gradable"


def test_rows_outside_window_only() -> None:
    rows = pd.DataFrame([day("a", -3, temperature_c=38.2)])
    out = grade_crs(rows).iloc[0]
    assert pd.isna(out["crs_grade"])
    assert out["reason"] == "no toxicity_daily rows in window [0, +inf]: CRS not gradable"


def test_unresolved_episode_is_reported() -> None:
    rows = pd.DataFrame([day("a", 0), day("a", 1, temperature_c=38.2), day("a", 2, temperature_c=39)])
    out = grade_crs(rows).iloc[0]
    assert out["crs_grade"] == 1 and out["onset_day"] == 1
    assert pd.isna(out["resolution_day"]) and pd.isna(out["duration_days"])
    assert out["reason"] == "CRS not resolved by last observation (day 2)"


def test_episodes_split_and_merge() -> None:
    rows = pd.DataFrame([
        day("a", 0, temperature_c=38.5),
        day("a", 1),
        day("a", 2, temperature_c=38.5, hypotension=True),
        day("a", 3, temperature_c=38.5),
        day("a", 4),
        day("a", 5),
        day("a", 7, temperature_c=38.1),
        day("a", 9, temperature_c=38.1),  # no observed grade-0 day in between: same episode
        day("a", 10),
    ])
    eps = crs_episodes(rows)
    assert eps["onset_day"].tolist() == [0, 2, 7]
    assert eps["resolution_day"].tolist() == [1, 4, 10]
    assert eps["max_grade"].tolist() == [1, 2, 1]
    split = grade_crs(rows).iloc[0]
    assert split["episodes"] == 3 and split["duration_days"] == 1 + 2 + 3
    assert (split["onset_day"], split["resolution_day"]) == (0, 10)
    merged = grade_crs(rows, rules=CrsRules(merge_episodes=True)).iloc[0]
    assert merged["episodes"] == 1 and merged["duration_days"] == 10
    gap2 = crs_episodes(rows, rules=CrsRules(min_gap_days=2))
    assert gap2["onset_day"].tolist() == [0, 7]
    assert gap2["resolution_day"].tolist() == [4, 10]


def test_window_limits_patient_grade() -> None:
    rows = pd.DataFrame([
        day("a", 2, temperature_c=38.5), day("a", 3),
        day("a", 20, temperature_c=38.5, oxygen="high-flow"), day("a", 21),
    ])
    assert grade_crs(rows)["crs_grade"].iloc[0] == 3
    assert grade_crs(rows, rules=CrsRules(window=(0, 14)))["crs_grade"].iloc[0] == 1


def test_bad_input_messages() -> None:
    with pytest.raises(ValueError, match="lacks required column"):
        grade_crs_daily(pd.DataFrame({"patient_id": ["a"]}))
    with pytest.raises(ValueError, match="more than one row per patient-day"):
        grade_crs_daily(pd.DataFrame([day("a", 1), day("a", 1)]))
    with pytest.raises(ValueError, match="unknown categories"):
        grade_crs_daily(pd.DataFrame([day("a", 1, oxygen="tent")]))
    with pytest.raises(ValueError, match="fever_c"):
        CrsRules(fever_c=100.4)


# --- properties ---------------------------------------------------------------------------

day_strategy = st.fixed_dictionaries({
    "temperature_c": st.sampled_from([36.5, 37.9, 38.0, 38.3, 39.5, np.nan]),
    "hypotension": st.booleans(),
    "vasopressors": st.integers(0, 3),
    "vasopressin": st.booleans(),
    "oxygen": st.sampled_from(["none", "low-flow", "high-flow", "positive-pressure"]),
    "oxygen_l_min": st.sampled_from([np.nan, 2.0, 6.0, 6.1, 15.0]),
    "tocilizumab": st.booleans(),
    "steroids": st.booleans(),
    "antipyretics": st.booleans(),
})


@st.composite
def cohorts(draw: st.DrawFn) -> pd.DataFrame:
    rows = []
    for k in range(draw(st.integers(1, 4))):
        days = draw(st.lists(st.integers(0, 20), min_size=1, max_size=8, unique=True))
        for d in days:
            rows.append({"patient_id": f"p{k}", "day": d, **draw(day_strategy)})
    return pd.DataFrame(rows)


PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(cohorts(), st.booleans())
def test_patient_grade_is_max_daily_grade_or_5(tox: pd.DataFrame, dies: bool) -> None:
    events = pd.DataFrame({"patient_id": ["p0"], "day": [30], "type": ["death"], "cause": ["crs"]})
    out = grade_crs(tox, events if dies else None).set_index("patient_id")
    daily_max = grade_crs_daily(tox).groupby("patient_id")["crs_grade"].max()
    expected = daily_max.copy()
    if dies:
        expected["p0"] = 5
    assert out["crs_grade"].astype(int).to_dict() == expected.to_dict()


@PROPS
@given(cohorts(), st.integers(21, 40))
def test_adding_a_normal_day_changes_no_grade(tox: pd.DataFrame, extra_day: int) -> None:
    before = grade_crs(tox)
    extra = pd.DataFrame([day(pid, extra_day) for pid in tox["patient_id"].unique()])
    after = grade_crs(pd.concat([tox, extra], ignore_index=True))
    assert before["crs_grade"].tolist() == after["crs_grade"].tolist()
    assert before["onset_day"].equals(after["onset_day"])


@PROPS
@given(cohorts(), st.randoms(use_true_random=False))
def test_row_order_changes_nothing(tox: pd.DataFrame, rnd: object) -> None:
    order = list(range(len(tox)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    shuffled = tox.iloc[order].reset_index(drop=True)
    pd.testing.assert_frame_equal(grade_crs(tox), grade_crs(shuffled))
    pd.testing.assert_frame_equal(grade_crs_daily(tox), grade_crs_daily(shuffled))
