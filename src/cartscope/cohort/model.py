"""The in-memory cohort: one pandas DataFrame per table of :mod:`cartscope.cohort.schema`."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cartscope.cohort.schema import TABLE_ORDER, TABLES


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
