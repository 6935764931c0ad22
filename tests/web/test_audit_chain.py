"""The audit log is a hash chain: any change, deletion or reordering is found by
``cartscope audit verify``; concurrent writers never fork it."""

from __future__ import annotations

import threading

from typer.testing import CliRunner

from cartscope.web.audit import AuditLog, verify_chain
from cartscope.web.db import Database


def _log(tmp_path, n: int = 5) -> tuple[Database, AuditLog]:
    db = Database(tmp_path / "study.web.sqlite")
    log = AuditLog(db)
    for i in range(n):
        log.record("view_patient", username="ana", study="s1", target=f"job 1: patient pt{i:02d}", client="127.0.0.1")
    return db, log


def test_intact_chain_verifies_and_cli_says_so(tmp_path):
    from cartscope.cli import app

    db, log = _log(tmp_path)
    report = verify_chain(db)
    assert report.ok and report.entries == 5 and len(report.head) == 64
    result = CliRunner().invoke(app, ["audit", "verify", "--db", str(tmp_path / "study.duckdb")])
    assert result.exit_code == 0 and "audit log intact: 5 entries" in result.output


def test_concurrent_writers_keep_one_chain(tmp_path):
    db, log = _log(tmp_path, 0)
    threads = [threading.Thread(target=lambda i=i: [log.record("login", username=f"u{i}") for _ in range(10)])
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = verify_chain(db)
    assert report.ok and report.entries == 80


def _tamper(db: Database, sql: str, args=()) -> None:
    with db.connect() as con:
        con.execute(sql, args)


def test_changed_entry_is_found(tmp_path):
    from cartscope.cli import app

    db, _ = _log(tmp_path)
    _tamper(db, "UPDATE audit SET target = 'job 1: patient pt99' WHERE id = 3")
    report = verify_chain(db)
    assert not report.ok and report.broken_at == 3 and "changed" in report.problem
    result = CliRunner().invoke(app, ["audit", "verify", "--db", str(tmp_path / "study.duckdb")])
    assert result.exit_code == 1 and "NOT intact at entry 3" in result.output


def test_deleted_and_reordered_entries_are_found(tmp_path):
    db, _ = _log(tmp_path)
    _tamper(db, "DELETE FROM audit WHERE id = 2")
    report = verify_chain(db)
    assert not report.ok and report.broken_at == 2 and "missing" in report.problem
    (tmp_path / "b").mkdir()
    db2, _ = _log(tmp_path / "b")
    _tamper(db2, "UPDATE audit SET at = '1999-01-01T00:00:00Z' WHERE id = 4")
    assert verify_chain(db2).broken_at == 4


def test_rewritten_id_with_recomputed_hash_still_breaks_the_next_link(tmp_path):
    from cartscope.web.audit import entry_hash

    db, _ = _log(tmp_path)
    with db.connect() as con:
        row = dict(con.execute("SELECT * FROM audit WHERE id = 2").fetchone())
        row["target"] = "nothing to see"
        con.execute("UPDATE audit SET target = ?, hash = ? WHERE id = 2", [row["target"], entry_hash(row, row["prev_hash"])])
    report = verify_chain(db)
    assert not report.ok and report.broken_at == 3


def test_entries_before_the_chain_are_reported_not_failed(tmp_path):
    db = Database(tmp_path / "study.web.sqlite")
    _tamper(db, "INSERT INTO audit (at, username, action, outcome) VALUES ('2020-01-01T00:00:00Z', 'old', 'login', 'ok')")
    AuditLog(db).record("login", username="ana")
    report = verify_chain(db)
    assert report.ok and report.unchained == 1 and report.entries == 1
    assert "1 older entries predate the chain" in report.describe()


def test_missing_database_is_exit_2(tmp_path):
    from cartscope.cli import app

    result = CliRunner().invoke(app, ["audit", "verify", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2
