"""The cytokine course and display names of the ``cytokines`` kind, computed in one grouped pass,
equal the per analyte x day loop they replace bit for bit (``np.percentile`` of the patient
means, ``Series.mode`` of the spellings); ``car_kinetics`` equals the NCA of each curve taken
one at a time."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.analysis.analyses.kinetics import _course_rows, _display_names
from cartscope.clinical.kinetics import KINETICS_COLUMNS, _nca, car_kinetics


def _labs(seed: int, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    value = rng.lognormal(3.0, 1.5, n)
    value[rng.random(n) < 0.05] = np.nan
    value[rng.random(n) < 0.02] = np.inf
    return pd.DataFrame({
        "patient_id": rng.choice([f"P{i:02d}" for i in range(12)], n),
        "analyte_key": rng.choice(["il6", "ferritin", "crp"], n),
        "day": rng.integers(-2, 6, n).astype(float),
        "value": value,
    })


def _course_loop(part: pd.DataFrame, group: str) -> list[dict]:
    rows = []
    for (analyte, day), d in part.groupby(["analyte_key", "day"], sort=True):
        v = d.groupby("patient_id")["value"].mean().to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        if v.size:
            q1, med, q3 = np.percentile(v, [25, 50, 75])
            rows.append({"analyte": analyte, "group": group, "day": float(day), "n": int(v.size),
                         "median": float(med), "q1": float(q1), "q3": float(q3)})
    return rows


@settings(derandomize=True, max_examples=15, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=400))
def test_course_equals_the_percentile_loop(seed: int, n: int) -> None:
    labs = _labs(seed, n)
    assert _course_rows(labs, "all") == _course_loop(labs, "all")


def test_course_quartiles_known_values() -> None:
    # patient means 1, 2, 4, 10 (P1 twice on day 1: mean of 1 and 3 is 2)
    labs = pd.DataFrame({"patient_id": ["P0", "P1", "P1", "P2", "P3", "P0"],
                         "analyte_key": ["il6"] * 5 + ["crp"], "day": [1.0] * 6,
                         "value": [1.0, 1.0, 3.0, 4.0, 10.0, 7.0]})
    rows = _course_rows(labs, "g")
    assert rows == [{"analyte": "crp", "group": "g", "day": 1.0, "n": 1, "median": 7.0, "q1": 7.0, "q3": 7.0},
                    {"analyte": "il6", "group": "g", "day": 1.0, "n": 4, "median": 3.0, "q1": 1.75, "q3": 5.5}]
    assert _course_rows(labs.iloc[0:0], "g") == []


def test_display_name_is_the_most_frequent_spelling() -> None:
    labs = pd.DataFrame({"analyte_key": ["il6", "il6", "il6", "crp", "crp", "ferritin"],
                         "analyte": ["IL-6", "il6", "IL-6", "CRP", "crp", "Ferritin"]})
    # crp: a tie between 'CRP' and 'crp', resolved as Series.mode does (first in sort order)
    assert _display_names(labs, ["il6", "crp", "ferritin", "ldh"]) == {
        "il6": "IL-6", "crp": "CRP", "ferritin": "Ferritin", "ldh": "ldh"}
    for k in ("il6", "crp"):
        assert labs.loc[labs["analyte_key"] == k, "analyte"].mode().iloc[0] == _display_names(labs, [k])[k]
    assert _display_names(labs.iloc[0:0], ["il6"]) == {"il6": "il6"}


def _kinetics(seed: int) -> pd.DataFrame:
    """Curves of 1-14 samples: some only before the infusion, some never detectable, repeated
    days (averaged), BLQ zeros before and after the peak, falls and rises around day 28."""
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(30):
        n = int(rng.integers(1, 15))
        lo = -3 if i % 7 else -10
        day = rng.integers(lo, 1 if i % 11 == 0 else 45, n).astype(float)
        value = np.round(rng.lognormal(6.0, 2.0, n), 1) * (rng.random(n) > (0.95 if i % 9 == 0 else 0.2))
        parts.append(pd.DataFrame({"patient_id": f"P{i // 2}", "measure": ["car_copies_per_ug", "cd19_car_copies"][i % 2],
                                   "day": day, "value": value}))
    return pd.concat(parts, ignore_index=True)


@settings(derandomize=True, max_examples=12, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.sampled_from(["linear", "linear-up/log-down"]),
       st.sampled_from([None, 0.0, 50.0]))
def test_car_kinetics_equals_one_curve_at_a_time(seed: int, method: str, lloq: float | None) -> None:
    k = _kinetics(seed)
    got = car_kinetics(k, lloq=lloq, method=method)
    rows = []
    for (pid, meas), g in k.groupby(["patient_id", "measure"], sort=True):
        g = g.groupby("day", sort=True)["value"].mean()
        rows.append({"patient_id": pid, "infusion_no": 1, "measure": meas,
                     **_nca(g.index.to_numpy(dtype=float), g.to_numpy(dtype=float), lloq=lloq, method=method,
                            auc_end=28.0), "method": method})
    want = pd.DataFrame(rows, columns=list(got.columns))
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got["reason"].str.contains("no post-infusion sample|never detectable|need 3|before day 28").any()


def test_car_kinetics_of_no_curve() -> None:
    got = car_kinetics(_kinetics(1).iloc[0:0])
    assert got.empty and list(got.columns) == list(KINETICS_COLUMNS)
