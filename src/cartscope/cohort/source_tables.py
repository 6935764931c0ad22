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

from cartscope.cohort.analytes import BUILTIN, AnalyteDictionary, DictionaryError
from cartscope.cohort.checks_columns import build_table
from cartscope.cohort.checks_common import Table, emit
from cartscope.cohort.problems import Problem
from cartscope.cohort.readers import RawSource
from cartscope.cohort.schema import ANALYTES_TABLE, RECORDED_GRADE_COLUMNS, TOXICITY


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


def analyte_dictionary(
    src: RawSource, out: list[Problem], entries: list[tuple[str, dict]] | None = None,
    entry_location: dict[str, tuple[str, int | None]] | None = None,
) -> AnalyteDictionary:
    """The built-in dictionary extended by ``entries`` (the manifest's ``analytes:``, each with
    its location) and then by the source's ``analytes`` table; a bad entry is a problem at its
    place and is left out."""
    dictionary = BUILTIN
    for where, entry in entries or []:
        try:
            dictionary = dictionary.extend([(where, entry)])
        except DictionaryError as exc:  # where is "cohort.yaml: analytes[0]": file and key path
            file, _, key = where.partition(": ")
            row = (entry_location or {}).get(where, (file, None))[1]
            out.append(Problem(file, row, key or None, "bad-analyte", str(exc)))
    raw = src.tables.get("analytes")
    if raw is None:
        return dictionary
    before = len(out)
    table = build_table(raw, ANALYTES_TABLE, out)
    if not table.usable:
        return dictionary
    reported = {p.row for p in out[before:] if p.row is not None and p.is_error}
    frame = table.raw
    present = [c.name for c in ANALYTES_TABLE.columns if table.has(c.name)]
    for i, row in enumerate(table.rows):
        entry = {}
        for name in present:
            cell = frame[table.source_columns[name]].iloc[i]
            if cell is None or (isinstance(cell, float) and np.isnan(cell)) or str(cell).strip() == "":
                continue
            entry[name] = cell
        if not entry.get("analyte") or int(row) in reported:
            continue
        try:
            dictionary = dictionary.extend([(f"{raw.file}:{int(row)}", entry)])
        except DictionaryError as exc:
            out.append(Problem(raw.file, int(row), None, "bad-analyte", str(exc)))
    return dictionary
