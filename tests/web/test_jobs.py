"""Analysis jobs: a crash fails that job alone; interrupted jobs are resumed once, then failed
with the reason; partial result folders and temporary uploads do not survive a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

import _worker_tasks as tasks
from cartscope.web.accounts import Accounts, now_iso
from cartscope.web.audit import AuditLog
from cartscope.web.db import Database
from cartscope.web.jobs import INTERRUPTED_TWICE, JobRunner
from cartscope.web.store import StudyStore
from conftest import LIGHT_HASHER, PASSWORD


def _setup(tmp_path: Path):
    db = Database(tmp_path / "a.sqlite")
    accounts = Accounts(db, LIGHT_HASHER)
    accounts.add_study("s1", "t", accounts.add_user("ana", PASSWORD, "analyst"))
    return db, StudyStore(tmp_path / "s.duckdb")


def _job(db: Database, status: str, resumed: int) -> int:
    with db.connect() as con:
        cur = con.execute("INSERT INTO jobs (study, snapshot, protocol, protocol_yaml, status, created_by, created_at, "
                          "resumed) VALUES ('s1', 1, 'li2023', 'x: 1', ?, 'ana', ?, ?)", [status, now_iso(), resumed])
        return int(cur.lastrowid)


def test_job_interrupted_twice_is_failed_with_the_reason_and_leftovers_go(tmp_path):
    db, store = _setup(tmp_path)
    twice = _job(db, "running", 1)
    done = _job(db, "done", 0)
    results = tmp_path / "results"
    (results / ".job-7-abcd").mkdir(parents=True)
    runner = JobRunner(db, store, results, AuditLog(db), 1, None)
    try:
        assert runner.job(twice)["status"] == "failed" and runner.job(twice)["error"] == INTERRUPTED_TWICE
        assert runner.job(done)["status"] == "done"
        assert not list(results.glob(".job-*"))
        assert runner.job(2**63) is None and runner.job(-1) is None
    finally:
        runner.shutdown()


def test_leftover_uploads_are_removed_at_start(tmp_path):
    from cartscope.web import create_app

    uploads = tmp_path / "study-web" / "uploads"
    (uploads / "upload-abc").mkdir(parents=True)
    (uploads / "upload-abc" / "patients.csv").write_text("patient_id\np1\n")
    (uploads / "recv-xyz").write_bytes(b"PK")
    (uploads / "keep.txt").write_text("not ours")
    app = create_app(tmp_path / "study.duckdb", secret_key="k" * 32, report_writer=None, password_hasher=LIGHT_HASHER)
    assert sorted(p.name for p in uploads.iterdir()) == ["keep.txt"]
    app.state.web.jobs.shutdown()


@pytest.mark.slow
def test_a_crashing_report_fails_its_job_alone(tmp_path):
    from cartscope.analysis.presets import synthesize
    from cartscope.analysis.protocol import load_protocol
    from cartscope.cohort.load import load_cohort
    from cartscope.cohort.write import write_cohort

    db, store = _setup(tmp_path)
    store.save(load_cohort(write_cohort(synthesize("li2023", seed=2), tmp_path / "c")), "s1", "c")
    crashing = JobRunner(db, store, tmp_path / "results", AuditLog(db), 1, tasks.crashing_report)
    try:
        job = crashing.submit(study="s1", snapshot=1, protocol=load_protocol("li2023"), protocol_name="li2023",
                              username="ana")
        crashing.wait(job, timeout=300)
        row = crashing.job(job)
        assert row["status"] == "failed" and "segmentation fault" in row["error"]
        assert not (tmp_path / "results" / f"job-{job}").exists()  # no half-written result
        again = crashing.submit(study="s1", snapshot=1, protocol=load_protocol("li2023"), protocol_name="li2023",
                                username="ana")
        crashing.wait(again, timeout=300)
        assert crashing.job(again)["status"] == "failed"  # the same crash, and the runner still serves
    finally:
        crashing.shutdown()
    fine = JobRunner(db, store, tmp_path / "results", AuditLog(db), 1, None)
    try:
        job = fine.submit(study="s1", snapshot=1, protocol=load_protocol("li2023"), protocol_name="li2023",
                          username="ana")
        fine.wait(job, timeout=300)
        assert fine.job(job)["status"] == "done", fine.job(job)["error"]
        assert (tmp_path / "results" / f"job-{job}" / "results.json").is_file()
    finally:
        fine.shutdown()
