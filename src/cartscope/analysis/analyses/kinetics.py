"""CAR-T kinetics (kind ``car_kinetics``), cytokine courses and peaks of any analyte (kind
``cytokines``) and the CD4/CD8 ratio course per infusion (kind ``cd4_cd8``).

- ``car_kinetics``: per patient x infusion x measure Cmax, Tmax, AUC0-28, persistence (last
  detectable day) and expansion fold from :func:`cartscope.clinical.car_kinetics`
  (non-compartmental, linear trapezoid; each infusion its own window up to the next),
  summarised per group, infusion and measure by median and range.
- ``cytokines``: per patient x analyte baseline, peak, day of peak and fold change in the
  window (default days 0-30 after the index; :func:`cytokine_kinetics`, assay-limit values
  flagged as censored), their medians per group, and the course (median and quartiles per day).
  Analytes are named by any loader alias (``IL-6`` = ``il6``) or by a panel.
- ``cd4_cd8``: :func:`cartscope.clinical.kinetics.cd4_cd8_course` after each infusion, with
  days rebased to that infusion and the window stopped at the next one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from cartscope.analysis.analyses._context import float_days, rebase
from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext, WindowSpec
from cartscope.analysis.plan.variables import analyte_key, cytokine_frame, nca_table, patient_labs
from cartscope.clinical.kinetics import car_kinetics, cd4_cd8_course, cytokine_kinetics

SUMMARISED = ("cmax", "tmax", "auc0_28", "persistence_day", "expansion_fold")
CAR_MEASURES = ("car_copies_per_ug", "car_cells_per_ul", "cd19_car_copies", "cd22_car_copies")

__all__ = ["CAR_MEASURES", "KINDS", "cytokine_peaks", "expand_analytes", "nca"]


def _summary(values: np.ndarray) -> dict:
    x = values[np.isfinite(values)]
    return {"n": int(x.size), "median": float(np.median(x)) if x.size else np.nan,
            "min": float(x.min()) if x.size else np.nan, "max": float(x.max()) if x.size else np.nan}


class CarKineticsOptions(Options):
    measures: tuple[str, ...] = ()
    """Kinetics measures (default: every CAR measure present: total and CD19 / CD22 components)."""


def needs_car(rc: RunContext) -> str:
    return "" if rc.has("kinetics") else "no kinetics table"


def _measures(rc: RunContext) -> tuple[str, ...]:
    o: CarKineticsOptions = rc.options
    if o.measures:
        return tuple(o.measures)
    present = set(rc.cohort.kinetics["measure"].astype(str))
    return tuple(m for m in CAR_MEASURES if m in present)


def run_car(rc: RunContext) -> None:
    measures = _measures(rc)
    if not measures:
        rc.skip("no CAR-T measure in the kinetics table")
    per = nca_table(rc.study, measures)
    per = per[per["patient_id"].astype(str).isin(rc.endpoints["patient_id"].astype(str))]
    per = per[per["measure"].isin(measures)].reset_index(drop=True)
    rc.add_table("kinetics_nca", per)
    pos = rc.endpoints["patient_id"].astype(str)
    rows = []
    for g in rc.groups():
        ids = set(pos[g.mask])
        sub = per[per["patient_id"].astype(str).isin(ids)]
        for (no, measure), part in sub.groupby(["infusion_no", "measure"], sort=True):
            for p in SUMMARISED:
                s = _summary(pd.to_numeric(part[p], errors="coerce").to_numpy(dtype=float))
                rows.append({"group": g.label, "infusion_no": int(no), "measure": measure, "parameter": p, **s})
                rc.stats(s, group=g, variable=f"{measure}:{p}", variable_level=f"infusion {int(no)}",
                         method="non-compartmental, linear trapezoid; median (range)")
                if s["n"] and p in ("cmax", "tmax") and not g.by:
                    rc.key(f"kinetics.{measure}.infusion{int(no)}.{p}.median", s["median"])
    rc.add_table("kinetics_summary", pd.DataFrame(rows, columns=["group", "infusion_no", "measure", "parameter", "n",
                                                                 "median", "min", "max"]))


def describe_car(spec: AnalysisSpec, o: CarKineticsOptions) -> str:
    what = ", ".join(o.measures) if o.measures else "every CAR-T measure present"
    return f"Cmax, Tmax, AUC0-28, persistence and expansion of {what} after each infusion, median (range)."


class CytokineOptions(Options):
    analytes: tuple[str, ...] = ()
    """Analytes or panel names (default: every analyte with samples in the labs table)."""
    course: bool = True
    """Also the median course per day."""


def expand_analytes(rc: RunContext, names: tuple[str, ...]) -> list[str]:
    """Analyte names with panels expanded, as canonical keys in the cohort, in order."""
    out: list[str] = []
    for n in names:
        for a in rc.plan.panels.get(n, (n,)):
            k = analyte_key(a)
            if k not in out:
                out.append(k)
    return out


def needs_cytokines(rc: RunContext) -> str:
    return "" if rc.has("labs") else "no labs table"


def run_cytokines(rc: RunContext) -> None:
    o: CytokineOptions = rc.options
    labs = patient_labs(rc.study)
    keys = expand_analytes(rc, o.analytes) if o.analytes else sorted(set(labs["analyte_key"]))
    display = _display_names(labs, keys)
    peaks = cytokine_frame(rc.study, rc.spec.window, keys)
    ids = rc.endpoints["patient_id"].astype(str)
    peaks = peaks[peaks["patient_id"].isin(set(ids))].reset_index(drop=True)
    for k in keys:
        if not (peaks["analyte"] == k).any():
            rc.note(display[k], f"no {display[k]} sample in the window")
    peaks.insert(1, "disease_group", peaks["patient_id"].map(rc.study.endpoints.set_index("patient_id")["disease_group"]))
    rc.add_table("cytokine_peaks", peaks)
    w = rc.window(default=WindowSpec(start=0, end=30))
    rows, course = [], []
    shifted = w.rebase(labs[labs["analyte_key"].isin(keys)]) if o.course else None
    for g in rc.groups():
        gid = set(ids[g.mask])
        sub = peaks[peaks["patient_id"].isin(gid)]
        for analyte, part in sub.groupby("analyte", sort=True):
            for p in ("baseline", "peak", "peak_day", "fold_change"):
                s = _summary(part[p].to_numpy(dtype=float))
                cens = int(part["peak_censored"].fillna(False).sum())
                rows.append({"analyte": analyte, "group": g.label, "parameter": p, **s, "censored_at_limit": cens})
                rc.stats(s, group=g, variable=f"{analyte}:{p}", method=f"{w.text()}; median (range)")
                if s["n"]:
                    rc.key(f"cytokines.{analyte}.{g.label}.{p}.median", s["median"])
        if shifted is not None:
            part = shifted[shifted["patient_id"].isin(gid)].assign(value=lambda f: pd.to_numeric(f["value"], errors="coerce"))
            course.extend(_course_rows(part, g.label))
    rc.add_table("cytokine_summary", pd.DataFrame(rows, columns=["analyte", "group", "parameter", "n", "median", "min",
                                                                 "max", "censored_at_limit"]))
    if o.course:
        rc.add_table("cytokine_course", pd.DataFrame(course, columns=["analyte", "group", "day", "n", "median", "q1",
                                                                      "q3"]))


def _display_names(labs: pd.DataFrame, keys: list[str]) -> dict[str, str]:
    """Each analyte key's most frequent spelling in the labs table (the first in sort order
    among equally frequent ones, as ``Series.mode``), else the key itself."""
    counts = labs.groupby([labs["analyte_key"], labs["analyte"].astype(str)], sort=True).size()
    first_max = counts.groupby(level=0, sort=True).idxmax() if len(counts) else pd.Series(dtype=object)
    return {k: first_max[k][1] if k in first_max.index else k for k in keys}


QUARTILES = (0.25, 0.5, 0.75)


def _course_rows(part: pd.DataFrame, group: str) -> list[dict]:
    """Median and quartiles per analyte x day of the patients' mean values (finite ones).

    One grouped pass over every analyte and day: the patient means are sorted within each
    analyte x day, and the quartiles are numpy's default (linear, Hyndman & Fan type 7)
    percentiles computed as ``np.percentile`` does (same interpolation, same rounding)."""
    means = part.groupby(["analyte_key", "day", "patient_id"], sort=True)["value"].mean()
    values = means.to_numpy(dtype=float)
    finite = np.isfinite(values)
    means, values = means[finite], values[finite]
    if not len(values):
        return []
    cell = means.index.droplevel("patient_id")
    first = ~cell.duplicated()
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(values)))
    cell_of = np.cumsum(first) - 1
    ordered = values[np.lexsort((values, cell_of))]
    quart = []
    for q in QUARTILES:
        virtual = (counts - 1) * q
        below = np.floor(virtual)
        gamma = virtual - below
        lo = ordered[starts + below.astype(np.intp)]
        hi = ordered[starts + np.minimum(below.astype(np.intp) + 1, counts - 1)]
        diff = hi - lo
        quart.append(np.where(gamma >= 0.5, hi - diff * (1 - gamma), lo + diff * gamma))
    return [{"analyte": analyte, "group": group, "day": float(day), "n": int(n), "median": float(med),
             "q1": float(q1), "q3": float(q3)}
            for (analyte, day), n, q1, med, q3 in zip(cell[starts], counts, *quart)]


def describe_cytokines(spec: AnalysisSpec, o: CytokineOptions) -> str:
    what = ", ".join(o.analytes) if o.analytes else "every analyte in the labs table"
    where = f"window {spec.window!r}" if spec.window else "days 0-30 after the index infusion"
    return f"Baseline, peak, day of peak and fold change of {what} in {where}, and the median course by day."


class Cd4Cd8Options(Options):
    infusions: tuple[int, ...] = ()
    """Infusion numbers (default: every infusion with CD4/CD8 samples)."""
    start: float = 0.0
    end: float = Field(30.0, gt=0)


def needs_cd4(rc: RunContext) -> str:
    if not rc.has("kinetics") or not (rc.cohort.kinetics["measure"] == "cd4_cd8_ratio").any():
        return "no cd4_cd8_ratio measure in the kinetics table"
    return ""


def run_cd4(rc: RunContext) -> None:
    o: Cd4Cd8Options = rc.options
    k = rc.cohort.kinetics
    k = k[(k["measure"] == "cd4_cd8_ratio") & k["patient_id"].astype(str).isin(set(rc.endpoints["patient_id"].astype(str)))]
    inf_nos = sorted({int(x) for x in pd.to_numeric(rc.cohort.infusions["infusion_no"], errors="coerce").dropna()})
    wanted = list(o.infusions) or inf_nos
    days, summ = [], []
    ids = rc.endpoints["patient_id"].astype(str)
    for no in wanted:
        w = rc.study.window(WindowSpec(infusion=no, start=-1e9, until_next_infusion=True))
        part = w.rebase(k)
        if part.empty:
            rc.note(f"infusion {no}", "no CD4/CD8 sample after this infusion")
            continue
        course = cd4_cd8_course(part, window=(o.start, o.end))
        by_day = course.by_day.assign(infusion_no=no)
        days.append(by_day)
        s = course.summary.assign(infusion_no=no)
        summ.append(s)
        for g in rc.groups():
            sub = s[s["patient_id"].isin(set(ids[g.mask]))]
            if sub.empty:
                continue
            inv = sub["inverts"].dropna().astype(bool)
            stats = {"n": int(len(sub)), "inverted": int(inv.sum()),
                     "median_baseline_ratio": float(sub["baseline_ratio"].median()),
                     "median_min_ratio": float(sub["min_ratio"].median()),
                     "median_inversion_day": float(sub["inversion_day"].median())}
            rc.stats(stats, group=g, variable="cd4_cd8_ratio", variable_level=f"infusion {no}",
                     method=f"ratio < 1 in days ({o.start:g}, {o.end:g}] after the infusion")
            if not g.by:
                rc.key(f"cd4_cd8.infusion{no}.inverted", stats["inverted"])
    if not summ:
        rc.skip("no CD4/CD8 sample after any requested infusion")
    rc.add_table("cd4_cd8_course", pd.concat(days, ignore_index=True)[["infusion_no", "patient_id", "day", "ratio",
                                                                       "inverted"]])
    summary = pd.concat(summ, ignore_index=True)
    rc.add_table("cd4_cd8_summary", summary[["infusion_no", *[c for c in summary.columns if c != "infusion_no"]]])


def describe_cd4(spec: AnalysisSpec, o: Cd4Cd8Options) -> str:
    which = ", ".join(map(str, o.infusions)) if o.infusions else "each infusion"
    return (f"CD4/CD8 ratio course after {which} (days rebased to the infusion, stopped at the next one): "
            f"whether and when it inverts (< 1) in days ({o.start:g}, {o.end:g}].")


# -- helpers kept for the report and the infusion comparison --------------------------------

def nca(ctx) -> pd.DataFrame:
    """Per patient x infusion x measure NCA parameters of the kinetics table (legacy helper)."""
    if "kinetics" not in ctx.cohort.present or ctx.cohort.kinetics.empty:
        return pd.DataFrame()
    measure = getattr(getattr(ctx, "protocol", None), "kinetics_measure", "car_copies_per_ug")
    return car_kinetics(ctx.cohort.kinetics, measure=measure, infusions=float_days(ctx.cohort.infusions))


def cytokine_peaks(ctx, infusion: int | None = None, analytes=("il6", "ferritin")) -> pd.DataFrame:
    """Baseline, peak (days 0-30) and fold change from the index infusion, or from infusion
    number ``infusion`` when given (legacy helper over a context with ``cohort`` and ``endpoints``)."""
    labs = ctx.cohort.labs
    if "role" in labs:
        labs = labs[labs["role"].astype(object).fillna("patient") != "healthy_donor"]
    if infusion is None:
        day0 = ctx.endpoints.set_index(ctx.endpoints["patient_id"].astype(str))["index_day"]
    else:
        inf = ctx.cohort.infusions.assign(patient_id=ctx.cohort.infusions["patient_id"].astype(str))
        inf = inf[pd.to_numeric(inf["infusion_no"], errors="coerce") == infusion]
        day0 = inf.set_index("patient_id")["day"].astype(float)
    return cytokine_kinetics(rebase(labs, day0), analytes=list(analytes))


KINDS = (
    Kind("car_kinetics", CarKineticsOptions, run_car, describe_car, needs_car, names={"measures": "measure"},
         section="kinetics", summary="CAR-T Cmax / Tmax / AUC0-28 / persistence per infusion"),
    Kind("cytokines", CytokineOptions, run_cytokines, describe_cytokines, needs_cytokines,
         names={"analytes": "analyte"}, section="kinetics",
         summary="cytokine / lab course, peak, day of peak and fold change of any analyte in a window"),
    Kind("cd4_cd8", Cd4Cd8Options, run_cd4, describe_cd4, needs_cd4, section="kinetics",
         summary="CD4/CD8 ratio course and inversion after each infusion"),
)
