"""Biomarker screen on the training cohort and validation of the frozen cutoff (sections
``biomarkers`` and ``validation``), after jin2023 (seed 000).

- Values: the panel at the protocol's ``timepoint`` (e.g. the IL-6 peak), as fold change over
  the healthy-donor mean (or median) of each analyte, or raw with ``reference: none``.
- Outcome: NR/ER (cases) vs durable remission (controls); patients not evaluable for the split
  or without a sample are listed as excluded.
- Screen: Mann-Whitney per analyte (R ``wilcox.test``), multiplicity adjustment by the
  protocol's ``fdr_method``, empirical AUC with DeLong CI and Youden cutoff; the same tests
  within each subgroup.
- Markers: ROC, Youden cutoff, sensitivity / specificity with the protocol's proportion
  interval (jin2023 used the modified Wilson interval), KM and log-rank of the survival
  endpoint above vs below the cutoff, the maximally selected log-rank cut-point with its
  search-adjusted p (Lausen & Schumacher 1992, R ``maxstat``), the baseline comparison, and the
  association with CRS grade, IL-6 peak and ferritin peak (Spearman, Kruskal-Wallis,
  Mann-Whitney).
- Validation: the training cutoff and direction frozen and applied to the validation cohort.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.analysis.analyses._context import StudyContext
from cartscope.analysis.analyses.kinetics import cytokine_peaks
from cartscope.analysis.biomarkers import optimism_corrected_auc, screen
from cartscope.stats.maxstat import maxstat_test
from cartscope.stats.roc import roc
from cartscope.stats.survival import kaplan_meier, logrank
from cartscope.stats.tests import correlation, kruskal_wallis, mann_whitney

CASE, CONTROL = "NR/ER", "durable"

_SCREEN_COLUMNS = {
    "marker": "analyte", "n_positive": "n_nr_er", "n_negative": "n_durable",
    "median_positive": "median_nr_er", "median_negative": "median_durable",
    "mw_statistic": "statistic", "p_value": "p_value", "mw_method": "test", "auc": "auc",
    "auc_lower": "auc_lower", "auc_upper": "auc_upper", "direction": "direction",
    "youden_cutoff": "youden_cutoff", "sensitivity": "sensitivity", "specificity": "specificity",
    "q_value": "q_value",
}
"""Columns of :func:`cartscope.biomarkers.screen` under the names of the study's screen tables."""


def needs(ctx: StudyContext) -> str:
    bm = ctx.protocol.biomarkers
    if bm is None:
        return "the protocol has no biomarkers section"
    if not ctx.has("labs"):
        return "no labs table"
    labs = ctx.cohort.labs
    if not (labs.get("timepoint", pd.Series(dtype=object)).astype(object) == bm.timepoint).any():
        return f"no lab rows with timepoint {bm.timepoint!r}"
    if bm.reference != "none" and not _donor_rows(labs).any():
        return "no healthy-donor rows (role = healthy_donor) for the fold-change reference"
    if not (ctx.endpoints["cohort_role"] == bm.training).any():
        return f"no patient in the training cohort {bm.training!r}"
    return ""


def _donor_rows(labs: pd.DataFrame) -> np.ndarray:
    if "role" not in labs:
        return np.zeros(len(labs), dtype=bool)
    return (labs["role"].astype(object) == "healthy_donor").to_numpy()


def panel(ctx: StudyContext, timepoint: str) -> pd.DataFrame:
    """Patients x analytes at ``timepoint`` (fold change vs healthy donors unless ``none``)."""
    bm = ctx.protocol.biomarkers
    labs = ctx.cohort.labs
    donor = _donor_rows(labs)
    pat = labs[~donor & (labs["timepoint"].astype(object) == timepoint).to_numpy()]
    pat = pat.assign(patient_id=pat["patient_id"].astype(str), value=pd.to_numeric(pat["value"], errors="coerce"))
    wide = pat.pivot_table(index="patient_id", columns="analyte", values="value", aggfunc="mean")
    if bm.analytes != "all":
        wide = wide.reindex(columns=list(bm.analytes))
    if bm.reference != "none":
        ref = labs[donor].assign(value=lambda f: pd.to_numeric(f["value"], errors="coerce"))
        how = "mean" if bm.reference == "healthy_donor_mean" else "median"
        denom = ref.groupby("analyte")["value"].agg(how).reindex(wide.columns)
        denom = denom.where(denom > 0)
        wide = wide / denom
    wide = wide.sort_index(axis=1)
    return wide.loc[:, wide.notna().any(axis=0)]


