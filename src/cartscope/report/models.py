"""Report items and methods sentences of the model kinds: ``cox`` with time-varying
covariates / robust SE / predictions, ``landmark`` (and Simon-Makuch), ``rmst``, ``td_roc``.

The result tables of these kinds are shown by the generic table renderer
(:mod:`cartscope.report.sections.generic`); this module adds their figures (landmark and
Simon-Makuch Kaplan-Meier curves, predicted and adjusted Cox curves) from the result
objects, and one methods sentence per kind that ran. It computes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from cartscope.report.items import FigureItem, recipe


def model_figures(objects: Mapping[str, Any]) -> list[FigureItem]:
    """Figures for the model kinds' result objects (keys as the kinds store them), in key order."""
    items: list[FigureItem] = []
    for key in sorted(objects):
        obj = objects[key]
        kind, _, rest = key.partition("/")
        stem = rest.replace("/", "_").replace(" ", "_")
        if kind == "landmark":
            lm = obj["landmark"]
            items.append(FigureItem(
                f"landmark_{stem}",
                recipe("figures.km:km_figure", obj["curves"], logrank=obj["logrank"], unit="days",
                       xlabel=f"Days from the day-{lm:g} landmark"),
                f"{obj['endpoint'].upper()} from the day-{lm:g} landmark by {obj['status']} at the "
                f"landmark (patients event-free at day {lm:g}); Kaplan-Meier estimates, log-rank test."))
        elif kind == "simon_makuch":
            items.append(FigureItem(
                f"simon_makuch_{stem}",
                recipe("figures.km:km_figure", obj["curves"], unit="months", show_n=False,
                       risk_rows=("at risk",)),
                f"Simon-Makuch estimates of {obj['endpoint'].upper()} by time-dependent "
                f"{obj['status']}: patients count in the 'yes' curve from the day the status changes."))
        elif kind == "cox_predicted":
            items.append(FigureItem(
                f"cox_predicted_{stem}", recipe("figures.predicted:predicted_figure", obj),
                "Predicted survival from the Cox model for each covariate profile, with pointwise "
                "95% confidence bands (log scale)."))
        elif kind == "cox_adjusted":
            items.append(FigureItem(
                f"cox_adjusted_{stem}", recipe("figures.predicted:predicted_figure", obj),
                f"Adjusted survival by {obj.exposure}: the average of the cohort's predicted Cox curves "
                "with the exposure set to each level (direct adjustment)."))
    return items


def _opt(spec: Any, key: str, default: Any = None) -> Any:
    return spec.options.get(key, default) if hasattr(spec, "options") else default


def model_methods(analyses: Iterable[Any], ran: Iterable[str] | None = None) -> list[str]:
    """One methods sentence per model analysis of the plan (those in ``ran``, when given)."""
    done = set(ran) if ran is not None else None
    out: list[str] = []
    for spec in analyses:
        if done is not None and spec.id not in done:
            continue
        if spec.kind == "cox":
            tv = _opt(spec, "time_varying", ()) or ()
            ties = _opt(spec, "ties", "efron")
            parts = []
            if tv:
                parts.append(f"{', '.join(tv)} entered as time-dependent covariates (0 before the "
                             "event day, 1 after; follow-up split into counting-process intervals as "
                             "R survival's tmerge)")
            if _opt(spec, "robust", False):
                parts.append("robust sandwich standard errors clustered on the patient (Lin and Wei 1989)")
            if ties == "exact":
                parts.append("tied event times handled by the exact partial likelihood")
            if _opt(spec, "predict") or _opt(spec, "adjusted"):
                parts.append("predicted survival for covariate profiles from the Breslow/Efron "
                             "baseline hazard with log-scale 95% intervals (R survfit.coxph)"
                             + ("; adjusted curves by direct adjustment" if _opt(spec, "adjusted") else ""))
            if parts:
                out.append(f"In Cox model {spec.id}, " + "; ".join(parts)
                           + "; the C-index has an infinitesimal-jackknife 95% interval.")
        elif spec.kind == "landmark":
            lm = _opt(spec, "landmark", 28)
            sm = _opt(spec, "simon_makuch")
            out.append(
                f"To avoid immortal-time bias, {_opt(spec, 'status')} was compared by the landmark method "
                f"(Anderson et al. 1983): patients event-free at day {lm:g} were grouped by their status at "
                f"day {lm:g} and followed from it (Kaplan-Meier, log-rank test, Cox model)"
                + (f"; Simon-Makuch curves show {sm} as a time-dependent status" if sm else "") + ".")
        elif spec.kind == "rmst":
            out.append(
                f"Restricted mean survival time to day {_opt(spec, 'tau'):g} was estimated as the area under "
                "the Kaplan-Meier curve (SE as R survfit) and compared as difference, ratio and ratio of "
                "restricted mean time lost with 95% intervals (Uno et al. 2014, survRM2).")
        elif spec.kind == "td_roc":
            out.append(
                "Time-dependent ROC curves (cumulative cases, dynamic controls) were estimated with inverse "
                "probability of censoring weights from the Kaplan-Meier censoring distribution (Uno 2007; "
                "Blanche et al. 2013); AUC(t) has influence-function 95% intervals (R riskRegression::Score).")
    return out


SECTIONS: dict[str, str] = {
    "landmark": "Landmark analysis",
    "rmst": "Restricted mean survival time",
    "td_roc": "Time-dependent ROC",
}
"""Report sections of the model kinds and their titles."""

_FIGURE_PREFIXES = {"landmark": ("landmark/", "simon_makuch/"), "rmst": (), "td_roc": ()}


def model_section(inp: Any, key: str) -> list[Any]:
    """A model kind's section: its result tables (generic renderer) and its figures."""
    from cartscope.report.sections.generic import generic_section

    items = list(generic_section(inp, key))
    objects = getattr(inp.results, "objects", {}) or {}
    prefixes = _FIGURE_PREFIXES.get(key, ())
    items.extend(model_figures({k: v for k, v in objects.items() if k.startswith(prefixes)})
                 if prefixes else [])
    return items


def landmark_section(inp: Any) -> list[Any]:
    return model_section(inp, "landmark")


def rmst_section(inp: Any) -> list[Any]:
    return model_section(inp, "rmst")


def td_roc_section(inp: Any) -> list[Any]:
    return model_section(inp, "td_roc")


def model_table_notes(model_row: Any) -> list[str]:
    """Footnotes of a Cox table for the options of its model (a row of ``cox_models``)."""
    notes = []
    tv = model_row.get("time_varying", "") if hasattr(model_row, "get") else ""
    if isinstance(tv, str) and tv:
        notes.append(f"Time-dependent covariate(s): {tv} (0 before the day it happened, 1 after; "
                     f"{int(model_row['rows'])} counting-process rows).")
    robust = model_row.get("robust", False) if hasattr(model_row, "get") else False
    if isinstance(robust, (bool, np.bool_)) and robust:
        notes.append("Robust (sandwich) standard errors clustered on the patient.")
    return notes
