"""A variable compared across groups, or two readings compared within patients (kind ``compare``).

Unpaired (the default): each of ``variables`` across the levels of each ``by`` variable, with
the test that fits the variable -

- continuous, 2 groups: Mann-Whitney (R ``wilcox.test``, exact when small and untied);
  3+ groups: Kruskal-Wallis (R ``kruskal.test``);
- binary or categorical: Fisher's exact test (R ``fisher.test``), or the chi-square test
  (R ``chisq.test``) with ``categorical_test: chi-square``;

with n, median and quartiles (continuous) or counts and % (categorical) per group.

Paired (``paired: true``): ``variables`` are two readings of the same patients (e.g. the IL-6
peak after infusion 1 and after infusion 2); complete pairs are compared by the Wilcoxon
signed-rank test (R ``wilcox.test(paired = TRUE)``; ``paired_test: t`` = paired t-test), or by
McNemar's test for two binary readings, in the population and in each ``by`` group.

The values compared (continuous variables, and both readings of each complete pair) are kept
per patient in the ``comparison_values`` table, for the report's dot and paired-line figures.

Every patient of the population left out is listed in the exclusions with the reason: no
value of the variable (or no level of the ``by`` variable); paired, no value of one reading
or of both.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from cartscope.analysis.plan import AnalysisSpec, Group, Kind, Options, RunContext
from cartscope.analysis.plan.variables import data_type
from cartscope.stats.paired import mcnemar, paired_t, wilcoxon_signed_rank
from cartscope.stats.tests import chi_square, fisher_exact, kruskal_wallis, mann_whitney


class CompareOptions(Options):
    paired: bool = False
    paired_test: Literal["wilcoxon", "t"] = "wilcoxon"
    categorical_test: Literal["fisher", "chi-square"] = "fisher"


def needs(rc: RunContext) -> str:
    o: CompareOptions = rc.options
    if o.paired and len(rc.spec.variables) != 2:
        return "a paired comparison needs exactly two variables (the two readings)"
    if not o.paired and not rc.spec.by:
        return "an unpaired comparison needs a by variable (the groups)"
    return ""


def _kind_of(s: pd.Series) -> str:
    t = data_type(s)
    return "continuous" if t == "continuous" else "categorical"


def _unpaired(rc: RunContext, var: str, rows: list[dict], values: list[pd.DataFrame]) -> None:
    o: CompareOptions = rc.options
    s = rc.variable(var)
    kind = _kind_of(s)
    groups = [g for g in rc.groups(include_all=False)]
    _exclude_missing(rc, var, s, kind)
    splits: dict[tuple[str, str], list[Group]] = {}
    for g in groups:
        splits.setdefault((g.by, g.within_level), []).append(g)
    for (by, wl), gs in splits.items():
        if kind == "continuous":
            x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
            samples = []
            for g in gs:
                v = x[g.mask & np.isfinite(x)]
                samples.append(v)
                values.append(pd.DataFrame({"patient_id": rc.ids(g.mask & np.isfinite(x)), "variable": var, "by": by,
                                            "within": wl, "group": g.level, "reading": "", "value": v}))
                stats = {"n": int(v.size)}
                if v.size:
                    q1, med, q3 = np.percentile(v, [25, 50, 75])
                    stats.update(median=float(med), q1=float(q1), q3=float(q3), min=float(v.min()), max=float(v.max()))
                rc.stats(stats, group=g, variable=var, method="median (quartiles, range)")
                rows.append({"variable": var, "by": by, "within": wl, "group": g.level, "level": "", **stats})
            use = [v for v in samples if v.size]
            if len(use) < 2:
                rc.note(f"{var}:{by}", "fewer than two groups with values: no test")
                continue
            if len(samples) == 2 and all(v.size for v in samples):
                r = mann_whitney(samples[0], samples[1])
                test = {"statistic": float(r.statistic), "p_value": float(r.p_value)}
                method = f"mann-whitney ({r.method})"
            else:
                r = kruskal_wallis(*use)
                test = {"statistic": float(r.statistic), "p_value": float(r.p_value)}
                method = "kruskal-wallis"
        else:
            lab = s.astype(object).map(lambda v: None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
                                       else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)))
            lab = lab.where(s.notna().to_numpy(), None)
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = [str(c) for c in s.cat.categories if (lab == str(c)).any()]
            else:
                levels = sorted({v for v in lab if isinstance(v, str)})
            table = np.array([[int(((lab == lv).to_numpy() & g.mask).sum()) for lv in levels] for g in gs])
            for g, counts in zip(gs, table):
                total = int(counts.sum())
                for lv, c in zip(levels, counts):
                    pct = 100.0 * c / total if total else np.nan
                    rc.stats({"n": int(c), "N": total, "pct": pct}, group=g, variable=var, variable_level=lv,
                             method="count (% of the group's patients with a value)")
                    rows.append({"variable": var, "by": by, "within": wl, "group": g.level, "level": lv,
                                 "n": int(c), "pct": pct})
            keep = table.sum(axis=1) > 0
            table = table[keep][:, table[keep].sum(axis=0) > 0] if keep.any() else table
            if table.shape[0] < 2 or table.shape[1] < 2:
                rc.note(f"{var}:{by}", "fewer than two groups or two levels with patients: no test")
                continue
            if o.categorical_test == "fisher":
                r = fisher_exact(table)
                test = {"p_value": float(r.p_value)}
                if table.shape == (2, 2):
                    test.update(odds_ratio=float(r.odds_ratio), lower=float(r.ci_lower), upper=float(r.ci_upper))
                method = "fisher exact"
            else:
                r = chi_square(table)
                test = {"statistic": float(r.statistic), "df": float(r.df), "p_value": float(r.p_value)}
                method = "chi-square" + (" (continuity corrected)" if r.correction else "")
        sel = np.zeros(len(rc.endpoints), dtype=bool)
        for g in gs:
            sel |= g.mask
        rc.stats(test, group=Group(by, "", gs[0].within, wl, sel), variable=var, method=method)
        rows.append({"variable": var, "by": by, "within": wl, "group": "test", "level": method, **test})
        rc.key(f"compare.{rc.id}.{var}.{by}{'.' + wl if wl else ''}.p", test["p_value"])


def _exclude_missing(rc: RunContext, var: str, s: pd.Series, kind: str) -> None:
    """Record the patients left out of the comparison of ``var``: no value of ``var``, or no
    level of a ``by`` variable (part = the variable's name)."""
    has = _present(s, kind == "continuous")
    rc.exclude(rc.ids(~has), f"missing {var}", part=var)
    for by in rc.spec.by:
        no_group = has & np.array([v is None for v in rc.group_labels(by)], dtype=bool)
        rc.exclude(rc.ids(no_group), f"missing {by} (the groups)", part=var)


def _present(s: pd.Series, numeric: bool) -> np.ndarray:
    if numeric:
        return np.isfinite(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float))
    return s.notna().to_numpy()


