"""One number-format policy for every table, figure and text of the report.

A :class:`NumberFormat` is an explicit, immutable value (no global setting): the report
builders receive one and format every number through it, so the same cut-off never prints as
72.800 in one table and 72.8 in another, and a p-value never reads 0.0097 on a figure and
0.010 in its table. The defaults follow common journal style (e.g. the NEJM and Lancet
statistical guidelines):

- percentages with 1 decimal ("68.0");
- p-values with 2 significant digits ("0.0097", "0.23", "0.050") and "< 0.001" below the
  floor; p above 0.99 prints as "> 0.99";
- cut-offs at the data's precision: the threshold's shortest decimal form, at most
  ``cutoff_digits`` significant digits (pROC thresholds are midpoints of observed values, so
  they carry one decimal more than the data at most: 72.8, 4.703);
- other estimates (medians, ratios) with ``estimate_digits`` significant digits, never fewer
  decimals than needed to tell a range's ends apart.

Rounding is half away from zero on the shortest representation, as
:mod:`cartscope.report.tables.formatting` does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cartscope.report.tables.formatting import EN_DASH, fmt_num, is_missing


def _sig_decimals(value: float, digits: int) -> int:
    """Decimals that show ``value`` with ``digits`` significant digits (0 for |value| >= 10^digits)."""
    if value == 0 or not math.isfinite(value):
        return max(digits - 1, 0)
    return max(digits - 1 - math.floor(math.log10(abs(value))), 0)


@dataclass(frozen=True)
class NumberFormat:
    """How the report prints numbers (see the module docstring). Pass your own to
    :func:`cartscope.report.document.build_document` to change it everywhere."""

    pct_decimals: int = 1
    p_digits: int = 2
    p_floor: float = 0.001
    cutoff_digits: int = 6
    estimate_digits: int = 3
    ci_decimals: int = 2
    hr_decimals: int = 2

    def pct(self, percent: Any, *, sign: bool = False) -> str:
        """A percentage given in percent points: 68.02 -> "68.0" ("68.0%" with ``sign``)."""
        text = fmt_num(percent, self.pct_decimals)
        return text + "%" if text and sign else text

    def n_pct(self, n: Any, total: Any) -> str:
        """"n (%)": 22 of 35 -> "22 (62.9)"; a zero total prints the count alone."""
        if is_missing(n):
            return ""
        if is_missing(total) or float(total) == 0:
            return str(int(n))
        return f"{int(n)} ({self.pct(100.0 * int(n) / float(total))})"

    def p(self, p: Any) -> str:
        """A p-value: 2 significant digits, "< 0.001" below the floor ("" when missing)."""
        if is_missing(p):
            return ""
        value = min(max(float(p), 0.0), 1.0)
        if value < self.p_floor:
            return f"< {fmt_num(self.p_floor, _sig_decimals(self.p_floor, 1))}"
        decimals = _sig_decimals(value, self.p_digits)
        text = fmt_num(value, decimals)
        if float(text) >= 1.0 - 10.0 ** -self.p_digits and value < 1.0:
            return f"> {fmt_num(1 - 10.0 ** -self.p_digits, self.p_digits)}"
        if float(text) < self.p_floor:  # 0.000999... rounds onto the floor
            return f"< {fmt_num(self.p_floor, _sig_decimals(self.p_floor, 1))}"
        return text

    def p_text(self, p: Any) -> str:
        """"p = 0.023" or "p < 0.001" for running text and figure annotations."""
        text = self.p(p)
        if not text:
            return ""
        return f"p {text}" if text[0] in "<>" else f"p = {text}"

    def cutoff(self, x: Any) -> str:
        """A cut-off at the data's precision: shortest decimal form, at most ``cutoff_digits``
        significant digits: 72.8 -> "72.8", 4.703 -> "4.703", 1/3 -> "0.333333"."""
        if is_missing(x):
            return ""
        value = float(x)
        text = fmt_num(value, _sig_decimals(value, self.cutoff_digits))
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text

    def estimate(self, x: Any, digits: int | None = None) -> str:
        """A median, ratio or level with ``estimate_digits`` significant digits, trailing zeros
        kept (3.50 stays "3.50": the precision is part of the number); integers above the
        precision print whole ("12345")."""
        if is_missing(x):
            return ""
        value = float(x)
        if math.isinf(value):
            return "Inf" if value > 0 else "-Inf"
        return fmt_num(value, _sig_decimals(value, digits or self.estimate_digits))

    def range(self, low: Any, high: Any) -> str:
        """"low–high" at one common number of decimals (the finer of the two ends);
        a range whose ends are equal prints once ("14", not "14.0–14.0")."""
        if is_missing(low) or is_missing(high):
            return ""
        lo, hi = float(low), float(high)
        if lo == hi:
            return self.estimate(lo)
        decimals = max(_sig_decimals(lo, self.estimate_digits), _sig_decimals(hi, self.estimate_digits))
        decimals = min(decimals, max(_decimals_of(lo), _decimals_of(hi)))
        return f"{fmt_num(lo, decimals)}{EN_DASH}{fmt_num(hi, decimals)}"

    def median_range(self, median: Any, low: Any, high: Any) -> str:
        """"median (low–high)"."""
        med = self.estimate(median)
        if not med:
            return ""
        rng = self.range(low, high)
        return f"{med} ({rng})" if rng else med


def _decimals_of(x: float) -> int:
    """Decimals of the shortest representation of ``x`` (12.50 -> 1, 3.0 -> 0)."""
    exp = Decimal(repr(float(x))).normalize().as_tuple().exponent
    return max(-int(exp), 0) if isinstance(exp, int) else 0


DEFAULT_FORMAT = NumberFormat()
"""The policy the report uses unless told otherwise."""

__all__ = ["DEFAULT_FORMAT", "NumberFormat"]
