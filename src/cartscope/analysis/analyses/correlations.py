"""Correlation of one variable with others (kind ``correlation``), e.g. lu2021 (seed 003):
pre-infusion MRD against peak CAR-T expansion and response duration.

Pearson r with its Fisher-z CI and t-test p, or Spearman rho (R ``cor.test``), over the
population and each ``by`` group. Patients without one of the two values are listed as
excluded; a group with fewer than ``min_n`` complete pairs is noted, not computed.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext
from cartscope.stats.tests import correlation


class CorrelationOptions(Options):
    x: str
    y: tuple[str, ...]
    method: Literal["pearson", "spearman"] = "pearson"
    min_n: int = Field(3, ge=3)


def run(rc: RunContext) -> None:
    o: CorrelationOptions = rc.options
    x = pd.to_numeric(rc.variable(o.x), errors="coerce").to_numpy(dtype=float)
    rows = []
    for name in o.y:
        y = pd.to_numeric(rc.variable(name), errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        why = np.where(~np.isfinite(x), f"no {o.x}", f"no {name}")
        rc.exclude(rc.ids(~ok), why[~ok].tolist(), part=name)
        for g in rc.groups():
            use = ok & g.mask
            if use.sum() < o.min_n:
                rc.note(f"{name}:{g.label}", f"fewer than {o.min_n} patients with both values")
                continue
            c = correlation(x[use], y[use], method=o.method)
            rows.append({"group": g.label, "x": o.x, "y": name, "n": int(use.sum()), "r": c.estimate,
                         "lower": c.ci_lower, "upper": c.ci_upper, "p_value": c.p_value, "method": o.method})
            rc.stats({"n": int(use.sum()), "estimate": c.estimate, "lower": c.ci_lower, "upper": c.ci_upper,
                      "p_value": c.p_value}, group=g, variable=f"{o.x}~{name}", method=f"{o.method} correlation")
            rc.key(f"correlations.{g.label}.{o.x}~{name}.r", c.estimate)
            rc.key(f"correlations.{g.label}.{o.x}~{name}.p", c.p_value)
    rc.add_table("correlations", pd.DataFrame(rows, columns=["group", "x", "y", "n", "r", "lower", "upper", "p_value",
                                                             "method"]))


def describe(spec: AnalysisSpec, o: CorrelationOptions) -> str:
    return f"{o.method.capitalize()} correlation of {o.x} with {', '.join(o.y)}, with its CI and p-value."


KINDS = (Kind("correlation", CorrelationOptions, run, describe, names={"x": "continuous", "y": "continuous"},
              section="correlations", summary="Pearson / Spearman correlation of one variable with others"),)
