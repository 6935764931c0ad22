"""Infections, hypogammaglobulinaemia, prolonged cytopenia and treatment exposure: edge scenarios."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cartscope.clinical.cytopenia import prolonged_cytopenia
from cartscope.clinical.immunoglobulins import IggRules, hypogammaglobulinemia
from cartscope.clinical.infections import summarise_infections
from cartscope.clinical.treatment_exposure import dexamethasone_mg, treatment_exposure
from cartscope.stats import cumulative_incidence


def ev(pid: str, day: float, type_: str, **kw: object) -> dict:
    return {"patient_id": pid, "day": day, "type": type_, **kw}


def lab(pid: str, day: float, analyte: str, value: float, unit: str) -> dict:
    return {"patient_id": pid, "day": day, "analyte": analyte, "value": value, "unit": unit}


# --- infections ------------------------------------------------------------------------------


def test_infection_windows_split_at_day_30_and_180() -> None:
    events = pd.DataFrame([
        ev("a", 0, "infection", infection_type="bacterial", grade=2),
        ev("a", 30, "infection", infection_type="viral", grade=3),
        ev("a", 31, "infection", infection_type="fungal", grade=4),
        ev("a", 180, "infection", infection_type="viral"),
        ev("a", 181, "infection", infection_type="bacterial", grade=3),
        ev("b", 400, "last_contact"),
    ])
    s = summarise_infections(events)
    t = s.table().set_index("window")
    assert t.index.tolist() == ["day 0-30", "day 31-180", "> day 180"]
    assert t["episodes"].tolist() == [2, 2, 1]
    assert t.loc["day 0-30", "episodes_viral"] == 1 and t.loc["day 0-30", "patients_severe"] == 1
    assert t.loc["day 31-180", "patients_severe"] == 1  # the day-180 infection has no grade: not severe
    assert t.loc["> day 180", "n_patients"] == 2


def test_first_severe_infection_with_death_as_competing_event() -> None:
    events = pd.DataFrame([
        ev("inf", 12, "infection", infection_type="bacterial", grade=3), ev("inf", 50, "death"),
        ev("mild", 5, "infection", grade=2), ev("mild", 40, "death"),        # death competes
        ev("cens", 90, "last_contact"),
        ev("late", 60, "death"), ev("late", 70, "infection", grade=3),        # infection after death ignored
    ])
    fs = summarise_infections(events).first_severe.set_index("patient_id")
    assert fs.loc["inf", ["time", "cause"]].tolist() == [12, 1]
    assert fs.loc["mild", ["time", "cause"]].tolist() == [40, 2]
    assert fs.loc["cens", ["time", "cause"]].tolist() == [90, 0]
    assert fs.loc["late", ["time", "cause"]].tolist() == [60, 2]
    ci = cumulative_incidence(fs["time"].to_numpy(), fs["cause"].to_numpy())
    assert ci is not None


# --- IgG -------------------------------------------------------------------------------------


def test_igg_threshold_is_strict_and_mg_dl_converts() -> None:
    labs = pd.DataFrame([
        lab("at", -3, "IgG", 700, "mg/dL"), lab("at", 30, "IgG", 400, "mg/dL"),
        lab("below", 30, "igg", 3.99, "g/L"), lab("below", 60, "igg", 3.5, "g/L"),
        lab("base", -1, "igg", 3.0, "g/L"), lab("base", 1, "igg", 5.0, "g/L"),
        lab("none", -1, "igg", 9.0, "g/L"),
    ])
    events = pd.DataFrame([ev("below", 61, "ivig", agent="IVIG", dose=0.4, dose_unit="g/kg"),
                           ev("below", 90, "ivig")])
    r = hypogammaglobulinemia(labs, events).patients.set_index("patient_id")
    assert not r.loc["at", "hypogammaglobulinemia"] and r.loc["at", "baseline_igg"] == pytest.approx(7.0)
    assert r.loc["below", "hypogammaglobulinemia"] and r.loc["below", "first_low_day"] == 30
    assert (r.loc["below", "nadir_igg"], r.loc["below", "nadir_day"]) == (3.5, 60)
    assert (r.loc["below", "ivig_administrations"], r.loc["below", "first_ivig_day"]) == (2, 61)
    assert r.loc["base", "hypogamma_baseline"] and not r.loc["base", "hypogammaglobulinemia"]
    assert pd.isna(r.loc["none", "hypogammaglobulinemia"]) and r.loc["none", "reason"] == "no IgG after infusion"
    assert hypogammaglobulinemia(labs, rules=IggRules(threshold_g_l=5.5)).patients.set_index(
        "patient_id").loc["base", "hypogammaglobulinemia"]


# --- prolonged cytopenia ------------------------------------------------------------------------


def test_grade_3_edges_at_day_28_and_90() -> None:
    labs = pd.DataFrame([
        lab("n", 28, "anc", 999, "/uL"), lab("n", 90, "anc", 1000, "/uL"),
        lab("p", 21, "platelets", 49999, "/uL"), lab("p", 35, "platelets", 200000, "/uL"),   # tie: earlier wins
        lab("h", 29, "hemoglobin", 79.9, "g/L"), lab("h", 97, "hemoglobin", 7.9, "g/dL"),
        lab("far", 36, "anc", 100, "/uL"),
        lab("dead", 28, "anc", 200, "/uL"),
    ])
    events = pd.DataFrame([ev("dead", 20, "death")])
    r = prolonged_cytopenia(labs, events).patients.set_index("patient_id")
    assert (r.loc["n", "anc_grade_d28"], r.loc["n", "anc_grade_d90"]) == (3, 2)
    assert r.loc["n", "cytopenia_d28"] and not r.loc["n", "cytopenia_d90"]
    assert r.loc["p", "platelets_grade_d28"] == 3
    assert r.loc["h", "hemoglobin_grade_d28"] == 3 and r.loc["h", "cytopenia_d90"]
    assert pd.isna(r.loc["far", "cytopenia_d28"]) and "within 7 days of day 28" in r.loc["far", "reason_d28"]
    assert pd.isna(r.loc["dead", "cytopenia_d28"]) and r.loc["dead", "reason_d28"] == "censored before day 28"


# --- treatment exposure -------------------------------------------------------------------------


@pytest.mark.parametrize(("agent", "dose", "unit", "dex"), [
    ("dexamethasone", 10, "mg", 10.0), ("Methylprednisolone", 1000, "mg", 187.5), ("prednisone", 100, "mg", 15.0),
    ("hydrocortisone", 200, "mg", 7.5), ("dex", 0.2, "mg/kg", 14.0), ("methylpred", 1, "g", 187.5),
])
def test_dexamethasone_equivalents(agent: str, dose: float, unit: str, dex: float) -> None:
    mg, why = dexamethasone_mg(agent, dose, unit, 70.0)
    assert why == "" and mg == pytest.approx(dex)


def test_exposure_per_patient() -> None:
    events = pd.DataFrame([
        ev("a", 2, "tocilizumab", agent="tocilizumab", dose=8, dose_unit="mg/kg"), ev("a", 3, "tocilizumab"),
        ev("a", 4, "corticosteroid", agent="dexamethasone", dose=10, dose_unit="mg"),
        ev("a", 4, "corticosteroid", agent="dexamethasone", dose=10, dose_unit="mg"),
        ev("a", 5, "corticosteroid", agent="methylprednisolone", dose=1, dose_unit="mg/kg"),
        ev("a", 6, "corticosteroid", agent="budesonide", dose=9, dose_unit="mg"),
        ev("a", 6, "anakinra", dose=100, dose_unit="mg"),
        ev("a", 5, "icu_admission"), ev("a", 9, "icu_discharge"),
        ev("b", 7, "icu_admission"), ev("b", 12, "death"),
    ])
    patients = pd.DataFrame({"patient_id": ["a", "b", "c"], "weight_kg": [80.0, np.nan, 60.0]})
    tox = pd.DataFrame([{"patient_id": "c", "day": d, "tocilizumab": d == 3} for d in range(5)])
    r = treatment_exposure(events, patients=patients, toxicity_daily=tox).patients.set_index("patient_id")
    assert r.loc["a", "tocilizumab_doses"] == 2 and r.loc["c", "tocilizumab_days"] == 1
    assert r.loc["a", "dexamethasone_equivalent_mg"] == pytest.approx(20 + 80 * 0.75 / 4)
    assert "unknown corticosteroid 'budesonide'" in r.loc["a", "reason"]
    assert r.loc["a", "anakinra_administrations"] == 1
    assert (r.loc["a", "icu_days"], r.loc["b", "icu_days"]) == (4.0, 5.0)
    assert "without discharge" in r.loc["b", "reason"]
    assert not r.loc["c", "icu"] and r.loc["c", "dexamethasone_equivalent_mg"] == 0.0


# --- against R: the competing-risks coding and cmprsk::cuminc ------------------------------------

R_SCRIPT = __import__("pathlib").Path(__file__).parent / "r" / "infections_cuminc.R"


@pytest.mark.r_reference
def test_first_severe_infection_cif_matches_r(r_reference) -> None:
    from r_json import num

    ref = r_reference(R_SCRIPT)
    pats = pd.DataFrame(ref["patients"])
    inf = pd.DataFrame(ref["infections"])
    rows = [ev(p, float(d), "infection", infection_type="bacterial", grade=int(g))
            for p, d, g in zip(inf["patient_id"], inf["day"], inf["grade"])]
    rows += [ev(p, float(f), "death" if d else "last_contact") for p, f, d in zip(pats["patient_id"], pats["fu"],
                                                                                  pats["dead"])]
    fs = summarise_infections(pd.DataFrame(rows), patients=pats["patient_id"].tolist()).first_severe
    assert fs["cause"].tolist() == [int(c) for c in ref["cause"]]
    assert fs["time"].to_numpy() == pytest.approx(num(ref["time"]), rel=0, abs=0)
    at = cumulative_incidence(fs["time"].to_numpy(), fs["cause"].to_numpy()).at(num(ref["times"])).to_frame()
    one, two = at[at["cause"] == 1], at[at["cause"] == 2]
    assert one["estimate"].to_numpy() == pytest.approx(num(ref["est1"]), rel=1e-8)
    assert one["variance"].to_numpy() == pytest.approx(num(ref["var1"]), rel=1e-8)
    assert two["estimate"].to_numpy() == pytest.approx(num(ref["est2"]), rel=1e-8)
