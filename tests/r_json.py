"""Reading the reference values that the R scripts beside the tests write as JSON.

R writes a double either as a JSON number (``null`` for NA) or, where jsonlite's 15 digits are
not enough for a 1e-8 comparison, as a string with 17 significant digits; "NA", "NaN", "Inf"
and "-Inf" arrive as strings too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

#: R's ``alternative`` names as cartscope spells them.
ALTERNATIVE = {"two.sided": "two-sided", "less": "less", "greater": "greater"}


def num(value: Any) -> Any:
    """A JSON value from R as a float, or a (nested) sequence as a float array, NA as NaN."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return np.array([num(v) for v in value], dtype=np.float64)
    if value is None or value == "NA":
        return np.nan
    return float(value)


def reference_fixture(script: Path) -> Callable[..., Any]:
    """A module-scoped fixture ``ref``: the JSON that ``script`` writes (run once per session).

    In a test module: ``ref = reference_fixture(Path(__file__).parent / "r" / "x.R")``.
    """

    @pytest.fixture(scope="module", name="ref")
    def ref(r_reference: Any) -> Any:
        return r_reference(script)

    return ref


def case(ref: Any, section: str, name: str) -> Any:
    """The case called ``name`` in the list ``ref[section]`` of an R script's output."""
    return next(c for c in ref[section] if c["name"] == name)
