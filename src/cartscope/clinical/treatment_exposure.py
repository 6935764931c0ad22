"""Toxicity-treatment exposure per patient: tocilizumab, corticosteroids, anakinra, ICU days.

- Tocilizumab: number of ``tocilizumab`` events (one row per dose); where only the daily table
  records it, the number of days with ``toxicity_daily.tocilizumab`` true is given apart
  (``tocilizumab_days``: at least one dose that day).
- Corticosteroids: cumulative dose in **dexamethasone equivalents** (mg), each ``corticosteroid``
  event's ``dose`` converted by the standard anti-inflammatory equivalence
  (:data:`DEXAMETHASONE_EQUIVALENT_MG`: 0.75 mg dexamethasone = 20 mg hydrocortisone = 25 mg
  cortisone = 5 mg prednisone = 5 mg prednisolone = 4 mg methylprednisolone = 4 mg
  triamcinolone = 0.75 mg betamethasone; the equivalence printed in the US prednisolone label,
  15 mg prednisolone = 2.25 mg dexamethasone = 12 mg methylprednisolone = 60 mg hydrocortisone,
  as quoted by a stored clinical summary — ⚠ the label itself was not seen). CAR-T studies of
  cumulative steroid exposure use dexamethasone equivalents the same way (Strati P et al.
  Blood 2021;137(23):3272 †). Doses in mg/kg use ``patients.weight_kg``; g converts to mg;
  a dose that cannot be converted (unknown agent or unit, no weight) is listed in ``reason``
  and left out of the sum, never guessed.
- Anakinra: number of administrations and days.
- ICU: admissions and days (``icu_discharge - icu_admission``; a stay without discharge runs
  to death or the last event day, flagged in ``reason``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from cartscope.clinical._labs import event_rows

DEXAMETHASONE_EQUIVALENT_MG: Mapping[str, float] = MappingProxyType({
    "dexamethasone": 0.75, "betamethasone": 0.75, "methylprednisolone": 4.0, "triamcinolone": 4.0,
    "prednisolone": 5.0, "prednisone": 5.0, "hydrocortisone": 20.0, "cortisone": 25.0,
})
"""mg of each glucocorticoid equivalent to 0.75 mg dexamethasone (module docstring)."""

AGENT_ALIASES: Mapping[str, str] = MappingProxyType({
    "dex": "dexamethasone", "decadron": "dexamethasone", "methylpred": "methylprednisolone",
    "mp": "methylprednisolone", "solu-medrol": "methylprednisolone", "solumedrol": "methylprednisolone",
    "medrol": "methylprednisolone", "pred": "prednisone", "hc": "hydrocortisone",
    "solu-cortef": "hydrocortisone",
})

PATIENT_COLUMNS = (
    "patient_id", "tocilizumab_doses", "tocilizumab_days", "corticosteroid", "steroid_administrations",
    "dexamethasone_equivalent_mg", "anakinra", "anakinra_administrations", "icu", "icu_admissions",
    "icu_days", "reason",
)


@dataclass(frozen=True)
class ExposureRules:
    """Closed day window of the exposure (None = open end)."""

    window: tuple[float, float | None] = (0.0, None)


@dataclass(frozen=True)
class ExposureResult:
    """Per-patient treatment exposure (columns :data:`PATIENT_COLUMNS`)."""

    patients: pd.DataFrame
    rules: ExposureRules = field(default_factory=ExposureRules)

    def to_frame(self) -> pd.DataFrame:
        return self.patients.copy()

    def __repr__(self) -> str:
        p = self.patients
        return (f"Toxicity treatment ({len(p)} patients): tocilizumab {int((p['tocilizumab_doses'] > 0).sum())}, "
                f"corticosteroids {int(p['corticosteroid'].sum())}, anakinra {int(p['anakinra'].sum())}, "
                f"ICU {int(p['icu'].sum())}")


def dexamethasone_mg(agent: object, dose: float, unit: object, weight_kg: float) -> tuple[float, str]:
    """One administration in mg dexamethasone equivalents, or (NaN, why not)."""
    name = str(agent).strip().lower() if isinstance(agent, str) else ""
    name = AGENT_ALIASES.get(name, name)
    if name not in DEXAMETHASONE_EQUIVALENT_MG:
        return np.nan, f"unknown corticosteroid {agent!r}" if name else "corticosteroid without agent"
    if not np.isfinite(dose):
        return np.nan, f"{name} without dose"
    u = str(unit).strip().lower().replace(" ", "") if isinstance(unit, str) else ""
    if u == "mg":
        mg = dose
    elif u == "g":
        mg = dose * 1000.0
    elif u == "mg/kg":
        if not np.isfinite(weight_kg):
            return np.nan, f"{name} in mg/kg without weight_kg"
        mg = dose * weight_kg
    else:
        return np.nan, f"{name} dose unit {unit!r} not convertible to mg"
    return mg * 0.75 / DEXAMETHASONE_EQUIVALENT_MG[name], ""


def treatment_exposure(
    events: pd.DataFrame,
    *,
    patients: pd.DataFrame | Sequence[str] | None = None,
    toxicity_daily: pd.DataFrame | None = None,
    rules: ExposureRules = ExposureRules(),
) -> ExposureResult:
    """Tocilizumab doses, dexamethasone-equivalent steroid dose, anakinra and ICU days per patient."""
    types = ("tocilizumab", "corticosteroid", "anakinra", "icu_admission", "icu_discharge", "death")
    ev = event_rows(events, types)
    lo, hi = rules.window
    inside = (ev["day"] >= lo) & ((ev["day"] <= hi) if hi is not None else True)
    weights = pd.Series(dtype=float)
    if isinstance(patients, pd.DataFrame):
        ids = [str(p) for p in patients["patient_id"]]
        if "weight_kg" in patients.columns:
            weights = pd.to_numeric(patients["weight_kg"], errors="coerce").set_axis(patients["patient_id"].astype(str))
    elif patients is None:
        ids = sorted(set(ev["patient_id"]))
    else:
        ids = [str(p) for p in patients]
    idx = pd.Index(ids, name="patient_id")
    w = ev[inside]
    count = lambda t: w[w["type"] == t].groupby("patient_id").size().reindex(idx).fillna(0).astype(int)  # noqa: E731
    reasons: dict[str, list[str]] = {p: [] for p in ids}
    dex = pd.Series(0.0, index=idx)
    steroids = w[w["type"] == "corticosteroid"]
    for r in steroids.itertuples(index=False):
        pid = str(r.patient_id)
        if pid not in dex.index:
            continue
        mg, why = dexamethasone_mg(getattr(r, "agent", None), float(pd.to_numeric(getattr(r, "dose", np.nan),
                                   errors="coerce")), getattr(r, "dose_unit", None), float(weights.get(pid, np.nan)))
        if why:
            reasons[pid].append(f"day {r.day:g}: {why}")
        else:
            dex[pid] += mg
    tdays = pd.Series(0, index=idx)
    if toxicity_daily is not None and "tocilizumab" in toxicity_daily.columns:
        t = toxicity_daily.assign(patient_id=toxicity_daily["patient_id"].astype(str),
                                  day=pd.to_numeric(toxicity_daily["day"], errors="coerce"))
        t = t[(t["day"] >= lo) & ((t["day"] <= hi) if hi is not None else True)]
        on = t["tocilizumab"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        tdays = pd.Series(on).groupby(t["patient_id"].to_numpy()).sum().reindex(idx).fillna(0).astype(int)
    icu_days = pd.Series(0.0, index=idx)
    last_day = event_rows(events, tuple(pd.unique(events["type"].astype(object)))).groupby("patient_id")["day"].max() \
        if events is not None and len(events) else pd.Series(dtype=float)
    for pid, g in ev.groupby("patient_id"):
        if pid not in icu_days.index:
            continue
        adm = g.loc[g["type"] == "icu_admission", "day"].to_numpy(dtype=float)
        dis = g.loc[g["type"] == "icu_discharge", "day"].to_numpy(dtype=float)
        death = g.loc[g["type"] == "death", "day"].to_numpy(dtype=float)
        for a in adm:
            later = dis[dis >= a]
            if len(later):
                end = later[0]
            else:
                end = death[0] if len(death) else float(last_day.get(pid, a))
                reasons[pid].append(f"ICU stay from day {a:g} without discharge: counted to day {end:g}")
            s, e = max(a, lo), end if hi is None else min(end, hi)
            icu_days[pid] += max(0.0, e - s)
    out = pd.DataFrame({
        "patient_id": ids,
        "tocilizumab_doses": count("tocilizumab").to_numpy(),
        "tocilizumab_days": tdays.to_numpy(),
        "corticosteroid": (count("corticosteroid") > 0).to_numpy(),
        "steroid_administrations": count("corticosteroid").to_numpy(),
        "dexamethasone_equivalent_mg": dex.to_numpy(),
        "anakinra": (count("anakinra") > 0).to_numpy(),
        "anakinra_administrations": count("anakinra").to_numpy(),
        "icu": (count("icu_admission") > 0).to_numpy(),
        "icu_admissions": count("icu_admission").to_numpy(),
        "icu_days": icu_days.to_numpy(),
        "reason": ["; ".join(reasons[p]) for p in ids],
    })
    return ExposureResult(out, rules)
