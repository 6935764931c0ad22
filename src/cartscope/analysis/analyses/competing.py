"""Cumulative incidence with competing risks and Gray's test (kind ``cif``).

Two codings of the endpoint frame (domain-reference §7.7):

- ``relapse_nrm``: cause 1 relapse/progression, 2 non-relapse mortality (``cr_time`` /
  ``cr_cause`` of :func:`derive_endpoints`, HSCT handled by ``endpoints.competing_hsct``);
- ``failure``: cause 1 non-response (at the assessment that found it) or relapse/progression,
  2 death without failure - the NR + relapse incidence of jin2023.

Aalen-Johansen estimates at the landmark months (cmprsk ``cuminc`` / ``timepoints``) for the
population and per level of each ``by`` variable, with Gray's test across the levels for
each cause. Under each curve figure the numbers at risk and the cumulative events of each
cause and censorings at the figure's time marks (table ``cif_risk_table``; the marks of
:func:`cartscope.analysis.time_marks.nice_ticks` over the split's follow-up, in months).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from cartscope.analysis.analyses._context import MONTH_DAYS, fmt_num
from cartscope.analysis.plan import AnalysisSpec, Group, Kind, Options, RunContext
from cartscope.analysis.time_marks import nice_ticks
from cartscope.stats.competing import cumulative_incidence, gray_test
from cartscope.stats.competing_risk_table import competing_risk_table

CAUSES = {"relapse_nrm": {1: "relapse", 2: "non-relapse mortality"},
          "failure": {1: "no response or relapse", 2: "death without failure"}}


class CifOptions(Options):
    codings: tuple[Literal["relapse_nrm", "failure"], ...] = ("relapse_nrm", "failure")
    landmark_months: tuple[float, ...] = (6.0, 12.0, 24.0)


def needs(rc: RunContext) -> str:
    if rc.endpoints["cr_cause"].fillna(0).astype(int).gt(0).sum() == 0:
        return "no relapse or death in this population"
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


RISK_COLUMNS = ("coding", "by", "group", "month", "day", "n_risk", "events_1", "events_2", "censored")


def risk_marks(last_day: float) -> np.ndarray:
    """The time marks (months) of a curve figure whose follow-up ends at ``last_day``: its x ticks."""
    return nice_ticks(float(last_day) / MONTH_DAYS, "months")


def _risk_rows(rc: RunContext, name: str, split: str, groups: list[Group], t: np.ndarray, c: np.ndarray,
               lab: np.ndarray) -> pd.DataFrame:
    """Numbers at risk and cumulative events of causes 1 and 2 and censorings per group at the
    figure's marks (R ``summary(survfit(Surv(time, factor(cause)) ~ group), times=)``); ARD rows too."""
    marks = risk_marks(float(t.max()))
    tab = competing_risk_table(t, c, marks * MONTH_DAYS, lab)
    frame = tab.to_frame().rename(columns={"time": "day"})
    for k in (1, 2):
        if f"events_{k}" not in frame:
            frame[f"events_{k}"] = 0
    frame["month"] = np.tile(marks, len(tab.groups))
    frame.insert(0, "coding", name)
    frame.insert(1, "by", split)
    frame["group"] = frame["group"].astype(str)
    for rec in frame.itertuples():
        g = next((x for x in groups if (x.level if x.by else "all") == rec.group), groups[0])
        rc.stats({"n_risk": int(rec.n_risk), "events_1": int(rec.events_1), "events_2": int(rec.events_2),
                  "censored": int(rec.censored)}, group=g, variable=f"{name}:risk table",
                 variable_level=f"{fmt_num(round(rec.month, 6))} months", method="number at risk (time >= t), "
                 "cumulative events and censorings (<= t)")
    return frame[list(RISK_COLUMNS)]


