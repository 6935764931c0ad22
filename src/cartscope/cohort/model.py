"""The in-memory cohort: one pandas DataFrame per table of :mod:`cartscope.cohort.schema`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, TypeVar

import pandas as pd

from cartscope.cohort.schema import TABLE_ORDER, TABLES

T = TypeVar("T")


@dataclass(frozen=True)
class UnitConversion:
    """A unit conversion applied on load, kept so the report can state it."""

    table: str
    column: str
    from_unit: str
    to_unit: str
    factor: float
    rows: int


@dataclass(frozen=True)
class Cohort:
    """A validated CAR-T cohort.

    Every table is present as a DataFrame with at least the schema's columns (an absent
    optional table is an empty frame, and ``present`` says which tables the source had).
    Times are in ``day`` (days from the index infusion); the source's dates are not kept.

    A cohort is never changed after it is built (a changed cohort is a new object, e.g. by
    ``dataclasses.replace``), so a table derived from it alone is built once per cohort:
    :meth:`derived` keeps it (the check of a plan and its run share the endpoint frame and the
    patients' labs). The kept tables are not pickled.
    """

    patients: pd.DataFrame
    infusions: pd.DataFrame
    assessments: pd.DataFrame
    events: pd.DataFrame
    labs: pd.DataFrame
    kinetics: pd.DataFrame
    toxicity_daily: pd.DataFrame
    present: frozenset[str] = frozenset(TABLE_ORDER)
    source: str = ""
    conversions: tuple[UnitConversion, ...] = ()
    file_hashes: dict[str, str] = field(default_factory=dict)
    _derived: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def derived(self, key: Hashable, build: Callable[[], T], copy: Callable[[T], T] = lambda v: v) -> T:
        """``build()``, computed on the first call for ``key`` and kept on this cohort.

        ``key`` names the derivation and every input besides the cohort (e.g. the plan's
        endpoint rules). Each call returns ``copy`` of the kept value, so that a caller that
        changes what it gets cannot change what the next caller gets (pass ``DataFrame.copy``
        for a frame)."""
        if key not in self._derived:
            self._derived[key] = build()
        return copy(self._derived[key])

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_derived"] = {}  # derived tables are rebuilt where they are needed
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        """A few lines: patients and rows per table (the tables themselves are not printed)."""
        from cartscope.stats._repr import cohort_repr

        return cohort_repr(self)

    def _repr_html_(self) -> str:
        from cartscope.stats._repr import cohort_repr_html

        return cohort_repr_html(self)

    def table(self, name: str) -> pd.DataFrame:
        if name not in TABLES:
            raise KeyError(f"unknown cohort table {name!r}; tables are {', '.join(TABLE_ORDER)}")
        return getattr(self, name)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLE_ORDER}

    @property
    def patient_ids(self) -> list[str]:
        return self.patients["patient_id"].tolist()

    def covariates(self) -> list[str]:
        """Extra columns of ``patients`` that are not in the schema (kept as covariates)."""
        known = set(TABLES["patients"].names)
        return [c for c in self.patients.columns if c not in known]
