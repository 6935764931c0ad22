"""ICAHT boundary scenarios: one patient per edge of every threshold and duration.

Expected grades are worked out by hand from the tables in ``cartscope.clinical.icaht`` (N-ICAHT:
Rejeski 2023; T-ICAHT: Rejeski 2025 Table 1) and the stated counting conventions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cartscope.clinical.icaht import (
    IcahtRules,
    cumulative_days,
    early_neutropenia_grade,
    early_thrombocytopenia_grade,
    grade_icaht,
    late_neutropenia_grade,
)

HIGH, LOW = 2000.0, 300.0


def course(pid: str, values: dict[int, float], analyte: str = "anc", unit: str = "/uL") -> list[dict]:
    return [{"patient_id": pid, "day": d, "analyte": analyte, "value": v, "unit": unit}
            for d, v in sorted(values.items())]


def daily(pid: str, low_days: set[int], *, low: float = LOW, high: float = HIGH, last: int = 35,
          analyte: str = "anc") -> list[dict]:
    return course(pid, {d: (low if d in low_days else high) for d in range(0, last + 1)}, analyte)


def grades(rows: list[dict], events: list[dict] | None = None, **kw) -> pd.DataFrame:
    ev = pd.DataFrame(events) if events else None
    return grade_icaht(pd.DataFrame(rows), ev, **kw).patients.set_index("patient_id")


@pytest.mark.parametrize(("n_low", "grade"), [(0, 0), (1, 1), (6, 1), (7, 2), (13, 2), (14, 3), (30, 3), (31, 4)])
def test_early_grade_at_each_duration_edge_of_anc_500(n_low: int, grade: int) -> None:
    g = grades(daily("p", set(range(n_low))))
    assert g.loc["p", "early_grade"] == grade
    assert g.loc["p", "days_anc_le500"] == n_low


def test_anc_threshold_is_inclusive() -> None:
    rows = daily("at", set(range(7)), low=500.0) + daily("above", set(range(7)), low=501.0)
    g = grades(rows)
    assert g.loc["at", "early_grade"] == 2 and g.loc["above", "early_grade"] == 0


@pytest.mark.parametrize(("n_profound", "grade"), [(6, 1), (7, 3), (13, 3), (14, 4)])
def test_profound_neutropenia_edges(n_profound: int, grade: int) -> None:
    g = grades(daily("p", set(range(n_profound)), low=100.0))
    assert g.loc["p", "days_anc_le100"] == n_profound
    assert g.loc["p", "early_grade"] == grade


def test_non_stable_recovery_counts_but_a_stable_one_does_not() -> None:
    # low days 0-9, a 2-day rise, low 12-13: the rise is non-stable -> 14 days -> grade 3
    unstable = daily("u", set(range(10)) | {12, 13})
    # low days 0-9, a 3-day rise (stable recovery), low 13-14 -> 12 days -> grade 2
    stable = daily("s", set(range(10)) | {13, 14})
    g = grades(unstable + stable)
    assert (g.loc["u", "days_anc_le500"], g.loc["u", "early_grade"]) == (14, 3)
    assert (g.loc["s", "days_anc_le500"], g.loc["s", "early_grade"]) == (12, 2)


def test_recovery_day_and_interrupted_recovery() -> None:
    rows = daily("r", set(range(10))) + daily("i", set(range(10)) | {12})
    g = grades(rows)
    assert g.loc["r", "anc_recovery_day"] == 10
    assert g.loc["i", "anc_recovery_day"] == 13  # the rise on days 10-11 was interrupted on day 12
    assert np.isnan(grades(daily("n", set()))["anc_recovery_day"].iloc[0])


def test_censoring_by_death_and_by_progression() -> None:
    rows = daily("d", set(range(30)), last=29) + daily("q", set(range(31)))
    events = [{"patient_id": "d", "day": 14, "type": "death"},
              {"patient_id": "q", "day": 7, "type": "progression"}]
    g = grades(rows, events)
    assert (g.loc["d", "days_anc_le500"], g.loc["d", "early_grade"]) == (14, 3)  # days 0-13
    assert (g.loc["q", "days_anc_le500"], g.loc["q", "early_grade"]) == (7, 2)
    assert g.loc["d", "censor_reason"] == "death" and g.loc["d", "censor_day"] == 14
    assert pd.isna(g.loc["q", "late_grade"])  # nothing observed after the censoring day


def test_sparse_values_carried_forward_at_most_seven_days() -> None:
    carried = course("c", {0: 300, 5: 300, 10: 800})  # days 0-9 low -> 10 days, grade 2
    limited = course("l", {0: 300, 20: 900})       # days 0-7 low (carry 7), 8-19 unobserved
    g = grades(carried + limited)
    assert (g.loc["c", "days_anc_le500"], g.loc["c", "early_grade"]) == (10, 2)
    assert g.loc["l", "days_anc_le500"] == 8
    assert g.loc["l", "early_days_observed"] == 8 + 8  # days 0-7 and 20-27 (day 20 carried 7 days)


def test_pre_infusion_value_is_carried_into_day_0() -> None:
    g = grades(course("p", {-2: 200, 3: 1500}))
    assert g.loc["p", "days_anc_le500"] == 3  # days 0, 1, 2


@pytest.mark.parametrize(("late", "grade"), [
    ([1600, 1700], 0), ([1500, 1500], 1), ([1501, 1501], 0), ([1200, 1400], 1), ([900, 1400], 1),
    ([900, 950], 2), ([400, 1600], 0), ([400, 450], 3), ([400, 90], 3), ([80, 90], 4), ([100, 100], 4),
])
def test_late_grade_needs_two_measurements_at_the_threshold(late: list[float], grade: int) -> None:
    rows = course("p", {0: 2000, 40: late[0], 60: late[1]})
    g = grades(rows)
    assert g.loc["p", "late_grade"] == grade
    assert g.loc["p", "late_n_measurements"] == 2


@pytest.mark.parametrize(("n50", "n20", "grade"), [
    (0, 0, 0), (1, 0, 1), (6, 0, 1), (7, 0, 2), (7, 1, 3), (13, 13, 3), (14, 14, 4),
])
def test_early_thrombocytopenia_edges(n50: int, n20: int, grade: int) -> None:
    values = {d: (10000.0 if d < n20 else 30000.0 if d < n50 else 150000.0) for d in range(36)}
    g = grades(course("p", values, "platelets"))
    assert (g.loc["p", "days_plt_lt50k"], g.loc["p", "days_plt_lt20k"]) == (n50, n20)
    assert g.loc["p", "t_early_grade"] == grade


def test_platelet_thresholds_are_strict_and_units_convert() -> None:
    at = course("at", {d: 50.0 for d in range(10)} | {10: 200.0}, "platelets", "x10^9/L")
    g = grades(at)
    assert g.loc["at", "days_plt_lt50k"] == 0 and g.loc["at", "t_early_grade"] == 0


def test_platelet_recovery_waits_for_seven_transfusion_free_days() -> None:
    values = {d: (10000.0 if d < 6 else 60000.0) for d in range(40)}
    rows = course("t", values, "platelets") + course("n", values, "platelets")
    events = [{"patient_id": "t", "day": 7, "type": "transfusion", "agent": "platelets"}]
    g = grades(rows, events)
    assert g.loc["n", "platelet_recovery_day"] == 6
    assert g.loc["t", "platelet_recovery_day"] == 14
    assert g.loc["t", "platelet_transfusions"] == 1 and g.loc["n", "platelet_transfusions"] == 0


def test_gcsf_and_red_cell_transfusions_are_recorded() -> None:
    events = [{"patient_id": "p", "day": d, "type": "g_csf", "agent": "filgrastim"} for d in (2, 3, 3, 4)]
    events += [{"patient_id": "p", "day": 9, "type": "transfusion", "agent": "red cells"}]
    g = grades(daily("p", set(range(5))), events)
    assert (g.loc["p", "gcsf_days"], g.loc["p", "first_gcsf_day"]) == (3, 2.0)
    assert g.loc["p", "rbc_transfusions"] == 1


def test_patient_without_anc_is_listed_with_a_reason() -> None:
    res = grade_icaht(pd.DataFrame(daily("a", set())), patients=["a", "b"])
    b = res.patients.set_index("patient_id").loc["b"]
    assert pd.isna(b["early_grade"]) and b["reason"] == "no ANC values"
    assert res.grade_table().set_index("grade").loc[0, "n"] == 1
    assert "ICAHT (2 patients)" in repr(res)


def test_kernels_match_the_table() -> None:
    assert cumulative_days(np.array([1, 0, 0, 1, 0, 0, 0, 1], dtype=bool), 3)[0] == 5
    assert [early_neutropenia_grade(a, b) for a, b in [(0, 0), (6, 6), (7, 0), (14, 0), (8, 7), (31, 0), (20, 14)]] \
        == [0, 1, 2, 3, 3, 4, 4]
    assert late_neutropenia_grade(np.array([1000.0, 1000.0, 90.0])) == 2
    assert early_thrombocytopenia_grade(3, 1) == 3
    with pytest.raises(ValueError):
        IcahtRules(late_anc=(100.0, 500.0, 1000.0, 1500.0))


@pytest.mark.parametrize(("late", "grade", "days20"), [
    ({40: 150000, 50: 150000}, 0, 0),
    ({40: 99000, 50: 99000}, 1, 0),
    ({40: 99000, 50: 150000}, 0, 0),                      # one test below 100k: not enough
    ({40: 49000, 50: 49000}, 2, 0),
    ({40: 50000, 50: 50000}, 1, 0),                       # 50k exactly is not < 50k
    ({40: 19000, 45: 19000, 52: 60000}, 3, 12),           # days 40-51 below 20k
    ({40: 19000, 47: 19000, 54: 19000, 60: 60000}, 4, 20),
    ({40: 19000, 60: 60000}, 1, 8),                       # one test < 20k and < 50k: only two < 100k -> 1
])
def test_late_thrombocytopenia_edges(late: dict[int, float], grade: int, days20: int) -> None:
    values = {d: 150000.0 for d in range(31)} | {k: float(v) for k, v in late.items()} | {100: 150000.0}
    g = grades(course("p", values, "platelets"))
    assert g.loc["p", "late_days_plt_lt20k"] == days20
    assert g.loc["p", "t_late_grade"] == grade
