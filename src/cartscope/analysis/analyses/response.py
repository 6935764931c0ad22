"""Response and outcome tables, and the relapse timing pattern (sections ``response``,
``relapse_timing``).

- BOR distribution and overall response rate per disease group; the ORR interval is the
  Clopper-Pearson exact interval (R ``binom.test``), the usual one for a response rate.
- Outcome classes (no response / relapse / remission / not evaluable, jin2023 Table 1) and the
  NR/ER share among evaluable patients with the protocol's proportion interval.
- Relapse timing: relapses per month bin of :class:`EndpointRules.relapse_bin_months`
  (30.4375-day months) and CD19/CD22 status at relapse, per disease group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.analysis.analyses._context import StudyContext
from cartscope.clinical.endpoints import relapse_bin_labels
from cartscope.stats.proportions import proportion_ci

ORR_CI = "clopper-pearson"


def _ci_method(ctx: StudyContext) -> str:
    bm = ctx.protocol.biomarkers
    return bm.ci_method if bm is not None else "wilson"


def needs(ctx: StudyContext) -> str:
    if ctx.endpoints["bor"].notna().sum() == 0:
        return "no patient has a response assessment after the index infusion"
    return ""


def _levels(ep: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    g = ep["disease_group"].to_numpy(dtype=object)
    return [("all", np.ones(len(ep), dtype=bool))] + [(lv, g == lv) for lv in sorted(set(g))]


def run(ctx: StudyContext) -> None:
    ep = ctx.endpoints
    has_index = ep["index_day"].notna().to_numpy()
    no_bor = has_index & ep["bor"].isna().to_numpy()
    ctx.exclude("response", ctx.ids(no_bor), "no response assessment after the index infusion")
    bor_rows, orr_rows, out_rows, cls_rows = [], [], [], []
    method = _ci_method(ctx)
    for level, sel in _levels(ep):
        sub = ep[sel & has_index]
        evaluable = sub[sub["bor"].notna()]
        for bor, count in sorted(evaluable["bor"].astype(str).value_counts().items()):
            bor_rows.append({"group": level, "bor": bor, "n": int(count),
                             "pct": 100.0 * count / len(evaluable)})
        n, x = len(evaluable), int(evaluable["responder"].fillna(False).astype(bool).sum())
        if n:
            ci = proportion_ci(x, n, method=ORR_CI)
            orr_rows.append({"group": level, "responders": x, "evaluable": n, "orr": float(ci.estimate),
                             "lower": float(ci.lower), "upper": float(ci.upper), "method": ORR_CI})
            ctx.key(f"response.orr.{level}", float(ci.estimate))
        for outcome, count in sorted(sub["outcome"].astype(str).value_counts().items()):
            out_rows.append({"group": level, "outcome": outcome, "n": int(count)})
            ctx.key(f"response.outcome.{level}.{outcome}", int(count))
        for reason, count in sorted(sub.loc[sub["outcome_class"] == "not evaluable", "outcome_reason"]
                                    .astype(str).value_counts().items()):
            out_rows.append({"group": level, "outcome": f"not evaluable: {reason}", "n": int(count)})
        cls = sub["outcome_class"].astype(str)
        n_ev = int(cls.isin(["NR/ER", "durable"]).sum())
        n_nrer = int((cls == "NR/ER").sum())
        if n_ev:
            ci = proportion_ci(n_nrer, n_ev, method=method)
            cls_rows.append({"group": level, "nr_er": n_nrer, "durable": n_ev - n_nrer, "evaluable": n_ev,
                             "not_evaluable": int((cls == "not evaluable").sum()),
                             "nr_er_share": float(ci.estimate), "lower": float(ci.lower),
                             "upper": float(ci.upper), "method": method})
            ctx.key(f"response.nr_er_share.{level}", float(ci.estimate))
    ne = has_index & (ep["outcome_class"] == "not evaluable").to_numpy()
    ctx.exclude("outcome_class", ctx.ids(ne), ep.loc[ne, "outcome_reason"].astype(str).tolist())
    ctx.add_table("response_bor", pd.DataFrame(bor_rows, columns=["group", "bor", "n", "pct"]))
    ctx.add_table("response_orr", pd.DataFrame(orr_rows))
    ctx.add_table("outcomes", pd.DataFrame(out_rows, columns=["group", "outcome", "n"]))
    ctx.add_table("outcome_classes", pd.DataFrame(cls_rows))


def needs_relapse_timing(ctx: StudyContext) -> str:
    if ctx.endpoints["relapse_day"].notna().sum() == 0:
        return "no relapse after response in this cohort"
    return ""


def run_relapse_timing(ctx: StudyContext) -> None:
    ep = ctx.endpoints
    rel = ep["relapse_day"].notna().to_numpy()
    labels = relapse_bin_labels(ctx.protocol.endpoint_rules().relapse_bin_months)
    rows, status_rows = [], []
    for level, sel in _levels(ep):
        sub = ep[sel & rel]
        counts = sub["relapse_bin"].astype(str).value_counts()
        total = len(sub)
        for lab in labels:
            c = int(counts.get(lab, 0))
            rows.append({"group": level, "months": lab, "relapses": c,
                         "share": c / total if total else np.nan})
            ctx.key(f"relapse_timing.{level}.{lab}", c)
        for ag in ("cd19", "cd22"):
            vc = sub[f"relapse_{ag}"].astype(object).where(sub[f"relapse_{ag}"].notna(), "unknown")
            for status, c in sorted(vc.astype(str).value_counts().items()):
                status_rows.append({"group": level, "antigen": ag.upper(), "status": status, "relapses": int(c)})
    ctx.add_table("relapse_timing", pd.DataFrame(rows))
    ctx.add_table("relapse_antigen", pd.DataFrame(status_rows, columns=["group", "antigen", "status", "relapses"]))
