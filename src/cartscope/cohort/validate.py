"""Validate a cohort source: every defect becomes a :class:`Problem` with file, row and column.

The same pass produces the typed, unit-normalised tables that :func:`load_cohort` returns, so
what validates is exactly what loads. Order of work: read (readers) -> structure and cell types
(checks_columns) -> day/date (checks_time) -> lab values and units (checks_units) -> identity,
references and clinical order (checks_relations) -> shift to the chosen index infusion.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cartscope.cohort import checks_relations as relations
from cartscope.cohort.checks_columns import build_table, empty_column, reorder_for_cohort
from cartscope.cohort.checks_common import Table
from cartscope.cohort.checks_time import (
    apply_shift,
    first_infusion_dates,
    index_shift,
    parse_times,
    resolve_days,
)
from cartscope.cohort.cutoff import apply_data_cutoff
from cartscope.cohort.dates import DATE_ORDERS, normalise_order
from cartscope.cohort.checks_units import check_lab_values, normalise_kinetic_units, normalise_lab_units
from cartscope.cohort.model import UnitConversion
from cartscope.cohort.problems import Problem, Severity
from cartscope.cohort.readers import RawSource, read_source
from cartscope.cohort.schema import TABLE_ORDER, TABLES
from cartscope.cohort.source_tables import analyte_dictionary, fold_toxicity

MAX_PER_KIND = 200
"""At most this many problems of one code per file and column; the rest are summarised."""


@dataclass(frozen=True)
class CheckedCohort:
    """The outcome of checking a source: typed tables (valid only without errors) and problems."""

    tables: dict[str, pd.DataFrame]
    present: frozenset[str]
    problems: list[Problem]
    conversions: tuple[UnitConversion, ...] = ()
    file_hashes: dict[str, str] = field(default_factory=dict)
    source: str = ""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def empty_table(name: str) -> pd.DataFrame:
    """A table with no rows but the schema's columns and dtypes (``date`` omitted)."""
    return pd.DataFrame({c.name: empty_column(c.kind, 0) for c in TABLES[name].columns if c.kind != "date"})


def order_problems(problems: list[Problem]) -> list[Problem]:
    """Sorted by file, row, column; repeated identical kinds beyond a limit are summarised."""
    ordered = sorted(set(problems), key=lambda p: (p.file, p.row or 0, p.column or "", p.code, p.message))
    counts: dict[tuple[str, str | None, str], int] = {}
    kept: list[Problem] = []
    for p in ordered:
        key = (p.file, p.column, p.code)
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= MAX_PER_KIND:
            kept.append(p)
    for (file, column, code), n in counts.items():
        if n > MAX_PER_KIND:
            example = next(p for p in ordered if (p.file, p.column, p.code) == (file, column, code))
            kept.append(Problem(file, None, column, code,
                                f"... and {n - MAX_PER_KIND} more rows with this problem", example.severity))
    return sorted(kept, key=lambda p: (p.file, p.row or 0, p.column or "", p.code, p.message))


def _missing_table_problem(src: RawSource, path: Path, name: str) -> Problem:
    if src.fmt in ("manifest", "files", "redcap"):
        return Problem(path.name or str(path), None, None, "missing-table",
                       f"required table {name} is missing: name it under tables: in cohort.yaml or put "
                       f"{name}.csv beside it")
    if src.fmt == "xlsx":
        return Problem(path.name, None, None, "missing-sheet",
                       f"the workbook has no sheet {name!r} (required table)")
    ext = "parquet" if src.fmt == "parquet" else "csv"
    return Problem(f"{name}.{ext}", None, None, "missing-table",
                   f"required table {name} is missing: expected {name}.{ext} in {path.name or path}")


def _option_problems(path: Path, date_order: str | None, data_cutoff: object) -> tuple[str | None, dt.date | None, list[Problem]]:
    """The load options in canonical form, or a problem for each one that is not valid."""
    problems: list[Problem] = []
    order = None
    if date_order is not None:
        order = normalise_order(date_order)
        if order is None:
            problems.append(Problem(path.name or str(path), None, None, "bad-option",
                                    f"date order {str(date_order)!r} is not one of {', '.join(DATE_ORDERS)}"))
    cutoff = None
    if data_cutoff is not None:
        if isinstance(data_cutoff, dt.datetime):
            cutoff = data_cutoff.date()
        elif isinstance(data_cutoff, dt.date):
            cutoff = data_cutoff
        else:
            try:
                cutoff = dt.date.fromisoformat(str(data_cutoff).strip())
            except ValueError:
                problems.append(Problem(path.name or str(path), None, None, "bad-option",
                                        f"data cut-off {str(data_cutoff)!r} is not a date (write YYYY-MM-DD)"))
    return order, cutoff, problems


