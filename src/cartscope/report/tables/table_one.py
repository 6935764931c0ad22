"""Table 1: baseline characteristics by group, with the test of each comparison.

Summaries (descriptive, unrounded in :attr:`TableOne.frame`):

- continuous: median (range) by default; median (IQR) with ``spread="iqr"``; mean (SD) for the
  variables not in ``nonnormal``. Quartiles are R's default ``quantile(type = 7)`` (linear
  interpolation between order statistics), the SD has denominator n - 1;
- categorical: n (%) per level, percentages of the patients with a known value; levels in the
  schema order (``cartscope.cohort.schema``), the declared order of a pandas ``Categorical`` or
  the order of :class:`Bins`, else sorted;
- boolean: one line, n (%) of "yes";
- a "Missing" line with the count per group whenever a variable has missing values.

Tests (two-sided; all from :mod:`cartscope.stats`, which reproduce R):

- continuous, two groups: Mann-Whitney U (R ``wilcox.test(x, y)``: exact when both groups have
  fewer than 50 values and no ties, else the normal approximation with continuity correction);
  more groups: Kruskal-Wallis (R ``kruskal.test``). The rank test is used for variables shown as
  mean (SD) as well: no distributional assumption is made for a baseline comparison;
- categorical and boolean: Fisher's exact test (R ``fisher.test``, r x c by exact enumeration)
  when any expected count is below 5 (Cochran's rule, as gtsummary), else Pearson's chi-square
  **without** Yates' continuity correction (``correct=False``; R ``chisq.test`` corrects 2 x 2
  tables by default). Yates' correction makes the 2 x 2 test conservative, and the tables where
  it matters most (small expected counts) go to Fisher's test anyway. ``correct=True`` restores
  R's default. Levels and groups with no patients are dropped before testing, as R does.

Patients whose group is missing are left out of every column (the Overall column too), and a
footnote says how many.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from cartscope.cohort.schema import DISEASE_GROUP, PATIENTS
from cartscope.report.tables.base import INDENT, Table, string_grid
from cartscope.report.tables.formatting import (
    fmt_mean_sd,
    fmt_median_range,
    fmt_n_pct,
    fmt_p,
)
from cartscope.stats.tests import chi_square, fisher_exact, kruskal_wallis, mann_whitney

Kind = Literal["continuous", "categorical", "boolean"]

VARIABLE_LABELS: Mapping[str, str] = {
    "disease": "Disease",
    "disease_group": "Disease group",
    "sex": "Sex",
    "age": "Age, years",
    "cohort": "Cohort",
    "prior_lines": "Prior lines of therapy",
    "disease_status": "Disease status",
    "prior_hsct": "Prior HSCT",
    "cns_involvement": "CNS involvement",
    "extramedullary": "Extramedullary disease",
    "tp53": "TP53 alteration",
    "ph_positive": "Ph-positive",
    "ecog": "ECOG performance status",
    "stage": "Ann Arbor stage",
    "extranodal_sites": "Extranodal sites",
    "ldh": "LDH, U/L",
    "ldh_uln": "LDH upper limit of normal, U/L",
    "weight_kg": "Weight, kg",
    "icans_tool": "ICANS assessment tool",
}
"""Default row labels of the patients columns (override per call with ``labels``)."""

LEVEL_LABELS: Mapping[str, Mapping[str, str]] = {
    "sex": {"F": "Female", "M": "Male"},
    "cohort": {"training": "Training", "validation": "Validation", "other": "Other"},
    "disease_status": {
        "refractory": "Refractory",
        "first relapse": "First relapse",
        "second+ relapse": "\u2265 Second relapse",
        "MRD-positive": "MRD-positive",
    },
    "prior_hsct": {"none": "None", "auto": "Autologous", "allo": "Allogeneic"},
    "icans_tool": {"ice": "ICE", "capd": "CAPD"},
}
"""Default printed names of category levels (override per call with ``level_labels``)."""

ORDINAL_INTEGERS: tuple[str, ...] = ("ecog", "stage")
"""Integer patients columns that are scores: summarised per level, not by a median."""

TEST_NOTES: Mapping[str, str] = {
    "Mann-Whitney": (
        "Mann-Whitney: Wilcoxon rank-sum (Mann-Whitney U) test, two-sided; exact when both "
        "groups have fewer than 50 values and no ties, else normal approximation with "
        "continuity correction."
    ),
    "Kruskal-Wallis": "Kruskal-Wallis: Kruskal-Wallis rank-sum test.",
    "Chi-square": "Chi-square: Pearson's chi-square test without continuity correction.",
    "Chi-square (Yates)": (
        "Chi-square (Yates): Pearson's chi-square test, with Yates' continuity correction for "
        "2 x 2 tables."
    ),
    "Fisher": "Fisher: Fisher's exact test (used when any expected count is below 5).",
}


@dataclass(frozen=True)
class Bins:
    """Left-closed bins of a numeric variable: value v gets ``labels[i]`` when
    ``edges[i] <= v < edges[i + 1]`` (the last bin is open above).

    A value below ``edges[0]`` is an error (it would otherwise vanish from the table).
    """

    edges: tuple[float, ...]
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.edges) == 0 or len(self.edges) != len(self.labels):
            raise ValueError("Bins needs one label per lower edge (and at least one edge)")
        if any(b <= a for a, b in zip(self.edges, self.edges[1:])):
            raise ValueError(f"bin edges must increase, got {self.edges}")

    def apply(self, values: pd.Series, name: str) -> pd.Series:
        num = _as_numeric(values, name)
        below = num < self.edges[0]
        if below.any():
            bad = sorted(set(num[below].tolist()))
            raise ValueError(
                f"{name}: {int(below.sum())} value(s) below the first bin edge {self.edges[0]:g} "
                f"({bad[:5]}); add a bin for them"
            )
        pos = np.searchsorted(np.asarray(self.edges, dtype=float), num.to_numpy(), side="right") - 1
        out = [self.labels[i] if not math.isnan(v) else None for i, v in zip(pos, num.to_numpy())]
        return pd.Series(pd.Categorical(out, categories=list(self.labels)), index=values.index)


PRIOR_LINES_BINS = Bins(edges=(1.0, 2.0, 3.0), labels=("1", "2", "\u22653"))
"""Prior lines of therapy as 1 / 2 / >=3, as Jin et al. 2023 (Table 1) print them."""


@dataclass(frozen=True, eq=False)
class TableOne(Table):
    """Table 1 with its tests.

    frame: long/tidy summary with columns variable, label, kind, level, group, statistic,
        value, n (known values in the group), missing (unknown values in the group). The group
        of the whole sample is "Overall".
    tests: one row per variable tested: variable, test, statistic (W, H or X^2; NaN for
        Fisher), df (NaN for Mann-Whitney and Fisher), p_value.
    display: "Characteristic", one column per group ("B-ALL (n=35)"), "Overall (n=119)", and
        with a grouping "p" and "Test" (the short test name; footnotes explain each).
    """

    tests: pd.DataFrame = field(default_factory=pd.DataFrame)
    group: str | None = None
    variables: tuple[str, ...] = ()


# --- input coercion ----------------------------------------------------------------------


def _as_numeric(values: pd.Series, name: str) -> pd.Series:
    if values.dtype == bool:
        return values.astype(float)
    num = pd.to_numeric(values, errors="coerce").astype(float)
    bad = num.isna() & values.notna()
    if bad.any():
        examples = values[bad].astype(str).unique()[:5].tolist()
        raise ValueError(f"{name}: non-numeric value(s) {examples} in a continuous variable")
    return num


_TRUE = {"true", "yes", "y", "1", "1.0"}
_FALSE = {"false", "no", "n", "0", "0.0"}


def _as_bool(values: pd.Series, name: str) -> pd.Series:
    """1.0 / 0.0 / NaN from bools, 0/1 or yes/no text."""

    def one(v: Any) -> float:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return math.nan
        text = str(v).strip().lower()
        if text in _TRUE:
            return 1.0
        if text in _FALSE:
            return 0.0
        raise ValueError(f"{name}: {v!r} is not a yes/no value")

    return pd.Series([one(v) for v in values.astype(object)], index=values.index, dtype=float)


def _is_boolean_like(values: pd.Series) -> bool:
    known = values.dropna()
    if known.empty:
        return False
    if pd.api.types.is_bool_dtype(values.dtype):
        return True
    distinct = set(known.astype(object).tolist())
    return distinct <= {True, False} or (
        pd.api.types.is_numeric_dtype(values.dtype) and distinct <= {0, 1}
    )


def _kind(name: str, values: pd.Series, forced_continuous: set[str], categorical: set[str],
          bins: Mapping[str, Bins]) -> Kind:
    if name in bins or name in categorical:
        return "categorical"
    if name in forced_continuous:
        return "continuous"
    if name in PATIENTS.names:
        col = PATIENTS.column(name)
        if col.kind == "bool":
            return "boolean"
        if col.kind == "float" or (col.kind == "int" and name not in ORDINAL_INTEGERS):
            return "continuous"
        return "categorical"
    if isinstance(values.dtype, pd.CategoricalDtype):
        return "categorical"
    if _is_boolean_like(values):
        return "boolean"
    if pd.api.types.is_numeric_dtype(values.dtype):
        return "continuous"
    return "categorical"


def _level_order(name: str, values: pd.Series) -> list[str]:
    """Levels to print: declared ones (Categorical) in order, else observed ones in the
    schema order, unknown ones after them sorted."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [str(c) for c in values.cat.categories]
    observed = {str(v) for v in values.dropna().tolist()}
    order: list[str] = []
    if name in PATIENTS.names and PATIENTS.column(name).allowed:
        order = [lvl for lvl in PATIENTS.column(name).allowed if lvl in observed]
    rest = sorted(observed - set(order), key=_natural_key)
    return order + rest


