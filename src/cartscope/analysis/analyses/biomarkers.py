"""Biomarker screen (kind ``biomarker_screen``) and validation of its frozen cutoff (kind
``biomarker_validation``), after jin2023 (seed 000), for any binary outcome.

- Values: the panel at ``timepoint`` (e.g. the IL-6 peak sample), as fold change over the
  healthy-donor mean (or median) of each analyte, or raw with ``reference: none``.
- Outcome: any binary variable (default ``nr_er``: NR/ER vs durable remission; e.g. a
  ``crs, at_least: 3`` variable, CR by day 28, a 0/1 column). Cases are 1, controls 0; patients
  with a missing outcome or without a sample are listed as excluded. The analysis' population
  is the training cohort.
- Screen: Mann-Whitney per analyte (R ``wilcox.test``), multiplicity adjustment by
  ``fdr_method``, empirical AUC with DeLong CI and Youden cutoff; the same tests within each
  level of the first ``by`` variable.
- Markers: ROC, Youden cutoff, sensitivity / specificity with the ``ci_method`` proportion
  interval (jin2023 used the modified Wilson interval), KM and log-rank of ``survival_endpoint``
  above vs below the cutoff, the maximally selected log-rank cut-point with its search-adjusted
  p (Lausen & Schumacher 1992, R ``maxstat``), the baseline comparison, the bootstrap
  optimism-corrected AUC, the association with CRS grade and with the peaks of
  ``association_analytes`` (Spearman, Kruskal-Wallis, Mann-Whitney) and the pairwise Pearson
  correlation of the markers.
- Validation: the screen's cutoff and direction frozen and applied to the validation
  population (its own analysis, naming the screen by id).

Result tables keep the jin2023 column names (``n_nr_er`` = cases, ``n_durable`` = controls)
whatever the outcome; the ``outcome`` column names it.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from cartscope.analysis.biomarkers import optimism_corrected_auc, screen
from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext
from cartscope.analysis.plan.variables import analyte_key, cytokine_frame
from cartscope.stats.cutoff_side import is_test_positive, positive_side
from cartscope.stats.maxstat import maxstat_test
from cartscope.stats.roc import roc
from cartscope.stats.survival import kaplan_meier, logrank
from cartscope.stats.tests import correlation, kruskal_wallis, mann_whitney

CASE, CONTROL = "NR/ER", "durable"
CiMethod = Literal["wilson", "wilson-modified", "clopper-pearson", "agresti-coull", "jeffreys", "wald"]

_SCREEN_COLUMNS = {
    "marker": "analyte", "n_positive": "n_nr_er", "n_negative": "n_durable",
    "median_positive": "median_nr_er", "median_negative": "median_durable",
    "mw_statistic": "statistic", "p_value": "p_value", "mw_method": "test", "auc": "auc",
    "auc_lower": "auc_lower", "auc_upper": "auc_upper", "direction": "direction",
    "youden_cutoff": "youden_cutoff", "sensitivity": "sensitivity", "specificity": "specificity",
    "q_value": "q_value",
}
"""Columns of :func:`cartscope.biomarkers.screen` under the names of the study's screen tables."""

Reference = Literal["healthy_donor_mean", "healthy_donor_median", "none"]


class ScreenOptions(Options):
    timepoint: str
    baseline_timepoint: str | None = None
    analytes: tuple[str, ...] | Literal["all"] = "all"
    reference: Reference = "healthy_donor_mean"
    outcome: str = "nr_er"
    fdr_method: Literal["bh", "by", "holm", "bonferroni", "hochberg"] = "bh"
    fdr_level: float = Field(0.05, gt=0, lt=1)
    significance: float = Field(0.05, gt=0, lt=1)
    ci_method: CiMethod = "wilson-modified"
    markers: tuple[str, ...] = ()
    survival_endpoint: str | None = "pfs"
    conf_type: Literal["plain", "log", "log-log"] = "log-log"
    association_analytes: tuple[str, ...] = ("IL-6", "ferritin")
    n_boot: int = Field(200, ge=10, le=100_000)
    seed: int = 20230304
    threads: int | None = Field(None, ge=1, le=64)
    """Threads of the panel screen (:func:`cartscope.biomarkers.screen`); None = the usable cores."""


class ValidationOptions(Options):
    screen: str
    """The id of the ``biomarker_screen`` analysis whose cutoffs are frozen."""
    conf_type: Literal["plain", "log", "log-log"] = "log-log"


