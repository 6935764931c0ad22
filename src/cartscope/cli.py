"""The ``cartscope`` command line: a thin shell over the layers below (no statistics here).

Every command prints problems as ``file:row:column: message`` and exits non-zero on error;
no command shows a traceback for bad input.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:  # pragma: no cover
    from cartscope.cohort.problems import Problem
    from cartscope.analysis.protocol import Protocol
    from cartscope.cohort.model import Cohort
    from cartscope.cohort.summary import CohortSummary
    from cartscope.report.html import PendingReport
    from cartscope.report.render import FigurePool

app = typer.Typer(
    name="cartscope",
    help="CAR-T cell therapy outcome research: validate, store, analyse and report a cohort.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _cohort_error() -> type[Exception]:
    """The cohort layer's error class, imported when an exception is being matched: the
    cohort package pulls in pandas, which ``cartscope --help`` should not wait for."""
    from cartscope.cohort.problems import CohortError

    return CohortError


# printed data (paths, values, problem locations such as file:100:col) is never read as markup or emoji
console = Console(highlight=False, markup=False, emoji=False)
err_console = Console(stderr=True, highlight=False, markup=False, emoji=False)


def _print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        style = "red" if problem.is_error else "yellow"
        err_console.print(str(problem), style=style, markup=False, soft_wrap=True)


def _fail_on(problems: list[Problem]) -> None:
    _print_problems(problems)
    if any(p.is_error for p in problems):
        n = sum(p.is_error for p in problems)
        err_console.print(f"{n} error(s); nothing was changed.", style="bold red")
        raise typer.Exit(1)


DateOrderOption = Annotated[str | None, typer.Option(
    "--date-order", help="DMY | MDY | YMD: order of dates whose values do not decide it")]
CutoffOption = Annotated[str | None, typer.Option(
    "--data-cutoff", help="YYYY-MM-DD: leave out later records and censor follow-up there")]


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="cohort folder, XLSX workbook or Parquet folder")],
    date_order: DateOrderOption = None,
    data_cutoff: CutoffOption = None,
) -> None:
    """Check a cohort and list every problem as file:row:column: message."""
    from cartscope.cohort.validate import validate as run_validate

    problems = run_validate(path, date_order=date_order, data_cutoff=data_cutoff)
    _print_problems(problems)
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    if errors:
        err_console.print(f"{errors} error(s), {warnings} warning(s)", style="bold red")
        raise typer.Exit(1)
    console.print(f"OK: no errors ({warnings} warning(s)) in {path}")


@app.command(name="import")
def import_(
    path: Annotated[Path, typer.Argument(help="cohort folder, XLSX workbook or Parquet folder")],
    db: Annotated[Path, typer.Option("--db", help="DuckDB file (created if missing)")] = Path("study.duckdb"),
    study: Annotated[str | None, typer.Option(help="study name (default: the input's name)")] = None,
    date_order: DateOrderOption = None,
    data_cutoff: CutoffOption = None,
) -> None:
    """Import a cohort into the DuckDB store, all or nothing."""
    from cartscope.cohort.load import load_cohort_with_problems
    from cartscope.cohort.store import store_cohort

    try:
        cohort, warnings = load_cohort_with_problems(path, date_order=date_order, data_cutoff=data_cutoff)
        _print_problems(warnings)  # the load warnings, as validate prints them
        report = store_cohort(cohort, db, study=study or path.stem, source=str(path))
    except _cohort_error() as exc:
        _fail_on(exc.problems)
        return
    console.print(report.describe())


@app.command()
def synth(
    preset: Annotated[str, typer.Argument(help="jin2023 | li2023 | lu2021")],
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("cohort"),
    seed: Annotated[int, typer.Option("--seed", help="random seed")] = 2023,
    fmt: Annotated[str, typer.Option("--format", help="csv | xlsx | parquet")] = "csv",
) -> None:
    """Write a seeded synthetic cohort calibrated to a reference study."""
    from cartscope.analysis.presets import PRESETS, synthesize
    from cartscope.cohort.write import write_cohort

    if preset not in PRESETS:
        err_console.print(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}", style="red")
        raise typer.Exit(2)
    cohort = synthesize(preset, seed=seed)
    written = write_cohort(cohort, out, fmt=fmt)
    console.print(f"wrote {preset} cohort (seed {seed}) to {written}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("cartscope-demo"),
    seed: Annotated[int, typer.Option("--seed", help="random seed")] = 2023,
) -> None:
    """Generate the jin2023 synthetic cohort, store it in DuckDB, summarise it and run its protocol."""
    from cartscope.analysis.presets import synthesize
    from cartscope.cohort.load import load_cohort
    from cartscope.cohort.store import store_cohort
    from cartscope.cohort.summary import summarize
    from cartscope.cohort.write import write_cohort

    cohort_dir = out / "cohort"
    write_cohort(synthesize("jin2023", seed=seed), cohort_dir, fmt="csv")
    try:
        cohort = load_cohort(cohort_dir)
    except _cohort_error() as exc:
        _fail_on(exc.problems)
        return
    report = store_cohort(cohort, out / "study.duckdb", study="jin2023", source=str(cohort_dir))
    console.print(report.describe())
    _print_summary(summarize(cohort))
    console.print(f"cohort files: {cohort_dir}")
    from cartscope.analysis.protocol import load_protocol

    written = _analyze_and_write(cohort, load_protocol("jin2023"), out / "results", report_dir=out / "report")
    console.print(f"results: {written}")


def _start_report_pool(figure_formats: str | None) -> "FigurePool":
    """The report's figure workers and PDF printer, started now so that their start-up runs
    on the core the analyses leave free; exit 2 on an unknown figure format."""
    from cartscope.report.render import start_figure_pool

    try:
        return start_figure_pool(figure_formats)
    except ValueError as exc:
        err_console.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None


def _analyze_and_write(cohort: "Cohort", protocol: "Protocol", out: Path, report_dir: Path | None = None,
                       figure_formats: str | None = None, pool: "FigurePool | None" = None) -> Path:
    """Run ``protocol`` with a progress bar and write the results (and the report into
    ``report_dir`` when given, its figures in ``figure_formats``, drawn by ``pool`` when the
    caller started it, else by one started here and closed at the end); exit 1 on an
    analysis error. With a report, the patient course is drawn while the analyses run, and
    the results files are written while its PDF prints, after the figures are drawn (the
    drawing is the report's longest step and has both cores)."""
    # the modules, the cohort and the plan, loaded by now, live until the command ends: out
    # of the garbage collector's sight meanwhile (its full collections walked them again and
    # again during the analyses and the report's build), back in it after
    gc.freeze()
    try:
        return _run_and_write(cohort, protocol, out, report_dir, figure_formats, pool)
    finally:
        gc.unfreeze()


def _run_and_write(cohort: "Cohort", protocol: "Protocol", out: Path, report_dir: Path | None,
                   figure_formats: str | None, pool: "FigurePool | None") -> Path:
    """:func:`_analyze_and_write` with the loaded objects frozen."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from cartscope.analysis.results import write_results
    from cartscope.analysis.study import run_study

    columns = (TextColumn("{task.description:<20}", markup=False), BarColumn(), TimeElapsedColumn())
    own = report_dir is not None and pool is None
    if own:  # the report's figure workers start while the analyses run
        pool = _start_report_pool(figure_formats)
    job: PendingReport | None = None
    try:
        if report_dir is not None:  # the patient course is drawn while the analyses run
            from cartscope.report.html import prepare_report

            job = prepare_report(report_dir, cohort=cohort, pool=pool)
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task(protocol.name, total=1.0)

            def step(label: str, fraction: float) -> None:
                bar.update(task, completed=fraction, description=label)

            try:
                results = run_study(cohort, protocol, progress=step,
                                    on_endpoints=None if job is None else
                                    lambda ep, plan: job.start_course(ep, plan.legacy.sections))
            except (ValueError, KeyError, TypeError) as exc:
                err_console.print(f"analysis failed: {exc}", style="red", markup=False)
                raise typer.Exit(1) from None
        from cartscope.cli_protocol import print_status

        ran = int((results.status["status"] == "ran").sum())
        console.print(f"analyses ({ran} of {len(results.status)} ran):")
        print_status(results.status, console)
        failed = results.status[results.status["status"] == "failed"]
        for aid, why in zip(failed["analysis"], failed["reason"]):  # the run goes on, exit 0 (as skips)
            err_console.print(f"analysis {aid!r} failed: {why}", style="red", markup=False)
        console.print(f"{len(results.tables)} tables, {len(results.exclusions)} exclusion(s) with reasons")
        if job is None:
            return write_results(results, out)
        with Progress(*columns, console=err_console, transient=True) as bar:  # figures drawn in worker processes
            task = bar.add_task("report", total=1.0)
            job.progress = lambda label, done: bar.update(task, completed=done, description=label)
            job.build(results)
            written: list[Path] = []
            files = job.finish(meanwhile=lambda: written.append(write_results(results, out)))
            job = None
        console.print(f"report: {files.html}")
        if files.pdf is not None:
            console.print(f"report PDF: {files.pdf}")
        else:
            console.print(f"PDF skipped: {files.pdf_note}", style="yellow", markup=False)
        return written[0]
    finally:
        if job is not None:  # the analyses or the document failed: the print folder goes
            job.close()
        if own and pool is not None:
            pool.close()


@app.command()
def analyze(
    path: Annotated[Path, typer.Argument(help="cohort folder, XLSX workbook, Parquet folder or DuckDB store")],
    protocol: Annotated[str, typer.Option("--protocol", help="protocol YAML file or preset (jin2023, li2023, lu2021)")],
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("results"),
    study: Annotated[str | None, typer.Option("--study", help="study name inside a DuckDB store (default: its only study)")] = None,
    report: Annotated[bool, typer.Option("--report", help="also write the HTML/PDF report into OUT/report")] = False,
    figure_formats: Annotated[str | None, typer.Option("--figure-formats", envvar="CARTSCOPE_FIGURE_FORMATS",
                                                       help="report figure files, comma-separated from svg,pdf,png,pptx (default svg,pdf)")] = None,
    date_order: DateOrderOption = None,
    data_cutoff: CutoffOption = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", envvar="CARTSCOPE_DASK_SCHEDULER",
                                                  help="Dask scheduler address (tcp://host:8786): screens and resampling run there")] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="start a local Dask cluster of N worker processes")] = None,
) -> None:
    """Run a study protocol over a cohort and write tables, exclusions and results.json."""
    # the report's workers and printer start first: their start-up runs on the core that
    # reading the plan, loading the cohort and the analyses leave free
    pool = _start_report_pool(figure_formats) if report else None
    try:
        written = _analyze_command(path, protocol, out, study, report, figure_formats, date_order, data_cutoff,
                                   scheduler, workers, pool)
    finally:
        if pool is not None:
            pool.close()
    console.print(f"results: {written}")


def _analyze_command(path: Path, protocol: str, out: Path, study: str | None, report: bool,
                     figure_formats: str | None, date_order: str | None, data_cutoff: str | None,
                     scheduler: str | None, workers: int | None, pool: "FigurePool | None") -> Path:
    """``analyze`` once its report workers (``pool``) are starting: read and check the plan,
    load the cohort, run and write; exit 2 on a plan error, 1 on a cohort or cluster error."""
    from cartscope.analysis.plan.check import parse_plan, read_text
    from cartscope.analysis.protocol import ProtocolError

    try:  # the file is a plan; its keys and names are checked in one round once the cohort is loaded
        parsed = parse_plan(*read_text(protocol))
    except ProtocolError as exc:
        for line in exc.problems:
            err_console.print(f"{exc.source}: {line}", style="red", markup=False, soft_wrap=True)
        err_console.print(f"{len(exc.problems)} protocol error(s); nothing was run.", style="bold red")
        raise typer.Exit(2) from None
    from cartscope.analysis.distributed import ClusterError, cluster
    from cartscope.cli_protocol import checked_plan, open_cohort

    try:
        cohort = open_cohort(path, study, date_order, data_cutoff)  # the same sources as protocol check / init
    except typer.Exit:
        if not parsed.problems:
            raise
        from cartscope.cli_protocol import print_findings

        print_findings(parsed.problems)  # the plan's own problems too, though its names cannot be checked
        err_console.print(f"{len(parsed.problems)} error(s) in the protocol; nothing was run.", style="bold red")
        raise typer.Exit(2) from None

    proto, _ = checked_plan(protocol, cohort)  # every name resolved on this cohort; exit 2 on an error
    try:
        with cluster(scheduler, workers):
            return _analyze_and_write(cohort, proto, out, report_dir=out / "report" if report else None,
                                      figure_formats=figure_formats, pool=pool)
    except ClusterError as exc:
        err_console.print(str(exc), style="red", markup=False)
        raise typer.Exit(1) from None


@app.command()
def reproduce(
    out: Annotated[Path, typer.Option("--out", help="Markdown file to write")] = Path("docs/reproduction.md"),
    seed: Annotated[int, typer.Option("--seed", help="seed of the synthetic cohorts")] = 2023,
) -> None:
    """Run every preset on its synthetic cohort and write published vs cartscope tables."""
    from cartscope.analysis.reproduction import write_reproduction

    console.print(f"wrote {write_reproduction(out, seed=seed)}")


def _print_summary(summary: "CohortSummary") -> None:
    from rich.table import Table

    rows = Table(title="Rows per table")
    rows.add_column("table")
    rows.add_column("rows", justify="right")
    for rec in summary.rows.itertuples():
        rows.add_row(rec.table, str(rec.rows) if rec.present else "-")
    console.print(rows)

    groups = Table(title="Patients by disease group and cohort")
    for col in ("group", "cohort", "patients"):
        groups.add_column(col, justify="right" if col == "patients" else "left")
    for rec in summary.groups.itertuples():
        groups.add_row(rec.group, rec.cohort, str(rec.patients))
    console.print(groups)

    follow = Table(title="Observed follow-up, days")
    for col in ("group", "patients", "median (range)"):
        follow.add_column(col)
    for rec in summary.followup.itertuples():
        follow.add_row(
            rec.group,
            str(rec.patients),
            f"{rec.followup_median_days:g} ({rec.followup_min_days:g}-{rec.followup_max_days:g})",
        )
    console.print(follow)


@app.command()
def bench(
    cases: Annotated[str, typer.Option("--cases", help="comma-separated: screen,screen_large,fisher,resampling,delong,km,cox,study,study_stages, or all")] = "all",
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="runs per measurement (median)")] = 5,
    quick: Annotated[bool, typer.Option("--quick", help="tiny sizes: a smoke run in seconds")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="write the Markdown report here")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the JSON results here")] = None,
    seed: Annotated[int, typer.Option("--seed", help="random seed of the synthetic data")] = 2024,
    from_json: Annotated[Path | None, typer.Option(
        "--from-json", help="time nothing: render the tables (and --out) from a run's JSON")] = None,
) -> None:
    """Time cartscope against R and Python peers on the same data and print the ratios."""
    from rich.table import Table

    from cartscope.bench import parse_cases, run_bench
    from cartscope.bench.report import BenchReport

    if from_json is not None:
        report = BenchReport.read_json(from_json)
    else:
        try:
            names = parse_cases(cases)
        except ValueError as exc:
            err_console.print(str(exc), style="red")
            raise typer.Exit(2) from None
        command = f"cartscope bench --cases {','.join(names)} --repeats {repeats}" + (" --quick" if quick else "")
        report = run_bench(
            names, repeats=repeats, quick=quick, seed=seed, command=command,
            progress=lambda msg: err_console.print(msg, style="dim"),
        )
    for title, header, rows in report.tables():
        table = Table(title=title)
        for col in header:
            table.add_column(col)
        for row in rows:
            table.add_row(*row)
        console.print(table)
    if out is not None:
        console.print(f"wrote {report.write_markdown(out)}")
    if json_out is not None:
        console.print(f"wrote {report.write_json(json_out)}")


@app.command()
def serve(
    db: Annotated[Path, typer.Option("--db", help="DuckDB study store (created on first upload)")] = Path("study.duckdb"),
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="port to listen on")] = 8000,
    secure_cookies: Annotated[bool, typer.Option(
        "--secure-cookies/--no-secure-cookies", help="send the session cookie over HTTPS only (use behind TLS)")] = False,
    secret_key_file: Annotated[Path | None, typer.Option(
        "--secret-key-file", help="file with the session secret (default: <db>.web.key, created if missing)")] = None,
    max_upload_mb: Annotated[int, typer.Option("--max-upload-mb", min=1, help="largest upload accepted")] = 50,
    job_workers: Annotated[int, typer.Option("--job-workers", min=1, help="analyses run at the same time")] = 2,
    job_time_s: Annotated[float, typer.Option("--job-time-s", min=10, help="time limit of one analysis")] = 1800.0,
    job_memory_mb: Annotated[int, typer.Option("--job-memory-mb", min=512, help="memory limit of one analysis")] = 4096,
    trusted_proxy: Annotated[list[str] | None, typer.Option(
        "--trusted-proxy", help="address or network of a reverse proxy whose X-Forwarded-For is believed")] = None,
) -> None:
    """Start the web application (sign in, upload, analyse, read reports and patient pages)."""
    import logging

    import uvicorn

    from cartscope.web import create_app
    from cartscope.web.accounts import Accounts
    from cartscope.web.config import default_accounts_db, load_or_create_secret
    from cartscope.web.db import Database

    key_file = secret_key_file or db.with_name(db.stem + ".web.key")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    application = create_app(db, secret_key=load_or_create_secret(key_file), secure_cookies=secure_cookies,
                             max_upload_bytes=max_upload_mb * 2**20, job_workers=job_workers, job_time_s=job_time_s,
                             job_memory_mb=job_memory_mb, trusted_proxies=tuple(trusted_proxy or ()))
    if not Accounts(Database(default_accounts_db(db))).users():
        err_console.print(f"no accounts yet: create the first with  cartscope user add NAME --admin --db {db}",
                          style="yellow")
    console.print(f"cartscope on http://{host}:{port}  (store {db})")
    uvicorn.run(application, host=host, port=port, access_log=False, log_level="info")


redcap_app = typer.Typer(help="REDCap exports: starter mappings and API downloads.", no_args_is_help=True)
app.add_typer(redcap_app, name="redcap")


@redcap_app.command("map")
def redcap_map(
    dictionary: Annotated[Path, typer.Option("--dictionary", help="REDCap data dictionary CSV")],
    out: Annotated[Path | None, typer.Option("--out", help="write the mapping here (default: print it)")] = None,
) -> None:
    """Write a starter mapping from REDCap forms and fields to cohort tables."""
    from cartscope.cohort.redcap_map import redcap_map_command

    text, problems = redcap_map_command(str(dictionary), str(out) if out else None)
    _fail_on(problems)
    if out is None:
        console.print(text, end="")
    else:
        console.print(f"wrote {out}")


@redcap_app.command("fetch")
def redcap_fetch(
    url: Annotated[str, typer.Option("--url", help="REDCap API address (https://.../api/)")],
    out: Annotated[Path, typer.Option("--out", help="folder for records.csv and dictionary.csv")] = Path("redcap"),
    token_env: Annotated[str, typer.Option("--token-env", help="environment variable holding the token")] = "REDCAP_API_TOKEN",
) -> None:
    """Download records and the data dictionary through the REDCap API (token from the environment)."""
    from cartscope.cohort.redcap_api import ApiError, fetch_export

    try:
        records, dictionary = fetch_export(url, token_env)
    except ApiError as exc:
        err_console.print(str(exc), style="red")
        raise typer.Exit(1) from None
    out.mkdir(parents=True, exist_ok=True)
    (out / "records.csv").write_bytes(records)
    (out / "dictionary.csv").write_bytes(dictionary)
    console.print(f"wrote {out / 'records.csv'} and {out / 'dictionary.csv'}")


from cartscope.cli_protocol import protocol_app  # noqa: E402

app.add_typer(protocol_app, name="protocol")

from cartscope.web.audit_cli import audit_app, configure_process  # noqa: E402

app.add_typer(audit_app, name="audit")
app.callback()(configure_process)  # input limits from CARTSCOPE_INPUT_LIMITS; fontTools' INFO lines off

user_app = typer.Typer(help="Accounts of the web application.", no_args_is_help=True)
app.add_typer(user_app, name="user")


def _accounts(db: Path):
    from cartscope.web.accounts import Accounts
    from cartscope.web.config import default_accounts_db
    from cartscope.web.db import Database

    return Accounts(Database(default_accounts_db(db)))


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="user name")],
    db: Annotated[Path, typer.Option("--db", help="DuckDB study store the server uses")] = Path("study.duckdb"),
    role: Annotated[str, typer.Option("--role", help="admin | analyst | viewer")] = "viewer",
    admin: Annotated[bool, typer.Option("--admin", help="same as --role admin")] = False,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from standard input")] = False,
) -> None:
    """Create an account (the first administrator is created this way)."""
    import sys

    from cartscope.web.accounts import AccountError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = _accounts(db).add_user(name, password, "admin" if admin else role)  # type: ignore[arg-type]
    except AccountError as exc:
        err_console.print(str(exc), style="red", markup=False)
        raise typer.Exit(1) from None
    console.print(f"created {user.role} {user.username}")


@user_app.command("list")
def user_list(db: Annotated[Path, typer.Option("--db", help="DuckDB study store the server uses")] = Path("study.duckdb")) -> None:
    """List accounts with their role and studies."""
    for row in _accounts(db).users():
        state = "" if row["active"] else " (inactive)"
        console.print(f"{row['username']}\t{row['role']}{state}\t{row['studies'] or ''}", markup=False)


@user_app.command("grant")
def user_grant(
    name: Annotated[str, typer.Argument(help="user name")],
    study: Annotated[str, typer.Argument(help="study name")],
    db: Annotated[Path, typer.Option("--db", help="DuckDB study store the server uses")] = Path("study.duckdb"),
) -> None:
    """Make a user a member of a study."""
    from cartscope.web.accounts import AccountError

    try:
        _accounts(db).add_member(study, name)
    except AccountError as exc:
        err_console.print(str(exc), style="red", markup=False)
        raise typer.Exit(1) from None
    console.print(f"{name} is a member of {study}")


def main() -> None:
    """The ``cartscope`` command: runs ``app``, then ends the process without tearing the
    interpreter down.

    Why: once a command has returned, its files are closed and its output written, and what
    is left is the interpreter's teardown of every imported module, about 1.3 s after
    ``analyze`` (pandas, SciPy and numba's compiled kernels, measured from the command's
    return to the process's end) for nothing a user can see. What the teardown would do
    that matters is still done, in its order: threads that are not daemons are joined, the
    exit handlers run (multiprocessing's, logging's, the finalizers that remove temporary
    folders) and the standard streams are flushed. An exception that escapes the command
    ends the process the normal way, with its traceback."""
    try:
        app()
        code: object = 0
    except SystemExit as exc:  # typer ends every run with SystemExit
        code = exc.code
    _end_process(code)


def _end_process(code: object) -> None:
    """End the process with ``code`` (as ``sys.exit`` reads it) after what the interpreter's
    exit does first, in its order: ``threading``'s exit hooks (a thread pool left open is
    stopped) and the joins of the threads that are not daemons, then the exit handlers, then
    the flush of the standard streams (see :func:`main`)."""
    import atexit
    import threading

    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)  # what sys.exit does with a message
        code = 1
    shutdown = getattr(threading, "_shutdown", None)  # what the interpreter's exit runs first
    if shutdown is not None:  # its exit hooks (e.g. thread pools' stop), then the joins
        shutdown()
    else:  # pragma: no cover - an interpreter without it
        for thread in threading.enumerate():
            if thread is not threading.main_thread() and not thread.daemon:
                thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: nothing more can be written
            pass
    os._exit(code or 0)


if __name__ == "__main__":  # pragma: no cover
    main()
