"""Shared pieces of the haematotoxicity, IEC-HS, infection and treatment-exposure kinds.

Tables are shifted to days from the analysis window's infusion (default the index infusion)
and cut at the next infusion when the window says so; per-patient results are summarised per
group (``all`` and each level of ``by``) as counts with percentages of the evaluable patients,
or medians with quartiles and range, each written both as a tidy table row and as ARD rows.
Table columns: counts ``n`` / ``n_evaluable`` / ``percent``; continuous ``n_values``, ``median``,
``q1``, ``q3``, ``min``, ``max`` (the report prints ``n_*`` as integers and ``percent`` as %).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.analysis.plan import Group, RunContext, Window, WindowSpec


def window(rc: RunContext) -> Window:
    return rc.window(default=WindowSpec())


def shifted(rc: RunContext, name: str, w: Window) -> pd.DataFrame:
    """Table ``name`` with days from the window's infusion; rows from the next infusion on dropped
    when the window ends there. Pre-infusion rows are kept (baselines)."""
    table = rc.cohort.table(name)
    if table.empty:
        return table.assign(patient_id=table["patient_id"].astype(str)) if "patient_id" in table else table
    t = w.shift(table)
    stop = t["patient_id"].map(w.stop)
    keep = stop.isna() | (t["day"] + t["patient_id"].map(w.day0) < stop)
    if name == "labs" and "role" in t.columns:
        keep &= t["role"].astype(object).fillna("patient") != "healthy_donor"
    return t[keep.to_numpy()].reset_index(drop=True)


def analysis_ids(rc: RunContext, w: Window) -> list[str]:
    """Population patients with the window's infusion; the others are recorded as excluded."""
    ids = rc.endpoints["patient_id"].astype(str)
    ok = np.isfinite(ids.map(w.day0).to_numpy(dtype=float))
    rc.exclude(rc.ids(~ok), "no infusion of this window")
    return ids[ok].tolist()


def members(rc: RunContext, g: Group, per: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``per`` (indexed by patient_id) for the patients of group ``g``."""
    ids = rc.endpoints.loc[g.mask, "patient_id"].astype(str)
    return per.reindex([p for p in ids if p in per.index])


def count_row(rc: RunContext, g: Group, measure: str, values: pd.Series, method: str,
              **extra: object) -> dict:
    """n patients with a true value / N evaluable (non-missing), with ARD rows."""
    v = pd.Series(values).astype("boolean")
    known = v.dropna()
    n, total = int(known.sum()), int(len(known))
    pct = 100.0 * n / total if total else np.nan
    rc.stats({"n": n, "N": total, "pct": pct}, group=g, variable=measure, method=method)
    return {"group": g.label, "measure": measure, **extra, "n": n, "n_evaluable": total, "percent": pct}


def grade_rows(rc: RunContext, g: Group, measure: str, grades: pd.Series, method: str,
               top: int = 4, first: int = 0) -> list[dict]:
    """Per grade ``first..top``: n, evaluable, pct (and ARD rows), plus grade >= 3."""
    graded = pd.to_numeric(grades, errors="coerce").dropna().astype(int)
    total = int(len(graded))
    rows = []
    for k in range(first, top + 1):
        c = int((graded == k).sum())
        pct = 100.0 * c / total if total else np.nan
        rc.stats({"n": c, "N": total, "pct": pct}, group=g, variable=measure, variable_level=k, method=method)
        rows.append({"group": g.label, "measure": measure, "grade": str(k), "n": c, "n_evaluable": total,
                     "percent": pct})
    c = int((graded >= 3).sum())
    pct = 100.0 * c / total if total else np.nan
    rc.stats({"n": c, "N": total, "pct": pct}, group=g, variable=measure, variable_level=">=3", method=method)
    rows.append({"group": g.label, "measure": measure, "grade": ">=3", "n": c, "n_evaluable": total, "percent": pct})
    return rows


def continuous_row(rc: RunContext, g: Group, measure: str, values: pd.Series, method: str,
                   **extra: object) -> dict:
    """Median, quartiles (R type 7) and range of the known values, with ARD rows."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    if len(x):
        q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
        lo, hi = float(x.min()), float(x.max())
    else:
        q1 = med = q3 = lo = hi = np.nan
    stats = {"N": int(len(x)), "median": float(med), "q1": float(q1), "q3": float(q3), "min": lo, "max": hi}
    rc.stats(stats, group=g, variable=measure, method=method)
    return {"group": g.label, "measure": measure, **extra, "n_values": stats["N"],
            **{k: v for k, v in stats.items() if k != "N"}}


def exclude_reasons(rc: RunContext, per: pd.DataFrame, mask: pd.Series, part: str, column: str = "reason") -> None:
    m = pd.Series(mask).fillna(False).astype(bool).to_numpy()
    if m.any():
        rc.exclude(per.index[m].tolist(), per.loc[m, column].astype(str).tolist(), part=part)
