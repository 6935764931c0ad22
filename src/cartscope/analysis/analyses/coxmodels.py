"""Multivariable Cox model of one endpoint (kind ``cox``).

Fits ``coxph(Surv(<endpoint>_time, <endpoint>_event) ~ covariates)`` through
:func:`cartscope.stats.cox` (ties ``efron``, ``breslow`` or ``exact``); covariates are any plan
variables (categorical ones treatment-coded by the stats layer, binary as 0/1). Patients with a
missing covariate or outside the endpoint are excluded with the reason (complete-case
analysis, as R's default ``na.omit``). With ``within`` the model is fitted once per level.
Time-varying covariates, robust SE, exact ties and predicted or adjusted curves are the
options of :mod:`cartscope.analysis.analyses.cox_extended`, which then fits the model.

``firth: auto`` (the default): when the ordinary fit has monotone likelihood (a covariate
level without events, so a coefficient diverges), the model is refitted by Firth's penalised
partial likelihood with profile penalised-likelihood limits (Heinze G, Schemper M.
Biometrics 2001;57:114-119; :func:`cartscope.stats.cox_or_firth`), and a note says so;
``firth: true`` always fits Firth's model; ``firth: false`` reports the failure as a note.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.analysis.analyses import cox_extended
from cartscope.analysis.analyses.cox_extended import CoxExtensions, covariate, extended
from cartscope.analysis.plan import AnalysisSpec, Kind, RunContext
from typing import Literal

from cartscope.stats.cox import CoxModelError, cox
from cartscope.stats.firth_cox import cox_or_firth, firth_cox


class CoxOptions(CoxExtensions):
    """``ties`` (efron, breslow, exact) and the time-varying, robust and prediction keys come
    from :class:`~cartscope.analysis.analyses.cox_extended.CoxExtensions`."""

    endpoint: str = "pfs"
    covariates: tuple[str, ...]
    firth: Literal["auto", True, False] = "auto"


def needs(rc: RunContext) -> str:
    e = rc.options.endpoint
    return "" if f"{e}_time" in rc.endpoints else f"endpoint {e!r} is not defined under endpoints.endpoints"


def model_number(rc: RunContext) -> int:
    """The position of this analysis among the plan's cox analyses (the report's model index)."""
    ids = [a.id for a in rc.plan.analyses if a.kind == "cox"]
    return ids.index(rc.id) if rc.id in ids else 0


def run(rc: RunContext) -> None:
    o: CoxOptions = rc.options
    if extended(o):  # time-varying covariates, robust SE, exact ties or predictions
        return cox_extended.run(rc, model_number(rc))
    ep = rc.endpoints
    i = model_number(rc)
    ok = ep[f"{o.endpoint}_event"].notna().to_numpy()
    rc.exclude(rc.ids(~ok), f"not in {o.endpoint}")
    frame = pd.DataFrame({name: covariate(rc, name) for name in o.covariates})
    reasons = frame.isna().apply(lambda r: ", ".join(c for c in frame.columns if r[c]), axis=1)
    miss = ok & (reasons != "").to_numpy()
    rc.exclude(rc.ids(miss), [f"missing covariate: {r}" for r in reasons[miss]])
    tables, summary = [], []
    for g in [g for g in rc.groups() if not g.by]:
        use = ok & ~miss & g.mask
        args = (ep.loc[use, f"{o.endpoint}_time"].to_numpy(dtype=float),
                ep.loc[use, f"{o.endpoint}_event"].to_numpy(dtype=int), frame[use].reset_index(drop=True))
        try:
            if o.firth is True:
                fit, why = firth_cox(*args, ties=o.ties), "asked for"
            elif o.firth == "auto":
                fit, why = cox_or_firth(*args, ties=o.ties)
            else:
                fit, why = cox(*args, ties=o.ties), ""
        except (CoxModelError, ValueError) as exc:
            rc.note(g.label, f"model not fitted: {exc}")
            continue
        firth = getattr(fit, "method", "") == "firth"
        if firth and why != "asked for":
            rc.note(g.label, f"Firth's penalised likelihood used: the ordinary fit failed ({why})")
        rc.add_object(f"cox/{o.endpoint}/{i}" if not g.within else f"cox/{o.endpoint}/{i}/{g.within_level}", fit)
        t = fit.to_frame()
        t.insert(0, "model", i)
        t.insert(1, "endpoint", o.endpoint)
        t.insert(2, "group", g.label)
        tables.append(t)
        concordance = getattr(fit, "concordance", float("nan"))
        summary.append({"model": i, "endpoint": o.endpoint, "group": g.label, "covariates": ", ".join(o.covariates),
                        "n": fit.n, "events": fit.n_events, "concordance": concordance,
                        "lr_statistic": fit.lr_test.statistic, "lr_df": fit.lr_test.df, "lr_p": fit.lr_test.p_value})
        method = (f"cox proportional hazards, Firth penalised, {o.ties} ties, profile penalised-likelihood CI"
                  if firth else f"cox proportional hazards, {o.ties} ties, wald CI")
        for name, hr, lo, hi, p in zip(fit.names, np.atleast_1d(fit.hazard_ratio), np.atleast_1d(fit.ci_lower),
                                       np.atleast_1d(fit.ci_upper), np.atleast_1d(fit.p_value)):
            rc.stats({"hazard_ratio": float(hr), "lower": float(lo), "upper": float(hi), "p_value": float(p)},
                     group=g, variable=o.endpoint, variable_level=str(name), method=method)
            rc.key(f"cox.{i}.{o.endpoint}.{name}.hr", float(hr))
            rc.key(f"cox.{i}.{o.endpoint}.{name}.p", float(p))
        rc.stats({"n": fit.n, "events": fit.n_events, "concordance": concordance, "lr_p": fit.lr_test.p_value},
                 group=g, variable=o.endpoint, method=method)
    if tables:
        rc.add_table("cox_coefficients", pd.concat(tables, ignore_index=True))
        rc.add_table("cox_models", pd.DataFrame(summary))


def describe(spec: AnalysisSpec, o: CoxOptions) -> str:
    return (f"Cox model of {o.endpoint} on {', '.join(o.covariates)} ({o.ties} ties), complete cases; hazard "
            "ratios with 95% CIs and Wald p-values.")


KINDS = (Kind("cox", CoxOptions, run, describe, needs, names={"endpoint": "endpoint", "covariates": "variable",
                                                         "adjusted": "variable"},
              section="cox", summary="multivariable Cox model of one endpoint"),)
