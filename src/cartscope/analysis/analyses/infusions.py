"""Comparison of successive CAR-T infusions in the same patients (kind
``infusion_comparison``), after li2023 (seed 001): CART1 vs CART2.

Per infusion: the analyte's peak and fold change (peak / last value on or before that
infusion's day, days ``start``-``end`` after it; :func:`cartscope.clinical.cytokine_kinetics`),
CAR expansion (Cmax, Tmax of ``measure``; :func:`car_kinetics`), and B-cell aplasia duration
(:func:`b_cell_aplasia` per infusion window: < 1 % B cells or <= 200/uL). The two infusions
are compared with the Mann-Whitney test by default, as the paper did (two independent
samples; with five patients the exact p is coarse), or with the Wilcoxon signed-rank test of
the patients who have both (``test: wilcoxon``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from cartscope.analysis.analyses._context import MONTH_DAYS, float_days
from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext, WindowSpec
from cartscope.analysis.plan.variables import analyte_key, cytokine_frame, nca_table
from cartscope.clinical.aplasia import b_cell_aplasia
from cartscope.stats.paired import wilcoxon_signed_rank
from cartscope.stats.tests import mann_whitney


class InfusionComparisonOptions(Options):
    analyte: str = "IL-6"
    measure: str = "car_copies_per_ug"
    infusions: tuple[int, int] = (1, 2)
    start: float = 0.0
    end: float = 30.0
    test: Literal["mann-whitney", "wilcoxon"] = "mann-whitney"


def needs(rc: RunContext) -> str:
    no = pd.to_numeric(rc.cohort.infusions["infusion_no"], errors="coerce")
    if (no >= max(rc.options.infusions)).sum() == 0:
        return f"no patient has infusion {max(rc.options.infusions)}"
    if not rc.has("labs") and not rc.has("kinetics"):
        return "no labs or kinetics table"
    return ""


def _labels(rc: RunContext) -> dict[int, str]:
    inf = rc.cohort.infusions
    out = {}
    for no, g in inf.groupby(pd.to_numeric(inf["infusion_no"], errors="coerce")):
        lab = g["label"].dropna().astype(str).mode() if "label" in g else pd.Series(dtype=str)
        out[int(no)] = lab.iloc[0] if len(lab) else f"infusion {int(no)}"
    return out


def _compare(rc: RunContext, rows: list[dict], what: str, per: dict[int, pd.Series], labels: dict[int, str],
             unit_scale: float = 1.0) -> None:
    o: InfusionComparisonOptions = rc.options
    for no in o.infusions:
        x = per.get(no, pd.Series(dtype=float)).dropna() * unit_scale
        v = x.to_numpy(dtype=float)
        s = {"n": int(v.size), "median": float(np.median(v)) if v.size else np.nan,
             "min": float(v.min()) if v.size else np.nan, "max": float(v.max()) if v.size else np.nan}
        rows.append({"quantity": what, "infusion_no": no, "label": labels.get(no, str(no)), **s,
                     "p_value": np.nan, "test": ""})
        rc.stats(s, variable=what, variable_level=labels.get(no, str(no)), method="median (range)")
        if v.size:
            rc.key(f"infusions.{what}.{labels.get(no, no)}.median", s["median"])
    a_no, b_no = o.infusions
    a = per.get(a_no, pd.Series(dtype=float)).dropna()
    b = per.get(b_no, pd.Series(dtype=float)).dropna()
    if not (a.size and b.size):
        return
    if o.test == "wilcoxon":
        both = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner")
        if len(both) < 2:
            rc.note(what, "fewer than two patients with both infusions: no paired test")
            return
        r = wilcoxon_signed_rank(both["a"].to_numpy(), both["b"].to_numpy())
        test = f"wilcoxon signed-rank ({r.method})"
        n = len(both)
    else:
        r = mann_whitney(a.to_numpy(dtype=float), b.to_numpy(dtype=float))
        test = f"mann-whitney ({r.method})"
        n = int(a.size + b.size)
    label = f"{labels.get(a_no)} vs {labels.get(b_no)}"
    rows.append({"quantity": what, "infusion_no": 0, "label": label, "n": n, "median": np.nan, "min": np.nan,
                 "max": np.nan, "p_value": float(r.p_value), "test": test})
    rc.stats({"statistic": float(r.statistic), "p_value": float(r.p_value)}, variable=what, variable_level=label,
             method=test)
    rc.key(f"infusions.{what}.p", float(r.p_value))


def run(rc: RunContext) -> None:
    o: InfusionComparisonOptions = rc.options
    labels = _labels(rc)
    ids = set(rc.endpoints["patient_id"].astype(str))
    rows: list[dict] = []
    key = analyte_key(o.analyte)
    if rc.has("labs"):
        fold, peak = {}, {}
        for no in o.infusions:
            p = cytokine_frame(rc.study, WindowSpec(infusion=no, start=o.start, end=o.end), [o.analyte])
            p = p[(p["analyte"] == key) & p["patient_id"].isin(ids)].set_index("patient_id")
            if p.empty:
                continue
            fold[no] = p["fold_change"].astype(float)
            peak[no] = p["peak"].astype(float)
        _compare(rc, rows, f"{key}_fold_change", fold, labels)
        _compare(rc, rows, f"{key}_peak", peak, labels)
    if rc.has("kinetics"):
        per = nca_table(rc.study, o.measure)
        per = per[per["patient_id"].astype(str).isin(ids)]
        main = per[per["measure"] == o.measure]
        cmax = {int(n): g.set_index("patient_id")["cmax"].astype(float) for n, g in main.groupby("infusion_no")}
        tmax = {int(n): g.set_index("patient_id")["tmax"].astype(float) for n, g in main.groupby("infusion_no")}
        _compare(rc, rows, "car_cmax", cmax, labels)
        _compare(rc, rows, "car_tmax", tmax, labels)
        comp = per[per["measure"].isin(["cd19_car_copies", "cd22_car_copies"])]
        if not comp.empty:
            rc.add_table("car_components", comp[["patient_id", "infusion_no", "measure", "cmax", "tmax", "auc0_28",
                                                 "persistence_day"]])
        measures = set(rc.cohort.kinetics["measure"].astype(str))
        if {"b_cells_pct", "b_cells_per_ul"} & measures:
            kin = rc.cohort.kinetics[rc.cohort.kinetics["patient_id"].astype(str).isin(ids)]
            bca = b_cell_aplasia(kin, infusions=float_days(rc.cohort.infusions), by_infusion=True)
            rc.add_table("bca_by_infusion", bca)
            dur = {int(n): g.assign(patient_id=g["patient_id"].astype(str)).set_index("patient_id")["bca_duration_days"]
                   .astype(float) for n, g in bca.groupby("infusion_no")}
            _compare(rc, rows, "bca_duration_months", dur, labels, unit_scale=1.0 / MONTH_DAYS)
    rc.add_table("infusion_comparison", pd.DataFrame(rows))


def describe(spec: AnalysisSpec, o: InfusionComparisonOptions) -> str:
    a, b = o.infusions
    test = "Mann-Whitney" if o.test == "mann-whitney" else "Wilcoxon signed-rank"
    return (f"Infusion {a} vs {b}: {o.analyte} peak and fold change (days {o.start:g}-{o.end:g} after each), "
            f"{o.measure} Cmax / Tmax and B-cell aplasia duration, compared by the {test} test.")


KINDS = (Kind("infusion_comparison", InfusionComparisonOptions, run, describe, needs,
              names={"analyte": "analyte", "measure": "measure"}, section="infusion_comparison",
              summary="successive infusions of the same patients compared (cytokine, CAR expansion, B-cell aplasia)"),)
