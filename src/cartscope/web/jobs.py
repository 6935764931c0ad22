"""Analyses run as background jobs: a small thread pool, with status and progress kept in the
application database so every page (and a restarted server) sees the same state.

A job loads its study snapshot, runs :func:`cartscope.analysis.study.run_study` with a
progress callback, writes the results with :func:`cartscope.analysis.results.write_results`
and, when the report package provides ``write_report``, the HTML report beside them. A job
left ``queued`` or ``running`` by a stopped server is marked failed at the next start.
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
from cartscope.analysis.results import write_results
from cartscope.analysis.study import run_study
from cartscope.web.accounts import now_iso
from cartscope.web.audit import AuditLog
from cartscope.web.db import Database
from cartscope.web.store import StudyStore

log = logging.getLogger("cartscope.web.jobs")

ReportWriter = Callable[[Any, Path], Any]


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


def _report_entry(written: Any, report_dir: Path) -> str | None:
    """The report's main HTML file, relative to ``report_dir``."""
    candidates: list[Path] = []
    written = getattr(written, "html", written)  # a ReportFiles record names its HTML page
    if isinstance(written, (str, Path)) and Path(written).is_file():
        candidates.append(Path(written))
    candidates += [report_dir / "index.html", report_dir / "report.html", *sorted(report_dir.glob("*.html"))]
    for path in candidates:
        if path.is_file() and path.resolve().is_relative_to(report_dir.resolve()):
            return path.resolve().relative_to(report_dir.resolve()).as_posix()
    return None


class JobRunner:
    def __init__(self, db: Database, store: StudyStore, results_dir: Path, audit: AuditLog, workers: int = 2,
                 report_writer: ReportWriter | None | bool = True):
        self.db = db
        self.store = store
        self.results_dir = Path(results_dir)
        self.audit = audit
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="cartscope-job")
        self._futures: dict[int, Future] = {}
        self._writer = find_report_writer() if report_writer is True else (report_writer or None)
        with self.db.connect() as con:
            con.execute(
                "UPDATE jobs SET status = 'failed', error = 'the server stopped before the analysis finished; run it again', "
                "finished_at = ? WHERE status IN ('queued', 'running')", [now_iso()]
            )

    def folder(self, job_id: int) -> Path:
        return self.results_dir / f"job-{int(job_id)}"

    def submit(self, *, study: str, snapshot: int, protocol: Protocol, protocol_name: str, username: str) -> int:
        with self.db.connect() as con:
            cur = con.execute(
                "INSERT INTO jobs (study, snapshot, protocol, protocol_yaml, status, created_by, created_at) "
                "VALUES (?, ?, ?, ?, 'queued', ?, ?)",
                [study, int(snapshot), protocol_name, protocol.to_yaml(), username, now_iso()],
            )
            job_id = int(cur.lastrowid)
        self._futures[job_id] = self._pool.submit(self._run, job_id, study, int(snapshot), protocol, username)
        return job_id

    def wait(self, job_id: int, timeout: float | None = None) -> None:
        future = self._futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def job(self, job_id: int) -> dict | None:
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

    def _run(self, job_id: int, study: str, snapshot: int, protocol: Protocol, username: str) -> None:
        out = self.folder(job_id)
        try:
            self._update(job_id, status="running", step="loading the cohort", progress=0.0)
            cohort = self.store.load(study, snapshot)

            def progress(label: str, fraction: float) -> None:
                self._update(job_id, step=label, progress=round(0.05 + 0.85 * float(fraction), 4))

            results = run_study(cohort, protocol, progress=progress)
            self._update(job_id, step="writing tables", progress=0.9)
            if out.exists():
                shutil.rmtree(out)
            write_results(results, out)
            (out / "protocol.yaml").write_text(protocol.to_yaml(), encoding="utf-8")
            report, note = None, None
            if self._writer is None:
                note = "The HTML report is not available in this installation yet; the result tables below are complete."
            else:
                self._update(job_id, step="writing the report", progress=0.95)
                try:
                    written = self._writer(results, out / "report")
                    report = _report_entry(written, out / "report")
                    if report is None:
                        note = "The report was written but has no HTML page."
                except Exception as exc:  # the tables stand on their own when the report fails
                    log.warning("job %s: report failed (%s)", job_id, type(exc).__name__)
                    note = f"The report could not be written ({type(exc).__name__}: {exc}); the result tables are complete."
            self._update(job_id, status="done", step="done", progress=1.0, report=report, report_note=note,
                         finished_at=now_iso())
            self.audit.record("analysis_finished", username=username, study=study, target=f"job {job_id}")
        except Exception as exc:
            log.warning("job %s failed (%s)", job_id, type(exc).__name__)
            self._update(job_id, status="failed", error=f"{type(exc).__name__}: {exc}", finished_at=now_iso())
            self.audit.record("analysis_finished", username=username, study=study, target=f"job {job_id}",
                              outcome="failed")
