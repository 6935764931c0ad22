"""The patient course (kind ``swimmer``) and the exclusion flow (kind ``exclusions``).

- ``swimmer``: one row per population patient with the events of the swimmer plot in days
  from the index infusion (later infusions, first response, relapse with antigen status,
  HSCT, death, last contact), coloured by the first ``by`` variable; the report draws it.
- ``exclusions``: the CONSORT-style flow, patients left out of each analysis and why, from
  every exclusion the analyses recorded (it always runs after the other analyses).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext

COURSE_COLUMNS = ("index_day", "response_day", "relapse_day", "relapse_cd19", "relapse_cd22", "hsct_day",
                  "death_day", "last_contact_day", "bor")


class SwimmerOptions(Options):
    """The swimmer table has no options; ``by`` colours the bars."""


def run_swimmer(rc: RunContext) -> None:
    ep = rc.endpoints
    cols = [c for c in COURSE_COLUMNS if c in ep]
    out = ep[["patient_id", *cols]].copy()
    for c in ("response_day", "relapse_day", "hsct_day", "death_day", "last_contact_day"):
        if c in out:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    out.insert(1, "group", rc.group_labels(rc.spec.by[0]) if rc.spec.by else "all")
    inf = rc.cohort.infusions.assign(patient_id=rc.cohort.infusions["patient_id"].astype(str),
                                     d=lambda f: pd.to_numeric(f["day"], errors="coerce"))
    idx = ep.set_index(ep["patient_id"].astype(str))["index_day"]
    inf = inf[inf["patient_id"].isin(idx.index)]
    later = (inf["d"] - inf["patient_id"].map(idx))
    inf = inf.assign(rel=later)[later > 0]
    days = inf.groupby("patient_id")["rel"].apply(lambda s: ";".join(f"{x:g}" for x in sorted(s)))
    out["later_infusion_days"] = out["patient_id"].astype(str).map(days).astype(object).where(
        lambda x: x.notna(), "")
    rc.add_table("swimmer", out)
    for g in rc.groups():
        fu = pd.to_numeric(ep.loc[g.mask, "last_contact_day"], errors="coerce").to_numpy(dtype=float)
        fu = fu[np.isfinite(fu)]
        rc.stats({"n": int(g.n), "median": float(np.median(fu)) if fu.size else np.nan}, group=g,
                 variable="last_contact_day", method="median of the last contact day")


def describe_swimmer(spec: AnalysisSpec, o: SwimmerOptions) -> str:
    return "Swimmer table: each patient's course (infusions, response, relapse, HSCT, death, last contact)."


class ExclusionsOptions(Options):
    """The flow table has no options."""


def run_exclusions(rc: RunContext) -> None:
    rows = pd.DataFrame(rc.study.exclusion_rows, columns=["analysis", "patient_id", "reason"]).drop_duplicates()
    flow = rows.groupby(["analysis", "reason"], sort=True).size().rename("patients").reset_index()
    rc.add_table("exclusion_flow", flow)
    for rec in flow.itertuples():
        rc.stat("n", int(rec.patients), variable=str(rec.analysis), variable_level=str(rec.reason),
                method="patients left out")


def describe_exclusions(spec: AnalysisSpec, o: ExclusionsOptions) -> str:
    return "The exclusion flow: how many patients each analysis left out, and why."


KINDS = (
    Kind("swimmer", SwimmerOptions, run_swimmer, describe_swimmer, section="",
         summary="per-patient course table for the swimmer plot"),
    Kind("exclusions", ExclusionsOptions, run_exclusions, describe_exclusions, section="exclusions",
         summary="exclusion flow (patients left out of each analysis, with reasons)"),
)
