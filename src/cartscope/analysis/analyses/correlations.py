"""Pre-infusion MRD against CAR-T expansion and response duration (section ``correlations``),
after lu2021 (seed 003): Pearson r with its Fisher-z CI and t-test p (R ``cor.test``).

- MRD: flow MRD % of the last assessment on or before the index day;
- peak expansion: Cmax of the protocol's kinetics measure after the index infusion;
- response duration: days from the first response to relapse, or to the last contact when
  there is none (responders only; a descriptive duration, as the paper used).
Computed over all patients and within each level of the protocol's ``subgroups`` column
(lu2021: the MRD-positive group). Patients without MRD or without the other quantity are
listed as excluded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.analysis.analyses._context import StudyContext, rebase
from cartscope.analysis.analyses.kinetics import nca
from cartscope.stats.tests import correlation


def needs(ctx: StudyContext) -> str:
    if "mrd_pct" not in ctx.cohort.assessments or ctx.cohort.assessments["mrd_pct"].isna().all():
        return "no flow MRD values in assessments"
    if not ctx.has("kinetics"):
        return "no kinetics table"
    return ""


def pre_infusion_mrd(ctx: StudyContext) -> pd.Series:
    a = rebase(ctx.cohort.assessments, ctx.endpoints.set_index("patient_id")["index_day"])
    a = a.assign(mrd_pct=pd.to_numeric(a["mrd_pct"], errors="coerce"))
    a = a[(a["day"] <= 0) & a["mrd_pct"].notna()].sort_values(["patient_id", "day"], kind="mergesort")
    return a.groupby("patient_id")["mrd_pct"].last()


def run(ctx: StudyContext) -> None:
    ep = ctx.endpoints.set_index("patient_id")
    mrd = pre_infusion_mrd(ctx).reindex(ep.index)
    per = nca(ctx)
    index_no = ctx.protocol.endpoint_rules().index_infusion
    index_no = index_no if isinstance(index_no, int) else 1
    main = per[(per["measure"] == ctx.protocol.kinetics_measure) & (per["infusion_no"] == index_no)]
    cmax = main.set_index("patient_id")["cmax"].reindex(ep.index)
    end = ep["relapse_day"].fillna(ep["last_contact_day"])
    duration = (end - ep["response_day"]).where(ep["responder"].fillna(False).astype(bool))
    rows = []
    has_index = ep["index_day"].notna().to_numpy()
    try:
        group = ctx.column(ctx.protocol.subgroups).set_axis(ep.index).astype(object).to_numpy()
    except KeyError:
        group = np.full(len(ep), None, dtype=object)
    levels = [("all", has_index)] + [(str(g), has_index & (group == g))
                                     for g in sorted({g for g in group if g is not None and g == g})]
    for name, other in (("peak_expansion", cmax), ("response_duration_days", duration)):
        x = mrd.to_numpy(dtype=float)
        y = pd.to_numeric(other, errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        why = np.where(~np.isfinite(x), "no pre-infusion MRD", f"no {name.replace('_', ' ')}")
        ctx.exclude(f"correlations:{name}", ep.index[has_index & ~ok], why[has_index & ~ok].tolist())
        for level, sel in levels:
            use = ok & sel
            if use.sum() < 3:
                ctx.notes[f"correlations:{name}:{level}"] = "fewer than 3 patients with both values"
                continue
            c = correlation(x[use], y[use], method="pearson")
            rows.append({"group": level, "x": "pre-infusion MRD %", "y": name, "n": int(use.sum()),
                         "r": c.estimate, "lower": c.ci_lower, "upper": c.ci_upper, "p_value": c.p_value,
                         "method": "pearson"})
            ctx.key(f"correlations.{level}.mrd~{name}.r", c.estimate)
            ctx.key(f"correlations.{level}.mrd~{name}.p", c.p_value)
    ctx.add_table("correlations", pd.DataFrame(rows, columns=["group", "x", "y", "n", "r", "lower", "upper", "p_value",
                                                              "method"]))