def _analysis_set(ctx: StudyContext, role: str, wide: pd.DataFrame, analysis: str) -> pd.DataFrame:
    """Endpoint rows of cohort ``role`` with an NR/ER or durable class and a panel sample."""
    ep = ctx.endpoints
    in_role = (ep["cohort_role"] == role).to_numpy()
    cls = ep["outcome_class"].astype(str).to_numpy()
    evaluable = np.isin(cls, [CASE, CONTROL])
    sampled = ep["patient_id"].isin(wide.index).to_numpy()
    ne = in_role & ~evaluable
    ctx.exclude(analysis, ctx.ids(ne), [f"not evaluable for NR/ER vs durable: {r}"
                                        for r in ep.loc[ne, "outcome_reason"].astype(str)])
    nos = in_role & evaluable & ~sampled
    ctx.exclude(analysis, ctx.ids(nos), f"no {ctx.protocol.biomarkers.timepoint} sample")
    return ep[in_role & evaluable & sampled]


def run(ctx: StudyContext) -> None:
    bm = ctx.protocol.biomarkers
    wide = panel(ctx, bm.timepoint)
    train = _analysis_set(ctx, bm.training, wide, "biomarkers:training")
    values = wide.reindex(train["patient_id"]).to_numpy(dtype=float)
    is_case = (train["outcome_class"] == CASE).to_numpy()
    analytes = list(wide.columns)
    if is_case.sum() == 0 or (~is_case).sum() == 0:
        ctx.notes["biomarkers:screen"] = "the training cohort lacks NR/ER or durable patients"
        return
    result = screen(values, is_case, markers=analytes, subgroups=_subgroup_labels(ctx, train),
                    fdr_method=bm.fdr_method, fdr_level=bm.fdr_level, ci_method=bm.ci_method)
    table = result.table.rename(columns=_SCREEN_COLUMNS)
    table["significant"] = table["p_value"] < bm.significance
    table["fdr_significant"] = table["q_value"] < bm.fdr_level
    table = table[list(_SCREEN_COLUMNS.values()) + ["significant", "fdr_significant"]]
    ctx.add_table("biomarker_screen", table.sort_values(["p_value", "analyte"], kind="mergesort"))
    ctx.key("biomarkers.training.n_nr_er", int(is_case.sum()))
    ctx.key("biomarkers.training.n_durable", int((~is_case).sum()))
    ctx.key("biomarkers.n_significant", int(table["significant"].sum()))
    ctx.key("biomarkers.n_fdr_significant", int(table["fdr_significant"].sum()))
    _subgroup_table(ctx, result.subgroups)
    _markers(ctx, train, wide)


def _subgroup_labels(ctx: StudyContext, train: pd.DataFrame) -> np.ndarray | None:
    """The protocol's subgroup label of each training patient (None: no subgroup analysis)."""
    bm = ctx.protocol.biomarkers
    if bm.subgroups is None:
        return None
    try:
        g = ctx.column(bm.subgroups).set_axis(ctx.endpoints["patient_id"]).reindex(train["patient_id"])
    except KeyError:
        ctx.notes["biomarkers:subgroups"] = f"no column {bm.subgroups!r}"
        return None
    return g.to_numpy(dtype=object)


