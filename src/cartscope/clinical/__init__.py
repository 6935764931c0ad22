"""CAR-T clinical rules as pure functions over cohort tables (pandas in, pandas out).

Every rule cites its source in its docstring; the shared ``domain-reference.md`` summarises
them. The public entry points:

- :func:`derive_endpoints` with :class:`EndpointRules` / :class:`TimeToEventRule`;
- :func:`grade_crs`, :func:`grade_icans` (ASTCT 2019) and :func:`grade_labs` (CTCAE v5.0);
- :func:`car_kinetics`, :func:`cytokine_kinetics`, :func:`cd4_cd8_course`, :func:`b_cell_aplasia`;
- :func:`grade_icaht` (EHA/EBMT ICAHT, T-ICAHT), :func:`identify_iec_hs` (ASTCT IEC-HS),
  :func:`summarise_infections`, :func:`hypogammaglobulinemia`, :func:`prolonged_cytopenia`,
  :func:`treatment_exposure` (sources in docs/toxicity-reference.md);
- prognostic scores in :mod:`cartscope.clinical.scores` (:func:`risk_scores` from labs).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "derive_endpoints": "endpoints",
    "EndpointRules": "endpoints",
    "TimeToEventRule": "endpoints",
    "grade_crs": "crs",
    "grade_crs_daily": "crs",
    "grade_icans": "icans",
    "grade_icans_daily": "icans",
    "grade_labs": "ctcae",
    "car_kinetics": "kinetics",
    "cytokine_kinetics": "kinetics",
    "cd4_cd8_course": "kinetics",
    "b_cell_aplasia": "aplasia",
    "grade_icaht": "icaht",
    "identify_iec_hs": "iec_hs",
    "summarise_infections": "infections",
    "hypogammaglobulinemia": "immunoglobulins",
    "prolonged_cytopenia": "cytopenia",
    "treatment_exposure": "treatment_exposure",
    "risk_scores": "scores",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"cartscope.clinical.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'cartscope.clinical' has no attribute {name!r}")
