"""SPSS ``.sav``, Stata ``.dta`` and SAS ``.sas7bdat`` / ``.xpt`` tables, read with pyreadstat.

Value labels are decoded (SAS files carry them only in a separate format catalog, which is
not read: their codes arrive as stored) (a ``sex`` variable coded 1/2 with labels Female/Male arrives as
``Female`` / ``Male``), so the cohort sees what the analyst saw in SPSS's Data View; date and
datetime formats arrive as dates. User-defined missing values are missing. Row numbers are
those of the same table exported to CSV (case 1 is row 2, the header being row 1), as for
Parquet.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np

from cartscope.cohort.problems import Problem
from cartscope.cohort.readers import RawTable

STAT_SUFFIXES = {".sav": "SPSS", ".zsav": "SPSS", ".dta": "Stata", ".sas7bdat": "SAS", ".xpt": "SAS transport"}


def _reader(suffix: str):
    import pyreadstat

    return {
        ".sav": pyreadstat.read_sav, ".zsav": pyreadstat.read_sav, ".dta": pyreadstat.read_dta,
        ".sas7bdat": pyreadstat.read_sas7bdat, ".xpt": pyreadstat.read_xport,
    }[suffix]


def read_stat_table(path: Path, name: str, file: str, out: list[Problem]) -> RawTable | None:
    """One table from a statistics-package file; ``None`` (problem recorded) when unreadable."""
    suffix = path.suffix.lower()
    kind = STAT_SUFFIXES[suffix]
    try:
        reader = _reader(suffix)
        accepted = inspect.signature(reader).parameters
        kwargs = {k: v for k, v in (("apply_value_formats", True), ("formats_as_category", False)) if k in accepted}
        frame, meta = reader(str(path), **kwargs)
    except Exception as exc:  # pyreadstat raises ReadstatError / PyreadstatError / OSError for a damaged file
        out.append(Problem(file, None, None, "unreadable", f"cannot read the {kind} file: {exc}"))
        return None
    frame = frame.astype(object).where(frame.notna(), None)
    frame.columns = [str(c).strip() for c in frame.columns]
    for col in frame.columns:  # whole-number floats (SPSS stores every number as a double) read as integers
        values = frame[col]
        if all(isinstance(v, float) and v.is_integer() for v in values if v is not None) and \
                any(v is not None for v in values):
            frame[col] = [None if v is None else int(v) for v in values]
    return RawTable(name, file, frame.reset_index(drop=True), np.arange(2, len(frame) + 2, dtype=np.int64), 1)


def labels_of(path: Path) -> dict[str, dict[object, str]]:
    """The value labels of each variable (for documentation and tests)."""
    _, meta = _reader(path.suffix.lower())(str(path), metadataonly=True)
    return {var: dict(meta.value_labels.get(label, {})) for var, label in meta.variable_to_label.items()}


__all__ = ["STAT_SUFFIXES", "labels_of", "read_stat_table"]