def _subgroup_table(ctx: StudyContext, subgroups: pd.DataFrame) -> None:
    """Per-subgroup Mann-Whitney p and q; a subgroup without both classes is noted, not tested."""
    rows = []
    for level, part in subgroups.groupby("subgroup", sort=True):
        if (part["n_positive"] == 0).all() or (part["n_negative"] == 0).all():
            ctx.notes[f"biomarkers:subgroup {level}"] = "no NR/ER or no durable patient in this subgroup"
            continue
        rows.append(part.rename(columns=_SCREEN_COLUMNS)[
            ["subgroup", "analyte", "n_nr_er", "n_durable", "p_value", "q_value"]])
    if rows:
        ctx.add_table("biomarker_screen_subgroups", pd.concat(rows, ignore_index=True))


def _km_by_cut(ctx: StudyContext, rows: pd.DataFrame, values: np.ndarray, cutoff: float, direction: str,
               prefix: str) -> dict:
    """KM and log-rank of the survival endpoint by the side of ``cutoff`` that predicts NR/ER."""
    spec = ctx.protocol.survival
    endpoint = ctx.protocol.biomarkers.survival_endpoint
    time = rows[f"{endpoint}_time"].to_numpy(dtype=float)
    event = rows[f"{endpoint}_event"]
    ok = np.isfinite(values) & event.notna().to_numpy() & np.isfinite(time)
    side = np.where(values >= cutoff, "above", "below").astype(object)
    ev = event.fillna(0).to_numpy(dtype=int)
    out = {"n": int(ok.sum()), "n_above": int((ok & (side == "above")).sum()),
           "n_below": int((ok & (side == "below")).sum()), "logrank_p": np.nan, "note": "",
           "nr_er_side": "above" if direction == "<" else "below"}
    for level in ("above", "below"):
        m = ok & (side == level)
        if m.any():
            ctx.objects[f"km/{endpoint}/{prefix}/{level}"] = kaplan_meier(
                time[m], ev[m], conf_type=spec.conf_type, level=spec.level)
    try:
        lr = logrank(time[ok], ev[ok], side[ok].astype(str))
        ctx.objects[f"logrank/{endpoint}/{prefix}"] = lr
        out["logrank_p"] = lr.p_value
    except ValueError as exc:
        out["note"] = str(exc)
    return out