def run(rc: RunContext) -> None:
    o: CifOptions = rc.options
    ep = rc.endpoints
    has = np.isfinite(ep["cr_time"].to_numpy(dtype=float))
    rc.exclude(rc.ids(~has), "no follow-up time")
    months = np.asarray(o.landmark_months, dtype=float)
    codings = {"relapse_nrm": (ep["cr_time"].to_numpy(dtype=float), ep["cr_cause"].fillna(0).to_numpy(dtype=int)),
               "failure": _failure(ep)}
    splits: dict[str, list[Group]] = {}
    for g in rc.groups(mask=has):
        splits.setdefault((g.by or "all") + (f"|{g.within_level}" if g.within else ""), []).append(g)
    est_rows, test_rows, risk_rows = [], [], []
    for name in o.codings:
        time, cause = codings[name]
        for split, groups in splits.items():
            sel = np.zeros(len(ep), dtype=bool)
            labels = np.full(len(ep), None, dtype=object)
            for g in groups:
                sel |= g.mask
                labels[g.mask] = g.level
            if not sel.any():
                continue
            t, c, lab = time[sel], cause[sel], labels[sel].astype(str)
            cif = cumulative_incidence(t, c, lab)
            main = rc.spec.by[0] if rc.spec.by and not rc.spec.within else "all"
            rc.add_object(f"cif/{name}" if split == main else f"cif/{name}/{split}", cif)
            risk_rows.append(_risk_rows(rc, name, split, groups, t, c, lab))
            at = cif.at(months * MONTH_DAYS).to_frame()
            at["month"] = at["time"] / MONTH_DAYS
            at.insert(0, "coding", name)
            at.insert(1, "by", split)
            at["cause_label"] = at["cause"].map(lambda k: CAUSES[name].get(int(k), f"cause {k}"))
            est_rows.append(at)
            for rec in at.itertuples():
                if int(rec.cause) not in (1, 2):
                    continue
                g = next((x for x in groups if (x.level if x.by else "all") == str(rec.group)), groups[0])
                rc.stats({"estimate": float(rec.estimate), "lower": float(getattr(rec, "lower", np.nan)),
                          "upper": float(getattr(rec, "upper", np.nan))}, group=g,
                         variable=f"{name}:{CAUSES[name][int(rec.cause)]}",
                         variable_level=f"{fmt_num(round(rec.month, 6))} months", method="aalen-johansen")
                rc.key(f"cif.{name}.{rec.group}.cause{int(rec.cause)}.{fmt_num(round(rec.month, 6))}m",
                       float(rec.estimate))
            if len(groups) < 2 or split.split("|")[0] == "all":
                continue
            for k in (1, 2):
                if not (c == k).any():
                    continue
                try:
                    gt = gray_test(t, c, lab, cause_of_interest=k)
                except ValueError as exc:
                    test_rows.append({"coding": name, "by": split, "cause": k, "cause_label": CAUSES[name][k],
                                      "statistic": np.nan, "df": 0, "p_value": np.nan, "note": str(exc)})
                    continue
                rc.add_object(f"gray/{name}/{k}" if split == main else f"gray/{name}/{split}/{k}", gt)
                test_rows.append({"coding": name, "by": split, "cause": k, "cause_label": CAUSES[name][k],
                                  "statistic": gt.statistic, "df": gt.df, "p_value": gt.p_value, "note": ""})
                rc.stats({"statistic": gt.statistic, "df": gt.df, "p_value": gt.p_value},
                         group=Group(groups[0].by, "", groups[0].within, groups[0].within_level, sel),
                         variable=f"{name}:{CAUSES[name][k]}", method="gray test")
                rc.key(f"gray.{name}.cause{k}.p", gt.p_value)
    rc.add_table("cif_landmarks", pd.concat(est_rows, ignore_index=True) if est_rows else pd.DataFrame())
    rc.add_table("cif_risk_table", pd.concat(risk_rows, ignore_index=True) if risk_rows else
                 pd.DataFrame(columns=list(RISK_COLUMNS)))
    rc.add_table("gray_tests", pd.DataFrame(test_rows, columns=["coding", "by", "cause", "cause_label", "statistic",
                                                                "df", "p_value", "note"]))


def describe(spec: AnalysisSpec, o: CifOptions) -> str:
    what = {"relapse_nrm": "relapse vs non-relapse mortality", "failure": "non-response or relapse vs death"}
    test = " and Gray's test across the levels" if spec.by else ""
    return (f"Cumulative incidence ({'; '.join(what[c] for c in o.codings)}) at "
            f"{', '.join(fmt_num(m) for m in o.landmark_months)} months{test}.")


KINDS = (Kind("cif", CifOptions, run, describe, needs, section="competing_risks",
              summary="cumulative incidence of competing events and Gray's test"),)
