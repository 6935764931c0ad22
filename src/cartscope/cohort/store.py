"""The embedded study store: cohorts imported into one DuckDB file, as immutable snapshots.

- An import is **all or nothing**: every table of a cohort is written in one transaction; any
  failure rolls back and leaves the database exactly as it was (a database file that did not
  exist before a failed import is removed again).
- Each import records the schema version, the source file hashes, the unit conversions and the
  import time.
- Snapshots are keyed by a hash of the normalised data: importing identical data again changes
  nothing; a different version of the same study becomes a new snapshot, never an overwrite.

Layout: ``meta`` (store and schema version), ``snapshots`` (one row per study snapshot) and one
table ``t_<name>`` per cohort table with ``study`` and ``snapshot`` columns in front. Extra
patient columns (covariates) are kept as a JSON object per row.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from cartscope.cohort.checks_columns import STR_DTYPE
from cartscope.cohort.model import Cohort, UnitConversion
from cartscope.cohort.schema import SCHEMA_VERSION, TABLE_ORDER, TABLES, ColumnKind, TableSchema
from cartscope.cohort.table_text import table_text
from cartscope.safe_output import owner_only, private_file

STORE_VERSION = 1
"""Version of the database layout (tables and columns of the store itself)."""

_SQL_TYPE: dict[ColumnKind, str] = {
    "str": "VARCHAR",
    "category": "VARCHAR",
    "date": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "day": "DOUBLE",
    "bool": "BOOLEAN",
}


@dataclass(frozen=True)
class ImportReport:
    """What an import did: a new snapshot, or nothing because the data was already stored."""

    study: str
    snapshot: int
    status: Literal["created", "unchanged"]
    data_hash: str
    rows: dict[str, int]
    db: str

    def describe(self) -> str:
        counts = ", ".join(f"{name} {n}" for name, n in self.rows.items())
        if self.status == "unchanged":
            return (
                f"study {self.study!r}: identical data already stored as snapshot {self.snapshot} "
                f"in {self.db}; nothing changed"
            )
        return f"study {self.study!r}: stored snapshot {self.snapshot} in {self.db} ({counts})"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{**asdict(self), "rows": json.dumps(self.rows)}])


HASH_DIGITS = 15
"""Significant digits of the numbers that identify a cohort: a workbook cell keeps about 15."""


def data_hash(cohort: Cohort) -> str:
    """SHA-256 of the normalised tables (names, columns and values), independent of file format.

    Numbers enter at :data:`HASH_DIGITS` significant digits, so the same cohort saved as CSV,
    XLSX or Parquet has one hash even where a spreadsheet rounded the last bits of a double.
    Each table enters as its ``to_csv`` text (:mod:`cartscope.cohort.table_text`, which writes
    that exact text about 4x faster).
    """
    digest = hashlib.sha256()
    for name in TABLE_ORDER:
        if name not in cohort.present:
            continue
        digest.update(f"\x00{name}\x00".encode())
        digest.update(table_text(cohort.table(name), HASH_DIGITS).encode())  # to_csv's text, written faster
    return digest.hexdigest()


def import_cohort(path: Path | str, db: Path | str, *, study: str | None = None) -> ImportReport:
    """Validate and load the cohort at ``path`` and store it in ``db``.

    Raises :class:`cartscope.cohort.problems.CohortError` (with the full problem list) when the
    cohort has errors; nothing is written then.
    """
    from cartscope.cohort.load import load_cohort

    cohort = load_cohort(path)
    name = study or Path(path).stem
    return store_cohort(cohort, db, study=name, source=str(path))


def store_cohort(cohort: Cohort, db: Path | str, *, study: str, source: str | None = None) -> ImportReport:
    """Store an already-loaded cohort as a snapshot of ``study`` (one transaction)."""
    db = Path(db)
    existed = db.exists()
    db.parent.mkdir(parents=True, exist_ok=True)
    fingerprint = data_hash(cohort)
    rows = {name: len(cohort.table(name)) for name in TABLE_ORDER if name in cohort.present}
    try:
        with owner_only(), closing(duckdb.connect(str(db))) as con:  # the store and its WAL: owner only
            if db.exists():
                private_file(db)
            con.execute("BEGIN TRANSACTION")
            try:
                _ensure_layout(con)
                known = con.execute(
                    "SELECT snapshot FROM snapshots WHERE study = ? AND data_hash = ?",
                    [study, fingerprint],
                ).fetchone()
                if known is not None:
                    con.execute("ROLLBACK")
                    return ImportReport(study, int(known[0]), "unchanged", fingerprint, rows, str(db))
                snapshot = _next_snapshot(con, study)
                _insert_snapshot_row(con, cohort, study, snapshot, fingerprint, source or cohort.source)
                for name in TABLE_ORDER:
                    if name in cohort.present:
                        _insert_table(con, TABLES[name], cohort.table(name), study, snapshot)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
    except BaseException:
        if not existed:
            for leftover in (db, db.with_name(db.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise
    return ImportReport(study, snapshot, "created", fingerprint, rows, str(db))


SNAPSHOT_COLUMNS = ("study", "snapshot", "data_hash", "imported_at", "source", "schema_version", "n_patients")


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0] > 0


def list_snapshots(db: Path | str) -> pd.DataFrame:
    """One row per stored snapshot: study, snapshot, data hash, import time, source, row counts.

    A store whose first import never committed (the process was killed) has no snapshots.
    """
    with closing(duckdb.connect(str(db), read_only=True)) as con:
        if not _has_table(con, "snapshots"):
            return pd.DataFrame({c: pd.Series(dtype="object") for c in SNAPSHOT_COLUMNS})
        return con.execute(
            "SELECT study, snapshot, data_hash, imported_at, source, schema_version, n_patients "
            "FROM snapshots ORDER BY study, snapshot"
        ).df()


def load_snapshot(db: Path | str, study: str, snapshot: int | None = None) -> Cohort:
    """Read a stored snapshot back as a :class:`Cohort` (the latest when ``snapshot`` is None).

    The tables come back as :func:`cartscope.cohort.load.load_cohort` gives them (times as
    ``day``, the same dtypes), so :func:`data_hash` of the two is the same.
    """
    with closing(duckdb.connect(str(db), read_only=True)) as con:
        if not _has_table(con, "snapshots"):
            raise KeyError(f"no study {study!r} in {db}")
        if snapshot is None:
            found = con.execute("SELECT max(snapshot) FROM snapshots WHERE study = ?", [study]).fetchone()
            if found is None or found[0] is None:
                raise KeyError(f"no study {study!r} in {db}")
            snapshot = int(found[0])
        meta = con.execute(
            "SELECT source, file_hashes, conversions, tables FROM snapshots WHERE study = ? AND snapshot = ?",
            [study, snapshot],
        ).fetchone()
        if meta is None:
            raise KeyError(f"study {study!r} has no snapshot {snapshot} in {db}")
        source, hashes, conversions, present = meta
        tables = {
            name: _read_table(con, TABLES[name], study, snapshot) for name in TABLE_ORDER
        }
    return Cohort(
        **tables,
        present=frozenset(json.loads(present)),
        source=source,
        conversions=tuple(UnitConversion(**c) for c in json.loads(conversions)),
        file_hashes=json.loads(hashes),
    )


# --- internals -------------------------------------------------------------------------


def _ensure_layout(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    stored = dict(con.execute("SELECT key, value FROM meta").fetchall())
    if stored and int(stored.get("store_version", STORE_VERSION)) > STORE_VERSION:
        raise RuntimeError(
            f"this database was written by a newer cartscope (store version {stored['store_version']})"
        )
    if not stored:
        con.execute(
            "INSERT INTO meta VALUES ('store_version', ?), ('schema_version', ?)",
            [str(STORE_VERSION), str(SCHEMA_VERSION)],
        )
    con.execute(
        "CREATE TABLE IF NOT EXISTS snapshots ("
        " study VARCHAR NOT NULL, snapshot INTEGER NOT NULL, data_hash VARCHAR NOT NULL,"
        " imported_at TIMESTAMP NOT NULL, source VARCHAR, schema_version INTEGER NOT NULL,"
        " file_hashes VARCHAR NOT NULL, conversions VARCHAR NOT NULL, tables VARCHAR NOT NULL,"
        " n_patients INTEGER NOT NULL, PRIMARY KEY (study, snapshot))"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS snapshot_columns ("
        " study VARCHAR NOT NULL, snapshot INTEGER NOT NULL, tbl VARCHAR NOT NULL, position INTEGER NOT NULL,"
        " name VARCHAR NOT NULL, dtype VARCHAR NOT NULL, PRIMARY KEY (study, snapshot, tbl, position))"
    )
    for schema in TABLES.values():
        columns = ", ".join(f'"{c.name}" {_SQL_TYPE[c.kind]}' for c in schema.columns)
        extra = ", covariates VARCHAR" if schema.keep_extra_columns else ""
        con.execute(
            f"CREATE TABLE IF NOT EXISTS t_{schema.name} ("
            f" study VARCHAR NOT NULL, snapshot INTEGER NOT NULL, row_no INTEGER NOT NULL,"
            f" {columns}{extra})"
        )
        for c in schema.columns:  # a store written before a column joined the schema gains it (NULL in old rows)
            con.execute(f'ALTER TABLE t_{schema.name} ADD COLUMN IF NOT EXISTS "{c.name}" {_SQL_TYPE[c.kind]}')


def _next_snapshot(con: duckdb.DuckDBPyConnection, study: str) -> int:
    found = con.execute("SELECT max(snapshot) FROM snapshots WHERE study = ?", [study]).fetchone()
    return 1 if found is None or found[0] is None else int(found[0]) + 1


def _insert_snapshot_row(
    con: duckdb.DuckDBPyConnection, cohort: Cohort, study: str, snapshot: int, fingerprint: str, source: str
) -> None:
    con.execute(
        "INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            study,
            snapshot,
            fingerprint,
            datetime.now(UTC).replace(tzinfo=None),
            source,
            SCHEMA_VERSION,
            json.dumps(dict(sorted(cohort.file_hashes.items()))),
            json.dumps([asdict(c) for c in cohort.conversions]),
            json.dumps(sorted(cohort.present)),
            len(cohort.patients),
        ],
    )


def _json_value(value: object) -> object:
    """A covariate cell as a JSON value: numbers exact (repr), missing as null, others as text."""
    if _is_missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return {"float": repr(value)}
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _from_json(value: object) -> object:
    if isinstance(value, dict) and set(value) == {"float"}:
        return float(value["float"])
    return value


def _text_cells(values: pd.Series) -> list[str | None]:
    """Text cells as Python strings, missing as None (never the string 'None' or 'nan')."""
    return [None if _is_missing(v) else str(v) for v in values.astype("object")]


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and np.isnan(value)


def _dtype_name(series: pd.Series) -> str:
    """The dtype of a cohort column as one of the names :func:`_restore` understands."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return "str" if dtype.na_value is not pd.NA else "string"
    name = str(dtype)
    return name if name in _RESTORABLE else "object"


