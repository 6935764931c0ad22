"""Cellular kinetics of CAR-T cells, cytokine courses and the CD4/CD8 ratio.

Non-compartmental parameters follow the tisagenlecleucel clinical-pharmacology papers
(Mueller et al. Clin Cancer Res 2018;24:6175 [S38]; Awasthi et al. Blood Adv 2020;4:560 [S40])
and the ZUMA-1 axicabtagene ciloleucel report (Neelapu et al. NEJM 2017;377:2531 [S41]);
domain-reference §5. The papers do not state their trapezoid rule (⚠ U4): the project default
is the linear trapezoid, with linear-up/log-down on request.

Parameters per patient x infusion x measure (times in days from that infusion):

- baseline: last sample on or before day 0 (pre-infusion); day 0 of the AUC takes this level,
  or 0 without a pre-infusion sample.
- Cmax / Tmax: highest post-infusion (day > 0) level and its first day.
- detectable: value > ``lloq`` when given, else value > 0.
- Clast / Tlast: last detectable level and its day; persistence = Tlast.
- AUC0-28: trapezoid over day 0, the post-infusion samples up to day 28 and a level at day 28
  interpolated between the bracketing samples when no sample falls exactly on day 28 (linear,
  or log-linear on a falling segment under ``linear-up/log-down``). Below-LLOQ samples count
  as 0 before Tmax and are left out after Tmax (§5.2). NaN when the last sample is before day
  28; ``auc_0_tlast`` is always given.
- expansion fold: Cmax / reference, the reference being the pre-infusion level when it is
  detectable (re-infusions with residual CAR), otherwise the first detectable post-infusion
  level (so a first sample at the peak gives 1).
- contraction half-life: ln 2 / lambda, lambda = -slope of the least-squares fit of ln(level)
  on day over the detectable samples after Tmax; needs at least 3 such samples; adjusted R²
  reported. Model-based reference values: initial-decline T½ 4.3 d, terminal 220 d
  (tisagenlecleucel B-ALL, Stein et al. 2019 [S39]).
- doubling time: ln 2 / rho, rho = slope of ln(level) on day from the first detectable sample
  to Tmax (at least 2 samples).

A curve too short for a parameter keeps the others and says why in ``reason``; no curve
raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from cartscope.clinical._nca_curves import nca_curves
from cartscope.cohort.units import canonical_analyte

AucMethod = Literal["linear", "linear-up/log-down"]

CAR_COMPONENTS = ("cd19_car_copies", "cd22_car_copies")

KINETICS_COLUMNS: dict[str, str] = {
    "patient_id": "patient identifier",
    "infusion_no": "infusion the window belongs to (times are days from it)",
    "measure": "kinetics measure (CAR component for cd19_/cd22_car_copies)",
    "n_samples": "post-infusion samples in the window",
    "baseline": "last pre-infusion (day <= 0) level",
    "cmax": "maximum post-infusion level",
    "tmax": "day of cmax (first if tied)",
    "auc0_28": "AUC from day 0 to day 28 (level x days)",
    "auc_0_tlast": "AUC from day 0 to the last detectable sample",
    "clast": "last detectable level",
    "tlast": "day of clast",
    "persistence_day": "last detectable day (= tlast)",
    "expansion_fold": "cmax / reference level",
    "fold_reference": "baseline or first post-infusion",
    "half_life": "contraction half-life (days), log-linear fit after tmax",
    "half_life_n": "samples in the half-life fit",
    "half_life_r2_adj": "adjusted R^2 of the half-life fit",
    "doubling_time": "expansion doubling time (days)",
    "method": "AUC method",
    "reason": "why a parameter is missing ('' if none)",
}


def infusion_windows(kinetics: pd.DataFrame, infusions: pd.DataFrame | None) -> pd.DataFrame:
    """Kinetics rows with ``infusion_no`` and ``t`` = days from that infusion.

    With ``infusions``: recorded infusion numbers are kept, unrecorded ones are assigned to
    the last infusion on or before the sample day (earlier samples go to infusion 1); samples
    on or after the next infusion's day leave the window (they belong to the next one).
    Without it, every row is treated as infusion 1 (days are already from it); rows recorded
    for a later infusion need ``infusions`` to be re-based.
    """
    k = kinetics.reset_index(drop=True)
    k["patient_id"] = k["patient_id"].astype(str)
    k["day"] = pd.to_numeric(k["day"], errors="coerce")
    k["value"] = pd.to_numeric(k["value"], errors="coerce")
    k = k[k["day"].notna() & k["value"].notna()]
    rec = pd.to_numeric(k["infusion_no"], errors="coerce") if "infusion_no" in k else pd.Series(np.nan, index=k.index)
    if infusions is None:
        if (rec > 1).any():
            raise ValueError("kinetics has rows for infusion 2 or later: pass infusions= so that "
                             "their days can be re-based to each infusion")
        k["infusion_no"] = 1
        k["t"] = k["day"]
        k["next_t"] = np.inf
        return k
    inf = infusions[["patient_id", "infusion_no", "day"]].copy()
    inf["patient_id"] = inf["patient_id"].astype(str)
    inf["infusion_no"] = pd.to_numeric(inf["infusion_no"], errors="coerce").astype(int)
    inf["day"] = pd.to_numeric(inf["day"], errors="coerce").astype("float64")
    inf.loc[inf["day"].isna() & (inf["infusion_no"] == 1), "day"] = 0.0
    inf = inf.sort_values(["patient_id", "infusion_no"])
    inf["next_day"] = inf.groupby("patient_id")["day"].shift(-1).fillna(np.inf)
    assigned = rec.copy()
    missing = assigned.isna()
    if missing.any():
        # the last infusion on or before the sample day, per patient (earlier samples: the
        # patient's first infusion), all samples at once
        inf_days = inf[inf["day"].notna()]
        left = pd.DataFrame({"patient_id": k.loc[missing, "patient_id"], "day": k.loc[missing, "day"].astype("float64"),
                             "row": k.index[missing]}).sort_values("day", kind="mergesort")
        right = inf_days[["patient_id", "day", "infusion_no"]].sort_values("day", kind="mergesort")
        hit = pd.merge_asof(left, right, on="day", by="patient_id", direction="backward")
        first = inf_days.groupby("patient_id")["infusion_no"].first()
        no = hit["infusion_no"].fillna(hit["patient_id"].map(first))
        assigned.loc[hit["row"].to_numpy()] = no.to_numpy(dtype="float64")
    k["infusion_no"] = assigned
    k = k[k["infusion_no"].notna()].copy()
    k["infusion_no"] = k["infusion_no"].astype(int)
    k = k.merge(inf.rename(columns={"day": "inf_day"}), on=["patient_id", "infusion_no"], how="inner")
    k["t"] = k["day"] - k["inf_day"]
    k["next_t"] = k["next_day"] - k["inf_day"]
    return k[k["t"] < k["next_t"]].drop(columns=["inf_day", "next_day"])


def _loglin(t: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    """Slope and adjusted R² of ln(c) on t by least squares (NaN R² below 3 points)."""
    y = np.log(c)
    tm, ym = t.mean(), y.mean()
    sxx = float(((t - tm) ** 2).sum())
    if sxx == 0.0:
        return np.nan, np.nan
    slope = float(((t - tm) * (y - ym)).sum() / sxx)
    n = len(t)
    if n < 3:
        return slope, np.nan
    resid = y - (ym + slope * (t - tm))
    sst = float(((y - ym) ** 2).sum())
    r2 = 1.0 - float((resid ** 2).sum()) / sst if sst > 0 else 1.0
    return slope, 1.0 - (1.0 - r2) * (n - 1) / (n - 2)


def _segment_area(t1: float, c1: float, t2: float, c2: float, log_down: bool) -> float:
    dt = t2 - t1
    if log_down and c2 < c1 and c2 > 0:
        return (c1 - c2) / np.log(c1 / c2) * dt
    return 0.5 * (c1 + c2) * dt


def _interpolate(t1: float, c1: float, t2: float, c2: float, at: float, log_down: bool) -> float:
    f = (at - t1) / (t2 - t1)
    if log_down and c2 < c1 and c2 > 0:
        return float(np.exp(np.log(c1) + f * (np.log(c2) - np.log(c1))))
    return c1 + f * (c2 - c1)


def auc(t: np.ndarray, c: np.ndarray, *, end: float | None = None,
        method: AucMethod = "linear") -> float:
    """Trapezoid AUC of the points (t, c) sorted by t, from t[0] to ``end`` (default t[-1]).

    ``end`` inside the data is reached by interpolation (see module docstring); ``end`` beyond
    the last point stops at the last point.
    """
    log_down = method == "linear-up/log-down"
    total = 0.0
    for i in range(len(t) - 1):
        t1, c1, t2, c2 = float(t[i]), float(c[i]), float(t[i + 1]), float(c[i + 1])
        if end is not None and t1 >= end:
            break
        if end is not None and t2 > end:
            c_end = _interpolate(t1, c1, t2, c2, end, log_down)
            total += _segment_area(t1, c1, end, c_end, log_down)
            break
        total += _segment_area(t1, c1, t2, c2, log_down)
    return total


def _nca(t: np.ndarray, c: np.ndarray, *, lloq: float | None, method: AucMethod,
         auc_end: float) -> dict:
    """Parameters of one curve (t sorted, duplicates averaged): the rules, one curve at a time.

    :func:`car_kinetics` computes them for all curves at once (:mod:`._nca_curves`); this
    readable form is the reference that pass is tested against, value for value."""
    reasons: list[str] = []
    pre = t <= 0
    baseline = float(c[pre][-1]) if pre.any() else np.nan
    tp, cp = t[~pre], c[~pre]
    res = dict(n_samples=len(tp), baseline=baseline, cmax=np.nan, tmax=np.nan, auc0_28=np.nan,
               auc_0_tlast=np.nan, clast=np.nan, tlast=np.nan, persistence_day=np.nan,
               expansion_fold=np.nan, fold_reference=None, half_life=np.nan, half_life_n=0,
               half_life_r2_adj=np.nan, doubling_time=np.nan)
    if len(tp) == 0:
        res["reason"] = "no post-infusion sample"
        return res
    detect = cp > (lloq if lloq is not None else 0.0)
    base_detect = bool(np.isfinite(baseline) and baseline > (lloq if lloq is not None else 0.0))
    imax = int(np.argmax(cp))
    cmax, tmax = float(cp[imax]), float(tp[imax])
    res.update(cmax=cmax, tmax=tmax)
    if not detect.any():
        res["reason"] = "never detectable after infusion"
        return res
    if len(tp) <= 2:
        reasons.append(f"only {len(tp)} post-infusion sample(s)")
    last = int(np.nonzero(detect)[0][-1])
    res.update(clast=float(cp[last]), tlast=float(tp[last]), persistence_day=float(tp[last]))

    # AUC points: day 0, then BLQ -> 0 up to Tmax, BLQ dropped after Tmax
    keep = detect | (tp <= tmax)
    ta = np.concatenate([[0.0], tp[keep]])
    ca = np.concatenate([[baseline if base_detect else 0.0], np.where(detect[keep], cp[keep], 0.0)])
    res["auc_0_tlast"] = auc(ta[ta <= tp[last]], ca[ta <= tp[last]], method=method)
    if tp[-1] >= auc_end:
        res["auc0_28"] = auc(ta, ca, end=auc_end, method=method)
    else:
        reasons.append(f"last sample (day {tp[-1]:g}) before day {auc_end:g}: no AUC0-{auc_end:g}")

    if base_detect:
        res.update(expansion_fold=cmax / baseline, fold_reference="baseline")
    else:
        first = int(np.nonzero(detect)[0][0])
        res.update(expansion_fold=cmax / float(cp[first]), fold_reference="first post-infusion")

    after = (tp > tmax) & detect
    if after.sum() >= 3:
        slope, r2 = _loglin(tp[after], cp[after])
        res.update(half_life_n=int(after.sum()), half_life_r2_adj=r2)
        if slope < 0:
            res["half_life"] = float(np.log(2) / -slope)
        else:
            reasons.append("no decline after the peak: no half-life")
    else:
        reasons.append(f"{int(after.sum())} detectable sample(s) after the peak (need 3): no half-life")

    up = detect & (tp <= tmax)
    if up.sum() >= 2:
        slope, _ = _loglin(tp[up], cp[up])
        if slope > 0:
            res["doubling_time"] = float(np.log(2) / slope)
    res["reason"] = "; ".join(reasons)
    return res


def car_kinetics(kinetics: pd.DataFrame, *, measure: str | Sequence[str] = "car_copies_per_ug",
                 components: bool = True, method: AucMethod = "linear", lloq: float | None = None,
                 infusions: pd.DataFrame | None = None, auc_end: float = 28.0) -> pd.DataFrame:
    """Non-compartmental CAR-T kinetics per patient x infusion x measure.

    ``measure`` names the kinetics measure(s); with ``components`` the CD19 and CD22 CAR
    components (``cd19_car_copies``, ``cd22_car_copies``) are added when present. Each
    infusion is its own window up to the next infusion (``infusions`` re-bases the days; see
    :func:`infusion_windows`). Columns: :data:`KINETICS_COLUMNS`.
    """
    if method not in ("linear", "linear-up/log-down"):
        raise ValueError(f"method must be 'linear' or 'linear-up/log-down', got {method!r}")
    if lloq is not None and lloq < 0:
        raise ValueError("lloq must be >= 0")
    measures = [measure] if isinstance(measure, str) else list(measure)
    if components:
        measures += [m for m in CAR_COMPONENTS if m not in measures]
    k = kinetics[kinetics["measure"].isin(measures)]
    k = infusion_windows(k, infusions)
    # duplicates averaged for every curve in one grouped pass; curves are then slices of the
    # sorted arrays (patient, infusion, measure, day)
    means = k.groupby(["patient_id", "infusion_no", "measure", "t"], sort=True)["value"].mean()
    curve = means.index.droplevel("t")
    starts = np.flatnonzero(~curve.duplicated())
    t_all, c_all = means.index.get_level_values("t").to_numpy(dtype=float), means.to_numpy(dtype=float)
    params = nca_curves(t_all, c_all, starts, lloq=lloq, log_down=method == "linear-up/log-down", auc_end=auc_end)
    rows = [{"patient_id": pid, "infusion_no": int(no), "measure": meas, **r, "method": method}
            for (pid, no, meas), r in zip(curve[starts], params)]
    return pd.DataFrame(rows, columns=list(KINETICS_COLUMNS))


# --- cytokines ---------------------------------------------------------------------------

DEFAULT_LIMITS: Mapping[str, float] = {"IL-6": 5000.0, "ferritin": 50000.0}


def _analyte_key(name: str) -> str:
    """Analyte names compare by their canonical cohort name (``IL-6`` == ``il6``), else casefolded."""
    return canonical_analyte(name) or str(name).casefold()
"""Upper assay limits of the jin2023 assays (presets.md): values at the limit are censored."""


def cytokine_kinetics(labs: pd.DataFrame, *, analytes: Sequence[str] | None = None,
                      window: tuple[float, float] = (0.0, 30.0),
                      limits: Mapping[str, float] = DEFAULT_LIMITS) -> pd.DataFrame:
    """Per patient x analyte: baseline, peak, day of peak and fold change over baseline.

    - baseline: last value on a day <= 0;
    - peak: highest value with ``window[0] <= day <= window[1]`` (jin2023 and li2023 take the
      IL-6 peak in the first 30 days; li2023 defines IL-6 fold change as peak / pre-CAR-T
      baseline, seed 001);
    - ``peak_censored``: the peak sits at or above the analyte's upper assay limit (``limits``,
      names compared as canonical analytes: ``IL-6`` matches ``il6``) or carries the qualifier ``>=``/``>``; such a peak is a lower
      bound ("treated as >= limit, not exact"), and so is its fold change.
    Healthy-donor rows (``role == healthy_donor``) are left out.
    """
    lo, hi = float(window[0]), float(window[1])
    if hi < lo:
        raise ValueError(f"window must be (start, end) with start <= end, got {window}")
    lab = labs.copy()
    if "role" in lab:
        lab = lab[lab["role"].astype(object).fillna("patient") != "healthy_donor"]
    lab["patient_id"] = lab["patient_id"].astype(str)
    lab["day"] = pd.to_numeric(lab["day"], errors="coerce")
    lab["value"] = pd.to_numeric(lab["value"], errors="coerce")
    lab = lab[lab["day"].notna() & lab["value"].notna()]
    names = lab["analyte"].astype(str)
    distinct = pd.unique(names)  # keyed once per distinct name, not per row
    key = names.map(dict(zip(distinct, map(_analyte_key, distinct)))) if len(names) else names.map(_analyte_key)
    if analytes is not None:
        lab = lab[key.isin({_analyte_key(a) for a in analytes})]
        key = key[lab.index]
    lim = {_analyte_key(a): float(v) for a, v in limits.items()}
    qual = lab["qualifier"].astype(object) if "qualifier" in lab else pd.Series(None, index=lab.index, dtype=object)
    lab["at_limit"] = qual.isin([">=", ">"]).to_numpy() | (
        lab["value"].to_numpy() >= key.map(lim).astype(float).fillna(np.inf).to_numpy())
    cols = ["patient_id", "analyte", "baseline", "baseline_day", "peak", "peak_day", "fold_change",
            "peak_censored", "n_samples", "reason"]
    keys = ["patient_id", "analyte"]
    # one stable sort by day, then every summary is a grouped reduction (no loop per patient)
    lab = lab.sort_values("day", kind="mergesort")
    groups = lab.groupby(keys, sort=True).size().index
    if len(groups) == 0:
        out = pd.DataFrame(columns=cols)
        out["peak_censored"] = out["peak_censored"].astype("boolean")
        return out
    pre = lab[lab["day"] <= 0].groupby(keys, sort=True).tail(1).set_index(keys).reindex(groups)
    win = lab[(lab["day"] >= lo) & (lab["day"] <= hi)]
    wg = win.groupby(keys, sort=True)
    peak = wg["value"].max().reindex(groups)
    n_win = wg.size().reindex(groups).fillna(0).astype(int)
    top = win[win["value"].to_numpy() == wg["value"].transform("max").to_numpy()]
    tg = top.groupby(keys, sort=True)
    peak_day = tg["day"].first().reindex(groups)
    censored = tg["at_limit"].any().reindex(groups).astype("boolean")
    base = pre["value"].astype(float).to_numpy()
    has_win = n_win.to_numpy() > 0
    no_base = np.isnan(base)
    zero_base = ~no_base & (base <= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        fold = np.where(no_base | zero_base, np.nan, peak.to_numpy(dtype=float) / base)
    r_win = np.where(has_win, "", f"no sample in days {lo:g}-{hi:g}")
    r_base = np.where(no_base, "no baseline (day <= 0)", np.where(zero_base, "baseline is 0: no fold change", ""))
    reason = [("; ".join(p for p in (a, b) if p)) for a, b in zip(r_win, r_base)]
    out = pd.DataFrame({
        "patient_id": groups.get_level_values(0),
        "analyte": groups.get_level_values(1),
        "baseline": base,
        "baseline_day": pre["day"].astype(float).to_numpy(),
        "peak": peak.to_numpy(dtype=float),
        "peak_day": peak_day.to_numpy(dtype=float),
        "fold_change": fold,
        "peak_censored": censored.to_numpy(),
        "n_samples": n_win.to_numpy(),
        "reason": reason,
    }, columns=cols)
    out["peak_censored"] = out["peak_censored"].astype("boolean")
    return out


# --- CD4/CD8 ratio --------------------------------------------------------------------------


@dataclass(frozen=True)
class CD4CD8Course:
    """CD4/CD8 ratio course: ``by_day`` (patient_id, day, ratio, inverted) and ``summary``."""

    by_day: pd.DataFrame
    summary: pd.DataFrame
    window: tuple[float, float]

    def to_frame(self) -> pd.DataFrame:
        return self.summary.copy()


def cd4_cd8_course(kinetics: pd.DataFrame, *, window: tuple[float, float] = (0.0, 30.0)) -> CD4CD8Course:
    """The CD4/CD8 ratio by day and whether and when it inverts (< 1) within ``window``.

    Inversion = ratio strictly below 1 on a day with ``window[0] < day <= window[1]`` (days as
    in the kinetics table). li2023 (seed 001) reports the ratio falling and inverting within
    6 days of infusion in responders: ``window=(0, 6)`` reproduces that reading. Summary
    columns: baseline_ratio (last on day <= 0), min_ratio, min_day, inverts, inversion_day,
    n_samples, reason.
    """
    lo, hi = float(window[0]), float(window[1])
    k = kinetics[kinetics["measure"] == "cd4_cd8_ratio"].copy()
    k["patient_id"] = k["patient_id"].astype(str)
    k["day"] = pd.to_numeric(k["day"], errors="coerce")
    k["value"] = pd.to_numeric(k["value"], errors="coerce")
    k = k[k["day"].notna() & k["value"].notna()]
    by_day = (k.groupby(["patient_id", "day"], sort=True)["value"].mean().rename("ratio").reset_index())
    by_day["inverted"] = by_day["ratio"] < 1.0
    pids = pd.Index(sorted(by_day["patient_id"].unique()), name="patient_id")
    base = by_day[by_day["day"] <= 0].groupby("patient_id", sort=True)["ratio"].last().reindex(pids)
    w = by_day[(by_day["day"] > lo) & (by_day["day"] <= hi)]
    wg = w.groupby("patient_id", sort=True)
    n_w = wg.size().reindex(pids).fillna(0).astype(int)
    imin = wg["ratio"].idxmin().reindex(pids)  # first minimum in day order
    has = n_w.to_numpy() > 0
    min_rows = by_day.loc[imin[has].to_numpy()]
    min_ratio = pd.Series(np.nan, index=pids)
    min_day = pd.Series(np.nan, index=pids)
    min_ratio[has] = min_rows["ratio"].to_numpy()
    min_day[has] = min_rows["day"].to_numpy()
    inv_day = w[w["inverted"]].groupby("patient_id", sort=True)["day"].first().reindex(pids)
    inverts = pd.array(np.where(has, inv_day.notna().to_numpy(), False), dtype="boolean")
    inverts[~has] = pd.NA
    summary = pd.DataFrame({
        "patient_id": pids.to_numpy(),
        "baseline_ratio": base.to_numpy(dtype=float),
        "min_ratio": min_ratio.to_numpy(dtype=float),
        "min_day": min_day.to_numpy(dtype=float),
        "inverts": inverts,
        "inversion_day": inv_day.to_numpy(dtype=float),
        "n_samples": n_w.to_numpy(),
        "reason": np.where(has, "", f"no sample in days ({lo:g}, {hi:g}]"),
    })
    summary["inverts"] = summary["inverts"].astype("boolean")
    return CD4CD8Course(by_day=by_day, summary=summary, window=(lo, hi))
