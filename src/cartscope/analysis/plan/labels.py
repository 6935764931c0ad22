"""The plan's ``labels:`` mapping: code -> the label (and unit) every table and figure prints.

A code must be something the plan or the cohort schema names, so that a misspelt code is an
error with a did-you-mean instead of a label that silently never shows: a plan variable,
population, window or panel, an endpoint of the plan, a column of a cohort table, an analyte
of the analyte dictionary (any alias), a kinetics measure or parameter, or one of the derived
per-patient values the analyses group by (``crs_group``, ``outcome_class``, ...). Analytes
that only a cohort's own data names (not in the dictionary) are labelled through the cohort's
analyte sheet or a data dictionary instead.
"""

from __future__ import annotations

import difflib
from functools import cache
from typing import Any, Iterable

DERIVED = (
    "crs_group", "outcome_class", "outcome", "disease_burden", "nr_er", "best_response", "bor", "cohort_role",
    "crs", "icans", "icaht", "iec_hs", "crs_grade", "icans_grade", "crs_first", "response_duration_days",
    "peak_expansion", "il6_peak", "hsct", "relapse", "death", "non_response",
)
"""Per-patient values the analyses derive and the report labels, beside the cohort's columns."""

KINETICS_PARAMETERS = ("cmax", "tmax", "tmax_day", "auc0_28", "auc_0_28", "persistence", "persistence_day",
                       "fold_change", "peak", "peak_day", "baseline")


@cache
def _static_codes() -> frozenset[str]:
    from cartscope.cohort.schema import KINETIC_MEASURES, TABLES
    from cartscope.cohort.units import ANALYTES

    codes = {c.name for t in TABLES.values() for c in t.columns}
    codes |= set(KINETIC_MEASURES) | set(KINETICS_PARAMETERS) | set(DERIVED)
    for a in ANALYTES.values():
        codes.add(a.name)
        codes.update(a.aliases)
    return frozenset(codes)


def known_codes(plan: Any, cohort: Any = None) -> set[str]:
    """Every code a ``labels:`` entry of ``plan`` may name (see the module docstring); with
    ``cohort`` also its tables' columns and the analytes its laboratory data name."""
    codes = set(_static_codes())
    if cohort is not None:
        for name in ("patients", "labs", "kinetics", "infusions"):
            frame = getattr(cohort, name, None)
            if frame is not None and hasattr(frame, "columns"):
                codes |= {str(c) for c in frame.columns}
        labs = getattr(cohort, "labs", None)
        if labs is not None and "analyte" in getattr(labs, "columns", ()):
            codes |= {str(a) for a in labs["analyte"].dropna().unique()}
    for key in ("variables", "populations", "windows", "panels"):
        codes |= set(getattr(plan, key, {}) or {})
    try:
        names = plan.endpoint_names()
    except (TypeError, ValueError):
        names = ()
    for e in names:
        codes |= {e, f"{e}_time", f"{e}_event"}
    return codes


def _suggest(name: str, candidates: Iterable[str]) -> str:
    low = {c.casefold(): c for c in candidates}
    if name.casefold() in low:
        return f" (did you mean {low[name.casefold()]!r}?)"
    hit = difflib.get_close_matches(name.casefold(), list(low), n=1, cutoff=0.6)
    return f" (did you mean {low[hit[0]]!r}?)" if hit else ""


def label_problems(plan: Any, cohort: Any = None) -> list[tuple[str, str]]:
    """(key path, message) for each code of ``plan.labels`` that names nothing: ("labels.crs_grd",
    "unknown code 'crs_grd' (did you mean 'crs_grade'?); ..."); empty when all are known."""
    given = getattr(plan, "labels", None) or {}
    if not given:
        return []
    codes = known_codes(plan, cohort)
    from cartscope.cohort.units import canonical_analyte

    out = []
    for code in given:
        if code in codes or canonical_analyte(code) is not None:
            continue
        out.append((f"labels.{code}", f"unknown code {code!r}{_suggest(code, codes)}; a label names a plan "
                    "variable, population, window, panel or endpoint, a cohort column, an analyte or a kinetics "
                    "measure"))
    return out


__all__ = ["DERIVED", "KINETICS_PARAMETERS", "known_codes", "label_problems"]
