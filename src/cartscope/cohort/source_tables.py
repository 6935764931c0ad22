"""Source tables that are not cohort tables: folded into the cohort after their own checks.

``toxicity`` (one row per patient, recorded CRS / ICANS grades with onset and duration) is
checked like any table (its problems cite its own file, row and column) and its columns then
join ``patients``; a grade given in both places with different values is an error, the same
value twice is fine. ``analytes`` extends the analyte dictionary
(:mod:`cartscope.cohort.analytes`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.cohort.checks_columns import build_table
from cartscope.cohort.checks_common import Table, emit
from cartscope.cohort.problems import Problem
from cartscope.cohort.readers import RawSource
from cartscope.cohort.schema import RECORDED_GRADE_COLUMNS, TOXICITY


def fold_toxicity(src: RawSource, patients: Table | None, out: list[Problem]) -> None:
    """Check the ``toxicity`` source table and copy its grades into ``patients``."""
    raw = src.tables.get("toxicity")
    if raw is None:
        return
    table = build_table(raw, TOXICITY, out)
    if not table.usable or patients is None or not patients.usable:
        return
    f = table.frame
    ids = f["patient_id"]
    dup = ids.duplicated(keep="first").to_numpy() & ids.notna().to_numpy()
    emit(out, table, dup, "patient_id", "duplicate-patient",
         [f"patient_id {pid!r} already has a row in this table" for pid in ids[dup]])
    known = set(patients.frame["patient_id"].dropna())
    unknown = ids.notna().to_numpy() & ~ids.isin(known).to_numpy()
    emit(out, table, unknown, "patient_id", "unknown-patient",
         [f"patient_id {pid!r} is not in patients" for pid in ids[unknown]])
    first = f.loc[~dup & ids.notna().to_numpy()].set_index("patient_id")
    pf = patients.frame
    for col in RECORDED_GRADE_COLUMNS:
        if not table.has(col.name):
            continue
        given = pf["patient_id"].map(first[col.name]) if len(first) else pd.Series([pd.NA] * len(pf))
        current = pf[col.name]
        both = given.notna().to_numpy() & current.notna().to_numpy()
        differ = both & (pd.to_numeric(given, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
                         != pd.to_numeric(current, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
        if differ.any():
            clash = set(pf.loc[differ, "patient_id"])
            sel = ids.isin(clash).to_numpy() & ~dup
            emit(out, table, sel, col.name, "recorded-twice",
                 f"{col.name} differs from the value in patients for this patient")
        filled = current.where(current.notna(), given.astype(current.dtype) if len(given) else current)
        pf[col.name] = filled.array
