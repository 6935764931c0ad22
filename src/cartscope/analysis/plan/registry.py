"""The kind registry: every analysis kind is one module under :mod:`cartscope.analysis.analyses`.

A module declares ``KINDS = (Kind(...), ...)`` and is listed, one line, in
``cartscope.analysis.analyses.KIND_MODULES``. The registry imports those modules lazily (the
plan package never imports the analyses at import time, so there is no cycle).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping

from cartscope.analysis.plan.schema import AnalysisSpec, Strict

if TYPE_CHECKING:  # pragma: no cover
    from cartscope.analysis.plan.context import RunContext

NameRole = Literal[
    "variable", "binary", "continuous", "categorical", "endpoint", "analyte", "timepoint", "column",
    "population", "window", "panel", "cohort_role", "measure", "analysis",
]
"""What a name inside an option value refers to, for strict checking:

- ``variable`` (any type), ``binary``, ``continuous``, ``categorical``: a per-patient variable
  (built in, a patients column, or defined under ``variables``), of that type;
- ``endpoint``: a time-to-event endpoint of ``endpoints.endpoints``;
- ``analyte``: a lab analyte present in the cohort, by any alias of the loader (``IL-6`` = ``il6``),
  or a panel name (expanded);
- ``timepoint``: a value of ``labs.timepoint``; ``measure``: a value of ``kinetics.measure``;
- ``column``: a column of the patients table; ``cohort_role``: a value of ``patients.cohort``;
- ``population``, ``window``, ``panel``: a name defined in the plan; ``analysis``: the id of an
  earlier analysis of the plan.
"""


class Options(Strict):
    """Base class of a kind's options model (unknown keys are errors)."""


def _no_needs(rc: "RunContext") -> str:
    return ""


@dataclass(frozen=True)
class Kind:
    """One analysis kind (the contract in :mod:`cartscope.analysis.plan`).

    - ``name``: the value of ``kind:`` in a plan;
    - ``options``: the pydantic model of its own keys (defaults documented there);
    - ``run(rc)``: computes and records through the :class:`RunContext`;
    - ``describe(spec, options)``: one or two sentences for ``protocol explain``;
    - ``needs(rc)``: '' when it can run on this cohort, else why not (the analysis is then
      skipped with that reason, printed and recorded);
    - ``names``: option key -> :data:`NameRole` of the name(s) it holds (a string or a list);
    - ``variables``: the role of the analysis' ``variables`` list (None: the kind takes none);
    - ``section``: the report section its tables feed; ``summary``: one line for the docs.
    """

    name: str
    options: type[Options]
    run: Callable[["RunContext"], None]
    describe: Callable[[AnalysisSpec, Any], str]
    needs: Callable[["RunContext"], str] = _no_needs
    names: Mapping[str, NameRole] = field(default_factory=dict)
    variables: NameRole | None = None
    section: str = ""
    summary: str = ""


_REGISTRY: dict[str, Kind] = {}


def kinds() -> dict[str, Kind]:
    """Every registered kind by name (imports the modules of ``KIND_MODULES`` once)."""
    if not _REGISTRY:
        from cartscope.analysis.analyses import KIND_MODULES

        found: dict[str, Kind] = {}
        for module in KIND_MODULES:
            mod = importlib.import_module(f"cartscope.analysis.analyses.{module}")
            for kind in getattr(mod, "KINDS", ()):
                if kind.name in found:
                    raise RuntimeError(f"analysis kind {kind.name!r} registered twice ({module})")
                found[kind.name] = kind
        _REGISTRY.update(dict(sorted(found.items())))
    return _REGISTRY


def get_kind(name: str) -> Kind:
    return kinds()[name]


__all__ = ["Kind", "NameRole", "Options", "get_kind", "kinds"]
