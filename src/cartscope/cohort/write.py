"""Write a cohort in cartscope's own input format (CSV folder, XLSX workbook or Parquet folder).

What is written loads back with :func:`cartscope.cohort.load.load_cohort` to the same tables:
times as ``day``, canonical units, lab qualifiers in their own column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from cartscope.cohort.model import Cohort
from cartscope.cohort.schema import TABLE_ORDER, TABLES

Format = Literal["csv", "xlsx", "parquet"]


def _ordered(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Schema columns first (in schema order, empty ones dropped), then covariates as given."""
    schema_cols = [c for c in TABLES[name].names if c in frame.columns and frame[c].notna().any()]
    extra = [c for c in frame.columns if c not in TABLES[name].names]
    if "date" in schema_cols and "day" in schema_cols:
        schema_cols.remove("date")
    return frame.loc[:, schema_cols + extra]


def tables_to_write(cohort: Cohort) -> dict[str, pd.DataFrame]:
    """The tables the cohort has, each with its columns in schema order."""
    return {
        name: _ordered(name, cohort.table(name))
        for name in TABLE_ORDER
        if name in cohort.present or not cohort.table(name).empty
    }


def write_cohort(cohort: Cohort, out: Path | str, fmt: Format = "csv") -> Path:
    """Write ``cohort`` to ``out`` and return the path written.

    ``csv`` and ``parquet`` write one ``<table>.<ext>`` file per table into the folder ``out``;
    ``xlsx`` writes one workbook (``out`` itself if it ends in ``.xlsx``, else
    ``out/cohort.xlsx``) with one sheet per table.
    """
    out = Path(out)
    tables = tables_to_write(cohort)
    if fmt == "xlsx":
        path = out if out.suffix.lower() == ".xlsx" else out / "cohort.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, frame in tables.items():
                frame.to_excel(writer, sheet_name=name, index=False)
        return path
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown format {fmt!r}; choose csv, xlsx or parquet")
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if fmt == "csv":
            frame.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
        else:
            frame.to_parquet(out / f"{name}.parquet", index=False)
    return out
