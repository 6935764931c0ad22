"""Options of the ``cox`` kind beyond a plain fit: time-varying covariates, robust variance,
exact ties, predicted and adjusted survival (the fit itself is :mod:`cartscope.stats`).

* ``time_varying: [hsct, response, reinfusion, crs, new_therapy]``: each becomes a 0/1
  time-dependent covariate (0 until the day it happens, 1 after), the follow-up being split
  into (start, stop] rows as R ``tmerge`` does
  (:func:`cartscope.clinical.timevarying.counting_process_table`): an allogeneic HSCT after
  CAR-T, the first complete response (``response_values``), any later infusion, CRS of
  grade >= ``crs_at_least`` or a new therapy. The model is then R's
  ``coxph(Surv(tstart, tstop, event) ~ covariates + hsct + ...)``; the robust variance
  clusters on the patient (``cluster = patient_id``) whenever ``robust`` is set;
* ``robust: true``: the sandwich variance (R ``robust = TRUE`` / ``cluster = id``);
* ``ties: exact``: the exact partial likelihood (R ``ties = "exact"``);
* ``predict: [{covariate: value, ...}, ...]``: survival curves with log-scale 95% CIs for
  each profile (R ``survfit(fit, newdata)``); a time-varying covariate in a profile is held
  at that value throughout;
* ``adjusted: <covariate>``: direct-adjusted curves, the average over the model's patients
  of their predicted curves with the covariate set to each level (right-censored models).

The C-index is reported with its infinitesimal-jackknife SE and a Wald 95% CI
(C +- 1.96 SE, as R ``concordance()`` prints it).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field
from scipy import stats as sps

from cartscope.analysis.plan import Options, RunContext
from cartscope.clinical import timevarying as tv
from cartscope.stats.cox import CoxModelError, CoxResult, cox
from cartscope.stats.cox_predict import adjusted_survival, predict_survival

TimeVarying = Literal["hsct", "response", "reinfusion", "crs", "new_therapy"]


class CoxExtensions(Options):
    """The keys added to ``cox`` (see the module docstring); defaults give the plain fit."""

    ties: Literal["efron", "breslow", "exact"] = "efron"
    time_varying: tuple[TimeVarying, ...] = ()
    response_values: tuple[str, ...] = ("CR", "CRi", "MRD-negative CR")
    crs_at_least: int = Field(2, ge=1, le=5)
    robust: bool = False
    predict: tuple[dict[str, Any], ...] = ()
    adjusted: str | None = None


class CoxModelOptions(CoxExtensions):
    """All keys of the ``cox`` kind: the endpoint, the baseline covariates and the extensions."""

    endpoint: str = "pfs"
    covariates: tuple[str, ...] = ()


def extended(o: CoxExtensions) -> bool:
    """True when any option beyond endpoint, covariates and efron/breslow ties is set."""
    return bool(o.time_varying or o.robust or o.predict or o.adjusted or o.ties == "exact")


def change_days(rc: RunContext, name: str, o: CoxExtensions) -> pd.DataFrame:
    """Days (from the index infusion) at which time-varying covariate ``name`` switches on."""
    ep = rc.endpoints
    index_day = pd.Series(ep["index_day"].to_numpy(dtype=float), index=ep["patient_id"].astype(str))
    c = rc.cohort
    if name in ("hsct", "new_therapy"):
        return tv.event_days(c.events, name, index_day)
    if name == "reinfusion":
        return tv.reinfusion_days(c.infusions, index_day, c.events)
    if name == "response":
        return tv.response_days(c.assessments, index_day, o.response_values)
    if not rc.has("toxicity_daily"):
        return pd.DataFrame({"patient_id": pd.Series(dtype=str), "day": pd.Series(dtype=float)})
    return tv.crs_onset_days(c.toxicity_daily, index_day, o.crs_at_least)


def concordance_ci(fit: CoxResult, level: float = 0.95) -> tuple[float, float]:
    """Wald interval of the C-index from its jackknife SE, clipped to [0, 1]."""
    z = float(sps.norm.ppf(0.5 + level / 2.0))
    return (max(0.0, fit.concordance - z * fit.concordance_se),
            min(1.0, fit.concordance + z * fit.concordance_se))


def fit_extended(
    rc: RunContext, o: Any, time: np.ndarray, event: np.ndarray, frame: pd.DataFrame,
    ids: list[str],
) -> tuple[CoxResult, pd.DataFrame]:
    """Fit the model of one group; returns the fit and the rows it used (with tstart/tstop).

    ``frame`` holds the baseline covariates of the group's patients (``ids``, in order).
    """
    if not o.time_varying:
        fit = cox(time, event, frame, ties=o.ties, robust=True if o.robust else None)
        return fit, frame.assign(patient_id=ids, tstop=time, event=event)
    follow = frame.assign(patient_id=ids, time=time, event=event)
    specs = {name: change_days(rc, name, o) for name in o.time_varying}
    rows = tv.counting_process_table(follow, specs)
    cov = rows[[*frame.columns, *o.time_varying]].reset_index(drop=True)
    for name in o.time_varying:
        cov[name] = cov[name].astype(float)
    fit = cox(rows["tstop"].to_numpy(float), rows["event"].to_numpy(int), cov, ties=o.ties,
              start=rows["tstart"].to_numpy(float),
              cluster=rows["patient_id"].to_numpy() if o.robust else None)
    return fit, rows


def predictions(rc: RunContext, o: Any, fit: CoxResult, used: pd.DataFrame, covariates: list[str],
                group: str, endpoint: str) -> None:
    """Predicted curves for the plan's profiles and the adjusted curves, as result tables."""
    if o.predict:
        names = [*covariates, *o.time_varying]
        profiles = pd.DataFrame(list(o.predict))
        unknown = sorted(set(profiles.columns) - set(names))
        missing = [n for n in names if n not in profiles.columns]
        if unknown or missing:
            raise CoxModelError(
                "predict profiles must give every model covariate "
                f"({', '.join(names)}); unknown: {unknown or 'none'}, missing: {missing or 'none'}"
            )
        profiles.index = [", ".join(f"{k}={p[k]}" for k in names) for p in o.predict]
        pred = predict_survival(fit, profiles[names])
        t = pred.to_frame()
        t.insert(0, "endpoint", endpoint)
        t.insert(1, "group", group)
        rc.add_table("cox_predicted", t)
        rc.add_object(f"cox_predicted/{rc.id}/{group}", pred)
    if o.adjusted:
        if o.time_varying:
            rc.note(f"adjusted {group}", "adjusted curves need a model without time-varying covariates")
            return
        if o.adjusted not in covariates:
            raise CoxModelError(f"adjusted: {o.adjusted!r} is not a covariate of the model")
        adj = adjusted_survival(fit, used[covariates].reset_index(drop=True), o.adjusted)
        t = adj.to_frame()
        t.insert(0, "endpoint", endpoint)
        t.insert(1, "group", group)
        rc.add_table("cox_adjusted", t)
        rc.add_object(f"cox_adjusted/{rc.id}/{group}", adj)