def _natural_key(text: str) -> tuple[int, float, str]:
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


# --- tests -------------------------------------------------------------------------------


def _contingency_test(table: np.ndarray, correct: bool) -> tuple[str, float, float, float]:
    """(test name, statistic, p, df) for an r x c count table; ("", nan, nan, nan) if untestable."""
    t = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return "", math.nan, math.nan, math.nan
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / t.sum()
    if (expected < 5).any():
        try:
            res = fisher_exact(t)
            return "Fisher", math.nan, float(res.p_value), math.nan
        except ValueError:
            pass  # too many tables to enumerate: fall back to chi-square (footnoted)
    chi = chi_square(t, correct=correct)
    name = "Chi-square (Yates)" if correct else "Chi-square"
    return name, float(chi.statistic), float(chi.p_value), float(chi.df)


def _continuous_test(samples: list[np.ndarray]) -> tuple[str, float, float, float]:
    samples = [s for s in samples if s.size > 0]
    if len(samples) < 2:
        return "", math.nan, math.nan, math.nan
    if len(samples) == 2:
        res = mann_whitney(samples[0], samples[1])
        return "Mann-Whitney", float(res.statistic), float(res.p_value), math.nan
    kw = kruskal_wallis(*samples)
    return "Kruskal-Wallis", float(kw.statistic), float(kw.p_value), float(kw.df)


