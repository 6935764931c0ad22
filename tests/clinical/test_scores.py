"""Prognostic scores and categories at every boundary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.clinical.scores import (
    HematotoxCutpoints,
    aaipi,
    car_hematotox,
    disease_burden,
    easix,
    expander,
    ipi,
    m_easix,
    marrow_category,
    s_easix,
)


def pts(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols)


def test_ipi_boundaries_and_groups() -> None:
    p = pts(age=[60.9, 61, 40, 70, 70, 70, np.nan],
            ldh=[250, 250.1, 100, 500, 500, 500, 100], ldh_uln=[250, 250, 250, 250, 250, 250, 250],
            ecog=[1, 2, 0, 2, 2, 3, 0], stage=[2, 3, 1, 3, 4, 4, 1], extranodal_sites=[1, 2, 0, 1, 2, 3, 0])
    r = ipi(p)
    # 60.9 y is 60 completed years -> 0; LDH == ULN -> 0; 1 extranodal site -> 0
    assert r["ipi"].tolist()[:6] == [0, 5, 0, 4, 5, 5]
    assert r["ipi_group"].astype(object).tolist()[:6] == ["low", "high", "low", "high", "high", "high"]
    assert pd.isna(r["ipi"].iloc[6]) and pd.isna(r["ipi_group"].iloc[6]) and r["reason"].iloc[6] == "missing age"
    mid = ipi(pts(age=[70, 70], ldh=[300, 300], ldh_uln=[250, 250], ecog=[0, 2], stage=[1, 1],
                  extranodal_sites=[0, 0]))
    assert mid["ipi_group"].astype(object).tolist() == ["low-intermediate", "high-intermediate"]


def test_aaipi() -> None:
    p = pts(age=[55, 60, 61, 50], ldh=[300, 100, 300, np.nan], ldh_uln=[250, 250, 250, 250],
            ecog=[2, 0, 2, 0], stage=[3, 2, 4, 1])
    r = aaipi(p)
    assert r["aaipi"].tolist()[:2] == [3, 0]
    assert r["aaipi_group"].astype(object).tolist()[:2] == ["high", "low"]
    assert pd.isna(r["aaipi"].iloc[2]) and r["reason"].iloc[2] == "aaIPI is defined for age <= 60"
    assert r["reason"].iloc[3] == "missing LDH"
    assert aaipi(p, restrict_age=False)["aaipi"].iloc[2] == 3


def test_car_hematotox_boundaries() -> None:
    # platelets 175 and 75 -> 1; 74.9 -> 2; 175.1 -> 0; ANC 1.2/Hb 9.0/CRP 3.0 exactly -> 0
    r = car_hematotox([175.1, 175, 75, 74.9], [1.2, 1.2, 1.19, 1.2], [9.0, 9.0, 8.9, 9.0],
                      [3.0, 3.0, 3.01, 3.0], [649, 650, 2000, 2000.1])
    assert r["hematotox"].tolist() == [0, 2, 5, 4]
    assert r["hematotox_group"].astype(object).tolist() == ["HT-low", "HT-high", "HT-high", "HT-high"]
    one = car_hematotox([200], [2.0], [12.0], [1.0], [700])
    assert one["hematotox"].iloc[0] == 1 and one["hematotox_group"].iloc[0] == "HT-low"
    miss = car_hematotox([200], [np.nan], [12.0], [1.0], [np.nan])
    assert pd.isna(miss["hematotox"].iloc[0]) and miss["reason"].iloc[0] == "missing ANC, ferritin"
    shifted = car_hematotox([100], [2.0], [12.0], [1.0], [100], cutpoints=HematotoxCutpoints(platelets_low=150))
    assert shifted["hematotox"].iloc[0] == 2


def test_easix_family() -> None:
    r = easix([250, 300, 100], [1.0, 2.0, 1.0], [50, 0, np.nan])
    assert r["easix"].iloc[0] == 5.0 and r["log2_easix"].iloc[0] == pytest.approx(np.log2(5.0))
    assert np.isnan(r["easix"].iloc[1]) and r["reason"].iloc[1] == "platelets <= 0"
    assert r["reason"].iloc[2] == "missing platelets"
    assert m_easix([400], [2.5], [100])["m_easix"].iloc[0] == 10.0
    assert s_easix(pd.Series([400.0], index=["p1"]), pd.Series([100.0], index=["p1"])).loc["p1", "s_easix"] == 4.0


def test_disease_burden_boundaries() -> None:
    r = disease_burden([0.0099, 0.01, 4.99, 5.0, 0.001, np.nan, np.nan],
                       blasts_pct=[0, 0, 1, np.nan, 0, 30, np.nan],
                       extramedullary=[False, False, False, False, True, False, np.nan])
    assert r["burden"].astype(object).tolist()[:6] == [
        "MRD-negative", "MRD-positive", "MRD-positive", "active disease", "active disease", "active disease"]
    assert pd.isna(r["burden"].iloc[6]) and r["reason"].iloc[6] == "missing MRD and blasts"


def test_marrow_category_boundaries() -> None:
    r = marrow_category([4.99, 5.0, 25.0, 25.01, np.nan])
    assert r["marrow"].astype(object).tolist()[:4] == ["M1", "M2", "M2", "M3"]
    assert pd.isna(r["marrow"].iloc[4]) and r["reason"].iloc[4] == "missing blasts"


def test_expander() -> None:
    r = expander([16.14, 16.13, 30.0, np.nan], 16.14)
    assert r["expander"].astype(object).tolist()[:3] == ["strong", "weak", "strong"]
    assert pd.isna(r["expander"].iloc[3]) and r["reason"].iloc[3] == "missing Cmax"
    m = expander([1.0, 2.0, 3.0, 4.0], "median")
    assert m.attrs["threshold"] == 2.5 and m["expander"].astype(object).tolist() == ["weak", "weak", "strong", "strong"]
    with pytest.raises(ValueError):
        expander([1.0], "mean")  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=20), st.randoms(use_true_random=False))
def test_marrow_and_burden_are_elementwise(values, rnd) -> None:
    perm = list(range(len(values)))
    rnd.shuffle(perm)
    a = marrow_category(values)["marrow"].astype(object).to_numpy()
    b = marrow_category([values[i] for i in perm])["marrow"].astype(object).to_numpy()
    assert list(a[perm]) == list(b)
    burden = disease_burden(values)["burden"].astype(object).to_numpy()
    assert all((v >= 5) == (c == "active disease") for v, c in zip(values, burden))


# --- scores from labs in their measurement window ------------------------------------------------


def test_risk_scores_from_pre_lymphodepletion_labs() -> None:
    from cartscope.clinical.scores import risk_scores

    pats = pd.DataFrame({"patient_id": ["a", "b"], "age": [65, 50], "ldh": [300, 100], "ldh_uln": [250, 250],
                         "ecog": [2, 0], "stage": [4, 2], "extranodal_sites": [2, 0]})
    rows = [("platelets", 70000, "/uL"), ("anc", 1000, "/uL"), ("hemoglobin", 85, "g/L"), ("crp", 40, "mg/L"),
            ("ferritin", 2500, "ng/mL"), ("creatinine", 88.4, "umol/L"), ("ldh", 400, "U/L")]
    labs = [dict(patient_id="a", day=-5, analyte=a, value=v, unit=u) for a, v, u in rows]
    labs += [dict(patient_id="b", day=-1, analyte=a, value=v, unit=u) for a, v, u in rows]  # after LD: not used
    labs += [dict(patient_id="a", day=-2, analyte="platelets", value=10000, unit="/uL")]
    r = risk_scores(pats, pd.DataFrame(labs))
    # platelets 70 (2) + ANC 1.0 (1) + Hb 8.5 g/dL (1) + CRP 4.0 mg/dL (1) + ferritin 2500 (2)
    assert r.loc["a", "hematotox"] == 7 and r.loc["a", "hematotox_group"] == "HT-high"
    assert r.loc["a", "easix"] == pytest.approx(400 * 1.0 / 70)
    assert r.loc["a", "m_easix"] == pytest.approx(400 * 4.0 / 70)
    assert r.loc["a", "s_easix"] == pytest.approx(400 / 70)
    assert r.loc["a", "platelets_day"] == -5
    assert pd.isna(r.loc["b", "hematotox"]) and "missing platelets" in r.loc["b", "hematotox_reason"]
    assert pd.isna(r.loc["b", "s_easix"])  # LDH from patients (100) but no platelets in the window
    assert (r.loc["a", "ipi"], r.loc["b", "ipi"], r.loc["b", "aaipi"]) == (5, 0, 0)
    assert pd.isna(r.loc["a", "aaipi"])
    wide = risk_scores(pats, pd.DataFrame(labs), window=(-7, 0))
    assert wide.loc["b", "hematotox"] == 7 and wide.loc["a", "platelets_day"] == -2