_RESTORABLE = ("float64", "Int64", "boolean", "int64", "bool", "object")


def _restore(values: pd.Series, dtype: str) -> pd.Series:
    """A column read back from the store in the dtype it was stored from."""
    cells = values.astype("object")
    missing = [_is_missing(v) for v in cells]
    if dtype in ("str", "string"):
        kind = STR_DTYPE if dtype == "str" else pd.StringDtype()
        return pd.Series([None if m else str(v) for v, m in zip(cells, missing)], dtype=kind, index=values.index)
    if dtype == "float64":
        return pd.Series([np.nan if m else float(v) for v, m in zip(cells, missing)], dtype="float64",
                         index=values.index)
    if dtype in ("Int64", "boolean"):
        return pd.Series(pd.array([None if m else v for v, m in zip(cells, missing)], dtype=dtype),
                         index=values.index)
    if dtype in ("int64", "bool"):
        return cells.astype(dtype)
    return pd.Series([None if m else v for v, m in zip(cells, missing)], dtype="object", index=values.index)


def _insert_table(
    con: duckdb.DuckDBPyConnection, schema: TableSchema, frame: pd.DataFrame, study: str, snapshot: int
) -> None:
    out = pd.DataFrame({"study": study, "snapshot": snapshot, "row_no": np.arange(1, len(frame) + 1)})
    frame = frame.reset_index(drop=True)
    for col in schema.columns:
        values = frame[col.name] if col.name in frame.columns else pd.Series([None] * len(frame), dtype="object")
        if col.kind in ("str", "category", "date"):
            out[col.name] = pd.Series(_text_cells(values), dtype="object")
        elif col.kind == "bool":
            out[col.name] = values.astype("boolean")
        elif col.kind == "int":
            out[col.name] = pd.to_numeric(values).astype("Int64")
        else:
            out[col.name] = pd.to_numeric(values).astype("float64")
    extra = [c for c in frame.columns if c not in schema.names] if schema.keep_extra_columns else []
    if schema.keep_extra_columns:
        records = frame[extra].to_dict(orient="records") if extra else [{}] * len(frame)
        out["covariates"] = [json.dumps({k: _json_value(v) for k, v in r.items()}, allow_nan=False) for r in records]
    kept = [c for c in schema.names if c in frame.columns] + extra
    types = [[study, snapshot, schema.name, i, str(name), _dtype_name(frame[name])] for i, name in enumerate(kept)]
    if types:
        con.executemany("INSERT INTO snapshot_columns VALUES (?, ?, ?, ?, ?, ?)", types)
    con.register("incoming", out)
    try:
        con.execute(f"INSERT INTO t_{schema.name} BY NAME SELECT * FROM incoming")  # by name: added columns sit last
    finally:
        con.unregister("incoming")


