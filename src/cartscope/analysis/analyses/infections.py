"""Kind ``infections``: infections by time window and type, and the cumulative incidence of the
first severe infection with death as competing event (Aalen-Johansen, ``stats.cumulative_incidence``,
as R ``cmprsk::cuminc``).

Tables: ``infections_windows`` (per group x window: episodes and patients by type, severe),
``per_patient_infections`` (per patient x window counts), ``infections_cif`` (per group and time:
estimate, 95% CI of the first severe infection).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from cartscope.analysis.analyses import _toxsummary as T
from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext
from cartscope.clinical.infections import INFECTION_TYPES, InfectionRules, summarise_infections
from cartscope.stats import cumulative_incidence


class InfectionOptions(Options):
    windows: list[tuple[float, float | None]] = Field(default_factory=lambda: [(0, 30), (30, 180), (180, None)])
    """Windows (after, up to and including] in days; the first includes its start day."""
    severe_grade: int = Field(3, ge=1, le=5)
    """Infections of this CTCAE grade or higher are severe."""
    cif_days: list[float] = Field(default_factory=lambda: [30.0, 100.0, 180.0, 365.0])
    """Days at which the cumulative incidence of the first severe infection is reported."""


def needs(rc: RunContext) -> str:
    if not rc.has("events"):
        return "no events table"
    return "" if (rc.cohort.events["type"].astype(object) == "infection").any() else "no infection events"


def run(rc: RunContext) -> None:
    o: InfectionOptions = rc.options
    w = T.window(rc)
    ids = T.analysis_ids(rc, w)
    ep = rc.endpoints.assign(patient_id=rc.endpoints["patient_id"].astype(str)).set_index("patient_id")
    follow = ep["death_day"].fillna(ep["last_contact_day"]) - ep["index_day"] + ep["index_day"] \
        if "last_contact_day" in ep else None
    if follow is not None:  # endpoint days are from the index infusion; re-express from the window's infusion
        off = pd.Series(w.day0).reindex(ep.index) - ep["index_day"]
        follow = (follow - off).reindex(ids)
    rules = InfectionRules(windows=tuple((float(a), None if b is None else float(b)) for a, b in o.windows),
                           severe_grade=o.severe_grade)
    res = summarise_infections(T.shifted(rc, "events", w), patients=ids, follow_up=follow, rules=rules)
    rc.add_table("per_patient_infections", res.patients)
    per_w = {lab: part.set_index("patient_id") for lab, part in res.patients.groupby("window", sort=False)}
    rows, cif_rows = [], []
    fs = res.first_severe.set_index("patient_id")
    for g in rc.groups():
        for label, part in per_w.items():
            sub = T.members(rc, g, part)
            row = {"group": g.label, "window": label, "n_patients": int(len(sub)),
                   "n_episodes": int(sub["n_infections"].sum())}
            anyr = T.count_row(rc, g, f"any infection, {label}", sub["n_infections"] > 0,
                               "patients with >= 1 infection event")
            row["n_with_infection"], row["any_pct"] = anyr["n"], anyr["percent"]
            sev = T.count_row(rc, g, f"severe infection, {label}", sub["n_severe"] > 0,
                              f"patients with >= 1 infection of grade >= {o.severe_grade}")
            row["n_with_severe"], row["severe_pct"] = sev["n"], sev["percent"]
            for t in INFECTION_TYPES:
                episodes, patients = int(sub[f"n_{t}"].sum()), int((sub[f"n_{t}"] > 0).sum())
                if t in ("bacterial", "viral", "fungal") or episodes:
                    row[f"n_{t}"] = episodes  # episodes; patients per type are in the ARD
                rc.stats({"episodes": episodes, "n": patients}, group=g,
                         variable=f"{t} infection, {label}", method="infection events by infection_type")
            rows.append(row)
        sub = T.members(rc, g, fs)
        if len(sub) and (sub["cause"] == 1).any():
            cif = cumulative_incidence(sub["time"].to_numpy(dtype=float), sub["cause"].to_numpy())
            at = cif.at(np.asarray(o.cif_days, dtype=float)).to_frame()
            at = at[at["cause"] == 1]
            for rec in at.itertuples():
                cif_rows.append({"group": g.label, "day": float(rec.time), "cumulative_incidence": float(rec.estimate),
                                 "lower": float(rec.lower), "upper": float(rec.upper), "n": int(len(sub))})
                rc.stats({"cif": float(rec.estimate), "cif_lower": float(rec.lower), "cif_upper": float(rec.upper)},
                         group=g, variable="first severe infection", variable_level=f"day {rec.time:g}",
                         method="Aalen-Johansen, death as competing event (cmprsk::cuminc)")
        else:
            rc.note(f"cif:{g.label}", "no severe infection in this group: cumulative incidence not estimated")
    rc.add_table("infections_windows", pd.DataFrame(rows))
    if cif_rows:
        rc.add_table("infections_cif", pd.DataFrame(cif_rows))


def describe(spec: AnalysisSpec, o: InfectionOptions) -> str:
    return ("Infection episodes and patients with infection by type (bacterial, viral, fungal) in the windows "
            f"{o.windows}; cumulative incidence of the first infection of grade >= {o.severe_grade} with death as "
            "competing event (Aalen-Johansen).")


KINDS = (Kind("infections", InfectionOptions, run, describe, needs, section="infections",
              summary="infections by window and type; cumulative incidence of the first severe infection"),)
