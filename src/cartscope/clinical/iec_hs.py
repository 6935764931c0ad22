"""Immune effector cell-associated HLH-like syndrome (IEC-HS): identification and grade.

Source: Hines MR, Knight TE, McNerney KO, et al. *Immune effector cell-associated
hemophagocytic lymphohistiocytosis-like syndrome.* Transplant Cell Ther 2023;29(7):438.e1-438.e16
(ASTCT consensus panel; doi:10.1016/j.jtct.2023.03.006 †). Verified from a stored abstract: the
term, the panel and that IEC-HS is a hyperinflammatory HLH-like toxicity often not tied to CRS
severity. ⚠ The identification and grading tables themselves were not in the stored corpus;
the criteria below are the published tables as recalled and are protocol defaults:

- key features (both required): ferritin > 2 x ULN, or > 2 x the baseline at infusion when
  that baseline is already above the ULN ("and/or rapidly rising" is a clinical judgement and
  is not graded); onset with resolving CRS or after CRS resolution, taken here as after the
  last day of the patient's peak daily CRS grade (a patient without CRS meets the timing
  criterion, and the output says so);
- at least one common manifestation from the onset day to ``manifestation_days`` (14) after it
  (a project convention for "progression or new onset"): AST or ALT
  > 5 x ULN (> 5 x baseline when the baseline is above the ULN); fibrinogen < 1.5 g/L
  (150 mg/dL); new or worsening cytopenia (here: CTCAE v5 grade >= 3 neutropenia or
  thrombocytopenia that is worse than the last grade before onset, via
  :mod:`cartscope.clinical.ctcae`, so the cytopenia of lymphodepletion alone does not count);
  LDH > ULN. Haemophagocytosis in marrow or tissue is not a cohort column and is not assessed;
  hypertriglyceridaemia (fasting > 265 mg/dL = 2.99 mmol/L) is reported but not required.

Grade (⚠ a mapping of the consensus's grade descriptions, mild / needs IEC-HS-directed
therapy / severe / life-threatening, onto recorded data; project convention):

1. criteria met, no IEC-HS-directed therapy recorded on or after onset;
2. IEC-HS-directed systemic therapy on or after onset (events ``anakinra`` or
   ``corticosteroid``, or an ``agent`` naming ruxolitinib, emapalumab or etoposide);
3. additionally coagulopathy needing plasma, cryoprecipitate or fibrinogen (``transfusion``
   events with such an ``agent``) or an ICU admission on or after onset;
4. vasopressors or positive-pressure ventilation in ``toxicity_daily`` on or after onset.

Death is reported (``died_after_onset``), not graded 5: the cohort has no IEC-HS cause of death.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from cartscope.clinical._labs import event_rows, lab_values

CRITERIA = ("ferritin", "timing", "transaminases", "fibrinogen", "cytopenia", "ldh")
PATIENT_COLUMNS = (
    "patient_id", "iec_hs", "grade", "onset_day", "criteria_met", "n_manifestations", "peak_ferritin",
    "ferritin_reference", "crs_peak_day", "hypertriglyceridemia", "died_after_onset", "reason",
)


@dataclass(frozen=True)
class IecHsRules:
    """Thresholds of IEC-HS identification (module docstring; limits in canonical units).

    ``ferritin_uln`` (ng/mL), ``ast_uln``/``alt_uln``/``ldh_uln`` (U/L) are used where a lab
    row gives no ``uln``; they are sex-neutral adult defaults (⚠ lab-specific in practice).
    """

    window: tuple[float, float] = (0.0, 100.0)
    ferritin_multiple: float = 2.0
    ferritin_uln: float = 400.0
    transaminase_multiple: float = 5.0
    ast_uln: float = 40.0
    alt_uln: float = 40.0
    fibrinogen_below_g_l: float = 1.5
    ldh_uln: float = 250.0
    cytopenia_grade: int = 3
    triglycerides_above_mmol_l: float = 2.99
    min_manifestations: int = 1
    manifestation_days: float = 14.0
    directed_agents: tuple[str, ...] = ("ruxolitinib", "emapalumab", "etoposide")
    coagulopathy_agents: tuple[str, ...] = ("plasma", "ffp", "cryo", "fibrinogen")


@dataclass(frozen=True)
class IecHsResult:
    """Per-patient IEC-HS flag, grade, onset and the criteria met (columns :data:`PATIENT_COLUMNS`)."""

    patients: pd.DataFrame
    rules: IecHsRules = field(default_factory=IecHsRules)

    def to_frame(self) -> pd.DataFrame:
        return self.patients.copy()

    def __repr__(self) -> str:
        p = self.patients
        flagged = p["iec_hs"].fillna(False).astype(bool)
        g = p.loc[flagged, "grade"].dropna().astype(int)
        dist = " ".join(f"{k}:{int((g == k).sum())}" for k in range(1, 5))
        return f"IEC-HS: {int(flagged.sum())} of {len(p)} patients (grades {dist})"


def _baseline(frame: pd.DataFrame) -> pd.Series:
    pre = frame[frame["day"] <= 0]
    return pre.groupby("patient_id")["value"].last()


def _uln(labs: pd.DataFrame, analyte: str, default: float) -> pd.Series:
    """Per patient the lab's own ULN for ``analyte`` where given (first row), else missing."""
    if labs is None or "uln" not in labs.columns:
        return pd.Series(dtype=float)
    from cartscope.cohort.units import canonical_analyte
    canon = labs["analyte"].astype(object).map(lambda a: canonical_analyte(a) if isinstance(a, str) else None)
    part = labs[(canon == analyte).to_numpy(dtype=bool)]
    u = pd.to_numeric(part["uln"], errors="coerce")
    return u.groupby(part["patient_id"].astype(str)).first().dropna()