_KIND_DTYPE = {"str": "str", "category": "str", "date": "str", "int": "Int64", "bool": "boolean",
               "float": "float64", "day": "float64"}
"""The dtype :func:`cartscope.cohort.load.load_cohort` gives each kind of schema column."""


def _read_table(con: duckdb.DuckDBPyConnection, schema: TableSchema, study: str, snapshot: int) -> pd.DataFrame:
    """One stored table in the columns, order and dtypes it was stored with."""
    frame = con.execute(
        f"SELECT * FROM t_{schema.name} WHERE study = ? AND snapshot = ? ORDER BY row_no", [study, snapshot]
    ).df()
    frame = frame.drop(columns=["study", "snapshot", "row_no"], errors="ignore").reset_index(drop=True)
    recorded = con.execute(
        "SELECT name, dtype FROM snapshot_columns WHERE study = ? AND snapshot = ? AND tbl = ? ORDER BY position",
        [study, snapshot, schema.name],
    ).fetchall() if _has_column_types(con) else []
    covariates = pd.DataFrame(index=frame.index)
    if schema.keep_extra_columns:
        rows = [{k: _from_json(v) for k, v in json.loads(v).items()} for v in frame.pop("covariates")]
        covariates = pd.DataFrame(rows, index=frame.index, dtype="object") if rows else covariates
    if recorded:
        columns: dict[str, pd.Series] = {}
        for name, dtype in recorded:
            source = frame if name in schema.names else covariates
            if name in source.columns:
                columns[name] = _restore(source[name], dtype)
            else:  # a covariate with no row (an empty table)
                columns[name] = _restore(pd.Series([], dtype="object"), dtype)
        return pd.DataFrame(columns, index=frame.index) if columns else pd.DataFrame(index=frame.index)
    # a store written before column types were recorded: the loader's dtype of each kind
    out = {c.name: _restore(frame[c.name], _KIND_DTYPE[c.kind]) for c in schema.columns
           if c.name in frame.columns and c.kind != "date"}
    for name in covariates.columns:
        cells = covariates[name]
        numeric = cells.notna().any() and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in cells.dropna())
        out[name] = _restore(cells, "float64" if numeric else "str")
    return pd.DataFrame(out, index=frame.index)


def _has_column_types(con: duckdb.DuckDBPyConnection) -> bool:
    return _has_table(con, "snapshot_columns")
