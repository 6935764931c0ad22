"""The building blocks of a report: numbered tables, figures, notes, the exclusion flow and
the sections that hold them.

A figure is kept as a :class:`FigureRecipe` (the builder's import path and its arguments),
not as a drawn matplotlib figure: the report draws every figure exactly once, in a worker
process, and saves every format from that one drawing (:mod:`cartscope.report.render`).
The arguments are result objects and frames, so a recipe can travel to a spawned process.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Union

from cartscope.report.tables.base import Table


@dataclass(frozen=True, eq=False)
class FigureRecipe:
    """How to draw one figure: ``builder`` is "module:function" under ``cartscope.report``
    (e.g. "figures.km:km_figure"), called with ``args`` and ``kwargs``."""

    builder: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    def draw(self) -> Any:
        """The matplotlib figure (drawn now, in the calling process)."""
        module, _, name = self.builder.partition(":")
        func = getattr(importlib.import_module(f"cartscope.report.{module}"), name)
        return func(*self.args, **self.kwargs)


def recipe(builder: str, *args: Any, **kwargs: Any) -> FigureRecipe:
    """``FigureRecipe(builder, args, kwargs)``."""
    return FigureRecipe(builder, tuple(args), dict(kwargs))


@dataclass(frozen=True, eq=False)
class TableItem:
    """A numbered table. ``export`` is the complete table when ``table`` shows only its top
    rows (a screen of hundreds of markers); the exported files always hold every row."""

    key: str
    table: Table
    export: Table | None = None
    number: int = 0

    @property
    def stem(self) -> str:
        return f"table{self.number:02d}_{self.key}"


@dataclass(frozen=True, eq=False)
class FigureItem:
    """A numbered figure with its caption (the legend text under the figure). ``recipe``
    draws it; ``figure`` is the drawn figure when a caller drew it already (kept for
    callers that build items from a figure)."""

    key: str
    recipe: FigureRecipe | Any
    caption: str
    number: int = 0

    @property
    def stem(self) -> str:
        return f"figure{self.number:02d}_{self.key}"

    @property
    def figure(self) -> Any:
        """The drawn figure (drawn on each access when the item holds a recipe)."""
        return self.recipe.draw() if isinstance(self.recipe, FigureRecipe) else self.recipe


@dataclass(frozen=True)
class NoteItem:
    """A line of text in a section; ``kind`` "missing" marks content that could not be drawn
    (with the reason), "note" is plain commentary."""

    text: str
    kind: str = "note"


@dataclass(frozen=True)
class FlowItem:
    """CONSORT-style flow: the patients in the cohort, then per analysis the patients left out
    with their reasons (``analyses``: analysis, excluded patients, ((reason, patients), ...)).
    """

    total: int
    analyses: tuple[tuple[str, int, tuple[tuple[str, int], ...]], ...]


Item = Union[TableItem, FigureItem, NoteItem, FlowItem]


@dataclass(frozen=True)
class Section:
    """One report section: ``skipped`` is the reason when the study did not run it (then
    ``items`` is empty); ``notes`` are reasons for parts of a section that did not run."""

    key: str
    title: str
    items: tuple[Item, ...] = ()
    skipped: str = ""
    notes: tuple[str, ...] = ()


__all__ = ["FigureItem", "FigureRecipe", "FlowItem", "Item", "NoteItem", "Section", "TableItem", "recipe"]
