"""The grouped (vectorised) kinetics summaries give exactly what the per-patient loops gave.

The reference implementations below are the loops the module used before (one Python
iteration per patient x analyte, per patient for the CD4/CD8 summary, per patient for the
assignment of samples to infusions); they run on the jin2023 preset with extra edge rows
(no baseline, a zero baseline, a tied peak, a censored peak, a window without samples,
samples before the first infusion) and must agree cell for cell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cartscope.analysis.presets import synthesize
from cartscope.clinical.kinetics import (
    DEFAULT_LIMITS,
    _analyte_key,
    cd4_cd8_course,
    cytokine_kinetics,
    infusion_windows,
)


def _old_cytokine_kinetics(labs: pd.DataFrame, window=(0.0, 30.0), limits=DEFAULT_LIMITS) -> pd.DataFrame:
    lo, hi = window
    lab = labs.copy()
    if "role" in lab:
        lab = lab[lab["role"].astype(object).fillna("patient") != "healthy_donor"]
    lab["patient_id"] = lab["patient_id"].astype(str)
    lab["day"] = pd.to_numeric(lab["day"], errors="coerce")
    lab["value"] = pd.to_numeric(lab["value"], errors="coerce")
    lab = lab[lab["day"].notna() & lab["value"].notna()]
    key = lab["analyte"].astype(str).map(_analyte_key)
    lim = {_analyte_key(a): float(v) for a, v in limits.items()}
    qual = lab["qualifier"].astype(object) if "qualifier" in lab else pd.Series(None, index=lab.index, dtype=object)
    lab["at_limit"] = qual.isin([">=", ">"]).to_numpy() | (
        lab["value"].to_numpy() >= key.map(lim).astype(float).fillna(np.inf).to_numpy())
    rows = []
    for (pid, analyte), g in lab.groupby(["patient_id", "analyte"], sort=True):
        g = g.sort_values("day", kind="mergesort")
        pre = g[g["day"] <= 0]
        win = g[(g["day"] >= lo) & (g["day"] <= hi)]
        base = float(pre["value"].iloc[-1]) if len(pre) else np.nan
        base_day = float(pre["day"].iloc[-1]) if len(pre) else np.nan
        reasons = []
        if win.empty:
            peak = peak_day = np.nan
            censored = pd.NA
            reasons.append(f"no sample in days {lo:g}-{hi:g}")
        else:
            peak = float(win["value"].max())
            top = win[win["value"] == peak]
            peak_day = float(top["day"].iloc[0])
            censored = bool(top["at_limit"].any())
        if np.isnan(base):
            reasons.append("no baseline (day <= 0)")
            fold = np.nan
        elif base <= 0:
            reasons.append("baseline is 0: no fold change")
            fold = np.nan
        else:
            fold = peak / base
        rows.append([pid, analyte, base, base_day, peak, peak_day, fold, censored, len(win), "; ".join(reasons)])
    out = pd.DataFrame(rows, columns=["patient_id", "analyte", "baseline", "baseline_day", "peak", "peak_day",
                                      "fold_change", "peak_censored", "n_samples", "reason"])
    out["peak_censored"] = out["peak_censored"].astype("boolean")
    return out


def _old_cd4_cd8_summary(kinetics: pd.DataFrame, window=(0.0, 30.0)) -> pd.DataFrame:
    lo, hi = window
    by_day = cd4_cd8_course(kinetics, window=window).by_day
    rows = []
    for pid, g in by_day.groupby("patient_id", sort=True):
        pre = g[g["day"] <= 0]
        w = g[(g["day"] > lo) & (g["day"] <= hi)]
        base = float(pre["ratio"].iloc[-1]) if len(pre) else np.nan
        if w.empty:
            rows.append([pid, base, np.nan, np.nan, pd.NA, np.nan, 0, f"no sample in days ({lo:g}, {hi:g}]"])
            continue
        imin = int(np.argmin(w["ratio"].to_numpy()))
        inv = w[w["inverted"]]
        rows.append([pid, base, float(w["ratio"].iloc[imin]), float(w["day"].iloc[imin]), bool(len(inv)),
                     float(inv["day"].iloc[0]) if len(inv) else np.nan, len(w), ""])
    out = pd.DataFrame(rows, columns=["patient_id", "baseline_ratio", "min_ratio", "min_day", "inverts",
                                      "inversion_day", "n_samples", "reason"])
    out["inverts"] = out["inverts"].astype("boolean")
    return out


def _old_assignment(k: pd.DataFrame, inf: pd.DataFrame) -> pd.Series:
    assigned = pd.Series(np.nan, index=k.index)
    for pid, grp in k.groupby("patient_id"):
        pinf = inf[inf["patient_id"] == pid].sort_values("infusion_no")
        if pinf.empty:
            continue
        pos = np.searchsorted(pinf["day"].to_numpy(), grp["day"].to_numpy(), side="right") - 1
        assigned.loc[grp.index] = pinf["infusion_no"].to_numpy()[np.maximum(pos, 0)]
    return assigned


@pytest.fixture(scope="module")
def cohort():  # type: ignore[no-untyped-def]
    return synthesize("jin2023", seed=3)


def _with_edges(labs: pd.DataFrame) -> pd.DataFrame:
    extra = pd.DataFrame({
        "patient_id": ["ZZ1", "ZZ1", "ZZ2", "ZZ2", "ZZ2", "ZZ3", "ZZ3", "ZZ4"],
        "day": [1, 5, -2, 3, 9, 0, 40, -1],
        "analyte": ["il6", "il6", "il6", "il6", "il6", "ferritin", "ferritin", "il6"],
        "value": [50.0, 50.0, 0.0, 7000.0, 7000.0, 10.0, 20.0, 3.0],
    })
    return pd.concat([labs, extra], ignore_index=True)


def test_cytokine_kinetics_equals_the_loop_on_the_preset(cohort) -> None:  # type: ignore[no-untyped-def]
    # the loop is slow: the preset's first 5 patients (every analyte) plus the edge rows
    first = sorted(cohort.labs["patient_id"].astype(str).unique())[:5]
    labs = _with_edges(cohort.labs[cohort.labs["patient_id"].astype(str).isin(first)])
    new = cytokine_kinetics(labs)
    old = _old_cytokine_kinetics(labs)
    assert len(new) > 20
    pd.testing.assert_frame_equal(new.reset_index(drop=True), old, check_dtype=False)
    assert set(new["reason"]) >= {"no baseline (day <= 0)", "baseline is 0: no fold change", "no sample in days 0-30"}


def test_cd4_cd8_summary_equals_the_loop(cohort) -> None:  # type: ignore[no-untyped-def]
    kin = cohort.kinetics
    extra = pd.DataFrame({"patient_id": ["ZZ9", "ZZ9"], "infusion_no": [1, 1], "day": [-1, 40],
                          "measure": ["cd4_cd8_ratio"] * 2, "value": [2.0, 0.5]})
    kin = pd.concat([kin, extra], ignore_index=True)
    for window in ((0.0, 30.0), (0.0, 6.0)):
        new = cd4_cd8_course(kin, window=window).summary
        old = _old_cd4_cd8_summary(kin, window)
        pd.testing.assert_frame_equal(new.reset_index(drop=True), old, check_dtype=False)


def test_infusion_assignment_equals_the_loop(cohort) -> None:  # type: ignore[no-untyped-def]
    kin = cohort.kinetics.drop(columns=["infusion_no"]).copy()
    kin.loc[kin.index[:3], "day"] = -30  # before the first infusion: goes to infusion 1
    inf = cohort.infusions.copy()
    inf["patient_id"] = inf["patient_id"].astype(str)
    got = infusion_windows(kin, inf)
    k = kin.reset_index(drop=True)
    k["patient_id"] = k["patient_id"].astype(str)
    k["day"] = pd.to_numeric(k["day"])
    inf2 = inf.copy()
    inf2["day"] = pd.to_numeric(inf2["day"], errors="coerce").astype("float64")
    inf2.loc[inf2["day"].isna() & (inf2["infusion_no"] == 1), "day"] = 0.0
    want = _old_assignment(k, inf2)
    assert (got["infusion_no"] > 1).any()
    merged = got.merge(k.assign(want=want), on=["patient_id", "day", "measure", "value"], how="left")
    assert (merged["infusion_no"] == merged["want"]).all()
