"""Landmark analysis of a status reached early (kind ``landmark``) and Simon-Makuch curves.

A status that is only known after follow-up starts (response by day 28, MRD negativity,
CRS grade in the first weeks, CAR-T expansion) cannot be compared from day 0: patients who
die before day 28 cannot be responders (immortal-time bias; Anderson, Cain and Gelber,
J Clin Oncol 1983;1:710-719). The landmark method: keep the patients still event-free and
in follow-up at the landmark day L (time > L), classify them by their status at L, and
measure time from L (time - L), i.e. R's
``survfit(Surv(time - L, event) ~ status, subset = time > L)``, ``survdiff`` and ``coxph``
on those data. The status variable must use information up to L only (e.g. a ``response``
variable with ``by_day: 28`` for L = 28; a CRS grade in a window ending by L).

``simon_makuch: response|hsct|...`` adds the Simon-Makuch curves (Simon and Makuch, Stat Med
1984;3:35-44) of a status that changes during follow-up, from day 0: each patient
contributes to the "no" curve until the status changes and to the "yes" curve after
(R ``survfit(Surv(tstart, tstop, event) ~ status)`` on ``tmerge``-split data).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from cartscope.analysis.analyses.cox_extended import change_days
from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext
from cartscope.clinical.timevarying import counting_process_table
from cartscope.stats.cox import CoxModelError, cox
from cartscope.stats.km import kaplan_meier
from cartscope.stats.km_counting import simon_makuch
from cartscope.stats.survival import logrank


class LandmarkOptions(Options):
    endpoint: str = "os"
    landmark: float = Field(28.0, gt=0)
    status: str
    covariates: tuple[str, ...] = ()
    times: tuple[float, ...] = (182.625, 365.25)
    conf_type: Literal["log", "log-log", "plain"] = "log-log"
    simon_makuch: Literal["hsct", "response", "reinfusion", "crs", "new_therapy"] | None = None
    response_values: tuple[str, ...] = ("CR", "CRi", "MRD-negative CR")
    crs_at_least: int = Field(2, ge=1, le=5)


def needs(rc: RunContext) -> str:
    e = rc.options.endpoint
    return "" if f"{e}_time" in rc.endpoints else f"endpoint {e!r} is not defined under endpoints.endpoints"


def _labels(s: pd.Series) -> np.ndarray:
    out = np.empty(len(s), dtype=object)
    for i, v in enumerate(s.to_numpy(dtype=object)):
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            out[i] = None
        elif isinstance(v, (bool, np.bool_)) or (isinstance(v, (int, float, np.number)) and float(v) in (0.0, 1.0)):
            out[i] = "yes" if float(v) == 1.0 else "no"
        else:
            out[i] = str(v)
    return out


def run(rc: RunContext) -> None:
    o: LandmarkOptions = rc.options
    ep = rc.endpoints
    time = ep[f"{o.endpoint}_time"].to_numpy(float)
    event = ep[f"{o.endpoint}_event"].to_numpy(float)
    known = np.isfinite(time) & np.isfinite(event)
    rc.exclude(rc.ids(~known), f"not in {o.endpoint}")
    lm = float(o.landmark)
    after = known & (time > lm)
    rc.exclude(rc.ids(known & ~after), f"{o.endpoint} event or censored by day {lm:g} (the landmark)")
    status = _labels(rc.variable(o.status))
    has_status = np.array([s is not None for s in status])
    rc.exclude(rc.ids(after & ~has_status), f"{o.status} unknown at the landmark")
    use = after & has_status
    if o.simon_makuch:
        _simon_makuch(rc, o, known, time, event)
    if use.sum() < 2:
        rc.skip(f"fewer than two patients event-free at day {lm:g} with a known {o.status}")
    t = time[use] - lm
    e = event[use].astype(int)
    s = status[use]
    levels = sorted(set(s.tolist()))
    method = f"landmark at day {lm:g}: Kaplan-Meier ({o.conf_type} CI), log-rank, Cox from the landmark"
    rows = []
    curves = {}
    for lev in levels:
        m = s == lev
        km = kaplan_meier(t[m], e[m], conf_type=o.conf_type)
        curves[lev] = km
        lo, hi = km.median_ci
        est = km.survival_at(np.asarray(o.times, float) - lm) if o.times else None
        row = {"endpoint": o.endpoint, "landmark": lm, "status": o.status, "level": lev,
               "n": int(m.sum()), "events": int(e[m].sum()), "median": km.median + lm
               if np.isfinite(km.median) else np.nan, "median_lower": lo + lm if np.isfinite(lo) else np.nan,
               "median_upper": hi + lm if np.isfinite(hi) else np.nan}
        for k, day in enumerate(o.times):
            row[f"survival_day_{day:g}"] = float(est.survival[k]) if est is not None else np.nan
            row[f"lower_day_{day:g}"] = float(est.lower[k]) if est is not None else np.nan
            row[f"upper_day_{day:g}"] = float(est.upper[k]) if est is not None else np.nan
        rows.append(row)
        rc.stats({"n": row["n"], "events": row["events"], "median": row["median"]},
                 variable=o.status, variable_level=lev, method=method)
        curve = km.to_frame()
        curve.insert(0, "level", lev)
        curve["time"] = curve["time"] + lm
        rc.add_table("curves_landmark", curve.assign(endpoint=o.endpoint, landmark=lm))
    rc.add_table("landmark_km", pd.DataFrame(rows))
    test = {"endpoint": o.endpoint, "landmark": lm, "status": o.status, "n": int(use.sum()),
            "events": int(e.sum())}
    lr = None
    if len(levels) >= 2:
        lr = logrank(t, e, s)
        test.update(logrank_chisq=lr.statistic, logrank_df=lr.df, logrank_p=lr.p_value)
        rc.stats({"logrank_chisq": lr.statistic, "logrank_p": lr.p_value}, variable=o.status, method=method)
        frame = pd.DataFrame({o.status: pd.Categorical(s, categories=levels)})
        missing = np.zeros(len(t), dtype=bool)
        for c in o.covariates:
            v = rc.variable(c).to_numpy()[use]
            frame[c] = v
            missing |= pd.isna(v)
        if missing.any():
            rc.exclude(np.asarray(rc.ids(use))[missing], "missing covariate (landmark Cox)", part="cox")
        try:
            fit = cox(t[~missing], e[~missing], frame[~missing].reset_index(drop=True))
            coefs = fit.to_frame().assign(endpoint=o.endpoint, landmark=lm)
            rc.add_table("landmark_cox", coefs)
            rc.add_object(f"landmark_cox/{rc.id}", fit)
            for name, hr, lo, hi, p in zip(fit.names, fit.hazard_ratio, fit.ci_lower, fit.ci_upper, fit.p_value):
                rc.stats({"hazard_ratio": float(hr), "lower": float(lo), "upper": float(hi),
                          "p_value": float(p)}, variable=o.status, variable_level=name, method=method)
        except (CoxModelError, ValueError) as exc:
            rc.note("cox", f"landmark Cox model not fitted: {exc}")
    else:
        rc.note("tests", f"one level of {o.status} among the patients at the landmark: no comparison")
    rc.add_table("landmark_tests", pd.DataFrame([test]))
    # the curves (time from the landmark) for the report's figure
    rc.add_object(f"landmark/{rc.id}", {"curves": curves, "logrank": lr, "landmark": lm,
                                        "status": o.status, "endpoint": o.endpoint})


def _simon_makuch(rc: RunContext, o: LandmarkOptions, known: np.ndarray, time: np.ndarray,
                  event: np.ndarray) -> None:
    use = known & (time > 0)
    ids = rc.ids(use)
    follow = pd.DataFrame({"patient_id": ids, "time": time[use], "event": event[use].astype(int)})
    rows = counting_process_table(follow, {"status": change_days(rc, o.simon_makuch, o)})
    curves = simon_makuch(rows["tstart"], rows["tstop"], rows["event"],
                          np.where(rows["status"] == 1, "yes", "no"), conf_type=o.conf_type)
    rc.add_object(f"simon_makuch/{rc.id}", {"curves": curves, "status": o.simon_makuch,
                                            "endpoint": o.endpoint})
    for lev, km in curves.items():
        f = km.to_frame()
        f.insert(0, "level", lev)
        rc.add_table("curves_simon_makuch", f.assign(endpoint=o.endpoint, status=o.simon_makuch))
        rc.stats({"rows": int(np.sum(rows["status"] == (lev == "yes"))), "events": km.n_events},
                 variable=o.simon_makuch, variable_level=lev, method="Simon-Makuch")


def describe(spec: AnalysisSpec, o: LandmarkOptions) -> str:
    sm = f"; Simon-Makuch curves by time-dependent {o.simon_makuch}" if o.simon_makuch else ""
    return (f"Landmark analysis of {o.endpoint} at day {o.landmark:g} by {o.status}: patients event-free "
            f"at the landmark, Kaplan-Meier, log-rank and Cox from the landmark{sm}.")


KINDS = (Kind("landmark", LandmarkOptions, run, describe, needs,
              names={"endpoint": "endpoint", "status": "variable", "covariates": "variable"},
              section="landmark", summary="landmark analysis of an early status (KM, log-rank, Cox from day L)"),)
