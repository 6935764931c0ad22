"""The shared look of every cartscope figure: palette, fonts, sizes and number formats.

Colours follow the Okabe-Ito palette (Okabe & Ito, *Color Universal Design*, 2008; Wong,
Nature Methods 2011;8:441), which stays distinguishable under the common colour-vision
deficiencies and in greyscale print. Text is DejaVu Sans, the font matplotlib ships, so a
figure renders the same on every machine. Sizes follow the usual journal column widths
(single column 89 mm, double column 183 mm) with 7-8 pt text.

:func:`figure_style` applies all of this through :func:`matplotlib.rc_context`, so the
settings hold only inside the ``with`` block and the caller's matplotlib configuration is
left as it was. Figure builders create their figure inside it and
:func:`~cartscope.report.figures.export.save_figure` saves inside it, which also fixes the
SVG id salt and the output metadata that make the files byte-identical run to run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl

#: Okabe-Ito colours by name.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: Order in which groups take colours (yellow last: weak on white).
PALETTE: tuple[str, ...] = (
    OKABE_ITO["blue"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["orange"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["black"],
    OKABE_ITO["yellow"],
)

#: Neutral grey for reference lines, bars and unknown categories.
GREY = "#8C8C8C"
LIGHT_GREY = "#D9D9D9"

#: Colours of the outcome classes of the NR/ER split (domain-reference; jin2023).
OUTCOME_COLORS: dict[str, str] = {
    "NR/ER": OKABE_ITO["vermillion"],
    "durable": OKABE_ITO["blue"],
    "not evaluable": GREY,
}

MM = 1.0 / 25.4
#: Journal figure widths in inches.
SINGLE_COLUMN = 89 * MM
ONE_HALF_COLUMN = 136 * MM
DOUBLE_COLUMN = 183 * MM

FONT_SIZE = 8.0
SMALL_FONT_SIZE = 7.0

#: Salt for the ids matplotlib writes into SVG files; fixed so that ids do not change per run.
SVG_HASH_SALT = "cartscope"

RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "mathtext.fontset": "dejavusans",
    "font.size": FONT_SIZE,
    "axes.titlesize": FONT_SIZE + 1,
    "axes.titleweight": "bold",
    "axes.labelsize": FONT_SIZE,
    "xtick.labelsize": SMALL_FONT_SIZE,
    "ytick.labelsize": SMALL_FONT_SIZE,
    "legend.fontsize": SMALL_FONT_SIZE,
    "legend.title_fontsize": SMALL_FONT_SIZE,
    "legend.frameon": False,
    "legend.handlelength": 1.8,
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
    "axes.unicode_minus": True,
    "xtick.major.width": 0.8,
    "ytick.major.width": 0.8,
    "xtick.major.size": 3.0,
    "ytick.major.size": 3.0,
    "lines.linewidth": 1.3,
    "lines.markersize": 4.0,
    "patch.linewidth": 0.6,
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.04,
    "image.interpolation": "nearest",
    # byte-identical output: fixed SVG ids, text kept as text (editable in vector editors),
    # TrueType fonts embedded in PDF (Type 42; journals reject Type 3)
    "svg.hashsalt": SVG_HASH_SALT,
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
}


@contextmanager
def figure_style(overrides: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Apply the cartscope look (plus ``overrides``) for the duration of the block only."""
    params = dict(RC)
    if overrides:
        params.update(overrides)
    with mpl.rc_context(params):
        yield


def colors_for(labels: Sequence[Any], colors: Mapping[Any, str] | None = None) -> dict[Any, str]:
    """One colour per label: ``colors`` where given, else the palette in order of appearance."""
    given = dict(colors or {})
    out: dict[Any, str] = {}
    free = [c for c in PALETTE if c not in given.values()]
    k = 0
    for lab in labels:
        if lab in given:
            out[lab] = given[lab]
        else:
            out[lab] = free[k % len(free)] if free else PALETTE[k % len(PALETTE)]
            k += 1
    return out


