"""The tasks the web application runs in worker processes (:mod:`cartscope.web.workers`).

Each is a module-level function with picklable arguments, so a fresh interpreter can import
and run it. The server passes the cohort it read from the store (DuckDB is opened by the
server process only) and the protocol as YAML text (the validated model is rebuilt here).
"""

from __future__ import annotations

import inspect
import logging
import shutil
import uuid
from pathlib import Path
from typing import Any

log = logging.getLogger("cartscope.web.tasks")


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


def analysis_task(cohort: Any, protocol_yaml: str, protocol_name: str, out_dir: str,
                  writer: Any = None) -> dict[str, str | None]:
    """Run the protocol on the cohort, write the results (and the report) into ``out_dir``.

    Everything is written into a hidden sibling folder first and renamed into place at the
    end, so ``out_dir`` holds either a complete result or nothing. Returns the report's
    entry page (or None) and a note for the user.
    """
    from cartscope.analysis.protocol import parse_protocol
    from cartscope.analysis.results import write_results
    from cartscope.analysis.study import run_study
    from cartscope.cohort.safe_yaml import load_yaml
    from cartscope.safe_output import private_dir
    from cartscope.web.workers import progress

    protocol = parse_protocol(load_yaml(protocol_yaml, protocol_name), protocol_name)
    out = Path(out_dir)
    work = out.with_name(f".{out.name}-{uuid.uuid4().hex[:8]}")
    private_dir(out.parent)
    try:
        results = run_study(cohort, protocol, progress=lambda label, f: progress(label, 0.05 + 0.85 * float(f)))
        progress("writing tables", 0.9)
        write_results(results, work)
        (work / "protocol.yaml").write_text(protocol.to_yaml(), encoding="utf-8")
        report, note = None, None
        if writer is None:
            note = "The HTML report is not available in this installation yet; the result tables below are complete."
        else:
            progress("writing the report", 0.95)
            try:
                params = inspect.signature(writer).parameters
                kwargs = {"cohort": cohort} if "cohort" in params else {}
                written = writer(results, work / "report", **kwargs)
                report = _report_entry(written, work / "report")
                if report is None:
                    note = "The report was written but has no HTML page."
            except MemoryError:
                raise
            except Exception as exc:  # the tables stand on their own when the report fails
                log.warning("report failed (%s)", type(exc).__name__)
                note = f"The report could not be written ({type(exc).__name__}: {exc}); the result tables are complete."
        if out.exists():
            shutil.rmtree(out)
        work.rename(out)
        return {"report": report, "note": note}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def patient_figures_task(ep_one: Any, infusions: Any, kinetics: Any, labs: Any) -> dict[str, str]:
    """The SVG figures of one patient page (drawn here, never in a server thread)."""
    from cartscope.web.patient import patient_figures

    return patient_figures(ep_one, infusions, kinetics, labs)
