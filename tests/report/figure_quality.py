"""Figure-quality checks from the drawn artists (used by test_figure_quality.py).

A figure is drawn on the Agg canvas at low dpi and inspected: every visible text's extent,
every axes' box, every line's vertices. The printed size is the figure's size scaled down to
the report's printed figure area (A4 text width 182 mm, figures at most 200 mm high, the
report CSS), never up.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.legend import Legend
from matplotlib.text import Text

PRINT_WIDTH_IN = 182 / 25.4
PRINT_HEIGHT_IN = 200 / 25.4
MIN_FONT_PT = 6.0
DPI = 40


@dataclass(frozen=True)
class Problem:
    figure: str
    what: str

    def __str__(self) -> str:
        return f"{self.figure}: {self.what}"


def _hidden_ticks(fig) -> set[int]:
    """Tick labels of ticks outside their axis's view (matplotlib keeps them, undrawn)."""
    out: set[int] = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            eps = 1e-9 * max(1.0, abs(hi - lo))
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not lo - eps <= tick.get_loc() <= hi + eps:
                    out.update((id(tick.label1), id(tick.label2)))
    return out


def _texts(fig) -> list[Text]:
    out = []
    hidden = _hidden_ticks(fig)
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip() or id(t) in hidden:
            continue
        if t.axes is not None and not t.axes.get_visible():
            continue
        out.append(t)
    return out


def _shrink(bb, px: float = 0.5):
    return bb.x0 + px, bb.y0 + px, bb.x1 - px, bb.y1 - px


def _overlap(a, b) -> bool:
    ax0, ay0, ax1, ay1 = _shrink(a)
    bx0, by0, bx1, by1 = _shrink(b)
    return ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1


def check_figure(fig, name: str) -> list[Problem]:
    """Every problem of ``fig`` (see the module docstring)."""
    problems: list[Problem] = []
    fig.set_dpi(DPI)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
    w, h = (float(v) for v in fig.get_size_inches())
    scale = min(1.0, PRINT_WIDTH_IN / w, PRINT_HEIGHT_IN / h)
    fb = fig.bbox
    texts = _texts(fig)
    boxes = []
    for t in texts:
        size = t.get_fontsize() * scale
        if size < MIN_FONT_PT - 1e-6:
            problems.append(Problem(name, f"text {t.get_text()!r} is {size:.1f} pt at the printed size"))
        bb = t.get_window_extent(renderer)
        if bb.x0 < fb.x0 - 1 or bb.y0 < fb.y0 - 1 or bb.x1 > fb.x1 + 1 or bb.y1 > fb.y1 + 1:
            problems.append(Problem(name, f"text {t.get_text()!r} reaches outside the figure"))
        boxes.append((t, bb))
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            (ta, a), (tb, b) = boxes[i], boxes[j]
            if _overlap(a, b):
                problems.append(Problem(name, f"texts {ta.get_text()!r} and {tb.get_text()!r} overlap"))
    for ax in fig.axes:
        if not ax.get_visible() or not ax.axison and not ax.texts and not ax.lines:
            continue
        bb = ax.get_window_extent(renderer)
        if bb.width < 0.08 * DPI or bb.height < 0.08 * DPI:
            problems.append(Problem(name, f"axes {ax.get_label()!r} collapsed to {bb.width / DPI:.2f} x "
                                          f"{bb.height / DPI:.2f} in"))
    legends = [lg for lg in fig.findobj(Legend) if lg.get_visible()]
    for lg in legends:
        lb = lg.get_window_extent(renderer)
        for ax in fig.axes:
            for line in ax.lines:
                if not line.get_visible() or line.get_linestyle() == "None" and line.get_marker() in (None, "None", ""):
                    continue
                xy = line.get_xydata()
                if len(xy) == 0:
                    continue
                pts = ax.transData.transform(np.asarray(xy, dtype=float))
                inside = ((pts[:, 0] > lb.x0 + 1) & (pts[:, 0] < lb.x1 - 1)
                          & (pts[:, 1] > lb.y0 + 1) & (pts[:, 1] < lb.y1 - 1))
                ab = ax.bbox
                within_axes = ((pts[:, 0] >= ab.x0) & (pts[:, 0] <= ab.x1) & (pts[:, 1] >= ab.y0) & (pts[:, 1] <= ab.y1))
                if (inside & within_axes).any():
                    problems.append(Problem(name, f"the legend covers data of axes {ax.get_label()!r}"))
                    break
    return problems


def figure_texts(fig) -> list[str]:
    """Every visible text of a drawn figure."""
    FigureCanvasAgg(fig).draw()
    return [t.get_text() for t in _texts(fig)]
