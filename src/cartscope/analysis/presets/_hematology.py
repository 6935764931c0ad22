"""Haematology, IgG, infection and toxicity-treatment courses added to the preset cohorts.

Each preset generator ends with ``return add_hematology(Cohort(...), NAME, seed)``. The
courses draw from their **own** generator, ``np.random.default_rng([seed, 16])``, so every draw
of the preset itself, every count and every published figure it reproduces stays as it was;
and nothing is added that could move an existing result:

- an analyte the preset already measures (e.g. lu2021's neutrophils and platelets, jin2023's
  CRP and ferritin) gets no new rows; the scores and gradings then use the preset's own values;
  CTCAE-graded analytes are added only to a preset that has none (:data:`CTCAE_GRADED`), and
  ferritin / IL-6, which the presets' cytokine kinetics read, never (:data:`NEVER_ADDED`);
- no row falls after a patient's last existing observation or death (follow-up, and with it
  every survival estimate, is unchanged); events added are of the infection and
  toxicity-treatment types only, which no endpoint reads.

The shapes follow the CAR-T haematotoxicity literature as summarised in the ICAHT consensus
(Rejeski 2023: biphasic neutrophil course, severe neutropenia in most patients in the first
two weeks, a minority with late cytopenia) and the IgG decline with B-cell aplasia; they are
illustrative synthetic courses, not calibrated to a published per-patient distribution
(⚠ the presets' papers report no ANC/platelet/IgG courses to calibrate against).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cartscope.analysis.presets import _synth as S
from cartscope.cohort.model import Cohort
from cartscope.cohort.units import canonical_analyte

SAMPLE_DAYS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 17, 21, 24, 28, 35, 45, 60, 75, 90, 120, 180,
               270, 365, 540, 730)
"""Days with a blood count (daily in the first two weeks, as inpatients after CAR-T)."""
IGG_DAYS = (30, 60, 90, 180, 270, 365, 540, 730)
CTCAE_GRADED = frozenset({"anc", "wbc", "alc", "platelets", "hemoglobin", "fibrinogen", "alt", "ast", "ggt",
                          "bilirubin", "creatinine"})
"""Analytes the CTCAE adverse-event table grades: added only to a preset that measures none of
them (lu2021 has its own counts, and its AE table must stay Lu et al.'s)."""
NEVER_ADDED = frozenset({"ferritin", "il6"})
"""Read by the presets' cytokine kinetics: never added (IEC-HS then uses a preset's own ferritin)."""
PRE_LD_DAY = -5
"""Pre-lymphodepletion sample (CAR-HEMATOTOX and EASIX-pre are measured before lymphodepletion)."""


def _last_days(cohort: Cohort) -> tuple[pd.Series, pd.Series]:
    """Per patient the last day with any existing observation (day >= 0) and the death day."""
    parts = []
    for name in ("events", "assessments", "labs", "kinetics", "toxicity_daily"):
        t = cohort.table(name)
        if t.empty:
            continue
        day = pd.to_numeric(t["day"], errors="coerce")
        keep = day >= 0
        if name == "labs" and "role" in t:
            keep &= t["role"].astype(object).fillna("patient") != "healthy_donor"
        parts.append(pd.DataFrame({"patient_id": t["patient_id"].astype(str)[keep], "day": day[keep]}))
    last = pd.concat(parts).groupby("patient_id")["day"].max()
    ev = cohort.events
    death = pd.to_numeric(ev.loc[ev["type"].astype(object) == "death", "day"], errors="coerce")
    death_day = pd.Series(death.to_numpy(), index=ev.loc[ev["type"].astype(object) == "death", "patient_id"].astype(str))
    return last, death_day.groupby(level=0).min()


def _present_analytes(labs: pd.DataFrame) -> set[str]:
    names = labs["analyte"].astype(object).dropna().unique() if not labs.empty else []
    return {canonical_analyte(a) or str(a).lower() for a in names}


def _crs(tox: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per patient: last fever day, first vasopressor day, tocilizumab and steroid days."""
    if tox.empty:
        return {}
    pid = tox["patient_id"].astype(str).to_numpy()
    day = pd.to_numeric(tox["day"], errors="coerce").to_numpy(dtype=float)

    def col(name: str, numeric: bool = False) -> np.ndarray:
        if name not in tox:
            return np.zeros(len(tox), dtype=bool)
        if numeric:
            return pd.to_numeric(tox[name], errors="coerce").fillna(0).to_numpy(dtype=float) > 0
        return tox[name].astype("boolean").fillna(False).to_numpy(dtype=bool)

    temp = pd.to_numeric(tox["temperature_c"], errors="coerce").to_numpy(dtype=float) if "temperature_c" in tox \
        else np.full(len(tox), np.nan)
    fever, vaso, toci, ster = temp >= 38.0, col("vasopressors", True), col("tocilizumab"), col("steroids")
    out: dict[str, dict[str, Any]] = {}
    order = np.argsort(pid, kind="stable")
    bounds = np.flatnonzero(np.r_[True, pid[order][1:] != pid[order][:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:]):
        k = order[a:b]
        d = day[k]
        out[pid[k[0]]] = {"fever_last": float(d[fever[k]].max()) if fever[k].any() else np.nan,
                          "vaso_first": float(d[vaso[k]].min()) if vaso[k].any() else np.nan,
                          "toci_days": sorted(d[toci[k]].tolist()), "steroid_days": sorted(d[ster[k]].tolist())}
    return out


def _lab(pid: str, day: float, analyte: str, value: float, unit: str) -> dict[str, Any]:
    return {"patient_id": pid, "day": int(day), "analyte": analyte, "value": float(value), "unit": unit,
            "panel": "haematology-course", "sample": "blood"}


def _ev(pid: str, day: float, type_: str, **kw: Any) -> dict[str, Any]:
    return {"patient_id": pid, "day": int(day), "type": type_, **kw}


def _anc_course(rng: np.random.Generator, ball: bool, crs_hi: bool) -> tuple[dict[int, float], float]:
    base = float(np.exp(rng.normal(np.log(1600 if ball else 2600), 0.55)))
    onset = int(rng.integers(1, 4))
    severe = rng.random() < 0.8
    dur = int(np.clip(rng.gamma(2.2, 4.0 + (3.0 if crs_hi else 0.0)), 2, 40)) if severe else 0
    biphasic = rng.random() < 0.2
    dip2 = int(rng.integers(18, 35)) if biphasic else None
    dip2_len = int(rng.integers(3, 9))
    late = rng.random() < 0.2
    recovered = float(np.exp(rng.normal(np.log(2400), 0.35)))
    out = {PRE_LD_DAY: base}
    for d in SAMPLE_DAYS:
        if severe and onset <= d < onset + dur:
            v = np.exp(rng.normal(np.log(180 if rng.random() < 0.4 else 380), 0.5))
        elif d < onset:
            v = base * (0.6 + 0.4 * rng.random())
        elif dip2 is not None and dip2 <= d < dip2 + dip2_len:
            v = np.exp(rng.normal(np.log(420), 0.35))
        elif late and d > 30:
            v = np.exp(rng.normal(np.log(1100), 0.3))
        else:
            v = recovered * np.exp(rng.normal(0, 0.2))
        out[d] = round(float(v), -1)
    return out, base


def _platelet_course(rng: np.random.Generator, ball: bool, crs_hi: bool) -> dict[int, float]:
    base = float(np.exp(rng.normal(np.log(95000 if ball else 160000), 0.5)))
    nadir = float(np.exp(rng.normal(np.log(28000 if crs_hi else 45000), 0.55)))
    rec_day = int(np.clip(rng.gamma(2.0, 8.0), 6, 60))
    out = {PRE_LD_DAY: base}
    for d in SAMPLE_DAYS:
        if d < 3:
            v = base * (0.7 + 0.2 * rng.random())
        elif d < rec_day:
            v = nadir * np.exp(rng.normal(0, 0.2))
        else:
            v = max(base, 120000.0) * np.exp(rng.normal(0, 0.15))
        out[d] = round(float(v), -3)
    return out


def add_hematology(cohort: Cohort, preset: str, seed: int) -> Cohort:
    """The preset cohort with ANC, platelet, haemoglobin, IgG, IEC-HS labs and infection /
    treatment events added (module docstring: separate random stream, nothing existing moved)."""
    rng = np.random.default_rng([seed, 16])
    have = _present_analytes(cohort.labs) | NEVER_ADDED
    if have & CTCAE_GRADED:
        have |= CTCAE_GRADED
    last, death = _last_days(cohort)
    crs = _crs(cohort.toxicity_daily)
    pats = cohort.patients.assign(patient_id=cohort.patients["patient_id"].astype(str))
    labs: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for p in pats.itertuples(index=False):
        pid = str(p.patient_id)
        ball = str(p.disease) == "B-ALL"
        end = float(min(last.get(pid, 0.0), death.get(pid, np.inf)))
        info = crs.get(pid)
        crs_hi = info is not None and np.isfinite(info["vaso_first"])
        anc, _ = _anc_course(rng, ball, crs_hi)
        plt = _platelet_course(rng, ball, crs_hi)
        hb_base = float(np.clip(rng.normal(100 if ball else 115, 14), 65, 160))
        igg_base = float(np.clip(rng.normal(6.5, 2.0), 2.0, 14.0))
        igg_floor = igg_base * (0.35 + 0.4 * rng.random())
        crp0, fer0 = float(np.exp(rng.normal(np.log(12), 1.0))), float(np.exp(rng.normal(np.log(700), 0.8)))
        ldh0, crea0 = float(np.exp(rng.normal(np.log(260), 0.45))), float(np.clip(rng.normal(72, 18), 30, 200))
        iec = info is not None and np.isfinite(info["fever_last"]) and rng.random() < 0.06
        n_inf = {w: rng.poisson(r) for w, r in ((0, 0.35), (1, 0.35), (2, 0.2))}
        gcsf = rng.random() < 0.4
        for d in (PRE_LD_DAY, *SAMPLE_DAYS):
            if d > end:
                break
            if "anc" not in have:
                labs.append(_lab(pid, d, "anc", anc[d], "/uL"))
            if "platelets" not in have:
                labs.append(_lab(pid, d, "platelets", plt[d], "/uL"))
            if "hemoglobin" not in have:
                hb = hb_base if d <= 0 else hb_base * (0.78 + 0.2 * min(1.0, d / 60)) + rng.normal(0, 4)
                labs.append(_lab(pid, d, "hemoglobin", round(hb, 0), "g/L"))
        for a, v, u in (("crp", crp0, "mg/L"), ("ferritin", fer0, "ng/mL"), ("ldh", ldh0, "U/L"),
                        ("creatinine", crea0, "umol/L"), ("fibrinogen", float(np.clip(rng.normal(3.4, 0.7), 1.6, 6)), "g/L"),
                        ("ast", float(np.clip(rng.normal(25, 8), 8, 80)), "U/L"),
                        ("alt", float(np.clip(rng.normal(24, 9), 6, 90)), "U/L"), ("igg", igg_base, "g/L")):
            if a not in have:
                labs.append(_lab(pid, PRE_LD_DAY, a, round(v, 2), u))
        if "igg" not in have:
            for d in IGG_DAYS:
                if d > end:
                    break
                v = igg_floor + (igg_base - igg_floor) * np.exp(-d / 45.0) + rng.normal(0, 0.3)
                labs.append(_lab(pid, d, "igg", round(max(v, 1.0), 2), "g/L"))
                if v < 4.0 and rng.random() < 0.5 and d + 1 <= end:
                    events.append(_ev(pid, d + 1, "ivig", agent="IVIG", dose=0.4, dose_unit="g/kg"))
        if iec:
            onset = int(info["fever_last"]) + int(rng.integers(2, 6))
            for k, d in enumerate((onset, onset + 2, onset + 4)):
                if d > end:
                    break
                for a, v, u in (("ferritin", fer0 * 2 + 8000 * (k + 1), "ng/mL"), ("ldh", 650 + 100 * k, "U/L"),
                                ("fibrinogen", 1.1, "g/L"), ("ast", 260 + 40 * k, "U/L")):
                    if a not in have:
                        labs.append(_lab(pid, d, a, v, u))
            if onset + 1 <= end:
                events.append(_ev(pid, onset + 1, "anakinra", agent="anakinra", dose=100, dose_unit="mg"))
        if gcsf:
            start = int(rng.integers(2, 8))
            for d in range(start, start + int(rng.integers(3, 8))):
                if d <= end:
                    events.append(_ev(pid, d, "g_csf", agent="filgrastim", dose=5, dose_unit="ug/kg"))
        for d, v in plt.items():
            if 0 <= d <= end and v < 20000:
                events.append(_ev(pid, d, "transfusion", agent="platelets"))
        if info is not None:
            for d in info["toci_days"]:
                if 0 <= d <= end:
                    for _ in range(1 + int(rng.random() < 0.3)):
                        events.append(_ev(pid, d, "tocilizumab", agent="tocilizumab", dose=8, dose_unit="mg/kg"))
            for d in info["steroid_days"]:
                if 0 <= d <= end:
                    events.append(_ev(pid, d, "corticosteroid", agent="dexamethasone",
                                      dose=float(rng.choice([10, 20, 40])), dose_unit="mg"))
            if crs_hi:
                a = int(info["vaso_first"])
                stay = a + int(rng.integers(2, 7))
                if a <= end:
                    events.append(_ev(pid, a, "icu_admission"))
                    if stay <= end:
                        events.append(_ev(pid, stay, "icu_discharge"))
        for w, k in n_inf.items():
            lo, hi = ((0, 30), (31, 180), (181, 730))[w]
            for _ in range(k):
                d = int(rng.integers(lo, hi + 1))
                if d <= end:
                    kind = rng.choice(["bacterial", "viral", "fungal"], p=[(0.6, 0.3, 0.1), (0.35, 0.55, 0.1),
                                                                         (0.4, 0.55, 0.05)][w])
                    events.append(_ev(pid, d, "infection", infection_type=str(kind),
                                      grade=int(rng.choice([1, 2, 3, 4], p=[0.15, 0.5, 0.3, 0.05]))))
    if "role" in cohort.labs and cohort.labs["role"].notna().any():  # a role column needs a role in every row
        for row in labs:
            row["role"] = "patient"
    new_labs = S.frame("labs", labs)
    new_events = S.frame("events", sorted(events, key=lambda r: (r["patient_id"], r["day"], r["type"])))
    lab_frame = pd.concat([cohort.labs, new_labs], ignore_index=True) if len(new_labs) else cohort.labs
    event_frame = pd.concat([cohort.events, new_events], ignore_index=True) if len(new_events) else cohort.events
    return Cohort(patients=cohort.patients, infusions=cohort.infusions, assessments=cohort.assessments,
                  events=event_frame, labs=lab_frame, kinetics=cohort.kinetics, toxicity_daily=cohort.toxicity_daily,
                  present=cohort.present, source=cohort.source, conversions=cohort.conversions,
                  file_hashes=cohort.file_hashes)
