"""Kaplan-Meier, landmark rates and log-rank (kind ``km``); median follow-up (kind ``followup``).

``km``: for each endpoint, the KM curve of the population and of each level of each ``by``
variable (nested in each level of ``within`` only when the analysis asks), interval type and
level from the options, the median with its Brookmeyer-Crowley CI, landmark rates at
``landmark_months`` (month = 30.4375 days) with Greenwood SE and pointwise CI, and the log-rank
test across the levels of each split; with ``annotate_hr: true`` also the Cox hazard ratio
(Efron ties, Wald interval at ``level``) of each level against the split's first level (table
``km_hazard_ratios``, as R ``coxph(Surv(time, event) ~ group)``), printed on the split's figure
beside the log-rank p. Patients outside an endpoint (NA event) or without a
grouping value are listed as excluded.

``followup``: the simple median (range) of the observed follow-up time and the reverse
Kaplan-Meier median follow-up (Schemper & Smith 1996) of an endpoint, per group.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from cartscope.analysis.analyses._context import MONTH_DAYS, fmt_num
from cartscope.analysis.plan import AnalysisSpec, Group, Kind, Options, RunContext
from cartscope.stats.survival import kaplan_meier, logrank, median_followup

ConfType = Literal["plain", "log", "log-log"]


class KmOptions(Options):
    endpoints: tuple[str, ...] = ("os",)
    conf_type: ConfType = "log-log"
    level: float = Field(0.95, gt=0.5, lt=1.0)
    landmark_months: tuple[float, ...] = (6.0, 12.0, 24.0)
    annotate_hr: bool = False


HR_COLUMNS = ("endpoint", "by", "group", "reference", "n", "events", "hr", "lower", "upper", "p_value", "note")


def _hazard_ratios(rc: RunContext, endpoint: str, prefix: str, groups: list[Group], time: np.ndarray,
                   event: np.ndarray, level: float) -> list[dict]:
    """Cox HR of each level of a split against its first level (R ``coxph(Surv(t, e) ~ factor)``,
    the first level as reference); a fit that fails (no event, monotone likelihood) is a row with
    the reason and a note, no number."""
    from cartscope.stats.cox import CoxModelError, cox

    present = [g for g in groups if g.mask.any()]
    ref = present[0]
    sel = np.zeros(len(time), dtype=bool)
    for g in present:
        sel |= g.mask
    x = np.column_stack([g.mask[sel].astype(float) for g in present[1:]])
    base = {"endpoint": endpoint, "by": prefix, "reference": ref.level}
    try:
        fit = cox(time[sel], event[sel], x, names=[str(g.level) for g in present[1:]], level=level)
    except CoxModelError as exc:
        rc.note(f"{endpoint}:{prefix}:hr", f"hazard ratio not computed: {exc}")
        return [{**base, "group": g.level, "n": int(g.mask.sum()), "events": int(event[g.mask].sum()),
                 "hr": np.nan, "lower": np.nan, "upper": np.nan, "p_value": np.nan, "note": str(exc)}
                for g in present[1:]]
    rows = []
    for j, g in enumerate(present[1:]):
        row = {**base, "group": g.level, "n": int(g.mask.sum()), "events": int(event[g.mask].sum()),
               "hr": float(fit.hazard_ratio[j]), "lower": float(fit.ci_lower[j]), "upper": float(fit.ci_upper[j]),
               "p_value": float(fit.p_value[j]), "note": ""}
        rows.append(row)
        rc.stats({k: row[k] for k in ("hr", "lower", "upper", "p_value")}, group=g, variable=endpoint,
                 variable_level=f"vs {ref.level}", method=f"cox (efron ties), wald {fmt_num(100 * level)}% CI")
        rc.key(f"hr.{endpoint}.{prefix}.{g.level}", row["hr"])
    return rows


def needs(rc: RunContext) -> str:
    missing = [e for e in rc.options.endpoints if f"{e}_time" not in rc.endpoints]
    if missing:
        return f"endpoints {missing} are not defined under endpoints.endpoints"
    return ""


def _in_endpoint(rc: RunContext, endpoint: str) -> np.ndarray:
    ep = rc.endpoints
    ok = ep[f"{endpoint}_event"].notna().to_numpy() & np.isfinite(ep[f"{endpoint}_time"].to_numpy(dtype=float))
    rc.exclude(rc.ids(~ok), ep.loc[~ok, f"{endpoint}_censor"].astype(str).map(
        lambda r: f"not in {endpoint}: {r}").tolist(), part=endpoint)
    return ok


def _prefix(g: Group) -> str:
    base = g.by if g.by else "all"
    return f"{base}|{g.within_level}" if g.within else base


def run(rc: RunContext) -> None:
    o: KmOptions = rc.options
    ep = rc.endpoints
    method = f"kaplan-meier, {o.conf_type} {fmt_num(100 * o.level)}% CI"
    medians, landmarks, tests, hrs = [], [], [], []
    months = np.asarray(o.landmark_months, dtype=float)
    for endpoint in o.endpoints:
        ok = _in_endpoint(rc, endpoint)
        time = ep[f"{endpoint}_time"].to_numpy(dtype=float)
        event = ep[f"{endpoint}_event"].fillna(0).to_numpy(dtype=int)
        splits: dict[str, list[Group]] = {}
        for g in rc.groups(mask=ok):
            splits.setdefault(_prefix(g), []).append(g)
        for by in rc.spec.by:
            missing = ok & pd.isna(rc.group_labels(by))
            rc.exclude(rc.ids(missing), f"no {by} value", part=f"{endpoint}:{by}")
        for prefix, groups in splits.items():
            for g in groups:
                m = g.mask
                if not m.any():
                    continue
                fit = kaplan_meier(time[m], event[m], conf_type=o.conf_type, level=o.level)
                key = f"km/{endpoint}/all" if prefix == "all" else f"km/{endpoint}/{prefix}/{g.level}"
                rc.add_object(key, fit)
                level = "all" if not g.by else g.level
                lo, hi = fit.median_ci
                medians.append({"endpoint": endpoint, "by": prefix, "group": level, "n": fit.n,
                                "events": fit.n_events, "median_days": fit.median, "median_lower": lo,
                                "median_upper": hi, "median_months": fit.median / MONTH_DAYS})
                rc.stats({"n": fit.n, "events": fit.n_events, "median": fit.median, "median_lower": lo,
                          "median_upper": hi}, group=g, variable=endpoint, method=method + " (median in days)")
                est = fit.survival_at(months * MONTH_DAYS)
                for j, mo in enumerate(o.landmark_months):
                    landmarks.append({"endpoint": endpoint, "by": prefix, "group": level, "month": float(mo),
                                      "day": float(est.time[j]), "n_risk": int(est.n_risk[j]),
                                      "survival": float(est.survival[j]), "std_err": float(est.std_err_surv[j]),
                                      "lower": float(est.lower[j]), "upper": float(est.upper[j])})
                    rc.stats({"estimate": float(est.survival[j]), "std_err": float(est.std_err_surv[j]),
                              "lower": float(est.lower[j]), "upper": float(est.upper[j]),
                              "n_risk": int(est.n_risk[j])}, group=g, variable=endpoint,
                             variable_level=f"{fmt_num(mo)} months", method=method)
                    rc.key(f"survival.{endpoint}.{prefix}.{level}.{fmt_num(mo)}m", float(est.survival[j]))
            if prefix.split("|")[0] == "all" or len(groups) < 2:
                continue
            sel = np.zeros(len(ep), dtype=bool)
            labels = np.full(len(ep), None, dtype=object)
            for g in groups:
                sel |= g.mask
                labels[g.mask] = g.level
            try:
                lr = logrank(time[sel], event[sel], labels[sel].astype(str))
                rc.add_object(f"logrank/{endpoint}/{prefix}", lr)
                tests.append({"endpoint": endpoint, "by": prefix, "groups": " | ".join(map(str, lr.groups)),
                              "n": int(lr.n.sum()), "statistic": lr.statistic, "df": lr.df, "p_value": lr.p_value,
                              "note": ""})
                rc.stats({"statistic": lr.statistic, "df": lr.df, "p_value": lr.p_value},
                         group=Group(groups[0].by, "", groups[0].within, groups[0].within_level, sel),
                         variable=endpoint, method="log-rank")
                rc.key(f"logrank.{endpoint}.{prefix}.p", lr.p_value)
            except ValueError as exc:
                tests.append({"endpoint": endpoint, "by": prefix, "groups": "", "n": int(sel.sum()),
                              "statistic": np.nan, "df": 0, "p_value": np.nan, "note": str(exc)})
                rc.note(f"{endpoint}:{prefix}", f"log-rank not computed: {exc}")
            if o.annotate_hr and sum(g.mask.any() for g in groups) >= 2:
                hrs += _hazard_ratios(rc, endpoint, prefix, groups, time, event, o.level)
    rc.add_table("km_medians", pd.DataFrame(medians, columns=[
        "endpoint", "by", "group", "n", "events", "median_days", "median_lower", "median_upper", "median_months"]))
    rc.add_table("km_landmarks", pd.DataFrame(landmarks, columns=[
        "endpoint", "by", "group", "month", "day", "n_risk", "survival", "std_err", "lower", "upper"]))
    if o.annotate_hr:
        rc.add_table("km_hazard_ratios", pd.DataFrame(hrs, columns=list(HR_COLUMNS)))
    rc.add_table("logrank", pd.DataFrame(tests, columns=["endpoint", "by", "groups", "n", "statistic", "df",
                                                         "p_value", "note"]))


def describe(spec: AnalysisSpec, o: KmOptions) -> str:
    lm = ", ".join(fmt_num(m) for m in o.landmark_months)
    test = " and log-rank tests across the levels" if spec.by else ""
    if spec.by and o.annotate_hr:
        test += ", Cox hazard ratios against the first level"
    return (f"Kaplan-Meier curves of {', '.join(o.endpoints)} ({o.conf_type} {fmt_num(100 * o.level)}% pointwise "
            f"intervals), medians and landmark rates at {lm} months{test}.")


class FollowupOptions(Options):
    endpoint: str = "os"
    conf_type: ConfType = "log-log"


def needs_followup(rc: RunContext) -> str:
    e = rc.options.endpoint
    return "" if f"{e}_time" in rc.endpoints else f"endpoint {e!r} is not defined under endpoints.endpoints"


def run_followup(rc: RunContext) -> None:
    o: FollowupOptions = rc.options
    ep = rc.endpoints
    ok = ep[f"{o.endpoint}_event"].notna().to_numpy() & np.isfinite(ep[f"{o.endpoint}_time"].to_numpy(dtype=float))
    time = ep[f"{o.endpoint}_time"].to_numpy(dtype=float)
    event = ep[f"{o.endpoint}_event"].fillna(0).to_numpy(dtype=int)
    rows = []
    for g in rc.groups(mask=ok):
        if not g.mask.any():
            continue
        fu = median_followup(time[g.mask], event[g.mask], conf_type=o.conf_type)
        if not g.by and not g.within:
            rc.add_object("followup", fu)
        t = time[g.mask]
        simple = {"simple_median": float(np.median(t)), "simple_min": float(t.min()), "simple_max": float(t.max())}
        rows.append({"endpoint": o.endpoint, "group": g.label, **fu.to_frame().iloc[0].to_dict(), **simple})
        rc.stats({"median": fu.median, "lower": fu.to_frame().iloc[0].get("lower", np.nan),
                  "upper": fu.to_frame().iloc[0].get("upper", np.nan)}, group=g, variable=o.endpoint,
                 variable_level="reverse KM", method=f"reverse kaplan-meier, {o.conf_type}")
        rc.stats({"median": simple["simple_median"], "min": simple["simple_min"], "max": simple["simple_max"],
                  "n": int(g.n)}, group=g, variable=o.endpoint, variable_level="observed",
                 method="median (range) of the observed times")
        rc.key(f"followup.median_days.{g.label}", fu.median)
        rc.key(f"followup.simple_median_days.{g.label}", simple["simple_median"])
    rc.add_table("followup", pd.DataFrame(rows))


def describe_followup(spec: AnalysisSpec, o: FollowupOptions) -> str:
    return (f"Median follow-up of {o.endpoint}: the observed times' median (range) and the reverse Kaplan-Meier "
            "median (Schemper & Smith 1996).")


KINDS = (
    Kind("km", KmOptions, run, describe, needs, names={"endpoints": "endpoint"}, section="survival",
         summary="Kaplan-Meier curves, medians, landmark rates, log-rank by group"),
    Kind("followup", FollowupOptions, run_followup, describe_followup, needs_followup,
         names={"endpoint": "endpoint"}, section="survival",
         summary="median follow-up: observed median (range) and reverse Kaplan-Meier"),
)