def _check(path: Path, index_infusion: int | str | None, date_order: str | None = None,
           data_cutoff: object = None) -> CheckedCohort:
    src = read_source(path)
    date_order = date_order if date_order is not None else src.options.get("date_order")  # type: ignore[assignment]
    data_cutoff = data_cutoff if data_cutoff is not None else src.options.get("data_cutoff")
    date_order, cutoff, option_problems = _option_problems(path, date_order, data_cutoff)
    if option_problems:
        return CheckedCohort(tables={}, present=frozenset(), problems=option_problems, source=str(path))
    problems: list[Problem] = list(src.problems)
    tables: dict[str, Table | None] = {}
    for name in TABLE_ORDER:
        schema = TABLES[name]
        raw = src.tables.get(name)
        if raw is None:
            if schema.required and name not in src.unreadable:
                problems.append(_missing_table_problem(src, path, name))
            tables[name] = None
            continue
        if raw.frame.empty:
            severity = Severity.ERROR if schema.required else Severity.WARNING
            problems.append(Problem(raw.file, None, None, "header-only",
                                    f"{raw.file} has a header but no rows", severity))
        table = build_table(raw, schema, problems, frozenset({"value", "qualifier", "unit"}) if name == "labs" else frozenset())
        if schema.timed:
            parse_times(table, problems, date_order)
        if name == "labs":
            check_lab_values(table, problems)
        tables[name] = table
    fold_toxicity(src, tables["patients"], problems)
    infusions = tables["infusions"]
    anchors = first_infusion_dates(infusions)
    for name in TABLE_ORDER:
        table = tables[name]
        if table is None or not TABLES[name].timed:
            continue
        if anchors is None and (infusions is None or not infusions.usable):
            table.frame["_date_ord"] = float("nan")  # no anchor to speak of: problem is reported elsewhere
        resolve_days(table, anchors, problems)
    conversions: list[UnitConversion] = list(src.conversions)
    if tables["labs"] is not None:
        dictionary = analyte_dictionary(src, problems, src.analyte_entries)
        conversions += normalise_lab_units(tables["labs"], problems, dictionary)
    if tables["kinetics"] is not None:
        conversions += normalise_kinetic_units(tables["kinetics"], problems)
    if cutoff is not None:
        apply_data_cutoff(tables, anchors, cutoff, problems)
    relations.check_duplicates(tables, problems)
    ids = relations.check_references(tables, problems)
    relations.check_infusions(tables, ids, problems)
    relations.check_clinical_order(tables, ids, problems)
    shift = index_shift(infusions, tables["patients"], index_infusion, problems)
    if shift is not None:
        for name in TABLE_ORDER:
            if tables[name] is not None and TABLES[name].timed:
                apply_shift(tables[name], shift)
    frames = {name: (reorder_for_cohort(t) if t is not None else empty_table(name)) for name, t in tables.items()}
    return CheckedCohort(
        tables=frames,
        present=frozenset(t for t in src.tables if t in TABLES),
        problems=order_problems(problems),
        conversions=tuple(conversions),
        file_hashes=dict(sorted(src.file_hashes.items())),
        source=str(path),
    )


def check_cohort(
    path: Path | str, *, index_infusion: int | str | None = None, date_order: str | None = None,
    data_cutoff: dt.date | str | None = None,
) -> CheckedCohort:
    """Read, check and normalise the cohort at ``path``; never raises for bad input.

    ``date_order`` (``DMY``, ``MDY`` or ``YMD``) reads date columns whose values do not decide
    their order (:mod:`cartscope.cohort.dates`); ``data_cutoff`` (a date) leaves out later
    records and censors follow-up there (:mod:`cartscope.cohort.cutoff`).
    """
    path = Path(path)
    try:
        return _check(path, index_infusion, date_order, data_cutoff)
    except Exception as exc:  # a defect in the checks must still surface as a problem, not a traceback
        problem = Problem(path.name or str(path), None, None, "internal-error",
                          f"validation stopped unexpectedly ({type(exc).__name__}: {exc}); please report this")
        return CheckedCohort(tables={}, present=frozenset(), problems=[problem], source=str(path))


def validate(
    path: Path | str, *, index_infusion: int | str | None = None, date_order: str | None = None,
    data_cutoff: dt.date | str | None = None,
) -> list[Problem]:
    """Every problem in the cohort at ``path``, ordered by file, row and column.

    Errors make :func:`cartscope.load_cohort` refuse the cohort; warnings do not. The options
    are those of :func:`check_cohort`.
    """
    return check_cohort(path, index_infusion=index_infusion, date_order=date_order,
                        data_cutoff=data_cutoff).problems