# -- the panel -------------------------------------------------------------------------------

def panel_values(cohort, timepoint: str, analytes: tuple[str, ...] | str = "all",
                 reference: str = "healthy_donor_mean", panels: dict | None = None) -> pd.DataFrame:
    """Patients x analytes at ``timepoint`` (fold change vs healthy donors unless ``none``);
    columns are the cohort's analyte names, ``analytes`` matched by any alias or panel name."""
    labs = cohort.labs
    donor = (labs["role"].astype(object) == "healthy_donor").to_numpy() if "role" in labs else np.zeros(len(labs), bool)
    tp = labs["timepoint"].astype(object) if "timepoint" in labs else pd.Series(None, index=labs.index, dtype=object)
    pat = labs[~donor & (tp == timepoint).to_numpy()]
    pat = pat.assign(patient_id=pat["patient_id"].astype(str), value=pd.to_numeric(pat["value"], errors="coerce"))
    wide = pat.pivot_table(index="patient_id", columns="analyte", values="value", aggfunc="mean")
    if analytes != "all":
        keys = []
        for a in analytes:
            for b in (panels or {}).get(a, (a,)):
                keys.append(analyte_key(b))
        cols = [c for c in wide.columns if analyte_key(c) in set(keys)]
        wide = wide.reindex(columns=cols)
    if reference != "none":
        ref = labs[donor].assign(value=lambda f: pd.to_numeric(f["value"], errors="coerce"))
        how = "mean" if reference == "healthy_donor_mean" else "median"
        denom = ref.groupby("analyte")["value"].agg(how).reindex(wide.columns)
        denom = denom.where(denom > 0)
        wide = wide / denom
    wide = wide.sort_index(axis=1)
    return wide.loc[:, wide.notna().any(axis=0)]


def panel(ctx, timepoint: str) -> pd.DataFrame:
    """The panel of a context whose ``protocol.biomarkers`` names analytes and reference (the
    report's and the web app's legacy call)."""
    bm = ctx.protocol.biomarkers
    return panel_values(ctx.cohort, timepoint, bm.analytes, bm.reference)


def marker_column(wide: pd.DataFrame, marker: str) -> str | None:
    """The panel column of ``marker`` (compared by analyte alias), or None."""
    key = analyte_key(marker)
    for c in wide.columns:
        if c == marker or analyte_key(c) == key:
            return c
    return None


def _donor_rows(labs: pd.DataFrame) -> np.ndarray:
    if "role" not in labs:
        return np.zeros(len(labs), dtype=bool)
    return (labs["role"].astype(object) == "healthy_donor").to_numpy()


def needs(rc: RunContext) -> str:
    o: ScreenOptions = rc.options
    if not rc.has("labs"):
        return "no labs table"
    labs = rc.cohort.labs
    if not (labs.get("timepoint", pd.Series(dtype=object)).astype(object) == o.timepoint).any():
        return f"no lab rows with timepoint {o.timepoint!r}"
    if o.reference != "none" and not _donor_rows(labs).any():
        return "no healthy-donor rows (role = healthy_donor) for the fold-change reference"
    return ""