def _markers(ctx: StudyContext, train: pd.DataFrame, wide: pd.DataFrame) -> None:
    bm = ctx.protocol.biomarkers
    is_case = (train["outcome_class"] == CASE).to_numpy()
    rows, cuts, maxstat_rows = [], [], []
    endpoint = bm.survival_endpoint
    role = ctx.endpoints["cohort_role"] == bm.training
    train_all = ctx.endpoints[role.to_numpy() & ctx.endpoints["patient_id"].isin(wide.index).to_numpy()]
    for marker in bm.markers:
        if marker not in wide:
            ctx.notes[f"biomarkers:{marker}"] = f"marker {marker!r} not measured at {bm.timepoint}"
            continue
        v = wide[marker].reindex(train["patient_id"]).to_numpy(dtype=float)
        r = roc(v, is_case)
        ctx.objects[f"roc/{marker}"] = r
        ci = r.auc_ci()
        yd = r.youden()
        op = r.at(yd.threshold, ci_method=bm.ci_method)
        row = {"marker": marker, "n_nr_er": int(r.n_cases), "n_durable": int(r.n_controls),
               "auc": float(ci.auc), "auc_lower": float(ci.lower), "auc_upper": float(ci.upper),
               "direction": str(r.direction), "cutoff": float(yd.threshold), "n_optimal": int(yd.n_optimal),
               "tp": int(op.tp), "fn": int(op.fn), "tn": int(op.tn), "fp": int(op.fp),
               "sensitivity": float(op.sensitivity), "sensitivity_lower": float(op.sensitivity_ci[0]),
               "sensitivity_upper": float(op.sensitivity_ci[1]), "specificity": float(op.specificity),
               "specificity_lower": float(op.specificity_ci[0]), "specificity_upper": float(op.specificity_ci[1]),
               "ci_method": bm.ci_method}
        rows.append(row)
        for k in ("auc", "auc_lower", "auc_upper", "cutoff", "sensitivity", "specificity"):
            ctx.key(f"biomarkers.{marker}.{k}", row[k])
        # PFS by the frozen cutoff, all training patients with a sample
        tv = wide[marker].reindex(train_all["patient_id"]).to_numpy(dtype=float)
        km = _km_by_cut(ctx, train_all, tv, row["cutoff"], row["direction"], f"cutoff_{marker}")
        cuts.append({"marker": marker, "cohort": bm.training, "endpoint": endpoint, "cutoff": row["cutoff"], **km})
        ctx.key(f"biomarkers.{marker}.{endpoint}_logrank_p", km["logrank_p"])
        t = train_all[f"{endpoint}_time"].to_numpy(dtype=float)
        e = train_all[f"{endpoint}_event"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        try:
            ms = maxstat_test(tv, t, e)
            ctx.objects[f"maxstat/{marker}"] = ms
            maxstat_rows.append({"marker": marker, "endpoint": endpoint, "n": ms.n, "cutpoint": ms.cutpoint,
                                 "statistic": ms.statistic, "p_adjusted": ms.p_value, "pmethod": ms.pmethod,
                                 "note": ""})
            ctx.key(f"biomarkers.{marker}.maxstat_p", ms.p_value)
        except ValueError as exc:
            maxstat_rows.append({"marker": marker, "endpoint": endpoint, "n": 0, "cutpoint": np.nan,
                                 "statistic": np.nan, "p_adjusted": np.nan, "pmethod": "", "note": str(exc)})
    if rows:
        ctx.add_table("biomarker_markers", pd.DataFrame(rows))
        ctx.add_table("biomarker_cutoff_survival", pd.DataFrame(cuts))
        ctx.add_table("biomarker_maxstat", pd.DataFrame(maxstat_rows))
        _optimism(ctx, train, wide, is_case)
        _baseline(ctx, train, wide)
        _associations(ctx, train_all, wide)
        _marker_correlations(ctx, train, wide)


def _optimism(ctx: StudyContext, train: pd.DataFrame, wide: pd.DataFrame, is_case: np.ndarray) -> None:
    """Bootstrap optimism-corrected AUC of each marker's cutoff rule, from the biomarker layer."""
    bm = ctx.protocol.biomarkers
    rows = []
    for marker in bm.markers:
        if marker not in wide:
            continue
        v = wide[marker].reindex(train["patient_id"]).to_numpy(dtype=float)
        try:
            res = optimism_corrected_auc(v, is_case, n_boot=bm.n_boot, seed=bm.seed, markers=[marker])
        except (TypeError, ValueError) as exc:
            ctx.notes[f"biomarkers:optimism_corrected_auc:{marker}"] = str(exc)
            continue
        frame = res.to_frame()
        frame.insert(0, "marker", marker)
        rows.append(frame)
        ctx.key(f"biomarkers.{marker}.auc_optimism_corrected", res.corrected_auc)
    if rows:
        ctx.add_table("biomarker_optimism", pd.concat(rows, ignore_index=True))


def _baseline(ctx: StudyContext, train: pd.DataFrame, wide: pd.DataFrame) -> None:
    """Markers at the baseline time point: NR/ER vs durable, and baseline vs peak levels."""
    bm = ctx.protocol.biomarkers
    tp = bm.baseline_timepoint
    if tp is None:
        return
    base = panel(ctx, tp)
    rows = []
    ep = ctx.endpoints
    evaluable = ep[ep["outcome_class"].isin([CASE, CONTROL]) & ep["patient_id"].isin(base.index)]
    for marker in bm.markers:
        if marker not in base:
            continue
        b = base[marker].reindex(evaluable["patient_id"]).to_numpy(dtype=float)
        case = (evaluable["outcome_class"] == CASE).to_numpy()
        ok = np.isfinite(b)
        row = {"marker": marker, "timepoint": tp, "n": int(ok.sum()), "n_nr_er": int((ok & case).sum()),
               "n_durable": int((ok & ~case).sum()), "median_nr_er": np.nan, "median_durable": np.nan,
               "p_value": np.nan, "median_baseline": np.nan, "median_peak": np.nan}
        if (ok & case).any() and (ok & ~case).any():
            mw = mann_whitney(b[ok & case], b[ok & ~case])
            row.update(median_nr_er=float(np.median(b[ok & case])), median_durable=float(np.median(b[ok & ~case])),
                       p_value=float(mw.p_value))
            ctx.key(f"biomarkers.{marker}.baseline_p", float(mw.p_value))
        both = pd.concat([base[marker].rename(f"{marker}_base"), wide[marker].rename(f"{marker}_peak")],
                         axis=1, join="inner").dropna()
        if len(both):
            row.update(median_baseline=float(both[f"{marker}_base"].median()),
                       median_peak=float(both[f"{marker}_peak"].median()), n_paired=int(len(both)))
        rows.append(row)
    if rows:
        ctx.add_table("biomarker_baseline", pd.DataFrame(rows))


def _associations(ctx: StudyContext, rows: pd.DataFrame, wide: pd.DataFrame) -> None:
    """Marker vs CRS grade (Kruskal-Wallis; Mann-Whitney by CRS group) and vs IL-6 / ferritin
    peaks (Spearman) in the training cohort."""
    bm = ctx.protocol.biomarkers
    peaks = cytokine_peaks(ctx) if ctx.has("labs") else pd.DataFrame(columns=["patient_id", "analyte", "peak"])
    out = []
    for marker in bm.markers:
        if marker not in wide:
            continue
        v = wide[marker].reindex(rows["patient_id"]).to_numpy(dtype=float)
        grade = rows["crs_grade"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        ok = np.isfinite(v) & np.isfinite(grade)
        levels = sorted(set(grade[ok]))
        if len(levels) >= 2:
            kw = kruskal_wallis(*[v[ok & (grade == g)] for g in levels])
            out.append({"marker": marker, "with": "crs_grade", "test": "kruskal-wallis", "n": int(ok.sum()),
                        "estimate": np.nan, "p_value": kw.p_value})
            ctx.key(f"biomarkers.{marker}.crs_grade_p", kw.p_value)
        grp = rows["crs_group"].astype(object).to_numpy()
        hi = f"{ctx.protocol.crs_high_grade}-5"
        ok2 = np.isfinite(v) & pd.notna(grp)
        if (ok2 & (grp == hi)).any() and (ok2 & (grp != hi)).any():
            mw = mann_whitney(v[ok2 & (grp == hi)], v[ok2 & (grp != hi)])
            out.append({"marker": marker, "with": "crs_group", "test": "mann-whitney", "n": int(ok2.sum()),
                        "estimate": np.nan, "p_value": float(mw.p_value)})
        for analyte in ("il6", "ferritin"):
            pk = peaks[peaks["analyte"] == analyte].set_index("patient_id")["peak"]
            y = rows["patient_id"].map(pk).to_numpy(dtype=float)
            ok3 = np.isfinite(v) & np.isfinite(y)
            if ok3.sum() >= 3:
                c = correlation(v[ok3], y[ok3], method="spearman")
                out.append({"marker": marker, "with": f"{analyte} peak", "test": "spearman", "n": int(ok3.sum()),
                            "estimate": c.estimate, "p_value": c.p_value})
                ctx.key(f"biomarkers.{marker}.{analyte}_peak_spearman_p", c.p_value)
    if out:
        ctx.add_table("biomarker_associations", pd.DataFrame(out))


def _marker_correlations(ctx: StudyContext, train: pd.DataFrame, wide: pd.DataFrame) -> None:
    """Pearson correlation between each pair of protocol markers (training, fold change)."""
    markers = [m for m in ctx.protocol.biomarkers.markers if m in wide]
    rows = []
    for i, a in enumerate(markers):
        for b in markers[i + 1:]:
            x = wide[a].reindex(train["patient_id"]).to_numpy(dtype=float)
            y = wide[b].reindex(train["patient_id"]).to_numpy(dtype=float)
            ok = np.isfinite(x) & np.isfinite(y)
            if ok.sum() < 3:
                continue
            c = correlation(x[ok], y[ok], method="pearson")
            rows.append({"marker_a": a, "marker_b": b, "n": int(ok.sum()), "r": c.estimate,
                         "lower": c.ci_lower, "upper": c.ci_upper, "p_value": c.p_value})
            ctx.key(f"biomarkers.{a}~{b}.pearson_r", c.estimate)
    if rows:
        ctx.add_table("biomarker_marker_correlation", pd.DataFrame(rows))


def needs_validation(ctx: StudyContext) -> str:
    why = needs(ctx)
    if why:
        return why
    bm = ctx.protocol.biomarkers
    if bm.validation is None:
        return "the protocol names no validation cohort"
    if not bm.markers:
        return "the protocol names no markers to validate"
    if not (ctx.endpoints["cohort_role"] == bm.validation).any():
        return f"no patient in the validation cohort {bm.validation!r}"
    if "biomarker_markers" not in ctx.tables:
        return "no frozen cutoff: the biomarkers section did not produce marker cutoffs"
    return ""


def run_validation(ctx: StudyContext) -> None:
    bm = ctx.protocol.biomarkers
    wide = panel(ctx, bm.timepoint)
    val = _analysis_set(ctx, bm.validation, wide, "biomarkers:validation")
    is_case = (val["outcome_class"] == CASE).to_numpy()
    frozen = ctx.tables["biomarker_markers"].set_index("marker")
    ep = ctx.endpoints
    val_all = ep[(ep["cohort_role"] == bm.validation).to_numpy() & ep["patient_id"].isin(wide.index).to_numpy()]
    rows = []
    for marker, rec in frozen.iterrows():
        v = (wide[marker] if marker in wide else pd.Series(dtype=float)).reindex(val["patient_id"]).to_numpy(dtype=float)
        if not (np.isfinite(v[is_case]).any() and np.isfinite(v[~is_case]).any()):
            ctx.notes[f"validation:{marker}"] = f"{marker} is not measured in NR/ER and durable validation patients"
            continue
        row = {"marker": marker, "cohort": bm.validation, "cutoff": rec["cutoff"], "direction": rec["direction"],
               "n_nr_er": int(is_case.sum()), "n_durable": int((~is_case).sum())}
        if is_case.any() and (~is_case).any():
            mw = mann_whitney(v[is_case], v[~is_case])
            r = roc(v, is_case, direction=rec["direction"])
            op = r.at(rec["cutoff"], ci_method=bm.ci_method)
            row.update(median_nr_er=float(np.nanmedian(v[is_case])), median_durable=float(np.nanmedian(v[~is_case])),
                       p_value=float(mw.p_value), auc=float(r.auc), tp=int(op.tp), fn=int(op.fn), tn=int(op.tn),
                       fp=int(op.fp), sensitivity=float(op.sensitivity),
                       sensitivity_lower=float(op.sensitivity_ci[0]), sensitivity_upper=float(op.sensitivity_ci[1]),
                       specificity=float(op.specificity), specificity_lower=float(op.specificity_ci[0]),
                       specificity_upper=float(op.specificity_ci[1]))
            for k in ("p_value", "sensitivity", "specificity", "auc"):
                ctx.key(f"validation.{marker}.{k}", row[k])
        vv = wide[marker].reindex(val_all["patient_id"]).to_numpy(dtype=float)
        km = _km_by_cut(ctx, val_all, vv, rec["cutoff"], rec["direction"], f"validation_{marker}")
        row.update({f"{bm.survival_endpoint}_{k}": v for k, v in km.items()})
        ctx.key(f"validation.{marker}.{bm.survival_endpoint}_logrank_p", km["logrank_p"])
        rows.append(row)
    ctx.add_table("biomarker_validation", pd.DataFrame(rows))
