"""Kaplan-Meier, landmark rates, log-rank and median follow-up (section ``survival``).

For each endpoint of ``protocol.survival.endpoints``: the KM curve of the analysis set and of
each level of each ``survival.by`` variable (also within each disease group, keyed
``<by>|<group>``; interval type and level from the protocol), the
median with its Brookmeyer-Crowley CI, landmark rates at ``landmark_months`` (month =
30.4375 days) with Greenwood SE and pointwise CI, and the log-rank test across the levels.
Median follow-up is the reverse Kaplan-Meier of overall survival (Schemper & Smith 1996).
Patients outside an endpoint (NA event) or without a grouping value are listed as excluded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.analysis.analyses._context import MONTH_DAYS, StudyContext, fmt_num
from cartscope.stats.survival import kaplan_meier, logrank, median_followup


def needs(ctx: StudyContext) -> str:
    missing = [e for e in ctx.protocol.survival.endpoints if f"{e}_time" not in ctx.endpoints]
    if missing:
        return f"survival endpoints {missing} are not defined in the protocol's endpoints"
    return ""


def endpoint_data(ctx: StudyContext, endpoint: str, analysis: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows of patients in ``endpoint`` (time and event known); the others are excluded."""
    ep = ctx.endpoints
    ok = ep[f"{endpoint}_event"].notna().to_numpy() & np.isfinite(ep[f"{endpoint}_time"].to_numpy(dtype=float))
    out = ~ok & ep["index_day"].notna().to_numpy()
    ctx.exclude(analysis, ctx.ids(out), ep.loc[out, f"{endpoint}_censor"].astype(str).map(
        lambda r: f"not in {endpoint}: {r}").tolist())
    return ep, ok


def km_summary(ctx: StudyContext, fit, endpoint: str, by: str, level: str) -> tuple[dict, list[dict]]:
    """Median row and landmark rows of one fitted curve."""
    lo, hi = fit.median_ci
    med = {"endpoint": endpoint, "by": by, "group": level, "n": fit.n, "events": fit.n_events,
           "median_days": fit.median, "median_lower": lo, "median_upper": hi,
           "median_months": fit.median / MONTH_DAYS}
    months = ctx.protocol.survival.landmark_months
    est = fit.survival_at(np.asarray(months, dtype=float) * MONTH_DAYS)
    rows = []
    for j, m in enumerate(months):
        rows.append({"endpoint": endpoint, "by": by, "group": level, "month": float(m),
                     "day": float(est.time[j]), "n_risk": int(est.n_risk[j]),
                     "survival": float(est.survival[j]), "std_err": float(est.std_err_surv[j]),
                     "lower": float(est.lower[j]), "upper": float(est.upper[j])})
        ctx.key(f"survival.{endpoint}.{by}.{level}.{fmt_num(m)}m", float(est.survival[j]))
    return med, rows


def fit_groups(ctx: StudyContext, endpoint: str, by: str, groups: pd.Series, sel: np.ndarray,
               prefix: str) -> tuple[list[dict], list[dict], dict | None]:
    """KM per level of ``groups`` within ``sel`` and their log-rank test (keys under ``prefix``)."""
    ep = ctx.endpoints
    spec = ctx.protocol.survival
    time = ep[f"{endpoint}_time"].to_numpy(dtype=float)
    event = ep[f"{endpoint}_event"].fillna(0).to_numpy(dtype=int)
    g = groups.to_numpy(dtype=object)
    meds, marks = [], []
    for level in sorted({x for x in g[sel] if x is not None}):
        m = sel & (g == level)
        fit = kaplan_meier(time[m], event[m], conf_type=spec.conf_type, level=spec.level)
        ctx.objects[f"km/{endpoint}/{prefix}/{level}"] = fit
        med, rows = km_summary(ctx, fit, endpoint, prefix, str(level))
        meds.append(med)
        marks += rows
    test = None
    if len(meds) >= 2:
        try:
            lr = logrank(time[sel], event[sel], g[sel].astype(str))
            ctx.objects[f"logrank/{endpoint}/{prefix}"] = lr
            test = {"endpoint": endpoint, "by": prefix, "groups": " | ".join(map(str, lr.groups)),
                    "n": int(lr.n.sum()), "statistic": lr.statistic, "df": lr.df, "p_value": lr.p_value,
                    "note": ""}
            ctx.key(f"logrank.{endpoint}.{prefix}.p", lr.p_value)
        except ValueError as exc:
            test = {"endpoint": endpoint, "by": prefix, "groups": "", "n": int(sel.sum()),
                    "statistic": np.nan, "df": 0, "p_value": np.nan, "note": str(exc)}
    return meds, marks, test


