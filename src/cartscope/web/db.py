"""The embedded SQLite database of the web application: users, sessions, studies, members,
analysis jobs and the audit log (the cohort data itself lives in the DuckDB study store).

Every call opens its own short connection (WAL journal, busy timeout), so request threads and
analysis threads never share a connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_digest TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    flash TEXT
);
CREATE TABLE IF NOT EXISTS studies (
    name TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
    study TEXT NOT NULL REFERENCES studies(name),
    user_id INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (study, user_id)
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    study TEXT NOT NULL REFERENCES studies(name),
    snapshot INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    protocol_yaml TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    progress REAL NOT NULL DEFAULT 0,
    step TEXT NOT NULL DEFAULT '',
    error TEXT,
    report TEXT,
    report_note TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    username TEXT,
    action TEXT NOT NULL,
    study TEXT,
    target TEXT,
    outcome TEXT NOT NULL,
    client TEXT,
    prev_hash TEXT,
    hash TEXT
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
"""


class Database:
    """Connections to the SQLite file at ``path`` (created with its tables on first use)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():  # password hashes and the audit log: readable by the owner only
            self.path.touch(mode=0o600)
        with self.connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)
            audit_columns = {r[1] for r in con.execute("PRAGMA table_info(audit)").fetchall()}
            for column in ("prev_hash", "hash"):  # databases made before the audit log was chained
                if column not in audit_columns:
                    con.execute(f"ALTER TABLE audit ADD COLUMN {column} TEXT")
            columns = {r[1] for r in con.execute("PRAGMA table_info(jobs)").fetchall()}
            if "resumed" not in columns:  # databases made before jobs were resumed after a restart
                con.execute("ALTER TABLE jobs ADD COLUMN resumed INTEGER NOT NULL DEFAULT 0")

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction: committed on success, rolled back on error."""
        con = sqlite3.connect(self.path, timeout=30.0)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA foreign_keys=ON")
        try:
            with con:
                yield con
        finally:
            con.close()