def _paired(rc: RunContext, rows: list[dict], values: list[pd.DataFrame]) -> None:
    o: CompareOptions = rc.options
    a, b = rc.spec.variables
    sa, sb = rc.variable(a), rc.variable(b)
    ha, hb = _present(sa, True), _present(sb, True)
    rc.exclude(rc.ids(~ha & ~hb), f"missing {a} and {b}")
    rc.exclude(rc.ids(~ha & hb), f"missing {a} (no pair for its {b})")
    rc.exclude(rc.ids(ha & ~hb), f"missing {b} (no pair for its {a})")
    binary = data_type(sa) == "binary" and data_type(sb) == "binary"
    for g in rc.groups():
        x = pd.to_numeric(sa[g.mask], errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(sb[g.mask], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        pids = np.asarray(rc.ids(g.mask))
        for reading, v in ((a, x), (b, y)):
            values.append(pd.DataFrame({"patient_id": pids[ok], "variable": f"{a} vs {b}", "by": g.by,
                                        "within": g.within_level, "group": g.level if g.by else "all",
                                        "reading": reading, "value": v[ok]}))
        row = {"variable": f"{a} vs {b}", "by": g.by, "within": g.within_level, "group": g.level if g.by else "all",
               "level": "", "n": int(ok.sum())}
        if ok.sum() < 2:
            rc.note(f"{g.label}", f"fewer than two patients with both {a} and {b}")
            rows.append(row)
            continue
        if binary:
            t = np.array([[np.sum((x[ok] == i) & (y[ok] == j)) for j in (1, 0)] for i in (1, 0)])
            r = mcnemar(t)
            test, method = {"statistic": float(r.statistic), "p_value": float(r.p_value)}, "mcnemar"
        elif o.paired_test == "t":
            r = paired_t(x[ok], y[ok])
            test = {"statistic": float(r.statistic), "p_value": float(r.p_value), "estimate": float(r.estimate),
                    "lower": float(r.ci_lower), "upper": float(r.ci_upper)}
            method = "paired t"
        else:
            r = wilcoxon_signed_rank(x[ok], y[ok])
            test, method = {"statistic": float(r.statistic), "p_value": float(r.p_value)}, \
                f"wilcoxon signed-rank ({r.method})"
        stats = {"n": int(ok.sum()), f"median_{a}": float(np.median(x[ok])), f"median_{b}": float(np.median(y[ok])),
                 **test}
        rc.stats(stats, group=g, variable=f"{a} vs {b}", method=method)
        row.update(stats, level=method)
        rows.append(row)
        rc.key(f"compare.{rc.id}.{g.label}.p", test["p_value"])


def run(rc: RunContext) -> None:
    o: CompareOptions = rc.options
    rows: list[dict] = []
    values: list[pd.DataFrame] = []
    if o.paired:
        _paired(rc, rows, values)
    else:
        for var in rc.spec.variables:
            _unpaired(rc, var, rows, values)
    rc.add_table("comparisons", pd.DataFrame(rows))
    columns = ["patient_id", "variable", "by", "within", "group", "reading", "value"]
    rc.add_table("comparison_values", pd.concat(values, ignore_index=True)[columns] if values
                 else pd.DataFrame(columns=columns))


def describe(spec: AnalysisSpec, o: CompareOptions) -> str:
    if o.paired:
        test = "Wilcoxon signed-rank" if o.paired_test == "wilcoxon" else "paired t"
        return (f"Compares {spec.variables[0]} with {spec.variables[1] if len(spec.variables) > 1 else '?'} within "
                f"patients ({test} test; McNemar for two binary readings).")
    cat = "Fisher's exact" if o.categorical_test == "fisher" else "chi-square"
    return (f"Compares {', '.join(spec.variables)} across the levels of {', '.join(spec.by)}: Mann-Whitney "
            f"(2 groups) or Kruskal-Wallis for continuous variables, {cat} test for categories.")


KINDS = (Kind("compare", CompareOptions, run, describe, needs, variables="variable", section="compare",
              summary="a variable across groups (or two readings within patients) with the fitting test"),)
