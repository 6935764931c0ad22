"""A cartscope web server in its own process, for the soak and kill -9 tests.

``python _soak_server.py STORE PORT JOB_WORKERS`` serves the store on 127.0.0.1:PORT with
reports (HTML, no PDF: the soak measures the service, not the browser) and light argon2.
"""

from __future__ import annotations

import sys
from pathlib import Path


def html_report(results, out_dir, cohort=None):
    """The report without its PDF (module level: the analysis worker imports it by name)."""
    from cartscope.report.html import write_report

    return write_report(results, out_dir, cohort=cohort, pdf=False)


def main() -> None:
    import uvicorn
    from argon2 import PasswordHasher

    from cartscope.web import create_app

    import _soak_server  # the writer by its module name, not __main__'s: workers import it

    store, port, workers = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    app = create_app(store, secret_key="soak-test-secret-0123456789abcdef", job_workers=workers,
                     report_writer=_soak_server.html_report, job_memory_mb=3072,
                     password_hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