def p_text(p: float) -> str:
    """A p-value for a figure: two significant digits, "< 0.0001" below that, "NA" if missing.

    Examples: 0.0049 -> "0.0049", 0.0954 -> "0.095", 0.5 -> "0.50", 3e-7 -> "< 0.0001".
    """
    p = float(p)
    if math.isnan(p):
        return "NA"
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"a p-value must be in [0, 1], got {p!r}")
    if p < 1e-4:
        return "< 0.0001"
    decimals = max(2, 1 - math.floor(math.log10(p)))
    text = f"{p:.{decimals}f}"
    return "1.00" if float(text) >= 1.0 else text


def format_p(p: float, prefix: str = "p") -> str:
    """``prefix`` and the p-value: "p = 0.0049", "p < 0.0001" (see :func:`p_text`)."""
    text = p_text(p)
    return f"{prefix} {text}" if text.startswith("<") else f"{prefix} = {text}"


def format_number(x: float, digits: int = 3) -> str:
    """A threshold or measurement with ``digits`` significant digits, never in e-notation
    between 1e-4 and 1e6."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0 or 1e-4 <= abs(x) < 1e6:
        mag = 0 if x == 0 else math.floor(math.log10(abs(x)))
        decimals = max(0, digits - 1 - mag)
        return f"{x:.{decimals}f}"
    return f"{x:.{digits - 1}e}"


def new_figure(width: float, height: float) -> Any:
    """A headless :class:`matplotlib.figure.Figure` of ``width`` x ``height`` inches.

    Built without pyplot, so no global figure registry or interactive backend is involved;
    call it inside :func:`figure_style`.
    """
    from matplotlib.figure import Figure

    if not (width > 0 and height > 0):
        raise ValueError(f"figure size must be positive, got {width!r} x {height!r}")
    return Figure(figsize=(width, height))


def _plain_number(x: float, _pos: Any = None) -> str:
    if x <= 0:
        return ""
    if 1e-3 <= x < 1e5:
        return f"{x:g}"
    exp = int(round(math.log10(x)))
    if math.isclose(x, 10.0**exp):
        return f"$10^{{{exp}}}$"
    return f"{x:.0e}"


def plain_log_axis(axis: Any) -> None:
    """Label a log axis 0.1, 1, 10, 100 ... (10^k beyond 10^5) instead of 10^k throughout,
    with unlabelled minor ticks."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10.0))
    axis.set_major_formatter(FuncFormatter(_plain_number))
    axis.set_minor_locator(LogLocator(base=10.0, subs=tuple(range(2, 10))))
    axis.set_minor_formatter(NullFormatter())


def freeze_layout(fig: Any) -> Any:
    """Run the figure's layout engine once and fix the result.

    Constrained layout otherwise runs again at every draw and can move axes by a fraction of
    a point each time, so a figure saved twice (or after an inline SVG) would not give
    identical files. Returns ``fig``.
    """
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
        fig.set_layout_engine("none")
    return fig


def readable_log_ticks(ax: Any, which: str = "y", min_ticks: int = 3) -> None:
    """Give a log axis at least ``min_ticks`` labelled ticks within its current limits:
    decades (1, 10, 100) when the axis spans several, else 1-2-5 steps, else every integer
    multiple of the decade (a span under one decade otherwise shows no label at all).
    Call after the limits are final."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    axis = ax.yaxis if which == "y" else ax.xaxis
    lo, hi = ax.get_ylim() if which == "y" else ax.get_xlim()
    lo, hi = min(lo, hi), max(lo, hi)
    if not (lo > 0 and math.isfinite(hi)):
        return
    ticks: list[float] = []
    for subs in ((1.0,), (1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0)):
        ticks = [m * 10.0**e for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
                 for m in subs if lo * (1 - 1e-9) <= m * 10.0**e <= hi * (1 + 1e-9)]
        if len(ticks) >= min_ticks:
            break
    if len(ticks) < 2:
        ticks = [lo, math.sqrt(lo * hi), hi]
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(lambda x, _pos=None: _tick_text(x)))
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())


def _tick_text(x: float) -> str:
    if x <= 0:
        return ""
    if 1e-3 <= x < 1e6:
        return f"{x:.3g}"
    exp = math.floor(math.log10(x))
    mant = x / 10.0**exp
    return f"$10^{{{exp}}}$" if math.isclose(mant, 1.0) else f"${mant:.0f}\\times10^{{{exp}}}$"
