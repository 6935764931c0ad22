"""Cumulative incidence with competing risks and Gray's test (section ``competing_risks``).

Two codings of the endpoint frame (domain-reference §7.7):

- ``relapse_nrm``: cause 1 relapse/progression, 2 non-relapse mortality (``cr_time`` /
  ``cr_cause`` of :func:`derive_endpoints`, HSCT handled by ``competing_hsct``);
- ``failure``: cause 1 non-response (at the assessment that found it) or relapse/progression,
  2 death without failure - the NR + relapse incidence of jin2023.

Aalen-Johansen estimates per disease group at the landmark months (cmprsk ``cuminc`` /
``timepoints``) and Gray's test across disease groups for each cause.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.analysis.analyses._context import MONTH_DAYS, StudyContext, fmt_num
from cartscope.stats.competing import cumulative_incidence, gray_test

CAUSES = {"relapse_nrm": {1: "relapse", 2: "non-relapse mortality"},
          "failure": {1: "no response or relapse", 2: "death without failure"}}


def needs(ctx: StudyContext) -> str:
    if not ctx.protocol.survival.competing_risks:
        return "survival.competing_risks is false in the protocol"
    if ctx.endpoints["cr_cause"].fillna(0).astype(int).gt(0).sum() == 0:
        return "no relapse or death in this cohort"
    return ""


def _failure(ep: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    time = ep["cr_time"].to_numpy(dtype=float).copy()
    cause = ep["cr_cause"].fillna(0).to_numpy(dtype=int).copy()
    cause[cause == 3] = 0
    nr = ep["non_response"].fillna(False).to_numpy(dtype=bool)
    nr_day = np.fmin(ep["bor_day"].to_numpy(dtype=float), ep["progression_day"].to_numpy(dtype=float))
    fail = nr & np.isfinite(nr_day)
    time[fail] = np.maximum(nr_day[fail], 0.0)
    cause[fail] = 1
    return time, cause


def run(ctx: StudyContext) -> None:
    ep = ctx.endpoints
    has = ep["index_day"].notna().to_numpy() & np.isfinite(ep["cr_time"].to_numpy(dtype=float))
    ctx.exclude("competing_risks", ctx.ids(~has & ep["index_day"].notna().to_numpy()), "no follow-up time")
    group = ep["disease_group"].to_numpy(dtype=object)
    months = np.asarray(ctx.protocol.survival.landmark_months, dtype=float)
    codings = {"relapse_nrm": (ep["cr_time"].to_numpy(dtype=float), ep["cr_cause"].fillna(0).to_numpy(dtype=int)),
               "failure": _failure(ep)}
    est_rows, test_rows = [], []
    for name, (time, cause) in codings.items():
        t, c, g = time[has], cause[has], group[has]
        if name == "relapse_nrm":
            c = np.where(c == 3, 3, c)
        cif = cumulative_incidence(t, c, g)
        ctx.objects[f"cif/{name}"] = cif
        at = cif.at(months * MONTH_DAYS).to_frame()
        at["month"] = at["time"] / MONTH_DAYS
        at.insert(0, "coding", name)
        at["cause_label"] = at["cause"].map(lambda k: CAUSES[name].get(int(k), f"cause {k}"))
        est_rows.append(at)
        for rec in at.itertuples():
            if int(rec.cause) in (1, 2):
                ctx.key(f"cif.{name}.{rec.group}.cause{int(rec.cause)}.{fmt_num(round(rec.month, 6))}m",
                        float(rec.estimate))
        if len(set(g)) < 2:
            continue
        for k in (1, 2):
            if not (c == k).any():
                continue
            try:
                gt = gray_test(t, c, g, cause_of_interest=k)
            except ValueError as exc:
                test_rows.append({"coding": name, "cause": k, "cause_label": CAUSES[name][k],
                                  "statistic": np.nan, "df": 0, "p_value": np.nan, "note": str(exc)})
                continue
            ctx.objects[f"gray/{name}/{k}"] = gt
            test_rows.append({"coding": name, "cause": k, "cause_label": CAUSES[name][k],
                              "statistic": gt.statistic, "df": gt.df, "p_value": gt.p_value, "note": ""})
            ctx.key(f"gray.{name}.cause{k}.p", gt.p_value)
    ctx.add_table("cif_landmarks", pd.concat(est_rows, ignore_index=True))
    ctx.add_table("gray_tests", pd.DataFrame(test_rows, columns=["coding", "cause", "cause_label", "statistic",
                                                                 "df", "p_value", "note"]))
