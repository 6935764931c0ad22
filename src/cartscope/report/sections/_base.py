"""What every section builder shares: the input (results, cohort, number format, labels),
the group order and labels, and the table helper.

Builders only select and lay out: every number comes from the result tables and the
statistical objects of :class:`~cartscope.analysis.results.Results` (estimated in
:mod:`cartscope.analysis`), drawn by :mod:`cartscope.report.tables` and
:mod:`cartscope.report.figures`. ``Results`` is read defensively (a table or object that is
absent is a note, not an error), since the analysis layer adds result kinds over time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from cartscope.report.items import FigureItem, recipe
from cartscope.report.labels import LabelRegistry, registry_for
from cartscope.report.numbers import DEFAULT_FORMAT, NumberFormat
from cartscope.report.tables.base import Table, string_grid

if TYPE_CHECKING:  # pragma: no cover
    from cartscope.analysis.results import Results
    from cartscope.cohort.model import Cohort

MONTH_DAYS = 30.4375


@dataclass(frozen=True)
class SectionInput:
    """One report's inputs, as every section builder receives them."""

    results: Results
    cohort: Cohort | None
    fmt: NumberFormat = DEFAULT_FORMAT
    labels: LabelRegistry = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.labels is None:
            object.__setattr__(self, "labels", registry_for(getattr(self.results, "protocol", None), cohort=self.cohort,
                                                            plan=getattr(self.results, "plan", None)))

    @property
    def protocol(self) -> Any:
        return self.results.protocol

    def table(self, name: str) -> pd.DataFrame | None:
        tables = getattr(self.results, "tables", None) or {}
        frame = tables.get(name)
        return frame if frame is not None and len(frame) else None

    def obj(self, key: str) -> Any:
        objects = getattr(self.results, "objects", None) or {}
        return objects.get(key)

    # -- formatters bound to the number-format policy --------------------------------------
    def pval(self, x: Any) -> str:
        return self.fmt.p(x)

    def est(self, x: Any) -> str:
        return self.fmt.estimate(x)

    def label(self, code: Any, unit: bool = True) -> str:
        return self.labels(code, unit)


def missing(x: Any) -> bool:
    if x is None or x is pd.NA:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def text(x: Any) -> str:
    return "" if missing(x) else str(x)


def integer(x: Any) -> str:
    return "" if missing(x) else str(int(x))


def decimals(n: int) -> Callable[[Any], str]:
    from cartscope.report.tables.formatting import fmt_num

    return lambda x: fmt_num(x, n)


def grid_table(frame: pd.DataFrame, columns: Sequence[tuple[str, str, Callable[[Any], str]]],
               title: str, footnotes: Sequence[str] = ()) -> Table:
    """A :class:`Table` of ``frame`` showing ``columns`` as (column, header, formatter);
    columns absent from ``frame`` are left out."""
    present = [(c, h, f) for c, h, f in columns if c in frame.columns]
    rows = [[f(r[c]) for c, _, f in present] for _, r in frame.iterrows()]
    tidy = frame[[c for c, _, _ in present]].reset_index(drop=True)
    return Table(frame=tidy, display=string_grid(rows, [h for _, h, _ in present]), title=title,
                 footnotes=tuple(footnotes))


def group_order(values: Sequence[Any]) -> list[str]:
    """Group labels with "all" last, the rest in their given order."""
    seen = list(dict.fromkeys(str(v) for v in values))
    return [g for g in seen if g != "all"] + (["all"] if "all" in seen else [])


def group_label(g: Any) -> str:
    return "All patients" if str(g) == "all" else str(g)


def km_item(inp: SectionInput, key: str, endpoint: str, curves: dict[str, Any], logrank: Any,
            caption: str, **options: Any) -> FigureItem:
    """A Kaplan-Meier figure item of ``curves`` (label -> KaplanMeier) with the policy's p."""
    ylabel = f"{inp.labels(endpoint, False)} (%)"
    data = curves if len(curves) > 1 else next(iter(curves.values()))
    return FigureItem(key, recipe("figures.km:km_figure", data, logrank=logrank, ylabel=ylabel,
                                  p_text=inp.fmt.p_text(getattr(logrank, "p_value", None)) if logrank is not None else None,
                                  **options), caption)
