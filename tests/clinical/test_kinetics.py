"""CAR-T kinetics, cytokine courses and CD4/CD8 ratio on hand-built data; NCA against R."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.clinical.kinetics import KINETICS_COLUMNS, auc, car_kinetics, cd4_cd8_course, cytokine_kinetics

R_SCRIPT = Path(__file__).parent / "r" / "kinetics.R"

T = [-1, 3, 7, 14, 21, 35, 60]
C = [0, 100, 1000, 400, 200, 50, 10]


def kin(pid: str, days, values, measure: str = "car_copies_per_ug", infusion_no=None) -> pd.DataFrame:
    return pd.DataFrame({"patient_id": pid, "infusion_no": infusion_no, "day": days, "measure": measure,
                         "value": values, "unit": None})


@pytest.mark.r_reference
@pytest.mark.parametrize("method, key", [("linear", "auc28_linear"), ("linear-up/log-down", "auc28_logdown")])
def test_nca_matches_r(r_reference, method: str, key: str) -> None:
    ref = r_reference(R_SCRIPT)
    res = car_kinetics(kin("a", T, C), method=method).iloc[0]
    assert res["auc0_28"] == pytest.approx(ref[key], rel=1e-12)
    assert res["half_life"] == pytest.approx(ref["half_life"], rel=1e-10)
    assert res["half_life_r2_adj"] == pytest.approx(ref["half_life_r2_adj"], rel=1e-10)
    assert res["doubling_time"] == pytest.approx(ref["doubling_time"], rel=1e-10)
    if method == "linear":
        assert res["auc_0_tlast"] == pytest.approx(ref["auc_tlast_linear"], rel=1e-12)


def test_nca_hand_values() -> None:
    res = car_kinetics(kin("a", T, C)).iloc[0]
    assert (res["cmax"], res["tmax"], res["clast"], res["tlast"], res["persistence_day"]) == (1000, 7, 10, 60, 60)
    # (0,0)-(3,100)-(7,1000)-(14,400)-(21,200)-[28,125 interpolated]: 150+2200+4900+2100+1137.5
    assert res["auc0_28"] == 10487.5
    assert res["baseline"] == 0 and res["fold_reference"] == "first post-infusion"
    assert res["expansion_fold"] == 10.0
    assert res["half_life_n"] == 4 and res["reason"] == ""
    assert list(car_kinetics(kin("a", T, C)).columns) == list(KINETICS_COLUMNS)


def test_lloq_and_blq_after_peak() -> None:
    days = [3, 7, 14, 21, 28, 35]
    vals = [10, 500, 100, 40, 5, 0]
    res = car_kinetics(kin("a", days, vals), lloq=20).iloc[0]
    assert res["tlast"] == 21 and res["clast"] == 40  # 5 and 0 are below the LLOQ
    # BLQ after Tmax dropped: AUC0-28 stops at day 21 (level unknown but below LLOQ after it)
    expected = 0.5 * 0 * 3 + 0.5 * (0 + 500) * 4 + 0.5 * (500 + 100) * 7 + 0.5 * (100 + 40) * 7
    # day 3 (10 < LLOQ, before Tmax) counts as 0
    assert res["auc0_28"] == pytest.approx(expected)
    assert res["expansion_fold"] == pytest.approx(500 / 500)  # first detectable is the peak


def test_two_points_gives_result_with_reason() -> None:
    res = car_kinetics(kin("a", [7, 14], [300, 100])).iloc[0]
    assert res["cmax"] == 300 and res["tmax"] == 7
    assert np.isnan(res["half_life"]) and np.isnan(res["auc0_28"])
    assert "only 2 post-infusion sample(s)" in res["reason"]
    assert "need 3" in res["reason"] and "before day 28" in res["reason"]
    assert res["auc_0_tlast"] == pytest.approx(0.5 * 300 * 7 + 0.5 * 400 * 7)


def test_never_detectable_and_baseline_only() -> None:
    res = car_kinetics(pd.concat([kin("a", [7, 14], [0, 0]), kin("b", [-2], [0])]))
    a = res.set_index("patient_id").loc["a"]
    b = res.set_index("patient_id").loc["b"]
    assert a["reason"] == "never detectable after infusion" and np.isnan(a["tlast"])
    assert b["reason"] == "no post-infusion sample" and b["n_samples"] == 0


def test_reinfusion_windows_and_components() -> None:
    infusions = pd.DataFrame({"patient_id": ["a", "a"], "infusion_no": [1, 2], "day": [0, 100]})
    k = pd.concat([
        kin("a", [7, 14, 28, 60], [1000, 500, 100, 20]),
        kin("a", [100, 107, 114, 130], [20, 80, 40, 10]),  # infusion_no not recorded: assigned by day
        kin("a", [5, 10], [300, 50], measure="cd19_car_copies", infusion_no=1),
        kin("a", [5, 10], [100, 60], measure="cd22_car_copies", infusion_no=1),
    ])
    res = car_kinetics(k, infusions=infusions).set_index(["infusion_no", "measure"])
    first = res.loc[(1, "car_copies_per_ug")]
    second = res.loc[(2, "car_copies_per_ug")]
    assert first["cmax"] == 1000 and first["tlast"] == 60
    assert second["baseline"] == 20 and second["cmax"] == 80 and second["tmax"] == 7
    assert second["fold_reference"] == "baseline" and second["expansion_fold"] == 4.0
    assert res.loc[(1, "cd19_car_copies"), "cmax"] == 300
    assert res.loc[(1, "cd22_car_copies"), "cmax"] == 100
    with pytest.raises(ValueError, match="infusions="):
        car_kinetics(kin("a", [7], [1], infusion_no=2))


def test_bad_method() -> None:
    with pytest.raises(ValueError, match="method"):
        car_kinetics(kin("a", T, C), method="log")  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 60), st.floats(0, 1e5, allow_nan=False)), min_size=1, max_size=8,
                unique_by=lambda x: x[0]), st.randoms(use_true_random=False))
def test_kinetics_invariant_to_row_order(points, rnd) -> None:
    days, vals = zip(*points)
    base = car_kinetics(kin("a", list(days), list(vals)))
    rnd.shuffle(points)
    days2, vals2 = zip(*points)
    pd.testing.assert_frame_equal(base, car_kinetics(kin("a", list(days2), list(vals2))))
    r = base.iloc[0]
    assert r["cmax"] == max(vals)
    if np.isfinite(r["auc0_28"]):
        assert r["auc0_28"] >= 0 and r["auc0_28"] <= r["cmax"] * 28 + 1e-9


def test_auc_linear_up_log_down_only_changes_falling_segments() -> None:
    t = np.array([0.0, 1.0, 2.0])
    assert auc(t, np.array([1.0, 4.0, 9.0]), method="linear-up/log-down") == auc(t, np.array([1.0, 4.0, 9.0]))
    assert auc(t, np.array([8.0, 4.0, 2.0]), method="linear-up/log-down") == pytest.approx(
        4 / np.log(2) + 2 / np.log(2))


# --- cytokines ---------------------------------------------------------------------------


def labs(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["patient_id", "day", "analyte", "value", "unit", "qualifier", "role"])


def test_cytokine_peak_fold_and_censoring() -> None:
    lab = labs([
        ("a", -3, "IL-6", 10, "pg/mL", None, None), ("a", 0, "IL-6", 20, "pg/mL", None, None),
        ("a", 5, "IL-6", 5000, "pg/mL", None, None), ("a", 6, "IL-6", 5000, "pg/mL", None, None),
        ("a", 40, "IL-6", 9000, "pg/mL", None, None),
        ("a", 3, "ferritin", 900, "ng/mL", ">=", None),
        ("b", 4, "IL-6", 300, "pg/mL", None, None),
        ("hd", 0, "IL-6", 2, "pg/mL", None, "healthy_donor"),
    ])
    res = cytokine_kinetics(lab).set_index(["patient_id", "analyte"])
    il6 = res.loc[("a", "IL-6")]
    assert (il6["baseline"], il6["baseline_day"], il6["peak"], il6["peak_day"]) == (20, 0, 5000, 5)
    assert il6["fold_change"] == 250 and bool(il6["peak_censored"])
    assert bool(res.loc[("a", "ferritin"), "peak_censored"])  # qualifier >=
    b = res.loc[("b", "IL-6")]
    assert not bool(b["peak_censored"]) and np.isnan(b["fold_change"]) and "no baseline" in b["reason"]
    assert "hd" not in res.index.get_level_values(0)
    # a higher limit un-censors the IL-6 peak
    res2 = cytokine_kinetics(lab, analytes=["IL-6"], limits={"il-6": 10000}).set_index(["patient_id", "analyte"])
    assert not bool(res2.loc[("a", "IL-6"), "peak_censored"])


# --- CD4/CD8 -------------------------------------------------------------------------------


def test_cd4_cd8_inversion() -> None:
    k = pd.concat([kin("a", [-1, 2, 4, 6, 10], [2.0, 1.5, 1.0, 0.6, 0.4], measure="cd4_cd8_ratio"),
                   kin("b", [-1, 3, 8], [1.8, 1.2, 0.9], measure="cd4_cd8_ratio")])
    course = cd4_cd8_course(k, window=(0, 6))
    s = course.to_frame().set_index("patient_id")
    assert bool(s.loc["a", "inverts"]) and s.loc["a", "inversion_day"] == 6  # 1.0 exactly is not inverted
    assert s.loc["a", "baseline_ratio"] == 2.0 and s.loc["a", "min_ratio"] == 0.6
    assert not bool(s.loc["b", "inverts"]) and np.isnan(s.loc["b", "inversion_day"])
    assert bool(cd4_cd8_course(k, window=(0, 10)).summary.set_index("patient_id").loc["b", "inverts"])
    assert len(course.by_day) == 8


def test_assay_limits_match_canonical_analyte_names() -> None:
    """A loaded cohort names IL-6 'il6': the default IL-6 limit of 5000 pg/mL still applies."""
    labs = pd.DataFrame({"patient_id": ["a", "a", "b", "b"], "day": [0, 5, 0, 6],
                         "analyte": ["il6", "il6", "IL-6", "IL-6"], "value": [10.0, 5000.0, 3.0, 4999.0]})
    out = cytokine_kinetics(labs).set_index("patient_id")
    assert out["peak_censored"].tolist() == [True, False]
    assert len(cytokine_kinetics(labs, analytes=["IL-6"])) == 2


def test_integer_infusion_days_as_loaded() -> None:
    """Loaded cohorts carry nullable integer days; per-infusion windows must accept them."""
    kin = pd.DataFrame({"patient_id": ["a"] * 6, "infusion_no": [1, 1, 1, 2, 2, 2],
                        "day": [1.0, 7.0, 14.0, 31.0, 37.0, 44.0], "measure": "car_copies_per_ug",
                        "value": [10.0, 1000.0, 100.0, 5.0, 400.0, 50.0]})
    inf = pd.DataFrame({"patient_id": ["a", "a"], "infusion_no": pd.array([1, 2], dtype="Int64"),
                        "day": pd.array([0, 30], dtype="Int64")})
    out = car_kinetics(kin, infusions=inf)
    assert out["cmax"].tolist() == [1000.0, 400.0]
    assert out["tmax"].tolist() == [7.0, 7.0]
