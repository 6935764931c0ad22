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

from cartscope.cohort.model import Cohort, UnitConversion
from cartscope.cohort.schema import SCHEMA_VERSION, TABLE_ORDER, TABLES, ColumnKind, TableSchema

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
    """
    digest = hashlib.sha256()
    for name in TABLE_ORDER:
        if name not in cohort.present:
            continue
        frame = cohort.table(name)
        digest.update(f"\x00{name}\x00".encode())
        digest.update(frame.to_csv(index=False, lineterminator="\n", float_format=f"%.{HASH_DIGITS}g").encode())
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
        with closing(duckdb.connect(str(db))) as con:
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


def list_snapshots(db: Path | str) -> pd.DataFrame:
    """One row per stored snapshot: study, snapshot, data hash, import time, source, row counts."""
    with closing(duckdb.connect(str(db), read_only=True)) as con:
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
    for schema in TABLES.values():
        columns = ", ".join(f'"{c.name}" {_SQL_TYPE[c.kind]}' for c in schema.columns)
        extra = ", covariates VARCHAR" if schema.keep_extra_columns else ""
        con.execute(
            f"CREATE TABLE IF NOT EXISTS t_{schema.name} ("
            f" study VARCHAR NOT NULL, snapshot INTEGER NOT NULL, row_no INTEGER NOT NULL,"
            f" {columns}{extra})"
        )


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
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _insert_table(
    con: duckdb.DuckDBPyConnection, schema: TableSchema, frame: pd.DataFrame, study: str, snapshot: int
) -> None:
    out = pd.DataFrame({"study": study, "snapshot": snapshot, "row_no": np.arange(1, len(frame) + 1)})
    for col in schema.columns:
        values = frame[col.name] if col.name in frame.columns else pd.Series([None] * len(frame))
        values = values.reset_index(drop=True)
        if col.kind in ("str", "category", "date"):
            out[col.name] = values.astype("object").where(values.notna(), None).map(
                lambda v: None if v is None else str(v)
            )
        elif col.kind == "bool":
            out[col.name] = values.astype("boolean")
        elif col.kind == "int":
            out[col.name] = pd.to_numeric(values).astype("Int64")
        else:
            out[col.name] = pd.to_numeric(values).astype("float64")
    if schema.keep_extra_columns:
        extra = [c for c in frame.columns if c not in schema.names]
        records = frame[extra].reset_index(drop=True).to_dict(orient="records") if extra else [{}] * len(frame)
        out["covariates"] = [json.dumps({k: _json_value(v) for k, v in r.items()}) for r in records]
    con.register("incoming", out)
    try:
        con.execute(f"INSERT INTO t_{schema.name} SELECT * FROM incoming")
    finally:
        con.unregister("incoming")


def _read_table(con: duckdb.DuckDBPyConnection, schema: TableSchema, study: str, snapshot: int) -> pd.DataFrame:
    frame = con.execute(
        f"SELECT * FROM t_{schema.name} WHERE study = ? AND snapshot = ? ORDER BY row_no", [study, snapshot]
    ).df()
    frame = frame.drop(columns=["study", "snapshot", "row_no", "date"], errors="ignore")
    if schema.keep_extra_columns:
        covariates = pd.DataFrame([json.loads(v) for v in frame.pop("covariates")], index=frame.index)
        frame = pd.concat([frame, covariates], axis=1)
    for col in schema.columns:
        if col.name not in frame.columns:
            continue
        if col.kind == "int":
            frame[col.name] = frame[col.name].astype("Int64")
        elif col.kind == "bool":
            frame[col.name] = frame[col.name].astype("boolean")
        elif col.kind in ("str", "category"):
            frame[col.name] = frame[col.name].astype("str")
    return frame
