"""Kind ``hypogammaglobulinemia``: IgG below a protocol threshold after infusion, and IVIG use.

From :func:`cartscope.clinical.immunoglobulins.hypogammaglobulinemia`. Tables:
``per_patient_hypogammaglobulinemia`` and ``hypogammaglobulinemia_summary`` (per group: IgG < threshold, IVIG, nadir IgG).
"""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from cartscope.analysis.analyses import _toxsummary as T
from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext
from cartscope.clinical.immunoglobulins import IggRules, hypogammaglobulinemia


class HypogammaOptions(Options):
    threshold_mg_dl: float = Field(400.0, gt=0)
    """IgG below this (mg/dL; 400 mg/dL = 4.0 g/L) is hypogammaglobulinaemia."""
    start_day: float = 1.0
    end_day: float | None = None


def needs(rc: RunContext) -> str:
    return "" if rc.has("labs") else "no labs table"


def run(rc: RunContext) -> None:
    o: HypogammaOptions = rc.options
    w = T.window(rc)
    ids = T.analysis_ids(rc, w)
    rules = IggRules(threshold_g_l=o.threshold_mg_dl / 100.0, window=(o.start_day, o.end_day))
    res = hypogammaglobulinemia(T.shifted(rc, "labs", w), T.shifted(rc, "events", w), patients=ids, rules=rules)
    per = res.patients.set_index("patient_id")
    if per["hypogammaglobulinemia"].isna().all():
        rc.skip("no IgG values after infusion")
    rc.add_table("per_patient_hypogammaglobulinemia", res.patients)
    T.exclude_reasons(rc, per, per["hypogammaglobulinemia"].isna(), "igg")
    method = f"IgG < {o.threshold_mg_dl:g} mg/dL after infusion"
    rows = []
    for g in rc.groups():
        sub = T.members(rc, g, per)
        rows.append(T.count_row(rc, g, f"IgG < {o.threshold_mg_dl:g} mg/dL", sub["hypogammaglobulinemia"], method))
        rows.append(T.count_row(rc, g, "IgG low at baseline", sub["hypogamma_baseline"], "last IgG on or before day 0"))
        rows.append(T.count_row(rc, g, "IVIG given", sub["ivig"], "events of type ivig"))
        rows.append(T.continuous_row(rc, g, "nadir IgG (g/L)", sub["nadir_igg"], "lowest IgG after infusion"))
    rc.add_table("hypogammaglobulinemia_summary", pd.DataFrame(rows))


def describe(spec: AnalysisSpec, o: HypogammaOptions) -> str:
    return (f"Hypogammaglobulinaemia (IgG < {o.threshold_mg_dl:g} mg/dL from day {o.start_day:g} after infusion), "
            "baseline IgG, nadir IgG and IVIG replacement.")


KINDS = (Kind("hypogammaglobulinemia", HypogammaOptions, run, describe, needs, section="hypogammaglobulinemia",
              summary="IgG below a threshold after infusion and IVIG use"),)
