"""Restricted mean survival time up to a horizon, per group and between two groups (kind ``rmst``).

Per group the area under the Kaplan-Meier curve on [0, tau] with R's SE (survfit ``rmean``);
for each ``by`` variable with exactly two levels the difference, ratio and RMTL ratio with
95% CI and p, as ``survRM2::rmst2`` (:mod:`cartscope.stats.rmst`). ``tau`` must not exceed the
shorter group's largest follow-up (survRM2's rule); a larger one is an error of that group,
shown as a note.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext
from cartscope.stats.rmst import rmst, rmst_compare


class RmstOptions(Options):
    endpoint: str = "os"
    tau: float = Field(gt=0)
    reference: str | None = None


def needs(rc: RunContext) -> str:
    e = rc.options.endpoint
    return "" if f"{e}_time" in rc.endpoints else f"endpoint {e!r} is not defined under endpoints.endpoints"


def run(rc: RunContext) -> None:
    o: RmstOptions = rc.options
    ep = rc.endpoints
    time = ep[f"{o.endpoint}_time"].to_numpy(float)
    event = ep[f"{o.endpoint}_event"].to_numpy(float)
    ok = np.isfinite(time) & np.isfinite(event)
    rc.exclude(rc.ids(~ok), f"not in {o.endpoint}")
    method = f"restricted mean survival time to day {o.tau:g} (Kaplan-Meier area, survRM2 contrasts)"
    rows = []
    for g in rc.groups():
        m = ok & g.mask
        if not m.any():
            continue
        try:
            r = rmst(time[m], event[m].astype(int), o.tau)
        except ValueError as exc:
            rc.note(g.label, f"RMST not computed: {exc}")
            continue
        rows.append({"endpoint": o.endpoint, "tau": o.tau, "group": g.label, "measure": "rmst",
                     "n": int(m.sum()), "estimate": r.estimate, "std_err": r.std_err,
                     "lower": r.lower, "upper": r.upper, "p_value": np.nan})
        rc.stats({"rmst": r.estimate, "std_err": r.std_err, "lower": r.lower, "upper": r.upper},
                 group=g, variable=o.endpoint, method=method)
    for by in rc.spec.by:
        labels = rc.group_labels(by)
        m = ok & np.array([v is not None for v in labels])
        levels = sorted(set(labels[m].tolist()))
        if len(levels) != 2:
            rc.note(f"contrast {by}", f"{by} has {len(levels)} levels; RMST contrasts need two")
            continue
        ref = o.reference if o.reference in levels else levels[0]
        try:
            c = rmst_compare(time[m], event[m].astype(int), labels[m], o.tau, reference=ref)
        except ValueError as exc:
            rc.note(f"contrast {by}", f"not computed: {exc}")
            continue
        label = f"{c.levels[1]} vs {c.levels[0]}"
        for k in c.contrasts:
            rows.append({"endpoint": o.endpoint, "tau": o.tau, "group": f"{by}: {label}",
                         "measure": k.measure, "n": int(m.sum()), "estimate": k.estimate,
                         "std_err": k.std_err, "lower": k.lower, "upper": k.upper,
                         "p_value": k.p_value})
            rc.stats({k.measure: k.estimate, f"{k.measure}_lower": k.lower,
                      f"{k.measure}_upper": k.upper, f"{k.measure}_p": k.p_value},
                     variable=o.endpoint, variable_level=f"{by}: {label}", method=method)
        rc.add_object(f"rmst/{rc.id}/{by}", c)
    if rows:
        rc.add_table("rmst", pd.DataFrame(rows))


def describe(spec: AnalysisSpec, o: RmstOptions) -> str:
    by = f" by {', '.join(spec.by)} (difference, ratio and RMTL ratio)" if spec.by else ""
    return f"Restricted mean {o.endpoint} to day {o.tau:g}{by}, 95% CIs."


KINDS = (Kind("rmst", RmstOptions, run, describe, needs, names={"endpoint": "endpoint"},
              section="rmst", summary="restricted mean survival time with survRM2 contrasts"),)
