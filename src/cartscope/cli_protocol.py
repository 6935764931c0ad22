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


def _cohort(path: Path):
    from cartscope.cohort.load import load_cohort
    from cartscope.cohort.problems import CohortError

    try:
        return load_cohort(path)
    except CohortError as exc:
        for problem in exc.problems:
            err_console.print(str(problem), style="red" if problem.is_error else "yellow", markup=False,
                              soft_wrap=True)
        raise typer.Exit(1) from None


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


@protocol_app.command("check")
def check(
    file: Annotated[str, typer.Argument(help="plan YAML file or preset (jin2023, li2023, lu2021)")],
    cohort: Annotated[Path, typer.Option("--cohort", help="cohort folder, XLSX workbook or Parquet folder")],
) -> None:
    """Resolve every name of a plan against the language and the cohort; exit 2 on any error."""
    plan, findings = checked_plan(file, _cohort(cohort))
    warnings = sum(p.severity == "warning" for p in findings)
    console.print(f"OK: {len(plan.analyses)} analyses of {plan.name!r} check against {cohort} "
                  f"({warnings} warning(s))", markup=False)


@protocol_app.command("init")
def init(
    cohort: Annotated[Path, typer.Option("--cohort", help="cohort folder, XLSX workbook or Parquet folder")],
    out: Annotated[Path, typer.Option("--out", help="plan YAML file to write")] = Path("protocol.yaml"),
    name: Annotated[str | None, typer.Option("--name", help="study name (default: the cohort's name)")] = None,
) -> None:
    """Write a commented starter plan from what the cohort holds; it runs as it is."""
    from cartscope.analysis.plan.starter import starter_plan

    data = _cohort(cohort)
    if out.exists():
        err_console.print(f"{out}: exists; not overwritten", style="red", markup=False)
        raise typer.Exit(1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(starter_plan(data, name or cohort.stem), encoding="utf-8")
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


__all__ = ["checked_plan", "print_findings", "protocol_app"]
