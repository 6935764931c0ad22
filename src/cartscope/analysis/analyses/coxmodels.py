"""Multivariable Cox models of the protocol's ``cox`` entries (section ``cox``).

Each entry fits ``coxph(Surv(<endpoint>_time, <endpoint>_event) ~ covariates)`` (ties from the
protocol) through :func:`cartscope.stats.cox`; covariates come from the endpoint frame (e.g.
``disease_group``, ``crs_grade``) or ``patients``. Categorical covariates are treatment-coded
by the stats layer. Patients with a missing covariate or outside the endpoint are excluded
with the reason (complete-case analysis, as R's default ``na.omit``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.analysis.analyses._context import StudyContext
from cartscope.stats.cox import cox
from cartscope.stats.cox import CoxModelError


def needs(ctx: StudyContext) -> str:
    if not ctx.protocol.cox:
        return "the protocol lists no cox models"
    return ""


def _covariate(ctx: StudyContext, name: str) -> pd.Series:
    s = ctx.column(name).reset_index(drop=True)
    if s.dtype == object or isinstance(s.dtype, (pd.StringDtype, pd.CategoricalDtype)):
        return s.astype(object).where(s.notna(), None)
    if isinstance(s.dtype, pd.BooleanDtype) or s.dtype == bool:
        return s.astype("Float64").astype(float)
    return pd.to_numeric(s, errors="coerce").astype(float)


def run(ctx: StudyContext) -> None:
    ep = ctx.endpoints
    tables, summary = [], []
    for i, spec in enumerate(ctx.protocol.cox):
        analysis = f"cox:{i}:{spec.endpoint}"
        if f"{spec.endpoint}_time" not in ep:
            ctx.notes[analysis] = f"endpoint {spec.endpoint!r} is not defined"
            continue
        ok = ep[f"{spec.endpoint}_event"].notna().to_numpy() & ep["index_day"].notna().to_numpy()
        ctx.exclude(analysis, ctx.ids(~ok & ep["index_day"].notna().to_numpy()), f"not in {spec.endpoint}")
        covs = {}
        for name in spec.covariates:
            try:
                covs[name] = _covariate(ctx, name)
            except KeyError:
                ctx.notes[analysis] = f"no covariate column {name!r}"
                break
        else:
            frame = pd.DataFrame(covs)
            reasons = frame.isna().apply(lambda r: ", ".join(c for c in frame.columns if r[c]), axis=1)
            miss = ok & (reasons != "").to_numpy()
            ctx.exclude(analysis, ctx.ids(miss), [f"missing covariate: {r}" for r in reasons[miss]])
            use = ok & ~miss
            try:
                fit = cox(ep.loc[use, f"{spec.endpoint}_time"].to_numpy(dtype=float),
                          ep.loc[use, f"{spec.endpoint}_event"].to_numpy(dtype=int),
                          frame[use].reset_index(drop=True), ties=spec.ties)
            except (CoxModelError, ValueError) as exc:
                ctx.notes[analysis] = f"model not fitted: {exc}"
                continue
            ctx.objects[f"cox/{spec.endpoint}/{i}"] = fit
            t = fit.to_frame()
            t.insert(0, "model", i)
            t.insert(1, "endpoint", spec.endpoint)
            tables.append(t)
            summary.append({"model": i, "endpoint": spec.endpoint, "covariates": ", ".join(spec.covariates),
                            "n": fit.n, "events": fit.n_events, "concordance": fit.concordance,
                            "lr_statistic": fit.lr_test.statistic, "lr_df": fit.lr_test.df,
                            "lr_p": fit.lr_test.p_value})
            for name, hr, p in zip(fit.names, np.atleast_1d(fit.hazard_ratio), np.atleast_1d(fit.p_value)):
                ctx.key(f"cox.{i}.{spec.endpoint}.{name}.hr", float(hr))
                ctx.key(f"cox.{i}.{spec.endpoint}.{name}.p", float(p))
    if tables:
        ctx.add_table("cox_coefficients", pd.concat(tables, ignore_index=True))
        ctx.add_table("cox_models", pd.DataFrame(summary))
