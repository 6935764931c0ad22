"""Reading the reference values that the R scripts beside the tests write as JSON.

R writes a double either as a JSON number (``null`` for NA) or, where jsonlite's 15 digits are
not enough for a 1e-8 comparison, as a string with 17 significant digits; "NA", "NaN", "Inf"
and "-Inf" arrive as strings too.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def num(value: Any) -> Any:
    """A JSON value from R as a float, or a (nested) sequence as a float array, NA as NaN."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return np.array([num(v) for v in value], dtype=np.float64)
    if value is None or value == "NA":
        return np.nan
    return float(value)
