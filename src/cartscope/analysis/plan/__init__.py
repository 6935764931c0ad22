"""The analysis-plan language (version 1) and the contract every analysis kind implements.

A plan is a YAML mapping::

    version: 1                  # required; a file without it is read as an old protocol and migrated
    name: my-study
    endpoints: {...}            # the time-to-event rules (EndpointRules, as before)
    crs_high_grade: 3           # k of the built-in crs_group "0-<k-1>" / "<k>-5"
    variables:   {name: {derive: <rule>, ...}}       # per-patient variables
    populations: {name: {where: "<expression>"}}     # named patient filters
    windows:     {name: {infusion: 1, start: 0, end: 30, until_next_infusion: false}}
    panels:      {name: [IL-6, CRP, ...]}            # named analyte lists (any loader alias)
    analyses:
      - id: crs-after-first     # unique; names the ARD rows, tables and exclusions
        kind: toxicity          # a registered kind
        population: mrd_pos     # optional; default every patient with an index infusion
        by: disease_burden      # optional; one variable or a list, each split separately
        within: disease_group   # optional; nested: the analysis repeated per level
        window: first_infusion  # optional; for kinds that read daily data
        variables: [...]        # for kinds that take variables
        <option>: <value>       # the kind's own keys (or under options:)

The full reference (every key, default and allowed value) is docs/protocol.md.

Contract for a new kind (stable; a new kind is ONE module plus ONE registration line)
----------------------------------------------------------------------------------------
1. Write ``src/cartscope/analysis/analyses/<module>.py`` with::

       from cartscope.analysis.plan import Kind, Options, RunContext

       class MyOptions(Options):           # pydantic, extra="forbid"; defaults = documented defaults
           outcome: str                    # a name, resolved by the checker (see ``names``)
           alpha: float = 0.05

       def needs(rc: RunContext) -> str:   # '' = can run; else why not (recorded as a skip)
           return "" if rc.has("labs") else "no labs table"

       def run(rc: RunContext) -> None:
           o: MyOptions = rc.options
           y = rc.variable(o.outcome)                  # aligned to rc.endpoints (population rows)
           for g in rc.groups():                       # "all" + each level of by (x within)
               ...
               rc.stat("estimate", est, group=g, variable=o.outcome, method="...")   # ARD row
           rc.add_table("my_table", frame)             # tidy table; an `analysis` column is added
           rc.exclude(ids, "why")                      # patients left out, with the reason
           rc.note("part", "why this part did not run")
           rc.skip("why")                              # stop: the whole analysis is skipped

       def describe(spec, o: MyOptions) -> str:        # for `cartscope protocol explain`
           return f"... of {o.outcome} ..."

       KINDS = (Kind("my_kind", MyOptions, run, describe, needs,
                     names={"outcome": "binary"}, variables="continuous",
                     section="biomarkers", summary="one line for the docs"),)

2. Add the module name, one line, to ``KIND_MODULES`` in ``cartscope/analysis/analyses/__init__.py``.
3. Document its options in docs/protocol.md (a subsection under "Analysis kinds").

``names`` maps option keys to :data:`~cartscope.analysis.plan.registry.NameRole`
(``variable``/``binary``/``continuous``/``categorical``/``endpoint``/``analyte``/``timepoint``/
``measure``/``column``/``cohort_role``/``population``/``window``/``panel``); the checker resolves
every such name (a string or a list of strings) against the plan and the cohort before anything
runs, and reports unknown ones as ``file: analyses[i].<key>[j]: unknown <role> 'x' (did you mean
'y'?)`` (exit 2). ``analyte`` values may also name a panel. :class:`RunContext` gives
``endpoints`` (population rows), ``variable(name)``, ``groups()``, ``window(name)``,
``cohort``, ``plan``, ``has(table)``, ``ids(mask)``, ``table(name, analysis)`` (results written
so far) and the writers above.

Results: :class:`~cartscope.analysis.results.Results` holds ``ard`` (the analysis-results
dataset, :mod:`cartscope.analysis.plan.ard`), ``tables`` (each with its ``analysis`` column),
``objects``, ``exclusions``, ``skipped`` (analysis id -> reason) and ``plan``.
"""

from __future__ import annotations

from cartscope.analysis.plan.ard import ARD_COLUMNS, ard_frame, ard_value, empty_ard
from cartscope.analysis.plan.context import AnalysisSkipped, Group, RunContext, StudyRun, Window
from cartscope.analysis.plan.registry import Kind, NameRole, Options, get_kind, kinds
from cartscope.analysis.plan.schema import (
    PLAN_VERSION,
    AnalysisSpec,
    Plan,
    PopulationSpec,
    VariableSpec,
    WindowSpec,
)

__all__ = [
    "ARD_COLUMNS", "PLAN_VERSION", "AnalysisSkipped", "AnalysisSpec", "Group", "Kind", "NameRole", "Options",
    "Plan", "PopulationSpec", "RunContext", "StudyRun", "VariableSpec", "Window", "WindowSpec", "ard_frame",
    "ard_value", "empty_ard", "get_kind", "kinds",
]
