"""Synthetic cohort calibrated to li2023 (CD19 + CD22 CAR-T co-administration as second CAR-T).

Source: Li W, Ding L, Shi W, et al. Safety and efficacy of co-administration of CD19 and CD22
CAR-T cells in children with B-ALL relapse after CD19 CAR-T therapy. J Transl Med 2023,
doi:10.1186/s12967-023-04019-4 (seed 001; figures in ``presets.md``).

Five children with B-ALL: CART1 (CD19) and, after a CD19-positive relapse, CART2 (CD19 and CD22
CAR-T mixed about 1:1). Time convention: **days count from CART1** (infusion 1, day 0) as
everywhere in cartscope; the study's index infusion is CART2 (``label`` "CART2"), which a
protocol selects, shifting every time so that CART2 is day 0. Events between CART1 and CART2
(the CART1 relapse) then fall before the index.

The per-patient values are chosen so that every published median and range holds exactly
(five values: the median is the third): ages at diagnosis / CART1 / CART2 (patients covariates
``age_at_diagnosis`` and ``age_at_cart2``; ``age`` is the age at CART1, the data's day 0; age
at CART2 = age at CART1 + interval within 0.05 years), CART1 dose, CART2 total / CD19 / CD22
doses (CD19:CD22 1:0.9-1:1.5) and transduction, months CART1 -> relapse and CART1 -> CART2,
B-cell aplasia months after CART1 and CART2 (BCA = CD19+ B cells < 1 % or <= 200/uL; the
first aplastic sample is day 7 after the infusion and two non-aplastic samples mark the
loss, so durations are exact to the day, i.e. within 0.02 months), follow-up after CART2
(median 26.3 months). IL-6 baseline and peak per infusion give fold-change medians 7.46 vs
849.7 and peak medians 100.4 vs 1300 pg/mL, with exact Mann-Whitney p 0.222 and 0.421 (5 vs 5;
the paper: 0.2 and 0.4).

Assignment of the unpublished per-patient links (which patient had which value) is ours:
HSCT after CART2 in pt03, pt04, pt05 (pt03 and pt05 stayed in CR at cut-off, pt04 had
"salvage transplantation"); pt01 relapsed 9 months after CART2 (CD19+CD22+), received a third
CAR-T and died 16.2 months after CART2 (OS 100 % at 12 months); pt02 was lost to follow-up at
14 months; CRS grade 2 with tocilizumab in pt03 and pt04 (hypotension without vasopressor),
grade 1 in the others, fever from the day of or after CART2, 7-14 days long. With HSCT ignored
(followed on), EFS is 100 % at 6 months and 80 % at 12 months as published; censoring at HSCT
gives 50 % at 12 months (the paper's contradiction, see ``presets.md``). No ICANS: ICE 10 at
age >= 12, CAPD 0 below. Toxicity rows cover CART2 only (day of CART2 to 21 days after).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cartscope.analysis.presets import _synth as S
from cartscope.analysis.presets._hematology import add_hematology
from cartscope.cohort.model import Cohort

NAME = "li2023"
M = S.MONTH_DAYS

# id: age_dx, age_cart1, age_cart2, months CART1->relapse, months CART1->CART2, CART1 dose,
#     CART2 CD19 / CD22 dose (1e6/kg), transduction %, BCA months after CART1 / CART2,
#     months of follow-up after CART2, CRS grade after CART2
PATIENTS: dict[str, dict[str, Any]] = {
    "pt01": dict(age_dx=3.62, age1=7.36, age2=8.36, relapse1=4.07, gap=11.90, dose1=10.1, cd19=5.00, cd22=5.10,
                 td=38.20, bca1=3.17, bca2=8.53, fu=16.2, crs=1, site="bone marrow", pre_mrd=1.2, sex="F"),
    "pt02": dict(age_dx=1.39, age1=5.61, age2=6.96, relapse1=11.87, gap=15.93, dose1=8.0, cd19=2.21, cd22=2.09,
                 td=25.00, bca1=6.03, bca2=11.57, fu=14.0, crs=1, site="bone marrow", pre_mrd=0.0, sex=None),
    "pt03": dict(age_dx=2.90, age1=6.50, age2=7.68, relapse1=10.50, gap=14.20, dose1=9.0, cd19=5.80, cd22=5.29,
                 td=44.85, bca1=9.77, bca2=10.20, fu=38.5, crs=2, site="bone marrow", pre_mrd=8.9, sex=None),
    "pt04": dict(age_dx=11.87, age1=12.38, age2=15.10, relapse1=32.87, gap=33.13, dose1=12.0, cd19=6.00, cd22=9.00,
                 td=64.55, bca1=5.00, bca2=13.40, fu=26.3, crs=2, site="testis", pre_mrd=0.0, sex="M"),
    "pt05": dict(age_dx=5.10, age1=9.80, age2=11.25, relapse1=15.10, gap=17.40, dose1=10.0, cd19=5.54, cd22=5.46,
                 td=52.30, bca1=7.20, bca2=17.50, fu=31.0, crs=1, site="lymph node", pre_mrd=0.3, sex=None),
}
# IL-6 (pg/mL): (peak, fold change over the pre-infusion baseline) after CART1 and after CART2
IL6 = {
    "pt01": ((100.4, 7.46), (480.0, 95.0)),
    "pt02": ((35.2, 2.1), (60.0, 5.0)),
    "pt03": ((3100.0, 2000.0), (5200.0, 3000.0)),
    "pt04": ((1400.0, 60.0), (2600.0, 1500.0)),
    "pt05": ((55.0, 4.8), (1300.0, 849.7)),
}
HSCT_AFTER_CART2 = {"pt03": 75, "pt04": 90, "pt05": 120}  # days after CART2
LD1 = "Flu 40 mg/m2 x3 + Cy 500 mg/m2 x2"
LD2 = "Flu 50 mg/m2 x3 + Cy 500 mg/m2 x2"


def _day(months: float) -> int:
    return int(round(months * M))


def synthesize(seed: int = 2023) -> Cohort:
    """The li2023 synthetic cohort for ``seed`` (see the module doc)."""
    rng = np.random.default_rng(seed)
    pat, inf, ass, ev, labs, kin, tox = [], [], [], [], [], [], []
    for pid, p in PATIENTS.items():
        c2 = _day(p["gap"])
        sex = p["sex"] or ("F" if rng.random() < 0.5 else "M")
        pat.append({"patient_id": pid, "disease": "B-ALL", "sex": sex, "age": p["age1"], "cohort": "other",
                    "ph_positive": pid == "pt02", "age_at_diagnosis": p["age_dx"], "age_at_cart2": p["age2"],
                    "cart2_transduction_pct": p["td"], "cart1_relapse_site": p["site"],
                    "burden_before_cart2": "low (MRD < 5%)" if p["pre_mrd"] < 5 else "high (MRD >= 5%)"})
        inf.append({"patient_id": pid, "infusion_no": 1, "day": 0, "label": "CART1", "product": "CD19",
                    "dose_per_kg": p["dose1"], "dose_cd19_per_kg": p["dose1"], "lymphodepletion": LD1})
        inf.append({"patient_id": pid, "infusion_no": 2, "day": c2, "label": "CART2",
                    "product": "CD19/CD22 co-administration", "dose_per_kg": round(p["cd19"] + p["cd22"], 2),
                    "dose_cd19_per_kg": p["cd19"], "dose_cd22_per_kg": p["cd22"], "lymphodepletion": LD2})
        ass.extend(_assessments(pid, p, c2))
        ev.extend(_events(pid, p, c2))
        labs.extend(_il6(rng, pid, c2))
        kin.extend(_kinetics(rng, pid, p, c2))
        tox.extend(S.crs_rows(rng, pid, p["crs"], onset=c2 + int(rng.integers(0, 2)), duration=int(rng.integers(7, 15)),
                              first_day=c2, last_day=c2 + 21, child=p["age2"] < 12, tocilizumab=p["crs"] == 2,
                              steroids=False, feature="hypotension"))
    side = np.random.default_rng([seed, 10])  # its own stream: the calibrated draws above stay as they were
    for pid in PATIENTS:
        labs.extend(_il10_ifng(side, pid, _day(PATIENTS[pid]["gap"])))
    extra = ("age_at_diagnosis", "age_at_cart2", "cart2_transduction_pct", "cart1_relapse_site", "burden_before_cart2")
    return add_hematology(Cohort(patients=S.frame("patients", pat, extra), infusions=S.frame("infusions", inf),
                  assessments=S.frame("assessments", ass), events=S.frame("events", ev), labs=S.frame("labs", labs),
                  kinetics=S.frame("kinetics", kin), toxicity_daily=S.frame("toxicity_daily", tox),
                  source=f"synthetic:{NAME}:seed={seed}"), NAME, seed)


def _assessments(pid: str, p: dict[str, Any], c2: int) -> list[dict[str, Any]]:
    rows = [{"patient_id": pid, "day": 28, "kind": "flow_mrd", "mrd_pct": 0.0, "response": "MRD-negative CR"}]
    r1 = _day(p["relapse1"])
    if p["site"] == "bone marrow":
        rows.append({"patient_id": pid, "day": r1, "kind": "bone_marrow", "blasts_pct": 35.0})
    else:
        rows.append({"patient_id": pid, "day": r1, "kind": "clinical", "extramedullary": True, "blasts_pct": 0.0})
    pre = {"patient_id": pid, "day": c2 - 7, "kind": "flow_mrd", "mrd_pct": p["pre_mrd"]}
    if p["pre_mrd"] == 0.0 and p["site"] == "bone marrow":
        pre["response"] = "MRD-negative CR"  # MRD-negative CR after chemotherapy; CART2 against recurrence
    rows.append(pre)
    if p["site"] != "bone marrow":
        rows.append({"patient_id": pid, "day": c2 - 7, "kind": "clinical", "extramedullary": True})
    stop = c2 + (_day(9.0) if pid == "pt01" else _day(p["fu"]))
    for offset in (26 if pid == "pt03" else 28, 91, 183, 322 if pid == "pt03" else 365):
        if c2 + offset < stop:
            rows.append({"patient_id": pid, "day": c2 + offset, "kind": "flow_mrd", "mrd_pct": 0.0,
                         "response": "MRD-negative CR"})
    if pid == "pt01":
        rows.append({"patient_id": pid, "day": stop, "kind": "bone_marrow", "blasts_pct": 22.0})
    return rows


def _events(pid: str, p: dict[str, Any], c2: int) -> list[dict[str, Any]]:
    rows = [{"patient_id": pid, "day": _day(p["relapse1"]), "type": "relapse", "cd19_status": "positive",
             "cd22_status": "unknown", "detail": f"CD19+ relapse after CART1 ({p['site']})"}]
    end = c2 + _day(p["fu"])
    if pid in HSCT_AFTER_CART2:
        rows.append({"patient_id": pid, "day": c2 + HSCT_AFTER_CART2[pid], "type": "hsct", "detail": "allo-HSCT"})
    if pid == "pt01":
        r2 = c2 + _day(9.0)
        rows.append({"patient_id": pid, "day": r2, "type": "relapse", "cd19_status": "positive",
                     "cd22_status": "positive", "detail": "CD19+CD22+ relapse after CART2"})
        rows.append({"patient_id": pid, "day": r2 + 21, "type": "new_therapy", "detail": "third CAR-T (salvage)"})
        rows.append({"patient_id": pid, "day": end, "type": "death", "cause": "disease",
                     "detail": "relapse after salvage; treatment abandoned"})
    elif pid == "pt02":
        rows.append({"patient_id": pid, "day": end, "type": "lost_to_follow_up"})
    else:
        rows.append({"patient_id": pid, "day": end, "type": "last_contact", "detail": "MRD-negative CR at cut-off"})
    return rows


def _il6(rng: np.random.Generator, pid: str, c2: int) -> list[dict[str, Any]]:
    rows = []
    for start, (peak, fold) in zip((0, c2), IL6[pid]):
        base = peak / fold
        peak_day = int(rng.integers(2, 5))
        offsets = np.array([1, 2, 3, 4, 5, 7, 10, 14])
        values = S.cytokine_course(offsets, baseline=base, peak=peak, peak_day=peak_day, width=2.0)
        rows.append({"patient_id": pid, "day": start - 1, "analyte": "IL-6", "value": round(base, 4), "unit": "pg/mL",
                     "qualifier": "=", "panel": "CBA Th1/Th2/Th17", "timepoint": "baseline", "sample": "serum",
                     "role": "patient"})
        for off, v in zip(offsets, values):
            v = max(float(v), base * 1.01) if off != peak_day else peak  # above baseline while CRS lasts
            rows.append({"patient_id": pid, "day": start + int(off), "analyte": "IL-6", "value": round(v, 4),
                         "unit": "pg/mL", "qualifier": "=", "panel": "CBA Th1/Th2/Th17", "sample": "serum",
                         "role": "patient"})
    return rows


def _il10_ifng(rng: np.random.Generator, pid: str, c2: int) -> list[dict[str, Any]]:
    """IL-10 and IFN-g courses after each infusion. The paper shows them only as curves (no
    numbers): baseline a few pg/mL, a peak in the first week, higher after CART2 than CART1."""
    rows = []
    offsets = np.array([1, 2, 3, 4, 5, 7, 10, 14])
    for analyte, base_range in (("IL-10", (2.0, 6.0)), ("IFN-g", (1.0, 4.0))):
        for start, fold in ((0, float(rng.uniform(3, 8))), (c2, float(rng.uniform(10, 40)))):
            base = float(rng.uniform(*base_range))
            peak_day = int(rng.integers(2, 6))
            values = S.cytokine_course(offsets, baseline=base, peak=base * fold, peak_day=peak_day, width=2.0)
            rows.append({"patient_id": pid, "day": start - 1, "analyte": analyte, "value": round(base, 4),
                         "unit": "pg/mL", "qualifier": "=", "panel": "CBA Th1/Th2/Th17", "timepoint": "baseline",
                         "sample": "serum", "role": "patient"})
            for off, v in zip(offsets, values):
                rows.append({"patient_id": pid, "day": start + int(off), "analyte": analyte,
                             "value": round(max(float(v), base), 4), "unit": "pg/mL", "qualifier": "=",
                             "panel": "CBA Th1/Th2/Th17", "sample": "serum", "role": "patient"})
    return rows


def _kinetics(rng: np.random.Generator, pid: str, p: dict[str, Any], c2: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(no: int, start: int, offset: int, measure: str, value: float, unit: str) -> None:
        rows.append({"patient_id": pid, "infusion_no": no, "day": start + offset, "measure": measure,
                     "value": float(value), "unit": unit})

    # CAR transgene copies (qPCR, copies/ug DNA); sampling days 2, 7, 28 and months 2-12
    if pid in ("pt03", "pt04"):
        peak = 100_650.0 if pid == "pt03" else 59_630.0
        offs = np.array([2, 7, 28, 60, 90, 120, 150, 180, 270] + ([347] if pid == "pt03" else []))
        vals = S.expansion_curve(offs, peak=peak, tmax=7, slow_fraction=0.05, slow_half_life=150.0)
        for o, v in zip(offs, vals):
            add(2, c2, int(o), "car_copies_per_ug", v, "copies/ug")
    if pid == "pt04":  # CD19 CAR expands earlier, higher and longer than CD22 CAR
        offs = np.array([2, 4, 7, 10, 14, 28, 60, 90, 120, 180])
        for measure, peak, tmax, slow in (("cd19_car_copies", 48_000.0, 4, 0.06), ("cd22_car_copies", 21_000.0, 10, 0.02)):
            for o, v in zip(offs, S.expansion_curve(offs, peak=peak, tmax=tmax, slow_fraction=slow)):
                add(2, c2, int(o), measure, v, "copies/ug")
    if pid == "pt05":
        for o, v in ((7, 41_800.0), (28, 16_400.0), (60, 14_930.0)):
            add(1, 0, o, "car_copies_per_ug", v, "copies/ug")
        for o, v in ((7, 88_200.0), (28, 47_900.0), (89, 23_450.0), (180, 6_120.0)):
            add(2, c2, o, "car_copies_per_ug", v, "copies/ug")
    if pid in ("pt01", "pt02"):
        for o, v in ((2, 1_200.0), (7, 9_800.0), (28, 2_100.0), (60, 320.0)):
            add(2, c2, o, "car_copies_per_ug", v * float(rng.uniform(0.7, 1.3)), "copies/ug")
    # CD4/CD8 ratio: falls and inverts within 6 days of CART2
    ratio0 = float(rng.uniform(1.6, 3.0))
    for o, f in ((-1, 1.0), (2, 0.55), (4, 0.38), (6, 0.22), (14, 0.18), (28, 0.25)):
        add(2, c2, o, "cd4_cd8_ratio", round(ratio0 * f * float(rng.uniform(0.9, 1.1)), 3), "ratio")
    # B cells: aplastic from day 7 after each infusion until the published duration
    for no, start, months in ((1, 0, p["bca1"]), (2, c2, p["bca2"])):
        first, loss = 7, 7 + _day(months)
        offs = list(range(first, loss, 30)) + [loss, loss + 14]
        for o in offs:
            aplastic = o < loss
            pct = rng.uniform(0.0, 0.5) if aplastic else rng.uniform(3.0, 15.0)
            abs_ = rng.uniform(0.0, 60.0) if aplastic else rng.uniform(250.0, 700.0)
            add(no, start, o, "b_cells_pct", round(float(pct), 2), "%")
            add(no, start, o, "b_cells_per_ul", round(float(abs_), 1), "/uL")
    return rows
