"""Time axes in days or months (a month is 30.4375 days = 365.25 / 12, as in
:mod:`cartscope.clinical.endpoints`), with tick positions a clinician expects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from cartscope.analysis.time_marks import nice_ticks  # one rule for ticks and published risk tables

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

TimeUnit = Literal["months", "days"]

MONTH_DAYS = 30.4375

__all__ = ["MONTH_DAYS", "TimeFrame", "TimeUnit", "axis_label", "check_unit", "nice_ticks", "per_day"]


def check_unit(unit: str) -> TimeUnit:
    if unit not in ("months", "days"):
        raise ValueError(f"unit must be 'months' or 'days', got {unit!r}")
    return unit  # type: ignore[return-value]


def per_day(unit: TimeUnit) -> float:
    """Factor from days to ``unit``."""
    return 1.0 / MONTH_DAYS if unit == "months" else 1.0


def axis_label(unit: TimeUnit, origin: str = "infusion") -> str:
    return f"{'Months' if unit == 'months' else 'Days'} since {origin}"



@dataclass(frozen=True)
class TimeFrame:
    """A time-axis figure laid out in inches, top to bottom: a band (title, legend) of
    ``top`` inches, the plot, the x-axis label's ``xlabel`` inches, and a number-at-risk table
    of ``table`` inches (0 for none). The plot spans ``left`` to ``width - right`` inches, and
    the table's axes are aligned with it; :meth:`x` and :meth:`y` turn inches into figure
    fractions. Used inside :func:`~cartscope.report.figures.style.figure_style`."""

    fig: Figure
    ax: Axes
    width: float
    height: float
    left: float
    table: float
    plot_width: float  # the plot's width as a fraction of the figure's

    @classmethod
    def make(cls, width: float, *, top: float, plot: float, xlabel: float, table: float, left: float,
             right: float, label: str) -> TimeFrame:
        from cartscope.report.figures.style import new_figure

        height = top + plot + xlabel + table
        fig = new_figure(width, height)
        fig.set_layout_engine("none")
        plot_width = (width - left - right) / width
        ax = fig.add_axes((left / width, (xlabel + table) / height, plot_width, plot / height))
        ax.set_label(label)
        return cls(fig, ax, width, height, left, table, plot_width)

    def x(self, inches: float) -> float:
        return inches / self.width

    def y(self, inches: float) -> float:
        return inches / self.height

    def risk_axes(self, lines: int) -> Axes:
        """The table's axes under the plot, sharing its x axis: ``lines`` rows (row 0 at the
        top), no ticks, no spines; text is placed in data x and row y."""
        box = (self.x(self.left), self.y(0.02), self.plot_width, self.y(self.table - 0.04))
        ax = self.fig.add_axes(box, sharex=self.ax)
        ax.set_label("risk table")
        ax.set_ylim(lines - 0.5, -0.5)
        ax.set_yticks([])
        ax.tick_params(axis="both", length=0, labelbottom=False, labelleft=False)
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        return ax
