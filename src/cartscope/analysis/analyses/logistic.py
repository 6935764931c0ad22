"""Logistic regression of a binary outcome on predictors (kind ``logistic``).

The response-predictor table of a CAR-T paper (complete response on TP53, LDH, TMTV, Cmax):
each of the analysis' ``variables`` alone (univariable) and all together (multivariable), as R
``glm(outcome ~ ..., family = binomial)`` through :func:`cartscope.stats.logistic`, with odds
ratios, profile-likelihood and Wald limits, Wald and likelihood-ratio p. Categorical predictors
are treatment-coded with the first level (or ``reference``) as reference. Separation (an
outcome level perfectly predicted, frequent in cohorts of 20-100 patients) is detected; with
``firth: auto`` (the default) such a model is fitted by Firth's penalised likelihood (R
``logistf``/``brglm2``) with penalised-likelihood-ratio limits, and the table says so; with
``firth: false`` the model is reported as R reports it, with a note that its estimates are
infinite. Patients with a missing outcome or predictor are left out of that model (complete
cases, R's ``na.omit``) and listed with the reason.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext
from cartscope.stats.logistic import LogisticModelError, LogisticResult, logistic


class LogisticOptions(Options):
    outcome: str
    models: Literal["both", "univariable", "multivariable"] = "both"
    firth: Literal["auto", True, False] = "auto"
    level: float = Field(default=0.95, gt=0, lt=1)
    reference: dict[str, str] = Field(default_factory=dict)
    factors: tuple[str, ...] = ()


def needs(rc: RunContext) -> str:
    return "" if rc.spec.variables else "the analysis lists no variables (predictors)"


def _outcome(s: pd.Series) -> tuple[np.ndarray, str]:
    """0/1 (NaN missing) and the label of the level modelled as 1."""
    vals = s.to_numpy(dtype=object)
    missing = np.array([v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) for v in vals])
    present = [v for v, m in zip(vals, missing) if not m]
    out = np.full(len(vals), np.nan)
    if all(isinstance(v, (bool, np.bool_)) for v in present):
        out[~missing] = [float(bool(v)) for v in present]
        return out, "true"
    try:
        num = np.array([float(v) for v in present])
    except (TypeError, ValueError):
        num = None
    if num is not None and set(np.unique(num)) <= {0.0, 1.0}:
        out[~missing] = num
        return out, "1"
    levels = sorted({str(v) for v in present})
    if len(levels) != 2:
        raise LogisticModelError(
            f"outcome {s.name!r} must be binary (0/1, true/false or two levels); it has "
            f"{len(levels)} level(s): {', '.join(levels[:5])}"
        )
    out[~missing] = [float(str(v) == levels[1]) for v in present]
    return out, levels[1]


def _predictor(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s
    if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
        return s.astype(object).where(s.notna(), None)
    if isinstance(s.dtype, pd.BooleanDtype) or s.dtype == bool:
        return s.astype(object).where(s.notna(), None)  # a logical: R's <name>TRUE column
    return pd.to_numeric(s, errors="coerce").astype(float)


def _rows(fit: LogisticResult, model: str, group: str, outcome: str, event: str) -> list[dict[str, Any]]:
    frame = fit.to_frame()
    frame = frame[frame["term"] != "(Intercept)"]
    status = fit.separation.status
    rows = []
    for _, r in frame.iterrows():
        rows.append({
            "group": group, "model": model, "outcome": outcome, "event_level": event,
            "term": r["term"], "odds_ratio": r["odds_ratio"], "ci_lower": r["ci_lower"],
            "ci_upper": r["ci_upper"], "p_value": r["p_value"], "lr_p_value": r["lr_p_value"],
            "estimate": r["estimate"], "se": r["se"], "wald_ci_lower": r["wald_ci_lower"],
            "wald_ci_upper": r["wald_ci_upper"], "method": "Firth" if fit.method == "firth" else "ML",
            "n": fit.n, "events": fit.n_events, "separation": status, "note": "; ".join(fit.warnings),
        })
    return rows


def run(rc: RunContext) -> None:
    o: LogisticOptions = rc.options
    try:
        y_all, event = _outcome(rc.variable(o.outcome))
    except LogisticModelError as exc:
        rc.skip(str(exc))
    preds = {v: _predictor(rc.variable(v)) for v in rc.spec.variables}
    unknown = [k for k in [*o.reference, *o.factors] if k not in preds]
    if unknown:
        rc.skip(f"reference/factors name {', '.join(map(repr, unknown))}, which is not among the "
                f"analysis' variables ({', '.join(preds)})")
    models: list[tuple[str, list[str]]] = []
    if o.models in ("both", "univariable"):
        models += [(f"univariable: {v}", [v]) for v in preds]
    if o.models in ("both", "multivariable") and (len(preds) > 1 or o.models == "multivariable"):
        models.append(("multivariable", list(preds)))
    rows: list[dict[str, Any]] = []
    term_rows: list[dict[str, Any]] = []
    level_pct = f"{o.level:.0%}"
    for g in rc.groups():
        for model, names in models:
            part = f"{g.label}: {model}" if g.by else model
            frame = pd.DataFrame({v: preds[v] for v in names})
            reasons = []
            for i in range(len(frame)):
                miss = ([o.outcome] if np.isnan(y_all[i]) else []) + [
                    v for v in names if frame[v].iloc[i] is None or pd.isna(frame[v].iloc[i])]
                reasons.append(", ".join(miss))
            reasons_arr = np.array(reasons, dtype=object)
            drop = g.mask & (reasons_arr != "")
            if drop.any():
                rc.exclude(rc.ids(drop), [f"missing {r}" for r in reasons_arr[drop]], part=part)
            use = g.mask & (reasons_arr == "")
            if use.sum() < 2:
                rc.note(part, f"model not fitted: {int(use.sum())} complete patient(s)")
                continue
            sub = frame[use].reset_index(drop=True)
            for v in names:
                if len(sub) and all(isinstance(b, (bool, np.bool_)) for b in sub[v]):
                    sub[v] = sub[v].astype(bool)
            try:
                fit = logistic(y_all[use], sub, firth=o.firth, level=o.level,
                               factors=[f for f in o.factors if f in names],
                               reference={k: v for k, v in o.reference.items() if k in names})
            except LogisticModelError as exc:
                rc.note(part, f"model not fitted: {exc}")
                continue
            if fit.method == "ml" and fit.separation.detected:
                # the MLE does not exist: R's estimates are shown, their limits and LR tests are not
                rc.note(part, "confidence limits and likelihood-ratio tests not computed: "
                        + "; ".join(fit.warnings))
            rc.add_object(f"logistic/{rc.id}/{g.label}/{model}", fit)
            new = _rows(fit, model, g.label, o.outcome, event)
            rows += new
            method = ("Firth penalised logistic regression, penalised-likelihood-ratio "
                      f"{level_pct} limits" if fit.method == "firth" else
                      f"logistic regression (maximum likelihood), profile-likelihood {level_pct} limits")
            for r in new:
                rc.stats({"or": r["odds_ratio"], "or_lower": r["ci_lower"], "or_upper": r["ci_upper"],
                          "p_value": r["p_value"], "lr_p_value": r["lr_p_value"]},
                         group=g, variable=r["term"], variable_level=model, method=method)
            rc.stats({"n": fit.n, "events": fit.n_events}, group=g, variable=o.outcome,
                     variable_level=model, method=method)
            for t in fit.term_tests:
                term_rows.append({"group": g.label, "model": model, "term": t.term, "df": t.df,
                                  "lr_statistic": t.lr_statistic, "lr_p_value": t.lr_p_value,
                                  "wald_statistic": t.wald_statistic, "wald_p_value": t.wald_p_value,
                                  "method": "Firth" if fit.method == "firth" else "ML"})
    if rows:
        rc.add_table("logistic", pd.DataFrame(rows))
        rc.add_table("logistic_terms", pd.DataFrame(term_rows))


def describe(spec: AnalysisSpec, o: LogisticOptions) -> str:
    which = {"both": "univariable and multivariable", "univariable": "univariable",
             "multivariable": "multivariable"}[o.models]
    firth = {"auto": "Firth's penalised likelihood where the outcome is separated",
             True: "Firth's penalised likelihood", False: "maximum likelihood"}[o.firth]
    return (f"{which.capitalize()} logistic regression of {o.outcome} on {', '.join(spec.variables)} "
            f"({firth}); odds ratios with {o.level:.0%} profile-likelihood limits.")


KINDS = (Kind("logistic", LogisticOptions, run, describe, needs, names={"outcome": "binary"},
              variables="variable", section="logistic",
              summary="univariable and multivariable logistic regression (odds ratios, Firth when separated)"),)
