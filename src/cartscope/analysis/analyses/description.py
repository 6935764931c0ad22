"""Cohort description, Table 1 style (kind ``describe``).

Per group (the whole population and each level of ``by``): the number of patients; for each
continuous variable n, median, min, max (and the quartiles); for each categorical or binary
variable, and each integer variable with at most 6 values (grades, prior lines), the count of
each level over the group size ('missing' counted as its own level).
Descriptive only; the formatted Table 1 is rendered by the report layer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext
from cartscope.analysis.plan.variables import data_type

NUMERIC = ("age", "prior_lines", "weight_kg", "ldh")
CATEGORICAL = ("sex", "cohort", "disease", "disease_status", "prior_hsct", "cns_involvement", "tp53",
               "ph_positive")
DEFAULT_VARIABLES = NUMERIC + CATEGORICAL
"""Described when the analysis lists no ``variables`` (those present in the cohort)."""


class DescribeOptions(Options):
    """``describe`` has no options of its own: ``variables`` and ``by`` say what and how."""


def _variables(rc: RunContext) -> list[str]:
    if rc.spec.variables:
        return list(rc.spec.variables)
    pats = set(rc.cohort.patients.columns)
    return [v for v in DEFAULT_VARIABLES if v in pats]


def _describe_type(s: pd.Series) -> str:
    """Continuous, unless categorical, binary or a grade-like integer with at most 6 values."""
    if data_type(s) != "continuous":
        return "categorical"
    x = pd.to_numeric(s, errors="coerce").dropna()
    if len(x) and (x == x.round()).all() and x.nunique() <= 6:
        return "categorical"
    return "continuous"


def run(rc: RunContext) -> None:
    rows = []
    values = {v: rc.variable(v) for v in _variables(rc)}
    types = {v: _describe_type(s) for v, s in values.items()}
    for g in rc.groups():
        n = g.n
        rows.append({"group": g.label, "variable": "patients", "level": "", "n": n, "value": float(n),
                     "median": np.nan, "q1": np.nan, "q3": np.nan, "min": np.nan, "max": np.nan})
        rc.stat("n", n, group=g, variable="patients", method="count")
        rc.key(f"cohort.n.{g.label}", n)
        for var, s in values.items():
            sub = s[g.mask]
            if types[var] == "continuous":
                x = pd.to_numeric(sub, errors="coerce").to_numpy(dtype=float)
                x = x[np.isfinite(x)]
                if x.size == 0:
                    continue
                q1, med, q3 = np.percentile(x, [25, 50, 75])
                rows.append({"group": g.label, "variable": var, "level": "", "n": int(x.size), "value": np.nan,
                             "median": float(med), "q1": float(q1), "q3": float(q3), "min": float(x.min()),
                             "max": float(x.max())})
                rc.stats({"n": int(x.size), "median": float(med), "q1": float(q1), "q3": float(q3),
                          "min": float(x.min()), "max": float(x.max())}, group=g, variable=var,
                         method="median (type 7 quartiles), range")
                continue
            if sub.isna().all() and len(sub):
                continue
            lab = sub.astype(object).map(lambda v: "missing" if v is None or v is pd.NA or
                                         (isinstance(v, float) and np.isnan(v)) else
                                         (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)))
            counts = lab.value_counts()
            levels = [str(c) for c in s.cat.categories if str(c) in counts.index] \
                if isinstance(s.dtype, pd.CategoricalDtype) else sorted(counts.index)
            levels += [lv for lv in sorted(counts.index) if lv not in levels]
            for lv in levels:
                rows.append({"group": g.label, "variable": var, "level": lv, "n": n, "value": float(counts[lv]),
                             "median": np.nan, "q1": np.nan, "q3": np.nan, "min": np.nan, "max": np.nan})
                rc.stats({"n": int(counts[lv]), "N": n, "pct": 100.0 * counts[lv] / n if n else np.nan},
                         group=g, variable=var, variable_level=lv, method="count (% of the group)")
    rc.add_table("cohort_description", pd.DataFrame(rows, columns=["group", "variable", "level", "n", "value",
                                                                    "median", "q1", "q3", "min", "max"]))
    rc.add_table("cohort_values", _values_frame(rc, values, types))


def _values_frame(rc: RunContext, values: dict[str, pd.Series], types: dict[str, str]) -> pd.DataFrame:
    """The described values per patient of the population, long (patient, variable, role, type,
    text, number), for the report's Table 1 (it lays them out and tests the groups): ``by`` and
    ``within`` variables have role ``by``, the described ones role ``variable``."""
    mask = np.ones(len(rc.endpoints), dtype=bool)  # rc.endpoints holds the population's rows
    ids = rc.endpoints["patient_id"].astype(str).to_numpy()[mask]
    parts = []
    split = [b for b in (*rc.spec.by, *([rc.spec.within] if rc.spec.within else [])) if b not in values]
    for role, names in (("by", split), ("variable", list(values))):
        for var in names:
            s = (values[var] if var in values else rc.variable(var)).reset_index(drop=True)[mask]
            kind = types.get(var, "categorical") if role == "variable" else "categorical"
            if isinstance(s.dtype, pd.CategoricalDtype):
                order = "|".join(str(c) for c in s.cat.categories)
            else:
                order = ""
            known = s.notna().to_numpy()
            text = [(str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)) if k else ""
                    for v, k in zip(s.astype(object), known)]
            number = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float) if kind == "continuous" \
                else np.full(len(s), np.nan)
            parts.append(pd.DataFrame({"patient_id": ids, "variable": var, "role": role, "type": kind,
                                       "levels": order, "text": text, "number": number}))
    columns = ["patient_id", "variable", "role", "type", "levels", "text", "number"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def describe(spec: AnalysisSpec, options: DescribeOptions) -> str:
    what = ", ".join(spec.variables) if spec.variables else "age, prior lines, weight, LDH and the baseline categories"
    return f"Describes {what}: median (quartiles, range) of continuous variables, counts and % of the others."


KINDS = (Kind("describe", DescribeOptions, run, describe, variables="variable", section="cohort",
              summary="Table 1: medians, ranges and counts of any variables, by group"),)