def method_text(o: Any) -> str:
    """The methods phrase of the model."""
    parts = [f"Cox proportional hazards, {o.ties} ties"]
    if o.time_varying:
        parts.append("time-dependent " + ", ".join(o.time_varying) + " (counting process, (start, stop] rows)")
    parts.append("robust sandwich SE clustered on patient" if o.robust else "Wald CI")
    return ", ".join(parts)


def covariate(rc: RunContext, name: str) -> pd.Series:
    """A covariate as float (numbers, booleans) or object (categories, None when missing)."""
    s = rc.variable(name).reset_index(drop=True)
    if s.dtype == object or isinstance(s.dtype, (pd.StringDtype, pd.CategoricalDtype)):
        num = pd.to_numeric(s, errors="coerce")
        if s.dtype == object and s.notna().sum() and num.notna().sum() == s.notna().sum():
            return num.astype(float)
        return s.astype(object).where(s.notna(), None)
    if isinstance(s.dtype, pd.BooleanDtype) or s.dtype == bool:
        return s.astype("Float64").astype(float)
    return pd.to_numeric(s, errors="coerce").astype(float)


def run(rc: RunContext, model: int = 0) -> None:
    """The ``cox`` kind with its extended options (complete cases, one fit per group).

    Writes ``cox_coefficients`` (one row per coefficient, with ``se_type`` model/robust),
    ``cox_models`` (n, events, rows, C-index with SE and CI, LR/Wald/score tests; the
    robust score test for robust fits), ``cox_predicted`` and ``cox_adjusted``.
    """
    o = rc.options
    ep = rc.endpoints
    endpoint = o.endpoint
    ok = ep[f"{endpoint}_event"].notna().to_numpy() & (ep[f"{endpoint}_time"].to_numpy(float) > 0)
    rc.exclude(rc.ids(~ok), f"not in {endpoint} (or follow-up time 0)")
    covs = list(o.covariates)
    frame = pd.DataFrame({name: covariate(rc, name) for name in covs})
    reasons = frame.isna().apply(lambda r: ", ".join(c for c in frame.columns if r[c]), axis=1)
    miss = ok & (reasons != "").to_numpy()
    rc.exclude(rc.ids(miss), [f"missing covariate: {r}" for r in reasons[miss]])
    method = method_text(o)
    for g in [g for g in rc.groups() if not g.by]:
        use = ok & ~miss & g.mask
        try:
            fit, used = fit_extended(
                rc, o, ep.loc[use, f"{endpoint}_time"].to_numpy(float),
                ep.loc[use, f"{endpoint}_event"].to_numpy(int),
                frame[use].reset_index(drop=True), rc.ids(use))
        except (CoxModelError, ValueError) as exc:
            rc.note(g.label, f"model not fitted: {exc}")
            continue
        key = f"cox/{endpoint}/{model}" + (f"/{g.within_level}" if g.within else "")
        rc.add_object(key, fit)
        t = fit.to_frame()
        t.insert(0, "model", model)
        t.insert(1, "endpoint", endpoint)
        t.insert(2, "group", g.label)
        t["se_type"] = "robust" if fit.robust else "model"
        if fit.robust:
            t["se_model"] = np.sqrt(np.diag(fit.naive_var))
        rc.add_table("cox_coefficients", t)
        lo, hi = concordance_ci(fit)
        row = {"model": model, "endpoint": endpoint, "group": g.label,
               "covariates": ", ".join([*covs, *o.time_varying]), "ties": o.ties,
               "time_varying": ", ".join(o.time_varying), "robust": bool(fit.robust),
               "n": int(use.sum()), "rows": fit.n, "events": fit.n_events,
               "concordance": fit.concordance, "concordance_se": fit.concordance_se,
               "concordance_lower": lo, "concordance_upper": hi,
               "lr_statistic": fit.lr_test.statistic, "lr_df": fit.lr_test.df, "lr_p": fit.lr_test.p_value,
               "wald_statistic": fit.wald_test.statistic, "wald_p": fit.wald_test.p_value,
               "score_statistic": fit.score_test.statistic, "score_p": fit.score_test.p_value,
               "robust_score_p": fit.robust_score_test.p_value if fit.robust_score_test else np.nan}
        rc.add_table("cox_models", pd.DataFrame([row]))
        for name, hr, lo_, hi_, p in zip(fit.names, fit.hazard_ratio, fit.ci_lower, fit.ci_upper, fit.p_value):
            rc.stats({"hazard_ratio": float(hr), "lower": float(lo_), "upper": float(hi_),
                      "p_value": float(p)}, group=g, variable=endpoint, variable_level=str(name),
                     method=method)
            rc.key(f"cox.{model}.{endpoint}.{name}.hr", float(hr))
            rc.key(f"cox.{model}.{endpoint}.{name}.p", float(p))
        rc.stats({"n": int(use.sum()), "events": fit.n_events, "concordance": fit.concordance,
                  "concordance_lower": lo, "concordance_upper": hi, "lr_p": fit.lr_test.p_value},
                 group=g, variable=endpoint, method=method)
        try:
            predictions(rc, o, fit, used, covs, g.label, endpoint)
        except (CoxModelError, ValueError) as exc:
            rc.note(f"predictions {g.label}", f"not computed: {exc}")