# --- the builder -------------------------------------------------------------------------


def _default_variables(patients: pd.DataFrame, group: str | None) -> list[str]:
    skip = {"patient_id", group}
    schema_cols = [c for c in PATIENTS.names if c in patients.columns and c not in skip]
    extra = [c for c in patients.columns if c not in PATIENTS.names and c not in skip]
    return schema_cols + extra


def _auto_decimals(values: np.ndarray) -> tuple[int, bool]:
    """Integer-valued data: 1 decimal with trailing zeros stripped ("33", "33.5"); else 2."""
    known = values[~np.isnan(values)]
    if known.size and np.all(known == np.round(known)):
        return 1, True
    return 2, False


def table_one(
    patients: pd.DataFrame,
    group: str | None,
    variables: Sequence[str] | None = None,
    *,
    continuous: Literal["auto"] | Sequence[str] = "auto",
    categorical: Sequence[str] = (),
    nonnormal: bool | Sequence[str] = True,
    spread: Literal["range", "iqr"] = "range",
    bins: Mapping[str, Bins] | None = None,
    labels: Mapping[str, str] | None = None,
    level_labels: Mapping[str, Mapping[str, str]] | None = None,
    overall: bool = True,
    correct: bool = False,
    decimals: int | Mapping[str, int] | None = None,
    pct_decimals: int = 1,
    p_decimals: int = 3,
    p_format: Callable[[Any], str] | None = None,
    title: str | None = None,
) -> TableOne:
    """Baseline characteristics of ``patients`` by ``group`` (None: one column, no tests).

    Parameters
    ----------
    patients: one row per patient (the cohort ``patients`` table or any frame like it).
    group: the column that splits the columns (e.g. "disease"), or None. "disease_group"
        (B-ALL / B-NHL, :data:`cartscope.cohort.schema.DISEASE_GROUP`) is derived from
        ``disease`` when the frame has no such column.
    variables: rows, in order; default every schema column present (schema order) then the
        extra columns, without ``patient_id`` and the group.
    continuous: "auto" (schema kind: float and count columns; for other columns the dtype) or
        the names to treat as continuous (the rest stay automatic).
    categorical: names to summarise per level even if numeric (e.g. an integer score).
    nonnormal: True: every continuous variable as median (range/IQR); False: all as mean (SD);
        a list: those as median, the others as mean (SD). Tests are rank tests either way.
    spread: "range" (min–max) or "iqr" (Q1–Q3) after the median.
    bins: per variable, :class:`Bins` turning a number into ordered levels (e.g.
        ``{"prior_lines": PRIOR_LINES_BINS}``).
    labels, level_labels: printed names, over :data:`VARIABLE_LABELS` / :data:`LEVEL_LABELS`.
    correct: Yates' correction in the chi-square test of 2 x 2 tables (R's default); off by
        default, see the module docstring.
    p_format: formats the p-values (e.g. :meth:`cartscope.report.numbers.NumberFormat.p`);
        default ``p_decimals`` places.
    decimals: places of continuous summaries (one number or per variable); default 2, or for
        integer-valued data 1 with trailing zeros dropped.
    """
    if not isinstance(patients, pd.DataFrame):
        raise TypeError(f"patients must be a pandas DataFrame, got {type(patients).__name__}")
    if spread not in ("range", "iqr"):
        raise ValueError(f"spread must be 'range' or 'iqr', got {spread!r}")
    if group == "disease_group" and group not in patients.columns and "disease" in patients.columns:
        patients = patients.assign(disease_group=_disease_group(patients["disease"]))
    if group is not None and group not in patients.columns:
        raise ValueError(f"group column {group!r} is not in patients (columns: {list(patients.columns)})")
    var_list = list(variables) if variables is not None else _default_variables(patients, group)
    unknown = [v for v in var_list if v not in patients.columns]
    if unknown:
        raise ValueError(f"variables not in patients: {unknown}")
    var_list = [v for v in var_list if v != group]
    if not var_list:
        raise ValueError("no variables to summarise")
    bins = dict(bins or {})
    names = {**VARIABLE_LABELS, **(labels or {})}
    lvl_names = {k: dict(v) for k, v in LEVEL_LABELS.items()}
    for k, v in (level_labels or {}).items():
        lvl_names[k] = {**lvl_names.get(k, {}), **v}
    forced = set() if continuous == "auto" else set(continuous)
    if isinstance(continuous, str) and continuous != "auto":
        raise ValueError("continuous must be 'auto' or a list of variable names")

    data = patients
    notes: list[str] = []
    if group is not None:
        no_group = patients[group].isna()
        if no_group.any():
            k = int(no_group.sum())
            notes.append(
                f"{k} patient{'s' if k != 1 else ''} with unknown "
                f"{names.get(group, group).lower()} not shown."
            )
        data = patients.loc[~no_group]
        group_values = data[group]
        groups = _level_order(group, group_values)
        group_keys = group_values.astype(str)
    else:
        groups = []
        group_keys = pd.Series("", index=data.index)
    columns: list[tuple[str, pd.Series]] = [
        (g, group_keys == g) for g in groups
    ]
    if overall or group is None:
        columns.append(("Overall", pd.Series(True, index=data.index)))

    def header(g: str, mask: pd.Series) -> str:
        shown = "Overall" if g == "Overall" else lvl_names.get(group or "", {}).get(g, g)
        return f"{shown} (n={int(mask.sum())})"

    tidy: list[dict[str, Any]] = []
    test_rows: list[dict[str, Any]] = []
    grid: list[list[str]] = []
    used_tests: list[str] = []
    fisher_fallback = False
    any_pct = False
    summaries_used: set[str] = set()
    n_cols = len(columns)

    for var in var_list:
        raw = data[var]
        label = names.get(var, var)
        kind = _kind(var, raw, forced, set(categorical), bins)
        level_map = lvl_names.get(var, {})
        if kind == "continuous":
            values = _as_numeric(raw, var)
            arr = values.to_numpy(dtype=float)
            median_shown = nonnormal is True or (not isinstance(nonnormal, bool) and var in nonnormal)
            if isinstance(decimals, Mapping):
                dec, strip = (decimals[var], False) if var in decimals else _auto_decimals(arr)
            elif decimals is not None:
                dec, strip = decimals, False
            else:
                dec, strip = _auto_decimals(arr)
            if median_shown:
                summary = "median (range)" if spread == "range" else "median (IQR)"
            else:
                summary = "mean (SD)"
            summaries_used.add(summary)
            cells: list[str] = []
            miss_cells: list[str] = []
            for g, mask in columns:
                x = arr[mask.to_numpy()]
                known = x[~np.isnan(x)]
                n_known, n_miss = int(known.size), int(x.size - known.size)
                stats_: dict[str, float] = {}
                if n_known:
                    q1, med, q3 = np.quantile(known, [0.25, 0.5, 0.75])
                    stats_ = {
                        "median": float(med), "min": float(known.min()), "max": float(known.max()),
                        "q1": float(q1), "q3": float(q3), "mean": float(known.mean()),
                        "sd": float(known.std(ddof=1)) if n_known > 1 else math.nan,
                    }
                for stat, value in stats_.items():
                    tidy.append(_tidy(var, label, kind, None, g, stat, value, n_known, n_miss))
                if not stats_:
                    cells.append("")
                elif summary == "median (range)":
                    cells.append(fmt_median_range(stats_["median"], stats_["min"], stats_["max"],
                                                  dec, strip_zeros=strip))
                elif summary == "median (IQR)":
                    cells.append(fmt_median_range(stats_["median"], stats_["q1"], stats_["q3"],
                                                  dec, strip_zeros=strip))
                else:
                    cells.append(fmt_mean_sd(stats_["mean"], stats_["sd"], dec, strip_zeros=strip))
                miss_cells.append(str(n_miss))
            test, stat, p, df = ("", math.nan, math.nan, math.nan)
            if group is not None:
                samples = [arr[(group_keys == g).to_numpy()] for g in groups]
                samples = [s[~np.isnan(s)] for s in samples]
                test, stat, p, df = _continuous_test(samples)
            rows = [[f"{label}, {summary}", *cells]]
            has_missing = np.isnan(arr).any()
        else:
            if kind == "boolean":
                values01 = _as_bool(raw, var)
                level_values = values01.map({1.0: "yes", 0.0: "no"})
                levels = ["yes", "no"]
            else:
                level_values = bins[var].apply(raw, var) if var in bins else raw
                levels = _level_order(var, level_values)
                level_values = level_values.astype(object).where(level_values.notna(), None)
                level_values = level_values.map(lambda v: None if v is None else str(v))
            any_pct = True
            counts = np.zeros((len(levels), n_cols), dtype=np.int64)
            miss_cells = []
            known_n: list[int] = []
            for j, (g, mask) in enumerate(columns):
                sub = level_values[mask]
                n_miss = int(sub.isna().sum())
                n_known = int(sub.size - n_miss)
                known_n.append(n_known)
                vc = sub.value_counts()
                for i, lvl in enumerate(levels):
                    counts[i, j] = int(vc.get(lvl, 0))
                    if kind == "boolean" and lvl == "no":
                        continue
                    tidy.append(_tidy(var, label, kind, None if kind == "boolean" else lvl, g,
                                      "count", counts[i, j], n_known, n_miss))
                    pct = 100.0 * counts[i, j] / n_known if n_known else math.nan
                    tidy.append(_tidy(var, label, kind, None if kind == "boolean" else lvl, g,
                                      "percent", pct, n_known, n_miss))
                miss_cells.append(str(n_miss))
            test, stat, p, df = ("", math.nan, math.nan, math.nan)
            if group is not None:
                by_group = np.zeros((len(levels), len(groups)), dtype=np.int64)
                for j, g in enumerate(groups):
                    sub = level_values[group_keys == g]
                    vc = sub.value_counts()
                    for i, lvl in enumerate(levels):
                        by_group[i, j] = int(vc.get(lvl, 0))
                test, stat, p, df = _contingency_test(by_group, correct)
                if test.startswith("Chi-square"):
                    t = by_group[by_group.sum(axis=1) > 0][:, by_group.sum(axis=0) > 0]
                    exp = np.outer(t.sum(axis=1), t.sum(axis=0)) / t.sum()
                    fisher_fallback = fisher_fallback or bool((exp < 5).any())
            if kind == "boolean":
                rows = [[f"{label}, n (%)",
                         *[fmt_n_pct(counts[0, j], known_n[j], pct_decimals) for j in range(n_cols)]]]
            else:
                rows = [[f"{label}, n (%)", *([""] * n_cols)]]
                for i, lvl in enumerate(levels):
                    rows.append([INDENT + level_map.get(lvl, lvl),
                                 *[fmt_n_pct(counts[i, j], known_n[j], pct_decimals)
                                   for j in range(n_cols)]])
            has_missing = bool(level_values.isna().any())
        if group is not None:
            rows[0] += [p_format(p) if p_format is not None else fmt_p(p, p_decimals), test]
            for r in rows[1:]:
                r += ["", ""]
            if test:
                test_rows.append({"variable": var, "test": test, "statistic": stat,
                                  "df": df, "p_value": p})
                if test not in used_tests:
                    used_tests.append(test)
        if has_missing:
            rows.append([INDENT + "Missing", *miss_cells] + (["", ""] if group is not None else []))
        grid.extend(rows)

    col_names = ["Characteristic", *[header(g, m) for g, m in columns]]
    if group is not None:
        col_names += ["p", "Test"]
    display = string_grid(grid, col_names)

    footnotes: list[str] = []
    for summary in ("median (range)", "median (IQR)", "mean (SD)"):
        if summary in summaries_used:
            footnotes.append({
                "median (range)": "Continuous variables: median (range).",
                "median (IQR)": "Continuous variables: median (interquartile range).",
                "mean (SD)": "Continuous variables: mean (standard deviation).",
            }[summary])
    if any_pct:
        footnotes.append("n (%): percentages of the patients with a known value.")
    footnotes.extend(TEST_NOTES[t] for t in used_tests)
    if fisher_fallback:
        footnotes.append(
            "Chi-square is shown where an expected count is below 5 but the table is too large "
            "for Fisher's exact test."
        )
    footnotes.extend(notes)
    if title is None:
        title = "Baseline characteristics"
        if group is not None:
            title += f" by {names.get(group, group).lower()}"
    frame = pd.DataFrame(
        tidy, columns=["variable", "label", "kind", "level", "group", "statistic", "value", "n",
                       "missing"],
    )
    tests = pd.DataFrame(test_rows, columns=["variable", "test", "statistic", "df", "p_value"])
    return TableOne(
        frame=frame, display=display, title=title, footnotes=tuple(footnotes), tests=tests,
        group=group, variables=tuple(var_list),
    )


def _disease_group(disease: pd.Series) -> pd.Series:
    known = disease.isna() | disease.isin(list(DISEASE_GROUP))
    if not known.all():
        bad = sorted(disease[~known].astype(str).unique())[:5]
        raise ValueError(f"disease: no disease group for {bad}; known: {sorted(DISEASE_GROUP)}")
    return disease.map(DISEASE_GROUP)


def _tidy(var: str, label: str, kind: str, level: str | None, group: str, statistic: str,
          value: float, n: int, missing: int) -> dict[str, Any]:
    return {"variable": var, "label": label, "kind": kind, "level": level, "group": group,
            "statistic": statistic, "value": float(value), "n": n, "missing": missing}
