"""Comparison of successive CAR-T infusions in the same patients (section
``infusion_comparison``), after li2023 (seed 001): CART1 vs CART2.

Per infusion: IL-6 peak and fold change (peak / last pre-infusion value, days 0-30 after that
infusion; :func:`cartscope.clinical.cytokine_kinetics`), CAR expansion (Cmax, Tmax of the
protocol's kinetics measure; :func:`car_kinetics`), and B-cell aplasia duration
(:func:`b_cell_aplasia` per infusion window: < 1 % B cells or <= 200/uL). Infusions are
compared with the Mann-Whitney test, as the paper did (two independent samples; with five
patients the exact p is coarse and says little).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.analysis.analyses._context import MONTH_DAYS, StudyContext, float_days
from cartscope.analysis.analyses.kinetics import cytokine_peaks, nca
from cartscope.clinical.aplasia import b_cell_aplasia
from cartscope.stats.tests import mann_whitney


def needs(ctx: StudyContext) -> str:
    no = pd.to_numeric(ctx.cohort.infusions["infusion_no"], errors="coerce")
    if (no >= 2).sum() == 0:
        return "no patient has a second infusion"
    if not ctx.has("labs") and not ctx.has("kinetics"):
        return "no labs or kinetics table"
    return ""


def _labels(ctx: StudyContext) -> dict[int, str]:
    inf = ctx.cohort.infusions
    out = {}
    for no, g in inf.groupby(pd.to_numeric(inf["infusion_no"], errors="coerce")):
        lab = g["label"].dropna().astype(str).mode() if "label" in g else pd.Series(dtype=str)
        out[int(no)] = lab.iloc[0] if len(lab) else f"infusion {int(no)}"
    return out


def _compare(rows: list[dict], what: str, per: dict[int, np.ndarray], labels: dict[int, str],
             ctx: StudyContext, unit_scale: float = 1.0) -> None:
    for no, x in sorted(per.items()):
        x = x[np.isfinite(x)] * unit_scale
        rows.append({"quantity": what, "infusion_no": no, "label": labels.get(no, str(no)), "n": int(x.size),
                     "median": float(np.median(x)) if x.size else np.nan,
                     "min": float(x.min()) if x.size else np.nan, "max": float(x.max()) if x.size else np.nan,
                     "p_value": np.nan, "test": ""})
        if x.size:
            ctx.key(f"infusions.{what}.{labels.get(no, no)}.median", float(np.median(x)))
    if 1 in per and 2 in per:
        a, b = per[1][np.isfinite(per[1])], per[2][np.isfinite(per[2])]
        if a.size and b.size:
            mw = mann_whitney(a, b)
            rows.append({"quantity": what, "infusion_no": 0, "label": f"{labels.get(1)} vs {labels.get(2)}",
                         "n": int(a.size + b.size), "median": np.nan, "min": np.nan, "max": np.nan,
                         "p_value": float(mw.p_value), "test": f"mann-whitney ({mw.method})"})
            ctx.key(f"infusions.{what}.p", float(mw.p_value))


def run(ctx: StudyContext) -> None:
    labels = _labels(ctx)
    rows: list[dict] = []
    if ctx.has("labs"):
        il6, peak = {}, {}
        for no in sorted(labels):
            p = cytokine_peaks(ctx, infusion=no)
            p = p[p["analyte"] == "il6"]
            if p.empty:
                continue
            il6[no] = p["fold_change"].to_numpy(dtype=float)
            peak[no] = p["peak"].to_numpy(dtype=float)
        _compare(rows, "il6_fold_change", il6, labels, ctx)
        _compare(rows, "il6_peak", peak, labels, ctx)
    if ctx.has("kinetics"):
        per = nca(ctx)
        main = per[per["measure"] == ctx.protocol.kinetics_measure]
        cmax = {int(n): g["cmax"].to_numpy(dtype=float) for n, g in main.groupby("infusion_no")}
        tmax = {int(n): g["tmax"].to_numpy(dtype=float) for n, g in main.groupby("infusion_no")}
        _compare(rows, "car_cmax", cmax, labels, ctx)
        _compare(rows, "car_tmax", tmax, labels, ctx)
        comp = per[per["measure"].isin(["cd19_car_copies", "cd22_car_copies"])]
        if not comp.empty:
            ctx.add_table("car_components", comp[["patient_id", "infusion_no", "measure", "cmax", "tmax",
                                                  "auc0_28", "persistence_day"]])
        measures = set(ctx.cohort.kinetics["measure"].astype(str))
        if {"b_cells_pct", "b_cells_per_ul"} & measures:
            bca = b_cell_aplasia(ctx.cohort.kinetics, infusions=float_days(ctx.cohort.infusions),
                                 by_infusion=True)
            ctx.add_table("bca_by_infusion", bca)
            dur = {int(n): g["bca_duration_days"].to_numpy(dtype=float) for n, g in bca.groupby("infusion_no")}
            _compare(rows, "bca_duration_months", dur, labels, ctx, unit_scale=1.0 / MONTH_DAYS)
    ctx.add_table("infusion_comparison", pd.DataFrame(rows))
