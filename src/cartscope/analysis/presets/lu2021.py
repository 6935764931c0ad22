"""Cohort for lu2021: the 14 published MRD-positive patients plus 33 synthetic comparators.

Source: Lu W, Wei Y, Cao Y, et al. CD19 CAR-T cell treatment conferred sustained remission in
B-ALL patients with minimal residual disease. Cancer Immunol Immunother 2021,
doi:10.1007/s00262-021-02941-4 (seed 003; figures in ``presets.md``). Table 2 (age, sex, Ph
status and mutations, MRD refractory/relapse, prior therapies, last regimen, dose, number of
infusions, day-28 MRD, later therapy, CRS grade, outcome) is real data, read from
``data/lu2021_table2.csv`` (transcription and source in ``lu2021_table2.source.md``).

Synthetic, chosen to agree with the text (days from the first infusion):

- follow-up (death or last contact) 409, 777, 829, 850, 654, 945, 700, 898, 330, 172, 640,
  560, 396, 290 for patients 1-14: median 647 (172-945); the five Ph+ patients (1, 6, 10, 12,
  14) bridged to allo-HSCT on days 38, 51, 45, 60, 72 (median 51) with follow-up median 409
  (172-945); transplant-related deaths of patients 10 (day 172, infection) and 14 (day 290,
  GVHD); patient 9 died on day 330 after relapse;
- relapses: patient 5 MRD-positive on day 123 (flow MRD assessment) and CD19-negative
  morphologic relapse on day 238, then chemotherapy and allo-HSCT; patients 4, 7, 9
  CD19-positive on days 740, 597, 238 after a second infusion (days 219, 231, 185) and a third
  infusion after relapse; patients 2 and 3 re-infused on days 180 and 207 (intervals 5.9-7.6
  months, median 6.8). With these, 2-year EFS (progression or death) is 61.2 % (Greenwood SE
  14.0 %) and 2-year OS 78.6 % (11.0 %) exactly as published; the durations of continuous
  remission of patients 2, 3, 8, 13 average 22.9 months (12.1-28.6);
- pre-infusion flow MRD (0.01-5 %) with Pearson r = -0.537 against response duration (day of
  morphologic relapse, death or last contact minus day 28; 0 for the two non-responders) and
  the first-infusion CAR peak (copies/ug DNA) with r = 0.640 against MRD; patients 5, 7 and 9
  have the highest MRD; re-infusions expand less (second 30-50 %, third 10-30 % of the first);
- haematology after the first infusion (daily to day 14, then days 21 and 28, canonical units
  and analyte names of :mod:`cartscope.clinical.ctcae`) whose CTCAE v5 worst grades give the
  published table: anaemia 4/4/1/1 is reproduced as 4/4/2/0 because grade 4 anaemia is not
  lab-gradable (domain-reference §3.2; lab-only grading stops at 3); leukopenia 0/6/6/2,
  neutropenia 1/3/5/3, lymphopenia 0/2/1/11, thrombocytopenia 5/1/1/1; the 8 patients with
  grade 3-4 neutropenia are febrile (> 38.3 C) on a day with ANC < 1000/uL (febrile
  neutropenia 8/14 = 57.1 %); fever grade 1 in 8 and grade 2 (39.1-40.0 C) in patients 5 and 7,
  who received steroids; CRS grades as listed (patient 9 also has grade 2 CRS after the third
  infusion, so a CRS window of days 0-27 after infusion 1 gives the Table 2 grades);
- comparators: 29 active-disease patients (marrow blasts >= 5 %, 6 with CNS disease) and 4
  patients with MRD < 0.01 % (the whole cohort of 47 in Table 1 is 4 + 14 + 29), such that the
  47 have median age 29 (13-66), 27 males, 6 CNS, 9 complex karyotype (covariate), 12 Ph+, and
  pre-infusion marrow blasts median 30 % (0-98.8 %). Active disease gets higher CRS grades,
  higher peak CRP, sIL-2R and IL-6 and worse survival. ``patients.mrd_group`` names the group.

Not reproduced: fibrinogen and liver-test adverse events, lymphocyte subsets, B-cell aplasia.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from cartscope.analysis.presets import _synth as S
from cartscope.analysis.presets._hematology import add_hematology
from cartscope.cohort.model import Cohort

NAME = "lu2021"
LD = "Cy 750 mg/m2 day -2 + Flu 30 mg/m2 x3"

END = {1: 409, 2: 777, 3: 829, 4: 850, 5: 654, 6: 945, 7: 700, 8: 898, 9: 330, 10: 172, 11: 640, 12: 560,
       13: 396, 14: 290}
HSCT = {1: 38, 6: 51, 10: 45, 12: 60, 14: 72, 5: 300, 11: 70}
DEATH = {9: ("disease", "no response to third infusion"), 10: ("hsct", "severe infection after allo-HSCT"),
         14: ("hsct", "GVHD after allo-HSCT")}
RELAPSE = {5: (238, "negative"), 4: (740, "positive"), 7: (597, "positive"), 9: (238, "positive")}
REINFUSIONS = {2: (180,), 3: (207,), 4: (219, 760), 7: (231, 617), 9: (185, 253)}
# published AE table after the first infusion, worst grade counts 0/1/2/3/4 of 14
AE_GRADES = {
    "haemoglobin": (4, 4, 4, 2, 0),  # 4/4/1/1 published; grade 4 is not lab-gradable -> 3
    "wbc": (0, 0, 6, 6, 2),
    "neutrophils": (2, 1, 3, 5, 3),
    "lymphocytes": (0, 0, 2, 1, 11),
    "platelets": (6, 5, 1, 1, 1),
}
RANGES = {  # canonical units; grade -> (low, high) of the nadir
    "neutrophils": {0: (2100, 2600), 1: (1550, 1950), 2: (1050, 1450), 3: (550, 950), 4: (50, 450)},
    "wbc": {0: (4200, 5000), 1: (3100, 3900), 2: (2100, 2900), 3: (1100, 1900), 4: (300, 900)},
    "lymphocytes": {0: (1100, 1500), 1: (850, 950), 2: (520, 780), 3: (220, 480), 4: (20, 180)},
    "platelets": {0: (160e3, 250e3), 1: (80e3, 140e3), 2: (52e3, 73e3), 3: (27e3, 48e3), 4: (5e3, 23e3)},
    "haemoglobin": {0: (125, 145), 1: (102, 118), 2: (82, 98), 3: (60, 78)},
}
BASELINE = {"neutrophils": (3000, 4500), "wbc": (5000, 7000), "lymphocytes": (1200, 2000),
            "platelets": (180e3, 300e3), "haemoglobin": (130, 150)}
UNITS = {"neutrophils": "/uL", "wbc": "/uL", "lymphocytes": "/uL", "platelets": "/uL", "haemoglobin": "g/L"}
SAMPLE_DAYS = (1, 4, 7, 10, 14, 21, 28, 60, 90)


def published_table() -> pd.DataFrame:
    """Table 2 of the paper as shipped in ``data/lu2021_table2.csv``."""
    with resources.files(__package__).joinpath("data/lu2021_table2.csv").open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"sex": str, "malignancy": str})


def synthesize(seed: int = 2023) -> Cohort:
    """The lu2021 cohort for ``seed`` (see the module doc)."""
    rng = np.random.default_rng(seed)
    table = published_table()
    plans = _published_plans(rng, table) + _comparator_plans(rng)
    _assign_ae_grades(rng, [p for p in plans if p["published"]])
    pat, inf, ass, ev, labs, kin, tox = [], [], [], [], [], [], []
    for p in plans:
        pat.append({k: p[k] for k in ("patient_id", "disease", "sex", "age", "cohort", "prior_lines",
                                      "disease_status", "prior_hsct", "cns_involvement", "extramedullary",
                                      "ph_positive", "mrd_group", "complex_karyotype", "mutations")})
        inf.extend(_infusions(p))
        ass.extend(_assessments(rng, p))
        ev.extend(_events(p))
        kin.extend(_kinetics(p))
        t_rows = _toxicity(rng, p)
        tox.extend(t_rows)
        labs.extend(_inflammation(rng, p))
        if p["published"]:
            labs.extend(_haematology(rng, p, t_rows))
    extra = ("mrd_group", "complex_karyotype", "mutations")
    return add_hematology(Cohort(patients=S.frame("patients", pat, extra), infusions=S.frame("infusions", inf),
                  assessments=S.frame("assessments", ass), events=S.frame("events", ev), labs=S.frame("labs", labs),
                  kinetics=S.frame("kinetics", kin), toxicity_daily=S.frame("toxicity_daily", tox),
                  source=f"synthetic:{NAME}:seed={seed}"), NAME, seed)


# --- the 14 published patients -------------------------------------------------------------


def _response_days(no: int, day28_ok: bool) -> int:
    if not day28_ok:
        return 0
    stop = RELAPSE[no][0] if no in RELAPSE else END[no]
    return stop - 28


def _published_plans(rng: np.random.Generator, table: pd.DataFrame) -> list[dict[str, Any]]:
    nos = table["patient"].to_numpy(int)
    ok = (table["mrd_day28"] == "MR").to_numpy()
    duration = np.array([_response_days(n, o) for n, o in zip(nos, ok)], dtype=float)
    top = {5, 7, 9}
    mrd = None
    for _ in range(5000):
        z = S.with_correlation(rng, duration, -0.537)
        if set(nos[np.argsort(z)[-3:]]) == top:
            span = z.max() - z.min()
            mrd = np.round(0.05 + (z - z.min()) * (4.2 / span), 3)
            break
    if mrd is None:
        raise RuntimeError("could not draw MRD levels with the published ordering")
    y = S.with_correlation(rng, mrd, 0.640)
    scale = min(1.4e4, 2.6e4 / max(1e-9, -y.min()))
    peaks = np.round(3.0e4 + scale * y, 1)
    plans = []
    for k, row in table.iterrows():
        no = int(row["patient"])
        malignancy = str(row["malignancy"])
        plans.append({
            "no": no, "published": True, "patient_id": f"pt{no:02d}", "disease": "B-ALL", "sex": row["sex"],
            "age": float(row["age_years"]), "cohort": "other", "prior_lines": int(row["prior_therapies"]),
            "disease_status": "MRD-positive", "prior_hsct": "none", "cns_involvement": False,
            "extramedullary": False, "ph_positive": "Ph+" in malignancy, "mrd_group": "MRD 0.01-5%",
            "complex_karyotype": False, "mutations": malignancy.replace("B-ALL", "").strip(" ,") or None,
            "mrd_subtype": str(row["mrd_refractory_relapse"]).lower(),
            "dose": float(row["car_t_dose_1e6_per_kg"]), "n_infusions": int(row["car_t_infusions"]),
            "responder": bool(ok[k]), "crs": int(row["crs_grade"]), "mrd": float(mrd[k]), "blasts": float(mrd[k]),
            "peak": float(peaks[k]), "end": END[no],
        })
    return plans


def _assign_ae_grades(rng: np.random.Generator, plans: list[dict[str, Any]]) -> None:
    """Worst-grade targets per patient; grade 3-4 neutropenia only in febrile patients (CRS >= 1),
    and white cells graded alongside neutrophils (a lower ANC goes with a lower WBC)."""
    febrile = [k for k, p in enumerate(plans) if p["crs"] >= 1]
    others = [k for k in range(len(plans)) if k not in febrile]
    anc = np.zeros(len(plans), dtype=int)
    severe = rng.choice(febrile, 8, replace=False)
    anc[severe] = rng.permutation([3] * 5 + [4] * 3)
    rest = [k for k in range(len(plans)) if k not in set(severe)]
    anc[rest] = rng.permutation([0, 0, 1, 2, 2, 2])
    wbc = np.empty(len(plans), dtype=int)
    wbc[np.argsort(anc + rng.uniform(0, 0.5, len(plans)), kind="stable")] = np.repeat([2, 3, 4], [6, 6, 2])
    del others
    for k, p in enumerate(plans):
        p["ae_grades"] = {"neutrophils": int(anc[k]), "wbc": int(wbc[k])}
    for analyte in ("haemoglobin", "lymphocytes", "platelets"):
        grades = rng.permutation(np.repeat(np.arange(5), AE_GRADES[analyte]))
        for k, p in enumerate(plans):
            p["ae_grades"][analyte] = int(grades[k])


# --- 33 synthetic comparators --------------------------------------------------------------


def _comparator_plans(rng: np.random.Generator) -> list[dict[str, Any]]:
    n_act, n_neg = 29, 4
    n = n_act + n_neg
    ages = np.concatenate([rng.integers(13, 29, 17), [28], rng.integers(30, 66, 14), [66]]).astype(float)
    ages = rng.permutation(ages)
    male = S_flags(rng, n, 20)
    ph = np.zeros(n, dtype=bool)
    ph[rng.choice(n_act, 5, replace=False)] = True
    ph[n_act + rng.choice(n_neg, 2, replace=False)] = True
    complex_k = np.zeros(n, dtype=bool)
    complex_k[rng.choice(n_act, 8, replace=False)] = True
    complex_k[n_act + int(rng.integers(0, n_neg))] = True
    cns = np.zeros(n, dtype=bool)
    cns[rng.choice(n_act, 6, replace=False)] = True
    # active marrow blasts: the 6th smallest is 30 %, so the median of all 47 is 30 %
    blasts = np.concatenate([np.sort(np.round(rng.uniform(5.5, 29.5, 5), 1)), [30.0],
                             np.round(rng.uniform(31.0, 98.0, 22), 1), [98.8]])
    blasts = rng.permutation(blasts)
    crs_act = rng.permutation(np.repeat([0, 1, 2, 3, 4], [3, 9, 9, 6, 2]))
    plans = []
    for k in range(n):
        active = k < n_act
        pid = f"ctl{k + 1:02d}" if active else f"neg{k - n_act + 1:02d}"
        grade = int(crs_act[k]) if active else int(rng.integers(0, 2))
        responder = rng.random() < (0.75 if active else 1.0)
        plan: dict[str, Any] = {
            "no": None, "published": False, "patient_id": pid, "disease": "B-ALL", "sex": "M" if male[k] else "F",
            "age": float(ages[k]), "cohort": "other", "prior_lines": int(rng.integers(1, 9)),
            "disease_status": str(rng.choice(["refractory", "first relapse", "second+ relapse"])) if active else None,
            "prior_hsct": "none", "cns_involvement": bool(cns[k]), "extramedullary": bool(cns[k]),
            "ph_positive": bool(ph[k]), "mrd_group": "active disease" if active else "MRD <0.01%",
            "complex_karyotype": bool(complex_k[k]), "mutations": None,
            "dose": round(float(rng.uniform(2.0, 10.0)), 2), "n_infusions": 1, "responder": responder,
            "crs": grade, "mrd": None if active else 0.0, "blasts": float(blasts[k]) if active else 0.0,
            "peak": float(np.exp(rng.normal(np.log(4.0e4 if active else 1.5e4), 0.7))),
        }
        end = int(rng.integers(170, 950))
        plan["relapse_day"] = plan["death"] = plan["hsct_day"] = None
        if not responder:
            if rng.random() < 0.7:
                plan["death"] = int(rng.integers(60, 320))
        else:
            if rng.random() < 0.3:
                plan["hsct_day"] = int(rng.integers(40, 120))
            if rng.random() < (0.45 if active else 0.25):
                plan["relapse_day"] = int(rng.integers(60, 500))
                if rng.random() < 0.6:
                    plan["death"] = plan["relapse_day"] + int(rng.integers(30, 200))
        plan["end"] = plan["death"] if plan["death"] is not None else max(end, (plan["relapse_day"] or 0) + 30)
        plans.append(plan)
    return plans


def S_flags(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[rng.choice(n, k, replace=False)] = True
    return out


# --- rows --------------------------------------------------------------------------------


def _infusions(p: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [{"patient_id": p["patient_id"], "infusion_no": 1, "day": 0, "label": "CAR-T 1", "product": "CD19",
             "dose_per_kg": p["dose"], "dose_cd19_per_kg": p["dose"], "lymphodepletion": LD}]
    for j, day in enumerate(REINFUSIONS.get(p["no"], ()), start=2):
        dose = round(p["dose"] * (0.8 if j == 2 else 0.7), 2)  # re-infusion doses are not published
        rows.append({"patient_id": p["patient_id"], "infusion_no": j, "day": day, "label": f"CAR-T {j}",
                     "product": "CD19", "dose_per_kg": dose, "dose_cd19_per_kg": dose, "lymphodepletion": LD})
    return rows


def _assessments(rng: np.random.Generator, p: dict[str, Any]) -> list[dict[str, Any]]:
    pid = p["patient_id"]
    rows = [{"patient_id": pid, "day": -5, "kind": "bone_marrow", "blasts_pct": p["blasts"],
             "extramedullary": p["extramedullary"]}]
    if p["mrd"] is not None:
        rows.append({"patient_id": pid, "day": -5, "kind": "flow_mrd", "mrd_pct": p["mrd"]})
    relapse = RELAPSE[p["no"]][0] if p["published"] and p["no"] in RELAPSE else p.get("relapse_day")
    stop = min(x for x in (relapse, p.get("death"), p["end"] + 1) if x is not None)
    if p["published"] and p["no"] in DEATH:
        stop = min(stop, END[p["no"]])
    for day in (14, 28, 60, 120, 180, 240, 300, 360, 480, 600, 720, 840):
        if day >= stop or (day == 14 and not p["published"]):
            continue
        if not p["responder"]:
            if day == 28:
                rows.append({"patient_id": pid, "day": 28, "kind": "flow_mrd", "response": "NR",
                             "mrd_pct": round(float(rng.uniform(0.05, 0.8 if p["published"] else 40.0)), 3)})
            continue
        if p["published"] and p["no"] == 5 and day >= 123:
            continue
        rows.append({"patient_id": pid, "day": day, "kind": "flow_mrd", "mrd_pct": 0.0, "response": "MRD-negative CR"})
    if p["published"] and p["no"] == 5:
        rows.append({"patient_id": pid, "day": 123, "kind": "flow_mrd", "mrd_pct": 0.12})
    alive = p.get("death") is None and not (p["published"] and p["no"] in DEATH)
    if (p["responder"] or p["published"]) and relapse is None and alive:
        # marrow at the last visit, so the last assessment is the last contact
        rows.append({"patient_id": pid, "day": p["end"], "kind": "flow_mrd", "mrd_pct": 0.0,
                     "response": "MRD-negative CR"})
    if relapse is not None:
        rows.append({"patient_id": pid, "day": relapse, "kind": "bone_marrow",
                     "blasts_pct": round(float(rng.uniform(12, 60)), 1)})
    return rows


def _events(p: dict[str, Any]) -> list[dict[str, Any]]:
    pid = p["patient_id"]
    rows: list[dict[str, Any]] = []
    if p["published"]:
        no = p["no"]
        if no in RELAPSE:
            day, cd19 = RELAPSE[no]
            rows.append({"patient_id": pid, "day": day, "type": "relapse", "cd19_status": cd19,
                         "cd22_status": "unknown", "detail": f"CD19{'+' if cd19 == 'positive' else '-'} morphologic relapse"})
        for j, day in enumerate(REINFUSIONS.get(no, ()), start=2):
            rows.append({"patient_id": pid, "day": day, "type": "reinfusion", "detail": f"CAR-T infusion {j}"})
        if no == 5:
            rows += [{"patient_id": pid, "day": 130, "type": "new_therapy", "detail": "consolidation chemotherapy"},
                     {"patient_id": pid, "day": 245, "type": "new_therapy", "detail": "FLAG + mitoxantrone"}]
        if no == 7:
            rows.append({"patient_id": pid, "day": 650, "type": "new_therapy", "detail": "bortezomib + methylprednisolone"})
        if no in HSCT:
            rows.append({"patient_id": pid, "day": HSCT[no], "type": "hsct", "detail": "allo-HSCT"})
        if no in DEATH:
            cause, detail = DEATH[no]
            rows.append({"patient_id": pid, "day": END[no], "type": "death", "cause": cause, "detail": detail})
        else:
            rows.append({"patient_id": pid, "day": END[no], "type": "last_contact"})
        return rows
    if p["relapse_day"] is not None:
        rows.append({"patient_id": pid, "day": p["relapse_day"], "type": "relapse", "cd19_status": "positive",
                     "cd22_status": "unknown"})
    if p["hsct_day"] is not None and (p["relapse_day"] is None or p["hsct_day"] < p["relapse_day"]):
        rows.append({"patient_id": pid, "day": p["hsct_day"], "type": "hsct", "detail": "allo-HSCT"})
    if p["death"] is not None:
        rows.append({"patient_id": pid, "day": p["death"], "type": "death", "cause": "disease"})
    else:
        rows.append({"patient_id": pid, "day": p["end"], "type": "last_contact"})
    return rows


def _kinetics(p: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    infusions = [(1, 0, p["peak"], 10)]
    for j, day in enumerate(REINFUSIONS.get(p["no"], ()), start=2):
        infusions.append((j, day, p["peak"] * (0.4 if j == 2 else 0.2), 7))
    for no, start, peak, tmax in infusions:
        days = np.array([d for d in SAMPLE_DAYS if start + d <= p["end"]])
        for d, v in zip(days, S.expansion_curve(days, peak=peak, tmax=tmax, fast_half_life=6.0, slow_fraction=0.01)):
            rows.append({"patient_id": p["patient_id"], "infusion_no": no, "day": start + int(d),
                         "measure": "car_copies_per_ug", "value": float(v), "unit": "copies/ug"})
    return rows


def _toxicity(rng: np.random.Generator, p: dict[str, Any]) -> list[dict[str, Any]]:
    last = min(21, p["end"])
    onset = int(rng.integers(1, 4))
    rows = S.crs_rows(rng, p["patient_id"], p["crs"], onset=onset, duration=int(rng.integers(2, 5)),
                      first_day=0, last_day=last)
    if p["published"] and p["no"] == 9:  # grade 2 CRS after the third infusion (day 253)
        rows += S.crs_rows(rng, p["patient_id"], 2, onset=255, duration=4, first_day=253, last_day=270,
                           feature="hypotension")
    if p["published"]:
        for r in rows:
            if r["day"] <= 21 and r["temperature_c"] >= S.FEVER_C:
                r["temperature_c"] = min(r["temperature_c"], 39.0)  # fever grade 1 (38.0-39.0 C)
        if p["no"] in (5, 7):  # persistent high fever (grade 2), steroids
            fever = [r for r in rows if r["day"] <= 21 and r["temperature_c"] >= S.FEVER_C]
            fever[0]["temperature_c"] = round(float(rng.uniform(39.3, 39.9)), 1)
            fever[0]["steroids"] = True
    p["onset"] = onset
    return rows


def _course(rng: np.random.Generator, base: float, nadir: float, nadir_day: int, days: np.ndarray,
            width: float) -> np.ndarray:
    shape = np.exp(-0.5 * ((days - nadir_day) / width) ** 2)
    return np.where(days == nadir_day, nadir, nadir + (base - nadir) * (1 - shape * 0.999))


def _haematology(rng: np.random.Generator, p: dict[str, Any], tox: list[dict[str, Any]]) -> list[dict[str, Any]]:
    days = np.array(list(range(1, 15)) + [21, 28])
    grades = p["ae_grades"]
    fever_days = [r["day"] for r in tox if r["day"] <= 21 and r["temperature_c"] >= S.FEVER_C]
    rows = []
    for analyte, grade in grades.items():
        lo, hi = RANGES[analyte][grade]
        nadir = float(rng.uniform(lo, hi))
        b_lo, b_hi = BASELINE[analyte]
        base = float(rng.uniform(b_lo, b_hi))
        nadir_day = int(rng.integers(5, 11))
        if analyte == "neutrophils" and grade >= 3:
            nadir_day = fever_days[0]  # febrile neutropenia: ANC < 1000 on a febrile day
        values = _course(rng, base, nadir, nadir_day, days, width=3.0)
        digits = 1 if analyte == "haemoglobin" else 0
        rows.append({"patient_id": p["patient_id"], "day": -5, "analyte": analyte, "value": round(base, digits),
                     "unit": UNITS[analyte], "qualifier": "=", "panel": "haematology", "timepoint": "baseline",
                     "sample": "blood", "role": "patient"})
        for d, v in zip(days, values):
            v = nadir if d == nadir_day else max(float(v), nadir)
            rows.append({"patient_id": p["patient_id"], "day": int(d), "analyte": analyte,
                         "value": float(np.floor(v) if digits == 0 else np.floor(v * 10) / 10), "unit": UNITS[analyte],
                         "qualifier": "=", "panel": "haematology", "sample": "blood", "role": "patient"})
    if grades["neutrophils"] >= 3:
        for r in tox:
            if r["day"] == fever_days[0]:
                r["temperature_c"] = max(r["temperature_c"], 38.5)
    return rows


def _inflammation(rng: np.random.Generator, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Serial CRP (mg/L), sIL-2R and IL-6 (pg/mL): low in the MRD groups except patients 5 and 7."""
    high = (not p["published"] and p["mrd_group"] == "active disease") or p.get("no") in (5, 7)
    scale = 1.0 + 0.5 * p["crs"]
    medians = {"CRP": (18.0, 95.0), "sIL-2R": (2500.0, 8000.0), "IL-6": (25.0, 260.0)}
    units = {"CRP": "mg/L", "sIL-2R": "pg/mL", "IL-6": "pg/mL"}
    days = np.array([0, 1, 3, 5, 7, 10, 14, 21, 28])
    days = days[days <= p["end"]]
    peak_day = int(rng.choice([3, 5, 7]))
    rows = []
    for analyte, (low_med, high_med) in medians.items():
        peak = float(np.exp(rng.normal(np.log((high_med if high else low_med) * (scale if high else 1.0)), 0.35)))
        base = peak * float(rng.uniform(0.05, 0.2))
        values = S.cytokine_course(days, baseline=base, peak=peak, peak_day=peak_day, width=2.5)
        for d, v in zip(days, values):
            rows.append({"patient_id": p["patient_id"], "day": int(d), "analyte": analyte, "value": round(float(v), 2),
                         "unit": units[analyte], "qualifier": "=", "panel": "inflammation",
                         "timepoint": "baseline" if d == 0 else None, "sample": "serum", "role": "patient"})
    return rows
