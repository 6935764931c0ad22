"""Response and outcome tables (kind ``response``) and the relapse timing pattern (kind
``relapse_timing``).

- Best overall response distribution and overall response rate per group; the ORR interval
  is the Clopper-Pearson exact interval by default (R ``binom.test``), the usual one for a
  response rate.
- Outcome classes (no response / relapse / remission / not evaluable, jin2023 Table 1) and the
  NR/ER share among evaluable patients with the ``ci_method`` proportion interval.
- Relapse timing: relapses per month bin of ``endpoints.relapse_bin_months`` (30.4375-day
  months) and CD19/CD22 status at relapse, per group.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext
from cartscope.clinical.endpoints import relapse_bin_labels
from cartscope.stats.proportions import proportion_ci

CiMethod = Literal["wilson", "wilson-modified", "clopper-pearson", "agresti-coull", "jeffreys", "wald"]


class ResponseOptions(Options):
    orr_ci: CiMethod = "clopper-pearson"
    """Interval of the overall response rate."""
    ci_method: CiMethod = "wilson"
    """Interval of the NR/ER share among evaluable patients."""
    level: float = 0.95


def needs(rc: RunContext) -> str:
    if rc.endpoints["bor"].notna().sum() == 0:
        return "no patient has a response assessment after the index infusion"
    return ""


def run(rc: RunContext) -> None:
    o: ResponseOptions = rc.options
    ep = rc.endpoints
    no_bor = ep["bor"].isna().to_numpy()
    rc.exclude(rc.ids(no_bor), "no response assessment after the index infusion", part="orr")
    bor_rows, orr_rows, out_rows, cls_rows = [], [], [], []
    for g in rc.groups():
        sub = ep[g.mask]
        level = g.label
        evaluable = sub[sub["bor"].notna()]
        for bor, count in sorted(evaluable["bor"].astype(str).value_counts().items()):
            bor_rows.append({"group": level, "bor": bor, "n": int(count), "pct": 100.0 * count / len(evaluable)})
            rc.stats({"n": int(count), "pct": 100.0 * count / len(evaluable)}, group=g, variable="bor",
                     variable_level=bor, method="count (% of evaluable)")
        n, x = len(evaluable), int(evaluable["responder"].fillna(False).astype(bool).sum())
        if n:
            ci = proportion_ci(x, n, method=o.orr_ci, level=o.level)
            orr_rows.append({"group": level, "responders": x, "evaluable": n, "orr": float(ci.estimate),
                             "lower": float(ci.lower), "upper": float(ci.upper), "method": o.orr_ci})
            rc.stats({"n": x, "N": n, "estimate": float(ci.estimate), "lower": float(ci.lower),
                      "upper": float(ci.upper)}, group=g, variable="orr", method=f"proportion, {o.orr_ci} CI")
            rc.key(f"response.orr.{level}", float(ci.estimate))
        for outcome, count in sorted(sub["outcome"].astype(str).value_counts().items()):
            out_rows.append({"group": level, "outcome": outcome, "n": int(count)})
            rc.stat("n", int(count), group=g, variable="outcome", variable_level=outcome, method="count")
            rc.key(f"response.outcome.{level}.{outcome}", int(count))
        for reason, count in sorted(sub.loc[sub["outcome_class"] == "not evaluable", "outcome_reason"]
                                    .astype(str).value_counts().items()):
            out_rows.append({"group": level, "outcome": f"not evaluable: {reason}", "n": int(count)})
            rc.stat("n", int(count), group=g, variable="outcome", variable_level=f"not evaluable: {reason}",
                    method="count")
        cls = sub["outcome_class"].astype(str)
        n_ev = int(cls.isin(["NR/ER", "durable"]).sum())
        n_nrer = int((cls == "NR/ER").sum())
        if n_ev:
            ci = proportion_ci(n_nrer, n_ev, method=o.ci_method, level=o.level)
            cls_rows.append({"group": level, "nr_er": n_nrer, "durable": n_ev - n_nrer, "evaluable": n_ev,
                             "not_evaluable": int((cls == "not evaluable").sum()),
                             "nr_er_share": float(ci.estimate), "lower": float(ci.lower),
                             "upper": float(ci.upper), "method": o.ci_method})
            rc.stats({"n": n_nrer, "N": n_ev, "estimate": float(ci.estimate), "lower": float(ci.lower),
                      "upper": float(ci.upper)}, group=g, variable="nr_er_share",
                     method=f"proportion, {o.ci_method} CI")
            rc.key(f"response.nr_er_share.{level}", float(ci.estimate))
    ne = (ep["outcome_class"] == "not evaluable").to_numpy()
    rc.exclude(rc.ids(ne), ep.loc[ne, "outcome_reason"].astype(str).tolist(), part="outcome_class")
    rc.add_table("response_bor", pd.DataFrame(bor_rows, columns=["group", "bor", "n", "pct"]))
    rc.add_table("response_orr", pd.DataFrame(orr_rows, columns=["group", "responders", "evaluable", "orr", "lower",
                                                                 "upper", "method"]))
    rc.add_table("outcomes", pd.DataFrame(out_rows, columns=["group", "outcome", "n"]))
    rc.add_table("outcome_classes", pd.DataFrame(cls_rows, columns=[
        "group", "nr_er", "durable", "evaluable", "not_evaluable", "nr_er_share", "lower", "upper", "method"]))


def describe(spec: AnalysisSpec, o: ResponseOptions) -> str:
    return (f"Best overall response and overall response rate ({o.orr_ci} interval), outcome classes and the "
            f"NR/ER share among evaluable patients ({o.ci_method} interval).")


class RelapseTimingOptions(Options):
    """Bins come from ``endpoints.relapse_bin_months``."""


def needs_relapse_timing(rc: RunContext) -> str:
    if rc.endpoints["relapse_day"].notna().sum() == 0:
        return "no relapse after response in this population"
    return ""


def run_relapse_timing(rc: RunContext) -> None:
    ep = rc.endpoints
    rel = ep["relapse_day"].notna().to_numpy()
    labels = relapse_bin_labels(rc.plan.endpoint_rules().relapse_bin_months)
    rows, status_rows = [], []
    for g in rc.groups():
        sub = ep[g.mask & rel]
        counts = sub["relapse_bin"].astype(str).value_counts()
        total = len(sub)
        for lab in labels:
            c = int(counts.get(lab, 0))
            rows.append({"group": g.label, "months": lab, "relapses": c, "share": c / total if total else np.nan})
            rc.stats({"n": c, "pct": 100.0 * c / total if total else np.nan}, group=g, variable="relapse_months",
                     variable_level=lab, method="count (% of relapses)")
            rc.key(f"relapse_timing.{g.label}.{lab}", c)
        for ag in ("cd19", "cd22"):
            vc = sub[f"relapse_{ag}"].astype(object).where(sub[f"relapse_{ag}"].notna(), "unknown")
            for status, c in sorted(vc.astype(str).value_counts().items()):
                status_rows.append({"group": g.label, "antigen": ag.upper(), "status": status, "relapses": int(c)})
                rc.stat("n", int(c), group=g, variable=f"relapse_{ag}", variable_level=status, method="count")
    rc.add_table("relapse_timing", pd.DataFrame(rows, columns=["group", "months", "relapses", "share"]))
    rc.add_table("relapse_antigen", pd.DataFrame(status_rows, columns=["group", "antigen", "status", "relapses"]))


def describe_relapse_timing(spec: AnalysisSpec, o: RelapseTimingOptions) -> str:
    return "Relapses by month bin after the index infusion and the CD19/CD22 status at relapse."


KINDS = (
    Kind("response", ResponseOptions, run, describe, needs, section="response",
         summary="best overall response, ORR with CI, outcome classes and NR/ER share"),
    Kind("relapse_timing", RelapseTimingOptions, run_relapse_timing, describe_relapse_timing,
         needs_relapse_timing, section="relapse_timing", summary="relapses by month bin and antigen status"),
)
