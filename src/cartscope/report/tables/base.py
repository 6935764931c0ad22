"""The result of every table builder: a tidy frame, the printed grid, a title and footnotes.

Reporting goes data -> layout -> renderer: the builders compute (or receive) a long frame of
numbers, lay it out as a grid of strings (``display``) and the exporters in
:mod:`cartscope.report.tables.export` render that grid as CSV, XLSX or DOCX without touching a
number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True, eq=False)
class Table:
    """A publication table.

    frame: the numbers behind the table, long/tidy (one value per row), unrounded.
    display: the table as printed: strings only, first column the row labels, one row per
        printed line (sub-rows are indented with four spaces).
    title: the caption text without the number ("Baseline characteristics").
    footnotes: lines printed under the table (abbreviations, tests, denominators).
    """

    frame: pd.DataFrame
    display: pd.DataFrame
    title: str
    footnotes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The tidy numbers behind the table (a copy)."""
        return self.frame.copy()

    def caption(self, number: int | str | None = None) -> str:
        """"Table 1. Title" when ``number`` is given, else the title alone."""
        return f"Table {number}. {self.title}" if number is not None else self.title


INDENT = "    "
"""Prefix of a sub-row label (a level under its variable)."""


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise a ``ValueError`` naming the missing input columns of a table builder."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} expects a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{what}: input frame lacks column(s) {', '.join(map(repr, missing))}; "
            f"it has {', '.join(map(repr, frame.columns))}"
        )


def string_grid(rows: list[list[str]], columns: list[str]) -> pd.DataFrame:
    """A display grid: every cell a ``str`` (object dtype, never NaN)."""
    grid = pd.DataFrame(rows, columns=columns, dtype=object)
    return grid.fillna("").astype(object)
