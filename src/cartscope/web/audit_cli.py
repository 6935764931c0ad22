"""``cartscope audit verify``: check the web application's tamper-evident audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

def configure_process() -> None:
    """Process-wide settings of the command line: input limits from ``CARTSCOPE_INPUT_LIMITS``
    (an unknown or malformed limit stops with a message) and fontTools' INFO chatter off
    (it logged thousands of lines per report).

    The limits module is imported only when there is something to set: it imports
    :mod:`cartscope.cohort` and with it pandas (about a second), and the commands that need
    neither, or that start work before loading a cohort (``analyze --report`` starts its
    figure workers and PDF printer first), would wait for it. A process that has imported it
    already (the command run in-process, as tests do) is set from the variable every time."""
    import logging
    import os
    import sys

    logging.getLogger("fontTools").setLevel(logging.WARNING)
    if "cartscope.cohort.input_limits" not in sys.modules and not os.environ.get("CARTSCOPE_INPUT_LIMITS", "").strip():
        return  # the defaults are in force in a process that never changed them
    from cartscope.cohort import input_limits

    try:
        input_limits.configure(input_limits.limits_from_env())
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise SystemExit(2) from None


audit_app = typer.Typer(help="The web application's audit log.", no_args_is_help=True)


@audit_app.command("verify")
def verify(
    db: Annotated[Path, typer.Option("--db", help="DuckDB study store the server uses")] = Path("study.duckdb"),
    accounts_db: Annotated[Path | None, typer.Option("--accounts-db", help="application database "
                                                      "(default: <db>.web.sqlite beside the store)")] = None,
) -> None:
    """Recompute the audit log's hash chain; exit 1 and name the first broken entry if it was altered."""
    from cartscope.web.audit import verify_chain
    from cartscope.web.config import default_accounts_db
    from cartscope.web.db import Database

    path = accounts_db or default_accounts_db(db)
    if not path.is_file():
        typer.echo(f"{path}: no application database here (give --db or --accounts-db)", err=True)
        raise typer.Exit(2)
    report = verify_chain(Database(path))
    typer.echo(report.describe())
    if not report.ok:
        raise typer.Exit(1)
