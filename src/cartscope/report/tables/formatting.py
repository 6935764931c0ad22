"""Number formatting for publication tables: p-values, percentages, intervals, summaries.

All helpers round **half away from zero on the shortest decimal representation** of the
number (``Decimal(repr(x))``), the way a reader rounds the printed value and the way Excel and
SPSS display it: 0.0045 -> "0.005" and 2.675 -> "2.68", where binary ``format(x, ".3f")`` would
give "0.004" and "2.67". Missing values (None, NaN) print as ``missing`` (empty by default).
Every helper takes its number of decimals explicitly; nothing reads a global setting.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

EN_DASH = "\u2013"


def is_missing(x: Any) -> bool:
    """True for None, NaN and pandas NA-like scalars."""
    if x is None:
        return True
    try:
        return bool(math.isnan(float(x)))
    except (TypeError, ValueError):
        return False


def _check_decimals(decimals: int) -> int:
    if not isinstance(decimals, (int,)) or isinstance(decimals, bool) or decimals < 0:
        raise ValueError(f"decimals must be a non-negative integer, got {decimals!r}")
    return decimals


def fmt_num(x: Any, decimals: int = 2, *, missing: str = "", strip_zeros: bool = False) -> str:
    """``x`` rounded half-up to ``decimals`` places ("-0.00" prints as "0.00").

    ``strip_zeros`` drops trailing zeros after the point (33.50 -> "33.5", 33.00 -> "33"), used
    for integer-valued variables whose median may fall half-way between two values.
    Infinite values print as "Inf" / "-Inf".
    """
    _check_decimals(decimals)
    if is_missing(x):
        return missing
    value = float(x)
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    try:
        d = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the default context holds (|x| >~ 1e26)
        d = Decimal(repr(value))
    if d == 0:
        d = abs(d)
    text = f"{d:f}"
    if strip_zeros and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def fmt_p(p: Any, decimals: int = 3, *, threshold: float | None = None, missing: str = "") -> str:
    """A p-value: "<0.001" below ``threshold`` (default 10^-decimals), else ``decimals`` places.

    0.0049 -> "0.005", 4.9e-5 -> "<0.001", 0.05 -> "0.050", 1 -> "1.000". A value that rounds
    down to the threshold but lies below it still prints as "<0.001" (0.00096 is not "0.001").
    """
    _check_decimals(decimals)
    if decimals == 0:
        raise ValueError("p-values need at least one decimal")
    if is_missing(p):
        return missing
    value = float(p)
    if not 0.0 <= value <= 1.0 + 1e-12:  # a rounding error above 1 still prints as 1.000
        raise ValueError(f"a p-value lies in [0, 1], got {p!r}")
    value = min(value, 1.0)
    cut = 10.0 ** (-decimals) if threshold is None else float(threshold)
    if value < cut:
        return f"<{fmt_num(cut, decimals)}"
    return fmt_num(value, decimals)


def fmt_pct(
    percent: Any, decimals: int = 2, *, sign: bool = True, missing: str = ""
) -> str:
    """A percentage given in percent points: 92.307 -> "92.31%" (``sign=False``: "92.31")."""
    text = fmt_num(percent, decimals, missing=missing)
    if text == missing or not sign:
        return text
    return text + "%"


def fmt_ci(
    lower: Any, upper: Any, decimals: int = 2, *, sep: str = EN_DASH, missing: str = ""
) -> str:
    """An interval "66.69–99.61" (no brackets); ``missing`` when either limit is missing."""
    if is_missing(lower) or is_missing(upper):
        return missing
    lo = fmt_num(lower, decimals)
    hi = fmt_num(upper, decimals)
    if sep == "-" and (lo.startswith("-") or hi.startswith("-")):
        sep = " to "  # "-0.50--0.20" would be unreadable
    return f"{lo}{sep}{hi}"


def fmt_estimate_ci(
    estimate: Any,
    lower: Any,
    upper: Any,
    decimals: int = 2,
    *,
    sep: str = EN_DASH,
    missing: str = "",
) -> str:
    """"estimate (lower–upper)", e.g. "92.31 (66.69–99.61)"; the estimate alone if no CI."""
    est = fmt_num(estimate, decimals, missing=missing)
    if est == missing:
        return missing
    ci = fmt_ci(lower, upper, decimals, sep=sep)
    return f"{est} ({ci})" if ci else est


def fmt_median_range(
    median: Any,
    low: Any,
    high: Any,
    decimals: int = 2,
    *,
    sep: str = EN_DASH,
    strip_zeros: bool = False,
    missing: str = "",
) -> str:
    """"median (low–high)": median (range) or median (Q1–Q3), e.g. "33 (11–60)"."""
    med = fmt_num(median, decimals, missing=missing, strip_zeros=strip_zeros)
    if med == missing:
        return missing
    lo = fmt_num(low, decimals, strip_zeros=strip_zeros)
    hi = fmt_num(high, decimals, strip_zeros=strip_zeros)
    return f"{med} ({lo}{sep}{hi})"


def fmt_mean_sd(
    mean: Any, sd: Any, decimals: int = 2, *, strip_zeros: bool = False, missing: str = ""
) -> str:
    """"mean (SD)", e.g. "41.20 (12.35)"; the SD of a single value (NaN) prints as "NA"."""
    m = fmt_num(mean, decimals, missing=missing, strip_zeros=strip_zeros)
    if m == missing:
        return missing
    s = fmt_num(sd, decimals, missing="NA", strip_zeros=strip_zeros)
    return f"{m} ({s})"


def fmt_n_pct(n: Any, total: Any, decimals: int = 1, *, missing: str = "") -> str:
    """"n (%)" with the percentage of ``total`` and no % sign, e.g. 22 of 35 -> "22 (62.9)".

    A zero total prints the count alone (there is no percentage of nothing).
    """
    if is_missing(n):
        return missing
    count = int(n)
    if is_missing(total) or float(total) == 0:
        return str(count)
    return f"{count} ({fmt_num(100.0 * count / float(total), decimals)})"


def fmt_fraction_pct(n: Any, total: Any, decimals: int = 1, *, missing: str = "") -> str:
    """"n/N (%)", e.g. 12 of 13 -> "12/13 (92.3)"."""
    if is_missing(n) or is_missing(total):
        return missing
    count, tot = int(n), int(total)
    if tot == 0:
        return f"{count}/{tot}"
    return f"{count}/{tot} ({fmt_num(100.0 * count / tot, decimals)})"
