"""A small registry typed by hand into a workbook, as a hospital exports it: day-first dates as
text, recorded CRS/ICANS grades in ``patients`` (one patient blank), blanks in age and LDH, a
``toxicity_daily`` sheet for the first ten patients, IL-6 / CRP / ferritin on days 0, 3, 7, 14.
Seeded, so every build is the same cohort."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import openpyxl

UNITS = {"IL-6": "pg/mL", "CRP": "mg/L", "ferritin": "ug/L"}


def write_registry(path: Path, n: int = 28, seed: int = 7, toxicity_sheet: bool = True,
                   recorded_grades: bool = True) -> Path:
    """Write the workbook to ``path`` (``.xlsx``) and return it."""
    rng = random.Random(seed)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)

    def sheet(name: str, header: list[str], rows: list[list]) -> None:
        ws = wb.create_sheet(name)
        ws.append(header)
        for r in rows:
            ws.append(r)

    d0 = dt.date(2022, 3, 1)
    fmt = lambda d: d.strftime("%d/%m/%Y")  # noqa: E731 - day-first as typed
    pats, infs, ass, evs, labs, tox = [], [], [], [], [], []
    for i in range(1, n + 1):
        pid = f"P{i:02d}"
        dis = "B-ALL" if i <= n * 4 // 7 else rng.choice(["DLBCL", "FL", "MCL"])
        age = rng.randint(8, 70) if i % 7 else None
        ldh = rng.randint(150, 900) if i % 5 else None
        crs, icans = rng.choice([0, 1, 1, 2, 2, 3, 4]), rng.choice([0, 0, 0, 1, 2, 3])
        row = [pid, dis, rng.choice(["F", "M"]), age, rng.randint(1, 5),
               rng.choice(["refractory", "first relapse", "MRD-positive"]), rng.choice(["none", "auto", "allo"]), ldh, 250]
        if recorded_grades:
            row += [crs if i != 3 else None, icans if i != 3 else None]
        pats.append(row)
        day = d0 + dt.timedelta(days=7 * i)
        infs.append([pid, 1, fmt(day), "CART1", "CD19", round(rng.uniform(0.5, 5), 1)])
        ass.append([pid, fmt(day - dt.timedelta(days=5)), "bone_marrow", "", rng.randint(5, 80), ""])
        resp = rng.choice(["CR", "CR", "MRD-negative CR", "PR", "NR", "CRi"])
        ass.append([pid, fmt(day + dt.timedelta(days=28)), "bone_marrow", resp, rng.randint(0, 4), ""])
        last = day + dt.timedelta(days=rng.randint(90, 700))
        if resp in ("NR", "PR") or rng.random() < 0.3:
            evs.append([pid, fmt(day + dt.timedelta(days=rng.randint(40, 300))),
                        "progression" if resp == "NR" else "relapse", "", ""])
        evs.append([pid, fmt(last), "death" if rng.random() < 0.3 else "last_contact", "", ""])
        for an, base in (("IL-6", 20), ("CRP", 10), ("ferritin", 500)):
            for dd in (0, 3, 7, 14):
                v = round(base * rng.lognormvariate(0.5 if dd in (3, 7) else 0, 0.8), 1)
                labs.append([pid, fmt(day + dt.timedelta(days=dd)), an, v, UNITS[an]])
        if i <= 10:
            for dd in range(0, 8):
                tox.append([pid, fmt(day + dt.timedelta(days=dd)), round(rng.uniform(36.5, 40), 1),
                            rng.choice(["no", "no", "yes"]), 0, "none", 10])
    head = ["patient_id", "disease", "sex", "age", "prior_lines", "disease_status", "prior_hsct", "ldh", "ldh_uln"]
    sheet("patients", head + (["crs_grade", "icans_grade"] if recorded_grades else []), pats)
    sheet("infusions", ["patient_id", "infusion_no", "date", "label", "product", "dose_per_kg"], infs)
    sheet("assessments", ["patient_id", "date", "kind", "response", "blasts_pct", "mrd_pct"], ass)
    sheet("events", ["patient_id", "date", "type", "cd19_status", "cause"], evs)
    sheet("labs", ["patient_id", "date", "analyte", "value", "unit"], labs)
    if toxicity_sheet:
        sheet("toxicity_daily", ["patient_id", "date", "temperature_c", "hypotension", "vasopressors", "oxygen",
                                 "ice_score"], tox)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


NEW_USER_PLAN = """\
version: 1
name: registry
variables:
  crs3: {derive: crs, at_least: 3}
  il6_peak: {derive: cytokine, analyte: IL-6, statistic: peak}
  il6_base: {derive: cytokine, analyte: IL-6, statistic: baseline}
populations:
  ball: {where: "disease_group == 'B-ALL'"}
panels:
  inflammation: [IL-6, CRP, ferritin]
analyses:
  - {id: table1, kind: describe, by: disease_group, variables: [age, sex, ldh, crs_group, il6_peak]}
  - {id: cyto, kind: cytokines, analytes: [inflammation], by: crs3}
  - {id: il6_by_response, kind: compare, by: responder, variables: [il6_peak, sex]}
  - {id: il6_paired, kind: compare, paired: true, variables: [il6_base, il6_peak]}
"""
"""The plan a new user writes from docs/protocol.md for this registry (it checks and runs)."""