def run(ctx: StudyContext) -> None:
    spec = ctx.protocol.survival
    medians, landmarks, tests = [], [], []
    for endpoint in spec.endpoints:
        ep, ok = endpoint_data(ctx, endpoint, f"survival:{endpoint}")
        time = ep[f"{endpoint}_time"].to_numpy(dtype=float)
        event = ep[f"{endpoint}_event"].fillna(0).to_numpy(dtype=int)
        fit = kaplan_meier(time[ok], event[ok], conf_type=spec.conf_type, level=spec.level)
        ctx.objects[f"km/{endpoint}/all"] = fit
        med, rows = km_summary(ctx, fit, endpoint, "all", "all")
        medians.append(med)
        landmarks += rows
        for by in spec.by:
            try:
                groups = ctx.column(by).astype(object)
            except KeyError:
                ctx.notes[f"survival:{by}"] = f"no column {by!r} in the endpoints or patients"
                continue
            groups = groups.where(groups.notna(), None)
            missing = ok & groups.isna().to_numpy()
            ctx.exclude(f"survival:{endpoint}:{by}", ctx.ids(missing), f"no {by} value")
            meds, marks, test = fit_groups(ctx, endpoint, by, groups, ok & ~missing, by)
            medians += meds
            landmarks += marks
            if test is not None:
                tests.append(test)
            dg = ep["disease_group"].to_numpy(dtype=object)
            if by == "disease_group" or len(set(dg[ok])) < 2:
                continue
            for disease in sorted(set(dg[ok])):
                meds, marks, test = fit_groups(ctx, endpoint, by, groups, ok & ~missing & (dg == disease),
                                               f"{by}|{disease}")
                medians += meds
                landmarks += marks
                if test is not None:
                    tests.append(test)
    ctx.add_table("km_medians", pd.DataFrame(medians))
    ctx.add_table("km_landmarks", pd.DataFrame(landmarks))
    ctx.add_table("logrank", pd.DataFrame(tests, columns=["endpoint", "by", "groups", "n", "statistic", "df",
                                                          "p_value", "note"]))
    _followup(ctx)


def _followup(ctx: StudyContext) -> None:
    ep = ctx.endpoints
    name = "os" if "os_time" in ep else ctx.protocol.survival.endpoints[0]
    ok = ep[f"{name}_event"].notna().to_numpy()
    time = ep[f"{name}_time"].to_numpy(dtype=float)
    event = ep[f"{name}_event"].fillna(0).to_numpy(dtype=int)
    g = ep["disease_group"].to_numpy(dtype=object)
    rows = []
    for level in ["all", *sorted(set(g[ok]))]:
        sel = ok if level == "all" else ok & (g == level)
        fu = median_followup(time[sel], event[sel], conf_type=ctx.protocol.survival.conf_type)
        if level == "all":
            ctx.objects["followup"] = fu
        rows.append({"endpoint": name, "group": level, **fu.to_frame().iloc[0].to_dict()})
        ctx.key(f"followup.median_days.{level}", fu.median)
    ctx.add_table("followup", pd.DataFrame(rows))
