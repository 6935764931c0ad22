"""The mutable workspace one protocol run fills; frozen into :class:`Results` at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd

from cartscope.analysis.protocol import Protocol
from cartscope.clinical.endpoints import MONTH_DAYS
from cartscope.cohort.model import Cohort

__all__ = ["MONTH_DAYS", "StudyContext", "float_days", "fmt_num", "rebase"]


def rebase(table: pd.DataFrame, index_day: pd.Series) -> pd.DataFrame:
    """Rows of ``table`` with ``day`` counted from each patient's index infusion (rows of
    patients without an index, or without a day, are dropped)."""
    t = table.copy()
    t["patient_id"] = t["patient_id"].astype(str)
    off = t["patient_id"].map(index_day)
    t["day"] = pd.to_numeric(t["day"], errors="coerce") - off
    return t[t["day"].notna()].reset_index(drop=True)


def float_days(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``day`` as float64 (the clinical kinetics windows need a float day axis)."""
    return table.assign(day=pd.to_numeric(table["day"], errors="coerce").astype(float))


def fmt_num(x: float) -> str:
    """Short label of a month/day number: 6.0 -> '6', 6.5 -> '6.5'."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass
class StudyContext:
    """What the analyses of one run share: inputs, the endpoint frame and the outputs so far."""

    cohort: Cohort
    protocol: Protocol
    endpoints: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)
    key_numbers: dict[str, Any] = field(default_factory=dict)
    exclusion_rows: list[tuple[str, str, str]] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)

    def has(self, table: str) -> bool:
        """The cohort source had ``table`` and it has rows."""
        return table in self.cohort.present and not self.cohort.table(table).empty

    def add_table(self, name: str, frame: pd.DataFrame) -> None:
        if name in self.tables:
            raise KeyError(f"result table {name!r} written twice")
        self.tables[name] = frame.reset_index(drop=True)

    def key(self, name: str, value: Any) -> None:
        self.key_numbers[name] = value

    def exclude(self, analysis: str, ids: Iterable[str], reason: str | Iterable[str]) -> None:
        """Record that ``ids`` were left out of ``analysis`` (one reason, or one per id)."""
        ids = list(ids)
        reasons = [reason] * len(ids) if isinstance(reason, str) else list(reason)
        for pid, why in zip(ids, reasons):
            self.exclusion_rows.append((analysis, str(pid), str(why) if why else "not stated"))

    def column(self, name: str) -> pd.Series:
        """A per-patient column of the endpoint frame, else of ``patients`` (aligned to endpoints)."""
        if name in self.endpoints:
            return self.endpoints[name]
        pats = self.cohort.patients.copy()
        pats["patient_id"] = pats["patient_id"].astype(str)
        if name not in pats:
            raise KeyError(name)
        return self.endpoints["patient_id"].map(pats.set_index("patient_id")[name])

    def ids(self, mask: np.ndarray | pd.Series) -> list[str]:
        return self.endpoints.loc[np.asarray(mask, dtype=bool), "patient_id"].astype(str).tolist()