def _analysis_set(rc: RunContext, wide: pd.DataFrame, outcome: str, timepoint: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Population rows with a known outcome and a panel sample, and whether each is a case."""
    ep = rc.endpoints
    y = pd.to_numeric(rc.variable(outcome), errors="coerce").to_numpy(dtype=float)
    known = np.isfinite(y)
    sampled = ep["patient_id"].astype(str).isin(wide.index).to_numpy()
    if outcome == "nr_er":
        reasons = [f"not evaluable for NR/ER vs durable: {r}" for r in ep.loc[~known, "outcome_reason"].astype(str)]
    else:
        reasons = f"no {outcome} value"
    rc.exclude(rc.ids(~known), reasons)
    rc.exclude(rc.ids(known & ~sampled), f"no {timepoint} sample")
    use = known & sampled
    return ep[use].reset_index(drop=True), y[use] == 1


def run(rc: RunContext) -> None:
    o: ScreenOptions = rc.options
    wide = panel_values(rc.cohort, o.timepoint, o.analytes, o.reference, rc.plan.panels)
    train, is_case = _analysis_set(rc, wide, o.outcome, o.timepoint)
    values = wide.reindex(train["patient_id"].astype(str)).to_numpy(dtype=float)
    analytes = list(wide.columns)
    if is_case.sum() == 0 or (~is_case).sum() == 0:
        rc.skip(f"the population lacks cases or controls of {o.outcome}")
    sub = None
    if rc.spec.by:
        sub = rc.variable(rc.spec.by[0]).set_axis(rc.endpoints["patient_id"].astype(str)).reindex(
            train["patient_id"].astype(str)).to_numpy(dtype=object)
    result = screen(values, is_case, markers=analytes, subgroups=sub, fdr_method=o.fdr_method,
                    fdr_level=o.fdr_level, ci_method=o.ci_method, threads=o.threads)
    table = result.table.rename(columns=_SCREEN_COLUMNS)
    table["significant"] = table["p_value"] < o.significance
    table["fdr_significant"] = table["q_value"] < o.fdr_level
    table = table[list(_SCREEN_COLUMNS.values()) + ["significant", "fdr_significant"]]
    table.insert(1, "outcome", o.outcome)
    table = table.sort_values(["p_value", "analyte"], kind="mergesort")
    rc.add_table("biomarker_screen", table)
    method = f"mann-whitney, {o.fdr_method} adjustment; empirical AUC (DeLong CI)"
    for rec in table.itertuples():
        rc.stats({"n_cases": rec.n_nr_er, "n_controls": rec.n_durable, "median_cases": rec.median_nr_er,
                  "median_controls": rec.median_durable, "p_value": rec.p_value, "q_value": rec.q_value,
                  "auc": rec.auc, "auc_lower": rec.auc_lower, "auc_upper": rec.auc_upper,
                  "youden_cutoff": rec.youden_cutoff}, variable=str(rec.analyte), variable_level=o.outcome,
                 method=method)
    rc.key("biomarkers.training.n_nr_er", int(is_case.sum()))
    rc.key("biomarkers.training.n_durable", int((~is_case).sum()))
    rc.key("biomarkers.n_significant", int(table["significant"].sum()))
    rc.key("biomarkers.n_fdr_significant", int(table["fdr_significant"].sum()))
    if result.subgroups is not None and len(result.subgroups):
        _subgroup_table(rc, result.subgroups)
    _markers(rc, train, wide, is_case)


def _subgroup_table(rc: RunContext, subgroups: pd.DataFrame) -> None:
    """Per-subgroup Mann-Whitney p and q; a subgroup without both classes is noted, not tested."""
    rows = []
    for level, part in subgroups.groupby("subgroup", sort=True):
        if (part["n_positive"] == 0).all() or (part["n_negative"] == 0).all():
            rc.note(f"subgroup {level}", "no case or no control in this subgroup")
            continue
        rows.append(part.rename(columns=_SCREEN_COLUMNS)[["subgroup", "analyte", "n_nr_er", "n_durable", "p_value",
                                                          "q_value"]])
    if rows:
        rc.add_table("biomarker_screen_subgroups", pd.concat(rows, ignore_index=True))


def _km_by_cut(rc: RunContext, rows: pd.DataFrame, values: np.ndarray, cutoff: float, direction: str,
               prefix: str, endpoint: str, conf_type: str) -> dict:
    """KM and log-rank of ``endpoint`` by the side of ``cutoff`` that predicts the outcome."""
    time = rows[f"{endpoint}_time"].to_numpy(dtype=float)
    event = rows[f"{endpoint}_event"]
    ok = np.isfinite(values) & event.notna().to_numpy() & np.isfinite(time)
    # the test-positive side (value on the cut-off included) from the shared rule
    positive = is_test_positive(values, cutoff, direction)
    high = positive_side(direction) == "high"
    side = np.where(positive == high, "above", "below").astype(object)
    ev = event.fillna(0).to_numpy(dtype=int)
    out = {"n": int(ok.sum()), "n_above": int((ok & (side == "above")).sum()),
           "n_below": int((ok & (side == "below")).sum()), "logrank_p": np.nan, "note": "",
           "nr_er_side": "above" if high else "below"}
    for level in ("above", "below"):
        m = ok & (side == level)
        if m.any():
            rc.add_object(f"km/{endpoint}/{prefix}/{level}", kaplan_meier(time[m], ev[m], conf_type=conf_type))
    try:
        lr = logrank(time[ok], ev[ok], side[ok].astype(str))
        rc.add_object(f"logrank/{endpoint}/{prefix}", lr)
        out["logrank_p"] = lr.p_value
    except ValueError as exc:
        out["note"] = str(exc)
    return out


def _markers(rc: RunContext, train: pd.DataFrame, wide: pd.DataFrame, is_case: np.ndarray) -> None:
    o: ScreenOptions = rc.options
    rows, cuts, maxstat_rows = [], [], []
    endpoint = o.survival_endpoint
    if endpoint is not None and f"{endpoint}_time" not in rc.endpoints:
        rc.note("survival", f"endpoint {endpoint!r} is not defined")
        endpoint = None
    ep = rc.endpoints
    train_all = ep[ep["patient_id"].astype(str).isin(wide.index).to_numpy()]
    found = {}
    for marker in o.markers:
        col = marker_column(wide, marker)
        if col is None:
            rc.note(marker, f"marker {marker!r} not measured at {o.timepoint}")
            continue
        found[marker] = col
        v = wide[col].reindex(train["patient_id"].astype(str)).to_numpy(dtype=float)
        r = roc(v, is_case)
        rc.add_object(f"roc/{marker}", r)
        ci = r.auc_ci()
        yd = r.youden()
        op = r.at(yd.threshold, ci_method=o.ci_method)
        row = {"marker": marker, "outcome": o.outcome, "n_nr_er": int(r.n_cases), "n_durable": int(r.n_controls),
               "auc": float(ci.auc), "auc_lower": float(ci.lower), "auc_upper": float(ci.upper),
               "direction": str(r.direction), "cutoff": float(yd.threshold), "n_optimal": int(yd.n_optimal),
               "tp": int(op.tp), "fn": int(op.fn), "tn": int(op.tn), "fp": int(op.fp),
               "sensitivity": float(op.sensitivity), "sensitivity_lower": float(op.sensitivity_ci[0]),
               "sensitivity_upper": float(op.sensitivity_ci[1]), "specificity": float(op.specificity),
               "specificity_lower": float(op.specificity_ci[0]), "specificity_upper": float(op.specificity_ci[1]),
               "ci_method": o.ci_method}
        rows.append(row)
        rc.stats({k: row[k] for k in ("auc", "auc_lower", "auc_upper", "cutoff", "sensitivity", "sensitivity_lower",
                                      "sensitivity_upper", "specificity", "specificity_lower", "specificity_upper")},
                 variable=marker, variable_level=o.outcome,
                 method=f"ROC (DeLong CI), Youden cutoff, {o.ci_method} intervals")
        for k in ("auc", "auc_lower", "auc_upper", "cutoff", "sensitivity", "specificity"):
            rc.key(f"biomarkers.{marker}.{k}", row[k])
        if endpoint is None:
            continue
        tv = wide[col].reindex(train_all["patient_id"].astype(str)).to_numpy(dtype=float)
        km = _km_by_cut(rc, train_all, tv, row["cutoff"], row["direction"], f"cutoff_{marker}", endpoint, o.conf_type)
        cuts.append({"marker": marker, "cohort": rc.population or "all", "endpoint": endpoint,
                     "cutoff": row["cutoff"], **km})
        rc.stat("p_value", km["logrank_p"], variable=marker, variable_level=f"{endpoint} by cutoff", method="log-rank")
        rc.key(f"biomarkers.{marker}.{endpoint}_logrank_p", km["logrank_p"])
        t = train_all[f"{endpoint}_time"].to_numpy(dtype=float)
        e = train_all[f"{endpoint}_event"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        try:
            ms = maxstat_test(tv, t, e)
            rc.add_object(f"maxstat/{marker}", ms)
            maxstat_rows.append({"marker": marker, "endpoint": endpoint, "n": ms.n, "cutpoint": ms.cutpoint,
                                 "statistic": ms.statistic, "p_adjusted": ms.p_value, "pmethod": ms.pmethod,
                                 "note": ""})
            rc.stats({"cutpoint": ms.cutpoint, "p_value": ms.p_value}, variable=marker,
                     variable_level=f"{endpoint} maxstat", method=f"maximally selected log-rank ({ms.pmethod})")
            rc.key(f"biomarkers.{marker}.maxstat_p", ms.p_value)
        except ValueError as exc:
            maxstat_rows.append({"marker": marker, "endpoint": endpoint, "n": 0, "cutpoint": np.nan,
                                 "statistic": np.nan, "p_adjusted": np.nan, "pmethod": "", "note": str(exc)})
    if rows:
        rc.add_table("biomarker_markers", pd.DataFrame(rows))
        if cuts:
            rc.add_table("biomarker_cutoff_survival", pd.DataFrame(cuts))
            rc.add_table("biomarker_maxstat", pd.DataFrame(maxstat_rows))
        _optimism(rc, train, wide, is_case, found)
        _baseline(rc, wide, found)
        _associations(rc, train_all, wide, found)
        _marker_correlations(rc, train, wide, found)


def _optimism(rc: RunContext, train: pd.DataFrame, wide: pd.DataFrame, is_case: np.ndarray, found: dict) -> None:
    """Bootstrap optimism-corrected AUC of each marker's cutoff rule, from the biomarker layer."""
    o: ScreenOptions = rc.options
    rows = []
    for marker, col in found.items():
        v = wide[col].reindex(train["patient_id"].astype(str)).to_numpy(dtype=float)
        try:
            res = optimism_corrected_auc(v, is_case, n_boot=o.n_boot, seed=o.seed, markers=[marker])
        except (TypeError, ValueError) as exc:
            rc.note(f"optimism_corrected_auc:{marker}", str(exc))
            continue
        frame = res.to_frame()
        frame.insert(0, "marker", marker)
        rows.append(frame)
        rc.stat("auc_optimism_corrected", res.corrected_auc, variable=marker, variable_level=o.outcome,
                method=f"bootstrap optimism correction, {o.n_boot} resamples, seed {o.seed}")
        rc.key(f"biomarkers.{marker}.auc_optimism_corrected", res.corrected_auc)
    if rows:
        rc.add_table("biomarker_optimism", pd.concat(rows, ignore_index=True))


def _baseline(rc: RunContext, wide: pd.DataFrame, found: dict) -> None:
    """Markers at the baseline time point: cases vs controls, and baseline vs screen levels."""
    o: ScreenOptions = rc.options
    tp = o.baseline_timepoint
    if tp is None:
        return
    base = panel_values(rc.cohort, tp, o.analytes, o.reference, rc.plan.panels)
    y = pd.to_numeric(rc.study.variable(o.outcome), errors="coerce")
    y = y.reindex(base.index)
    rows = []
    for marker, col in found.items():
        bcol = marker_column(base, marker)
        if bcol is None:
            continue
        b = base[bcol].to_numpy(dtype=float)
        case = (y == 1).to_numpy()
        ctrl = (y == 0).to_numpy()
        ok = np.isfinite(b)
        row = {"marker": marker, "timepoint": tp, "n": int((ok & (case | ctrl)).sum()), "n_nr_er": int((ok & case).sum()),
               "n_durable": int((ok & ctrl).sum()), "median_nr_er": np.nan, "median_durable": np.nan,
               "p_value": np.nan, "median_baseline": np.nan, "median_peak": np.nan}
        if (ok & case).any() and (ok & ctrl).any():
            mw = mann_whitney(b[ok & case], b[ok & ctrl])
            row.update(median_nr_er=float(np.median(b[ok & case])), median_durable=float(np.median(b[ok & ctrl])),
                       p_value=float(mw.p_value))
            rc.stat("p_value", float(mw.p_value), variable=marker, variable_level=f"{tp}: {o.outcome}",
                    method=f"mann-whitney ({mw.method})")
            rc.key(f"biomarkers.{marker}.baseline_p", float(mw.p_value))
        both = pd.concat([base[bcol].rename("base"), wide[col].rename("peak")], axis=1, join="inner").dropna()
        if len(both):
            row.update(median_baseline=float(both["base"].median()), median_peak=float(both["peak"].median()),
                       n_paired=int(len(both)))
        rows.append(row)
    if rows:
        rc.add_table("biomarker_baseline", pd.DataFrame(rows))


def _associations(rc: RunContext, rows: pd.DataFrame, wide: pd.DataFrame, found: dict) -> None:
    """Marker vs CRS grade (Kruskal-Wallis; Mann-Whitney by CRS group) and vs the peaks of
    ``association_analytes`` (Spearman)."""
    o: ScreenOptions = rc.options
    peaks = cytokine_frame(rc.study, None, list(o.association_analytes)) if rc.has("labs") else \
        pd.DataFrame(columns=["patient_id", "analyte", "peak"])
    out = []
    for marker, col in found.items():
        v = wide[col].reindex(rows["patient_id"].astype(str)).to_numpy(dtype=float)
        grade = rows["crs_grade"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        ok = np.isfinite(v) & np.isfinite(grade)
        levels = sorted(set(grade[ok]))
        if len(levels) >= 2:
            kw = kruskal_wallis(*[v[ok & (grade == g)] for g in levels])
            out.append({"marker": marker, "with": "crs_grade", "test": "kruskal-wallis", "n": int(ok.sum()),
                        "estimate": np.nan, "p_value": kw.p_value})
            rc.stat("p_value", kw.p_value, variable=marker, variable_level="crs_grade", method="kruskal-wallis")
            rc.key(f"biomarkers.{marker}.crs_grade_p", kw.p_value)
        grp = rows["crs_group"].astype(object).to_numpy()
        hi = f"{rc.plan.crs_high_grade}-5"
        ok2 = np.isfinite(v) & pd.notna(grp)
        if (ok2 & (grp == hi)).any() and (ok2 & (grp != hi)).any():
            mw = mann_whitney(v[ok2 & (grp == hi)], v[ok2 & (grp != hi)])
            out.append({"marker": marker, "with": "crs_group", "test": "mann-whitney", "n": int(ok2.sum()),
                        "estimate": np.nan, "p_value": float(mw.p_value)})
        for analyte in o.association_analytes:
            key = analyte_key(analyte)
            pk = peaks[peaks["analyte"] == key].set_index("patient_id")["peak"]
            y = rows["patient_id"].astype(str).map(pk).to_numpy(dtype=float)
            ok3 = np.isfinite(v) & np.isfinite(y)
            if ok3.sum() >= 3:
                c = correlation(v[ok3], y[ok3], method="spearman")
                out.append({"marker": marker, "with": f"{key} peak", "test": "spearman", "n": int(ok3.sum()),
                            "estimate": c.estimate, "p_value": c.p_value})
                rc.stats({"estimate": c.estimate, "p_value": c.p_value}, variable=marker,
                         variable_level=f"{key} peak", method="spearman correlation")
                rc.key(f"biomarkers.{marker}.{key}_peak_spearman_p", c.p_value)
    if out:
        rc.add_table("biomarker_associations", pd.DataFrame(out))


def _marker_correlations(rc: RunContext, train: pd.DataFrame, wide: pd.DataFrame, found: dict) -> None:
    """Pearson correlation between each pair of markers (screen population, panel values)."""
    names = list(found)
    rows = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            x = wide[found[a]].reindex(train["patient_id"].astype(str)).to_numpy(dtype=float)
            y = wide[found[b]].reindex(train["patient_id"].astype(str)).to_numpy(dtype=float)
            ok = np.isfinite(x) & np.isfinite(y)
            if ok.sum() < 3:
                continue
            c = correlation(x[ok], y[ok], method="pearson")
            rows.append({"marker_a": a, "marker_b": b, "n": int(ok.sum()), "r": c.estimate,
                         "lower": c.ci_lower, "upper": c.ci_upper, "p_value": c.p_value})
            rc.stats({"estimate": c.estimate, "p_value": c.p_value}, variable=f"{a}~{b}", method="pearson correlation")
            rc.key(f"biomarkers.{a}~{b}.pearson_r", c.estimate)
    if rows:
        rc.add_table("biomarker_marker_correlation", pd.DataFrame(rows))


def describe(spec: AnalysisSpec, o: ScreenOptions) -> str:
    ref = "raw values" if o.reference == "none" else f"fold change over the {o.reference.replace('_', ' ')}"
    what = "every analyte" if o.analytes == "all" else ", ".join(o.analytes)
    marks = f"; ROC, Youden cutoff and sensitivity/specificity of {', '.join(o.markers)}" if o.markers else ""
    return (f"Screens {what} at {o.timepoint} ({ref}) for {o.outcome} (cases = 1 vs controls = 0): Mann-Whitney, "
            f"{o.fdr_method} adjustment, AUC{marks}.")


# -- validation ----------------------------------------------------------------------------

def needs_validation(rc: RunContext) -> str:
    o: ValidationOptions = rc.options
    frozen = rc.table("biomarker_markers", o.screen)
    if frozen is None or frozen.empty:
        return f"no frozen cutoff: the screen {o.screen!r} produced no marker cutoffs"
    return ""


def run_validation(rc: RunContext) -> None:
    o: ValidationOptions = rc.options
    screen_spec = rc.plan.analysis(o.screen)
    from cartscope.analysis.plan.registry import get_kind

    so: ScreenOptions = get_kind("biomarker_screen").options.model_validate(screen_spec.options)
    wide = panel_values(rc.cohort, so.timepoint, so.analytes, so.reference, rc.plan.panels)
    val, is_case = _analysis_set(rc, wide, so.outcome, so.timepoint)
    frozen = rc.table("biomarker_markers", o.screen).set_index("marker")
    ep = rc.endpoints
    val_all = ep[ep["patient_id"].astype(str).isin(wide.index).to_numpy()]
    endpoint = so.survival_endpoint if so.survival_endpoint and f"{so.survival_endpoint}_time" in ep else None
    rows = []
    for marker, rec in frozen.iterrows():
        col = marker_column(wide, marker)
        v = (wide[col] if col else pd.Series(dtype=float)).reindex(val["patient_id"].astype(str)).to_numpy(dtype=float)
        if not (np.isfinite(v[is_case]).any() and np.isfinite(v[~is_case]).any()):
            rc.note(marker, f"{marker} is not measured in cases and controls of this population")
            continue
        row = {"marker": marker, "cohort": rc.population or "all", "cutoff": rec["cutoff"],
               "direction": rec["direction"], "n_nr_er": int(is_case.sum()), "n_durable": int((~is_case).sum())}
        mw = mann_whitney(v[is_case], v[~is_case])
        r = roc(v, is_case, direction=rec["direction"])
        op = r.at(rec["cutoff"], ci_method=so.ci_method)
        row.update(median_nr_er=float(np.nanmedian(v[is_case])), median_durable=float(np.nanmedian(v[~is_case])),
                   p_value=float(mw.p_value), auc=float(r.auc), tp=int(op.tp), fn=int(op.fn), tn=int(op.tn),
                   fp=int(op.fp), sensitivity=float(op.sensitivity), sensitivity_lower=float(op.sensitivity_ci[0]),
                   sensitivity_upper=float(op.sensitivity_ci[1]), specificity=float(op.specificity),
                   specificity_lower=float(op.specificity_ci[0]), specificity_upper=float(op.specificity_ci[1]))
        rc.stats({k: row[k] for k in ("p_value", "auc", "sensitivity", "sensitivity_lower", "sensitivity_upper",
                                      "specificity", "specificity_lower", "specificity_upper")},
                 variable=marker, variable_level=so.outcome,
                 method=f"frozen cutoff {rec['cutoff']:.6g} of {o.screen}; mann-whitney; {so.ci_method} intervals")
        for k in ("p_value", "sensitivity", "specificity", "auc"):
            rc.key(f"validation.{marker}.{k}", row[k])
        if endpoint is not None:
            vv = wide[col].reindex(val_all["patient_id"].astype(str)).to_numpy(dtype=float)
            km = _km_by_cut(rc, val_all, vv, rec["cutoff"], rec["direction"], f"validation_{marker}", endpoint,
                            o.conf_type)
            row.update({f"{endpoint}_{k}": x for k, x in km.items()})
            rc.stat("p_value", km["logrank_p"], variable=marker, variable_level=f"{endpoint} by cutoff",
                    method="log-rank")
            rc.key(f"validation.{marker}.{endpoint}_logrank_p", km["logrank_p"])
        rows.append(row)
    rc.add_table("biomarker_validation", pd.DataFrame(rows))


def describe_validation(spec: AnalysisSpec, o: ValidationOptions) -> str:
    return (f"Applies the cutoffs and directions frozen by {o.screen!r} to this population: Mann-Whitney, "
            "sensitivity, specificity and survival by the cutoff.")


KINDS = (
    Kind("biomarker_screen", ScreenOptions, run, describe, needs,
         names={"timepoint": "timepoint", "baseline_timepoint": "timepoint", "analytes": "analyte",
                "outcome": "binary", "markers": "analyte", "survival_endpoint": "endpoint",
                "association_analytes": "analyte"},
         section="biomarkers", summary="panel screen for any binary outcome, markers' ROC, cutoff and survival"),
    Kind("biomarker_validation", ValidationOptions, run_validation, describe_validation, needs_validation,
         names={"screen": "analysis"}, section="validation",
         summary="frozen cutoffs of a screen applied to a validation population"),
)
