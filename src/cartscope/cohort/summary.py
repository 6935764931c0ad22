"""A descriptive overview of a cohort: rows per table, patients per group, observed follow-up.

Follow-up here is *observed* follow-up, the last day each patient is known about (any event,
assessment or infusion), reported as median (range) the way the reference papers describe
their cut-off; the reverse Kaplan-Meier median follow-up belongs to the survival analyses.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cartscope.cohort.model import Cohort
from cartscope.cohort.schema import DISEASE_GROUP, TABLE_ORDER


@dataclass(frozen=True)
class CohortSummary:
    """Counts per table, patients by disease group and cohort role, follow-up by group."""

    rows: pd.DataFrame
    groups: pd.DataFrame
    followup: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.followup


def last_known_day(cohort: Cohort) -> pd.Series:
    """Per patient, the last day with any record in infusions, assessments or events."""
    parts = [
        cohort.table(name)[["patient_id", "day"]]
        for name in ("infusions", "assessments", "events")
        if not cohort.table(name).empty
    ]
    days = pd.concat(parts, ignore_index=True).dropna(subset=["day"])
    last = days.groupby("patient_id")["day"].max()
    return last.reindex(cohort.patients["patient_id"]).rename("last_day")


def summarize(cohort: Cohort) -> CohortSummary:
    """Describe ``cohort`` without any modelling: counts, groups and observed follow-up."""
    rows = pd.DataFrame(
        {
            "table": list(TABLE_ORDER),
            "rows": [len(cohort.table(t)) for t in TABLE_ORDER],
            "present": [t in cohort.present for t in TABLE_ORDER],
        }
    )
    patients = cohort.patients.assign(group=cohort.patients["disease"].map(DISEASE_GROUP))
    role = patients["cohort"] if "cohort" in patients.columns else pd.Series("other", index=patients.index)
    groups = (
        patients.assign(cohort=role.fillna("unassigned"))
        .groupby(["group", "cohort"], observed=True)
        .size()
        .rename("patients")
        .reset_index()
    )
    last = last_known_day(cohort).to_numpy()
    by_group = patients.assign(last_day=last)
    records = []
    for label, frame in [("all", by_group), *by_group.groupby("group", observed=True)]:
        days = frame["last_day"].dropna()
        records.append(
            {
                "group": label,
                "patients": len(frame),
                "followup_median_days": float(days.median()) if len(days) else float("nan"),
                "followup_min_days": float(days.min()) if len(days) else float("nan"),
                "followup_max_days": float(days.max()) if len(days) else float("nan"),
            }
        )
    return CohortSummary(rows=rows, groups=groups, followup=pd.DataFrame(records))
