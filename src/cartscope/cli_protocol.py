"""``cartscope protocol check | init | explain``: the analysis-plan commands (no statistics here).

``check`` reads the plan, resolves every name against the language and the cohort and prints
each finding as ``file: key.path: message``; exit 2 on any error (nothing is run), 0 otherwise
(warnings are printed). ``init`` writes a commented starter plan from what the cohort holds.
``explain`` prints the plan in words.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

protocol_app = typer.Typer(help="Analysis plans: check, write a starter plan, explain.", no_args_is_help=True)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def print_findings(findings) -> None:
    """Each finding on its own line, errors red, warnings and notes yellow (never as markup)."""
    for p in findings:
        err_console.print(str(p), style="red" if p.is_error else "yellow", markup=False, soft_wrap=True)


STORE_SUFFIXES = (".duckdb", ".db")


def open_cohort(path: Path, study: str | None = None, date_order: str | None = None,
                data_cutoff: str | None = None, show_warnings: bool = False):
    """The cohort at ``path``: a folder, workbook, Parquet folder or manifest (loaded and
    validated), or a DuckDB store (its study ``study``, latest snapshot; without ``study`` the
    store's only study). Every command that reads a cohort (``analyze``, ``protocol check``,
    ``protocol init``) accepts the same sources through this function. Problems are printed as
    ``file:row:column: message``; exit 1 on an error (warnings too with ``show_warnings``)."""
    from cartscope.cohort.problems import CohortError

    if path.suffix.lower() in STORE_SUFFIXES or (study is not None and path.is_file()):
        return _store_cohort(path, study)
    if study is not None:
        err_console.print(f"{path}: --study names a study inside a DuckDB store (.duckdb); {path} is not one",
                          style="red", markup=False, soft_wrap=True)
        raise typer.Exit(1)
    from cartscope.cohort.load import load_cohort_with_problems

    try:
        cohort, warnings = load_cohort_with_problems(path, date_order=date_order, data_cutoff=data_cutoff)
    except CohortError as exc:
        print_problems(exc.problems)
        n = sum(p.is_error for p in exc.problems)
        err_console.print(f"{n} error(s) in the cohort; nothing was run.", style="bold red")
        raise typer.Exit(1) from None
    if show_warnings:
        print_problems(warnings)
    return cohort


def print_problems(problems) -> None:
    """Cohort problems, one per line, errors red and warnings yellow (never as markup)."""
    for problem in problems:
        err_console.print(str(problem), style="red" if problem.is_error else "yellow", markup=False, soft_wrap=True)


def _store_cohort(path: Path, study: str | None):
    from cartscope.analysis.plan.messages import suggest
    from cartscope.cohort.store import list_snapshots, load_snapshot

    if not path.is_file():
        err_console.print(f"{path}: no such DuckDB store", style="red", markup=False, soft_wrap=True)
        raise typer.Exit(1)
    try:
        studies = sorted(set(list_snapshots(path)["study"].astype(str)))
    except Exception as exc:  # noqa: BLE001 - not a DuckDB file, or a damaged one: say so, no traceback
        err_console.print(f"{path}: cannot be read as a DuckDB store ({type(exc).__name__}: {exc})",
                          style="red", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    listing = ", ".join(studies) or "none (import one with `cartscope import PATH --db STORE`)"
    if study is None:
        if len(studies) != 1:
            err_console.print(f"{path}: holds {len(studies)} studies; name one with --study (studies: {listing})",
                              style="red", markup=False, soft_wrap=True)
            raise typer.Exit(1)
        study = studies[0]
    if study not in studies:
        err_console.print(f"{path}: no study {study!r}{suggest(study, studies)}; studies in this store: {listing}",
                          style="red", markup=False, soft_wrap=True)
        raise typer.Exit(1)
    return load_snapshot(path, study)


def checked_plan(spec: str, cohort):
    """The plan ``spec`` (file or preset) checked on ``cohort``: prints every finding and exits 2
    on an error. Used by ``protocol check`` and ``analyze``."""
    from cartscope.analysis.plan.check import PlanError, load_and_check

    try:
        plan, findings = load_and_check(spec, cohort)
    except PlanError as exc:
        print_findings(exc.findings)
        n = sum(p.is_error for p in exc.findings)
        err_console.print(f"{n} error(s) in the protocol; nothing was run.", style="bold red")
        raise typer.Exit(2) from None
    print_findings(findings)
    return plan, findings


CohortOption = Annotated[Path, typer.Option(
    "--cohort", help="cohort folder, XLSX workbook, Parquet folder, manifest or DuckDB store (.duckdb)")]
StudyOption = Annotated[str | None, typer.Option(
    "--study", help="study name inside a DuckDB store (default: its only study)")]
DateOrderOption = Annotated[str | None, typer.Option(
    "--date-order", help="DMY | MDY | YMD: order of dates whose values do not decide it")]
CutoffOption = Annotated[str | None, typer.Option(
    "--data-cutoff", help="YYYY-MM-DD: leave out later records and censor follow-up there")]


def print_status(status, console_=None) -> None:
    """Each analysis of the plan by its id with its kind and status (ran, skipped: why, failed: why)."""
    out = console_ or console
    for rec in status.itertuples():
        why = f": {rec.reason}" if rec.status != "ran" and rec.reason else ""
        style = {"ran": None, "skipped": "yellow", "failed": "red"}.get(rec.status)
        out.print(f"  {rec.analysis} ({rec.kind}): {rec.status}{why}", style=style, markup=False, soft_wrap=True)


@protocol_app.command("check")
def check(
    file: Annotated[str, typer.Argument(help="plan YAML file or preset (jin2023, li2023, lu2021)")],
    cohort: CohortOption,
    study: StudyOption = None,
    date_order: DateOrderOption = None,
    data_cutoff: CutoffOption = None,
) -> None:
    """Resolve every name of a plan against the language and the cohort; exit 2 on any error."""
    plan, findings = checked_plan(file, open_cohort(cohort, study, date_order, data_cutoff))
    warnings = sum(p.severity == "warning" for p in findings)
    console.print(f"OK: {len(plan.analyses)} analyses of {plan.name!r} check against {cohort} "
                  f"({warnings} warning(s))", markup=False, soft_wrap=True)


@protocol_app.command("init")
def init(
    cohort: CohortOption,
    out: Annotated[Path, typer.Option("--out", help="plan YAML file to write")] = Path("protocol.yaml"),
    name: Annotated[str | None, typer.Option("--name", help="study name (default: the cohort's name)")] = None,
    study: StudyOption = None,
    date_order: DateOrderOption = None,
    data_cutoff: CutoffOption = None,
) -> None:
    """Write a commented starter plan from what the cohort holds; it runs as it is."""
    from cartscope.analysis.plan.starter import starter_plan

    data = open_cohort(cohort, study, date_order, data_cutoff)
    if out.exists():
        err_console.print(f"{out}: exists; not overwritten", style="red", markup=False, soft_wrap=True)
        raise typer.Exit(1)
    out.parent.mkdir(parents=True, exist_ok=True)
    if name is None:  # a store's study is named after its source file
        name = Path(data.source).stem if cohort.suffix.lower() in STORE_SUFFIXES and data.source else cohort.stem
    out.write_text(starter_plan(data, name), encoding="utf-8")
    console.print(f"wrote {out}", markup=False)


@protocol_app.command("explain")
def explain(file: Annotated[str, typer.Argument(help="plan YAML file or preset")]) -> None:
    """Print the plan in words: what is computed, on whom."""
    from cartscope.analysis.plan.check import PlanError, read_plan, read_text
    from cartscope.analysis.plan.starter import explain as words

    try:
        text, source = read_text(file)
        plan, notes = read_plan(text, source)
    except PlanError as exc:
        print_findings(exc.findings)
        raise typer.Exit(2) from None
    print_findings(notes)
    for line in words(plan):
        console.print(line, markup=False, soft_wrap=True)


__all__ = ["checked_plan", "open_cohort", "print_findings", "print_problems", "print_status", "protocol_app"]
