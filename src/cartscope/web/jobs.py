"""Analyses run as background jobs, each in a worker process, with status and progress kept
in the application database so every page (and a restarted server) sees the same state.

A job thread of the server reads the study snapshot (the server is the only process that
opens the DuckDB store), hands cohort and protocol to a worker process
(:mod:`cartscope.web.workers`) that runs :func:`cartscope.analysis.study.run_study`, writes
the results and draws the report, and records the outcome. A job that crashes its worker,
runs past its time limit or exhausts its memory limit fails alone, with the reason; the
server and the other jobs go on.

After a restart, jobs left ``queued`` or ``running`` are run again once (they are marked
``resumed``); a job interrupted a second time is marked failed with the reason. Partial
result folders of interrupted jobs are removed.
"""

from __future__ import annotations

import importlib
import logging
import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cartscope.analysis.protocol import Protocol
from cartscope.web.accounts import now_iso
from cartscope.web.audit import AuditLog
from cartscope.web.db import Database
from cartscope.web.store import StudyStore
from cartscope.web.workers import ProcessPool, WorkerFailed, WorkerLimits

log = logging.getLogger("cartscope.web.jobs")

ReportWriter = Callable[[Any, Path], Any]

INTERRUPTED_TWICE = "the server stopped twice while this analysis ran; run it again"


def find_report_writer() -> ReportWriter | None:
    """``write_report(results, out_dir)`` of the report package, if it is installed."""
    for name in ("cartscope.report.html", "cartscope.report"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        writer = getattr(module, "write_report", None)
        if callable(writer):
            return writer
    return None


class JobRunner:
    """Queue of analysis jobs: ``workers`` run at once, each in its own worker process."""

    def __init__(self, db: Database, store: StudyStore, results_dir: Path, audit: AuditLog, workers: int = 2,
                 report_writer: ReportWriter | None | bool = True, limits: WorkerLimits | None = None):
        self.db = db
        self.store = store
        self.results_dir = Path(results_dir)
        self.audit = audit
        self.limits = limits or WorkerLimits()
        self.pool = ProcessPool(workers, self.limits, name="cartscope-analysis")
        self._threads = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="cartscope-job")
        self._futures: dict[int, Future] = {}
        self._writer = find_report_writer() if report_writer is True else (report_writer or None)
        self._stopping = False
        self._remove_partial_folders()
        self._resume_interrupted()

    def folder(self, job_id: int) -> Path:
        return self.results_dir / f"job-{int(job_id)}"

    def _remove_partial_folders(self) -> None:
        if self.results_dir.is_dir():
            for leftover in self.results_dir.glob(".job-*"):
                shutil.rmtree(leftover, ignore_errors=True)

    def _resume_interrupted(self) -> None:
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT id, study, snapshot, protocol, protocol_yaml, created_by, resumed FROM jobs "
                "WHERE status IN ('queued', 'running') ORDER BY id"
            ).fetchall()
            again = []
            for row in rows:
                if row["resumed"]:
                    con.execute("UPDATE jobs SET status = 'failed', error = ?, finished_at = ? WHERE id = ?",
                                [INTERRUPTED_TWICE, now_iso(), row["id"]])
                else:
                    con.execute("UPDATE jobs SET status = 'queued', resumed = 1, progress = 0, "
                                "step = 'queued again after a server restart' WHERE id = ?", [row["id"]])
                    again.append(dict(row))
        for row in again:
            log.info("job %s: resumed after a restart", row["id"])
            self._start(int(row["id"]), row["study"], int(row["snapshot"]), row["protocol_yaml"], row["protocol"],
                        row["created_by"])

    def submit(self, *, study: str, snapshot: int, protocol: Protocol, protocol_name: str, username: str) -> int:
        text = protocol.to_yaml()
        with self.db.connect() as con:
            cur = con.execute(
                "INSERT INTO jobs (study, snapshot, protocol, protocol_yaml, status, created_by, created_at) "
                "VALUES (?, ?, ?, ?, 'queued', ?, ?)",
                [study, int(snapshot), protocol_name, text, username, now_iso()],
            )
            job_id = int(cur.lastrowid)
        self._start(job_id, study, int(snapshot), text, protocol_name, username)
        return job_id

    def _start(self, job_id: int, study: str, snapshot: int, text: str, name: str, username: str) -> None:
        self._futures[job_id] = self._threads.submit(self._run, job_id, study, snapshot, text, name, username)

    def wait(self, job_id: int, timeout: float | None = None) -> None:
        future = self._futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout)

    def shutdown(self) -> None:
        """Stop: running jobs stay ``running`` in the database and are resumed at the next start."""
        self._stopping = True
        self._threads.shutdown(wait=False, cancel_futures=True)
        self.pool.shutdown()

    def job(self, job_id: int) -> dict | None:
        if not 0 <= int(job_id) < 2**63:
            return None
        with self.db.connect() as con:
            row = con.execute("SELECT * FROM jobs WHERE id = ?", [int(job_id)]).fetchone()
        return None if row is None else dict(row)

    def jobs(self, study: str) -> list[dict]:
        with self.db.connect() as con:
            rows = con.execute("SELECT * FROM jobs WHERE study = ? ORDER BY id DESC", [study]).fetchall()
        return [dict(r) for r in rows]

    def _update(self, job_id: int, **fields: Any) -> None:
        cols = ", ".join(f"{k} = ?" for k in fields)
        with self.db.connect() as con:
            con.execute(f"UPDATE jobs SET {cols} WHERE id = ?", [*fields.values(), job_id])

    def _run(self, job_id: int, study: str, snapshot: int, protocol_yaml: str, protocol_name: str,
             username: str) -> None:
        from cartscope.web.tasks import analysis_task

        try:
            self._update(job_id, status="running", step="loading the cohort", progress=0.0)
            cohort = self.store.load(study, snapshot)

            def progress(label: str, fraction: float) -> None:
                self._update(job_id, step=label, progress=round(float(fraction), 4))

            outcome = self.pool.run(analysis_task, cohort, protocol_yaml, protocol_name, str(self.folder(job_id)),
                                    self._writer, on_progress=progress)
            self._update(job_id, status="done", step="done", progress=1.0, report=outcome["report"],
                         report_note=outcome["note"], error=None, finished_at=now_iso())
            self.audit.record("analysis_finished", username=username, study=study, target=f"job {job_id}")
        except Exception as exc:
            if self._stopping:
                log.info("job %s: interrupted by the server stopping; resumed at the next start", job_id)
                return
            reason = exc.reason if isinstance(exc, WorkerFailed) else f"{type(exc).__name__}: {exc}"
            log.warning("job %s failed (%s)", job_id, type(exc).__name__)
            self._update(job_id, status="failed", error=reason, finished_at=now_iso())
            self.audit.record("analysis_finished", username=username, study=study, target=f"job {job_id}",
                              outcome="failed")
