"""Kind ``toxicity_treatment``: exposure to toxicity treatment per group.

From :func:`cartscope.clinical.treatment_exposure.treatment_exposure`: tocilizumab doses,
cumulative corticosteroid dose in dexamethasone equivalents (equivalence table and source in
that module), anakinra, ICU admissions and days. Tables: ``per_patient_toxicity_treatment`` and
``toxicity_treatment_summary`` (the ``toxicity`` kind's own table ``toxicity_treatment`` is the
share of patients with tocilizumab / steroid days; this kind counts doses and amounts).
"""

from __future__ import annotations

import pandas as pd

from cartscope.analysis.analyses import _toxsummary as T
from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext
from cartscope.clinical.treatment_exposure import ExposureRules, treatment_exposure


class ExposureOptions(Options):
    start_day: float = 0.0
    end_day: float | None = None


def needs(rc: RunContext) -> str:
    return "" if rc.has("events") else "no events table"


def run(rc: RunContext) -> None:
    o: ExposureOptions = rc.options
    w = T.window(rc)
    ids = T.analysis_ids(rc, w)
    pats = rc.cohort.patients.assign(patient_id=rc.cohort.patients["patient_id"].astype(str))
    pats = pats.drop_duplicates("patient_id").set_index("patient_id").reindex(ids).reset_index()
    tox = T.shifted(rc, "toxicity_daily", w) if rc.has("toxicity_daily") else None
    res = treatment_exposure(T.shifted(rc, "events", w), patients=pats, toxicity_daily=tox,
                             rules=ExposureRules(window=(o.start_day, o.end_day)))
    per = res.patients.set_index("patient_id")
    rc.add_table("per_patient_toxicity_treatment", res.patients)
    for pid, why in per["reason"].items():
        if why:
            rc.note(f"dose:{pid}", why)
    rows = []
    for g in rc.groups():
        sub = T.members(rc, g, per)
        rows.append(T.count_row(rc, g, "tocilizumab", sub["tocilizumab_doses"] > 0, "events of type tocilizumab"))
        rows.append(T.continuous_row(rc, g, "tocilizumab doses (treated)", sub.loc[sub["tocilizumab_doses"] > 0,
                                     "tocilizumab_doses"], "one event per dose"))
        rows.append(T.count_row(rc, g, "corticosteroids", sub["corticosteroid"], "events of type corticosteroid"))
        rows.append(T.continuous_row(rc, g, "cumulative dexamethasone equivalent, mg (treated)",
                                     sub.loc[sub["corticosteroid"], "dexamethasone_equivalent_mg"],
                                     "0.75 mg dexamethasone = 4 mg methylprednisolone = 5 mg prednisone = 20 mg hydrocortisone"))
        rows.append(T.count_row(rc, g, "anakinra", sub["anakinra"], "events of type anakinra"))
        rows.append(T.count_row(rc, g, "ICU admission", sub["icu"], "events icu_admission / icu_discharge"))
        rows.append(T.continuous_row(rc, g, "ICU days (admitted)", sub.loc[sub["icu"], "icu_days"], "discharge - admission"))
    rc.add_table("toxicity_treatment_summary", pd.DataFrame(rows))


def describe(spec: AnalysisSpec, o: ExposureOptions) -> str:
    end = f"day {o.end_day:g}" if o.end_day is not None else "the end of follow-up"
    return (f"Toxicity-treatment exposure from day {o.start_day:g} to {end}: tocilizumab doses, cumulative "
            "corticosteroid dose in dexamethasone equivalents, anakinra, ICU admissions and days.")


KINDS = (Kind("toxicity_treatment", ExposureOptions, run, describe, needs, section="toxicity_treatment",
              summary="tocilizumab, dexamethasone-equivalent steroids, anakinra and ICU days"),)