def _first_day(frame: pd.DataFrame, mask: np.ndarray, start: pd.Series, strict: pd.Series) -> pd.Series:
    f = frame[mask]
    s0 = f["patient_id"].map(start).to_numpy(dtype=float)
    gt = f["patient_id"].map(strict).fillna(False).to_numpy(dtype=bool)
    d = f["day"].to_numpy(dtype=float)
    f = f[np.where(gt, d > s0, d >= s0)]
    return f.groupby("patient_id")["day"].min()


def identify_iec_hs(
    labs: pd.DataFrame,
    *,
    toxicity_daily: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    patients: pd.DataFrame | Sequence[str] | None = None,
    rules: IecHsRules = IecHsRules(),
) -> IecHsResult:
    """IEC-HS per patient from labs (ferritin, AST/ALT, fibrinogen, ANC, platelets, LDH).

    ``toxicity_daily`` gives the CRS course (timing criterion) and vasopressors / ventilation
    (grade 4); ``events`` the directed therapy, transfusions, ICU admissions and deaths.
    Onset = the first day in ``window`` after the CRS peak with ferritin above its
    reference; a patient without ferritin in the window gets NA and a reason.
    """
    from cartscope.clinical.crs import grade_crs_daily
    from cartscope.clinical.ctcae import grade_values

    fer = lab_values(labs, "ferritin")
    if patients is None:
        ids = sorted(set(fer["patient_id"]))
    elif isinstance(patients, pd.DataFrame):
        ids = [str(p) for p in patients["patient_id"]]
    else:
        ids = [str(p) for p in patients]
    idx = pd.Index(ids, name="patient_id")
    lo, hi = rules.window

    # CRS peak (last day at the patient's maximum daily grade)
    crs_peak = pd.Series(np.nan, index=idx)
    if toxicity_daily is not None and not toxicity_daily.empty:
        daily = grade_crs_daily(toxicity_daily)
        daily = daily[(daily["day"] >= lo) & (daily["day"] <= hi) & (daily["crs_grade"] > 0)]
        if not daily.empty:
            top = daily["crs_grade"] == daily.groupby("patient_id")["crs_grade"].transform("max")
            crs_peak = daily[top].groupby("patient_id")["day"].max().reindex(idx)
    start = crs_peak.fillna(lo).clip(lower=lo)

    # key feature: ferritin > 2 x reference
    base = _baseline(fer).reindex(idx)
    uln = _uln(labs, "ferritin", rules.ferritin_uln).reindex(idx).fillna(rules.ferritin_uln)
    ref = pd.Series(np.where(base > uln, base, uln), index=idx)
    fw = fer[(fer["day"] >= lo) & (fer["day"] <= hi)]
    high = fw["value"].to_numpy() > rules.ferritin_multiple * fw["patient_id"].map(ref).to_numpy(dtype=float)
    onset = _first_day(fw, high, start, crs_peak.notna()).reindex(idx)
    peak_fer = fw.groupby("patient_id")["value"].max().reindex(idx)

    after = onset.fillna(np.inf)
    found: dict[str, pd.Series] = {}

    def window_after(frame: pd.DataFrame) -> pd.DataFrame:
        f = frame[(frame["day"] <= hi)]
        start_day = f["patient_id"].map(after).to_numpy(dtype=float)
        day = f["day"].to_numpy(dtype=float)
        return f[(day >= start_day) & (day <= start_day + rules.manifestation_days)]

    # transaminases
    trans = pd.Series(False, index=idx)
    for analyte, default in (("ast", rules.ast_uln), ("alt", rules.alt_uln)):
        v = lab_values(labs, analyte)
        b = _baseline(v).reindex(idx)
        u = _uln(labs, analyte, default).reindex(idx).fillna(default)
        r = pd.Series(np.where(b > u, b, u), index=idx)
        w = window_after(v)
        hit = w["value"].to_numpy() > rules.transaminase_multiple * w["patient_id"].map(r).to_numpy(dtype=float)
        trans |= pd.Series(hit).groupby(w["patient_id"].to_numpy()).any().reindex(idx).fillna(False).astype(bool)
    found["transaminases"] = trans
    fib = window_after(lab_values(labs, "fibrinogen"))
    found["fibrinogen"] = (fib["value"] < rules.fibrinogen_below_g_l).groupby(fib["patient_id"]).any() \
        .reindex(idx).fillna(False).astype(bool)
    ldh = lab_values(labs, "ldh")
    lu = _uln(labs, "ldh", rules.ldh_uln).reindex(idx).fillna(rules.ldh_uln)
    lw = window_after(ldh)
    found["ldh"] = pd.Series(lw["value"].to_numpy() > lw["patient_id"].map(lu).to_numpy(dtype=float)) \
        .groupby(lw["patient_id"].to_numpy()).any().reindex(idx).fillna(False).astype(bool)
    cyto = pd.Series(False, index=idx)
    for analyte, ctc in (("anc", "neutrophils"), ("platelets", "platelets")):
        v = lab_values(labs, analyte)
        nan = np.full(len(v), np.nan)
        from cartscope.clinical.ctcae import DEFAULT_REFERENCE_RANGES
        lln = np.full(len(v), DEFAULT_REFERENCE_RANGES[ctc][0])
        g, _, _ = grade_values(ctc, v["value"].to_numpy(), lln=lln, uln=nan, baseline=nan)
        v = v.assign(grade=np.nan_to_num(g, nan=0.0))
        before = v[v["day"] < v["patient_id"].map(after).to_numpy(dtype=float)]
        bg = before.groupby("patient_id")["grade"].last().reindex(idx).fillna(0.0)
        w = window_after(v)
        worse = (w["grade"].to_numpy() >= rules.cytopenia_grade) & \
            (w["grade"].to_numpy() > w["patient_id"].map(bg).to_numpy(dtype=float))
        cyto |= pd.Series(worse).groupby(w["patient_id"].to_numpy()).any().reindex(idx).fillna(False).astype(bool)
    found["cytopenia"] = cyto
    tg = window_after(lab_values(labs, "triglycerides"))
    hyper_tg = (tg["value"] > rules.triglycerides_above_mmol_l).groupby(tg["patient_id"]).any().reindex(idx)

    # grade inputs
    ev = event_rows(events, ("anakinra", "corticosteroid", "transfusion", "icu_admission", "death",
                             "ivig", "g_csf", "tocilizumab", "new_therapy"))
    ev = ev[ev["day"] >= ev["patient_id"].map(after).to_numpy(dtype=float)]
    agent = ev["agent"].astype("string").str.lower().fillna("") if "agent" in ev.columns \
        else pd.Series("", index=ev.index, dtype="string")
    directed = ev["type"].isin(("anakinra", "corticosteroid")).to_numpy() | \
        agent.str.contains("|".join(rules.directed_agents)).to_numpy(dtype=bool)
    coag = (ev["type"] == "transfusion").to_numpy() & \
        agent.str.contains("|".join(rules.coagulopathy_agents)).to_numpy(dtype=bool)
    icu = (ev["type"] == "icu_admission").to_numpy()
    died = ev[(ev["type"] == "death").to_numpy()].groupby("patient_id").size().reindex(idx).fillna(0) > 0

    def any_by(mask: np.ndarray) -> pd.Series:
        return pd.Series(mask).groupby(ev["patient_id"].to_numpy()).any().reindex(idx).fillna(False).astype(bool)

    g2, g3 = any_by(directed), any_by(coag | icu)
    g4 = pd.Series(False, index=idx)
    if toxicity_daily is not None and not toxicity_daily.empty:
        t = toxicity_daily.copy()
        t["patient_id"] = t["patient_id"].astype(str)
        t["day"] = pd.to_numeric(t["day"], errors="coerce")
        t = t[(t["day"] <= hi) & (t["day"] >= t["patient_id"].map(after).to_numpy(dtype=float))]
        vaso = pd.to_numeric(t.get("vasopressors"), errors="coerce").fillna(0).to_numpy() > 0 \
            if "vasopressors" in t else np.zeros(len(t), dtype=bool)
        if "vasopressin" in t:
            vaso |= t["vasopressin"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        ppv = (t["oxygen"].astype("string") == "positive-pressure").fillna(False).to_numpy(dtype=bool) \
            if "oxygen" in t else np.zeros(len(t), dtype=bool)
        g4 = pd.Series(vaso | ppv).groupby(t["patient_id"].to_numpy()).any().reindex(idx).fillna(False).astype(bool)

    rows = []
    for pid in ids:
        has_fer = pid in set(fer["patient_id"]) and np.isfinite(peak_fer.get(pid, np.nan))
        key = np.isfinite(onset[pid])
        met = ["ferritin", "timing"] if key else []
        manifest = [c for c in ("transaminases", "fibrinogen", "cytopenia", "ldh") if key and found[c][pid]]
        flag = bool(key and len(manifest) >= rules.min_manifestations)
        grade = (4 if g4[pid] else 3 if g3[pid] else 2 if g2[pid] else 1) if flag else 0
        reason = "" if has_fer else f"no ferritin in day {lo:g}-{hi:g}"
        if has_fer and not np.isfinite(crs_peak[pid]):
            reason = "no CRS recorded: timing criterion taken as met"
        rows.append({
            "patient_id": pid, "iec_hs": flag if has_fer else None, "grade": grade if has_fer else None,
            "onset_day": float(onset[pid]) if flag else np.nan, "criteria_met": ", ".join(met + manifest),
            "n_manifestations": len(manifest), "peak_ferritin": float(peak_fer.get(pid, np.nan)),
            "ferritin_reference": float(ref[pid]), "crs_peak_day": float(crs_peak[pid]),
            "hypertriglyceridemia": None if pd.isna(hyper_tg.get(pid)) else bool(hyper_tg[pid]),
            "died_after_onset": bool(died[pid]) if flag else False, "reason": reason,
        })
    out = pd.DataFrame(rows, columns=list(PATIENT_COLUMNS))
    out["iec_hs"] = out["iec_hs"].astype("boolean")
    out["grade"] = pd.array(out["grade"], dtype="Int64")
    out["hypertriglyceridemia"] = out["hypertriglyceridemia"].astype("boolean")
    return IecHsResult(out, rules)
