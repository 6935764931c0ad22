"""What the patient page shows, gathered from the stored snapshot and a finished analysis.

Nothing is estimated here: endpoints and the outcome class come from the analysis' endpoint
table, CRS / ICANS grades from :mod:`cartscope.clinical` applied to this patient's daily
observations, the biomarker value from the analysis' own panel builder, and sensitivity /
specificity of the frozen cut-off from the ``biomarker_validation`` result table. The
early-risk reading only says on which side of the frozen cut-off the patient's value lies,
with pROC's rule used in validation (positive = predicted NR/ER: value >= cut-off for
direction "<", value <= cut-off for direction ">").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cartscope.analysis.protocol import Protocol
from cartscope.cohort.model import Cohort

ENDPOINT_FIELDS: tuple[tuple[str, str], ...] = (
    ("disease", "Disease"), ("disease_group", "Disease group"), ("cohort_role", "Cohort"),
    ("bor", "Best overall response"), ("bor_day", "Day of best response"), ("response_day", "Day of first response"),
    ("relapse_day", "Relapse day"), ("relapse_type", "Relapse type"), ("relapse_cd19", "Relapse CD19 status"),
    ("early_relapse", "Early relapse"), ("hsct_day", "HSCT day"), ("death_day", "Death day"),
    ("death_cause", "Cause of death"), ("last_contact_day", "Last contact day"),
    ("os_time", "OS time (days)"), ("os_event", "OS event"), ("pfs_time", "PFS time (days)"),
    ("pfs_event", "PFS event"), ("crs_grade", "CRS grade (analysis)"), ("disease_burden", "Disease burden"),
)
CYTOKINE_FIGURE_ANALYTES = ("il6", "ferritin", "crp", "ifng", "il10")


@dataclass(frozen=True)
class RiskReading:
    marker: str
    timepoint: str
    value: float | None
    cutoff: float
    direction: str
    flagged: bool | None
    basis: str
    sensitivity: float
    sensitivity_ci: tuple[float, float]
    specificity: float
    specificity_ci: tuple[float, float]
    note: str


@dataclass(frozen=True)
class PatientView:
    patient_id: str
    outcome_class: str
    outcome_reason: str
    endpoints: list[tuple[str, str]]
    crs: dict[str, Any]
    icans: dict[str, Any]
    kinetics: pd.DataFrame
    labs: pd.DataFrame
    risk: list[RiskReading] = field(default_factory=list)
    figures: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def show(value: Any) -> str:
    """A cell as text: blanks for missing, integers without decimals, 4 significant digits."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)) or value in ("True", "False"):
        return "yes" if value in (True, "True") else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.4g}"
    return str(value)


def _one(frame: pd.DataFrame, pid: str) -> pd.DataFrame:
    if frame is None or frame.empty or "patient_id" not in frame:
        return frame.iloc[0:0] if frame is not None else pd.DataFrame()
    return frame[frame["patient_id"].astype(str) == pid].reset_index(drop=True)


def _shift(frame: pd.DataFrame, offset: float) -> pd.DataFrame:
    """Days counted from the analysis' index infusion (0 when it is infusion 1)."""
    if frame.empty or "day" not in frame or not offset:
        return frame
    return frame.assign(day=pd.to_numeric(frame["day"], errors="coerce") - offset)


def _grades(cohort: Cohort, pid: str, offset: float) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    from cartscope.clinical.crs import grade_crs
    from cartscope.clinical.icans import grade_icans

    notes: list[str] = []
    tox = _shift(_one(cohort.toxicity_daily, pid), offset)
    if "toxicity_daily" not in cohort.present or tox.empty:
        return {}, {}, ["No daily toxicity observations for this patient: CRS and ICANS cannot be graded."]
    events = _shift(_one(cohort.events, pid), offset)
    patients = _one(cohort.patients, pid)
    crs = grade_crs(tox, events, patients=patients)
    icans = grade_icans(tox, patients, events)
    return crs.iloc[0].to_dict(), icans.iloc[0].to_dict(), notes


def _risk(cohort: Cohort, protocol: Protocol, endpoints: pd.DataFrame, tables_dir: Path, pid: str,
          role: str) -> tuple[list[RiskReading], list[str]]:
    bm = protocol.biomarkers
    if bm is None:
        return [], ["The protocol has no biomarker section, so there is no early-risk cut-off."]
    validation = tables_dir / "biomarker_validation.parquet"
    training = tables_dir / "biomarker_markers.parquet"
    if validation.is_file():
        rows, basis = pd.read_parquet(validation), "validation cohort"
    elif training.is_file():
        rows, basis = pd.read_parquet(training), "training cohort only (not validated)"
    else:
        return [], ["The analysis did not freeze a biomarker cut-off (no biomarker results)."]
    from cartscope.analysis.analyses._context import StudyContext
    from cartscope.analysis.analyses.biomarkers import panel
    from cartscope.report.numbers import DEFAULT_FORMAT
    from cartscope.stats.cutoff_side import cutoff_rule, is_test_positive

    wide = panel(StudyContext(cohort=cohort, protocol=protocol, endpoints=endpoints), bm.timepoint)
    out = []
    for rec in rows.to_dict("records"):
        marker = str(rec["marker"])
        value = None
        if pid in wide.index and marker in wide.columns and pd.notna(wide.loc[pid, marker]):
            value = float(wide.loc[pid, marker])
        cutoff, direction = float(rec["cutoff"]), str(rec["direction"])
        flagged = None if value is None else bool(is_test_positive([value], cutoff, direction)[0])
        note = f"{cutoff_rule(marker, DEFAULT_FORMAT.cutoff(cutoff), direction, 'NR/ER')}."
        if role == bm.training:
            note += " This patient belongs to the training cohort that set the cut-off, so the reading is not an independent prediction."
        out.append(RiskReading(
            marker=marker, timepoint=bm.timepoint, value=value, cutoff=cutoff, direction=direction,
            flagged=flagged, basis=basis,
            sensitivity=float(rec["sensitivity"]),
            sensitivity_ci=(float(rec["sensitivity_lower"]), float(rec["sensitivity_upper"])),
            specificity=float(rec["specificity"]),
            specificity_ci=(float(rec["specificity_lower"]), float(rec["specificity_upper"])),
            note=note,
        ))
    unit = "fold change over healthy donors" if bm.reference != "none" else "as measured"
    return out, [f"Biomarker values are taken at the {bm.timepoint} sample, {unit}."]


def when(value: object) -> str:
    """A timestamp as a reader wants it: "2026-12-01 10:18 UTC" (no seconds, no microseconds);
    text that is not a timestamp is shown as given."""
    import datetime as _dt

    if value is None or value == "":
        return ""
    try:
        stamp = value if isinstance(value, _dt.datetime) else _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(_dt.timezone.utc)
    return stamp.strftime("%Y-%m-%d %H:%M") + " UTC"


def patient_figures(ep_one: pd.DataFrame, infusions: pd.DataFrame, kin: pd.DataFrame,
                    labs: pd.DataFrame) -> dict[str, str]:
    """SVG timeline, CAR kinetics and cytokine courses of one patient (those it has data for).

    matplotlib is not safe in threads: the web application calls this in a worker process
    (:func:`cartscope.web.tasks.patient_figures_task`).
    """
    from cartscope.report.figures.export import figure_svg
    from cartscope.report.figures.kinetics import car_kinetics_figure, cytokine_course_figure
    from cartscope.report.figures.swimmer import swimmer_figure

    figs: dict[str, str] = {}
    builders = {
        "timeline": lambda: swimmer_figure(ep_one, infusions=infusions, unit="days", show_ids=False, title=None),
    }
    measures = [m for m in ("car_copies_per_ug", "cd19_car_copies", "cd22_car_copies", "car_cells_per_ul")
                if not kin.empty and (kin["measure"] == m).any()]
    if measures:
        builders["kinetics"] = lambda: car_kinetics_figure(kin, measures=measures, min_patients=1,
                                                           window=(0.0, 90.0))
    analytes = [a for a in CYTOKINE_FIGURE_ANALYTES if not labs.empty and (labs["analyte"].astype(str) == a).any()]
    if analytes:
        builders["cytokines"] = lambda: cytokine_course_figure(labs, analytes=analytes, min_patients=1,
                                                               ncols=min(3, len(analytes)),
                                                               series_label="This patient")
    for name, build in builders.items():
        try:
            figs[name] = figure_svg(build(), id_salt=f"patient-{name}")
        except (ValueError, KeyError, TypeError):
            continue
    return figs


FigureRenderer = Callable[..., dict[str, str]]
"""``renderer(patient_figures_task, ep_one, infusions, kinetics, labs)`` -> figures (a worker pool)."""


def patient_view(cohort: Cohort, protocol: Protocol, results_dir: Path, pid: str, *, figures: bool = True,
                 renderer: FigureRenderer | None = None) -> PatientView:
    """The patient page of ``pid`` for the analysis written in ``results_dir``.

    ``renderer`` draws the figures elsewhere (the web application's figure worker pool);
    without it they are drawn in this process. A renderer that fails leaves the page without
    figures and a note saying why. Raises KeyError when the patient is not in the analysis.
    """
    endpoints = pd.read_parquet(results_dir / "endpoints.parquet")
    for col in endpoints.columns:  # text columns back as plain objects (None for missing), as derived
        if isinstance(endpoints[col].dtype, pd.StringDtype):
            endpoints[col] = endpoints[col].astype(object).where(endpoints[col].notna(), None)
    ep_one = endpoints[endpoints["patient_id"].astype(str) == pid].reset_index(drop=True)
    if ep_one.empty:
        raise KeyError(pid)
    row = ep_one.iloc[0]
    offset = float(row["index_day"]) if pd.notna(row.get("index_day")) else 0.0
    fields = [(label, show(row[col])) for col, label in ENDPOINT_FIELDS if col in ep_one.columns]
    crs, icans, notes = _grades(cohort, pid, offset)
    kin = _shift(_one(cohort.kinetics, pid), offset)
    labs = _one(cohort.labs, pid)
    if not labs.empty and "role" in labs:
        labs = labs[labs["role"].astype(object) != "healthy_donor"]
    labs = _shift(labs, offset)
    risk, risk_notes = _risk(cohort, protocol, endpoints, results_dir / "tables", pid, str(row.get("cohort_role")))
    figs: dict[str, str] = {}
    if figures:
        from cartscope.web.tasks import patient_figures_task

        args = (ep_one, _one(cohort.infusions, pid), kin, labs)
        try:
            figs = renderer(patient_figures_task, *args) if renderer is not None else patient_figures_task(*args)
        except RuntimeError as exc:  # WorkerFailed: the page stands without its figures
            notes.append(f"The figures could not be drawn ({getattr(exc, 'reason', exc)}).")
    keep_kin = [c for c in ("infusion_no", "day", "measure", "value") if c in kin.columns]
    keep_labs = [c for c in ("day", "timepoint", "analyte", "value", "unit", "sample") if c in labs.columns]
    return PatientView(
        patient_id=pid,
        outcome_class=show(row.get("outcome_class")) or "not classified",
        outcome_reason=show(row.get("outcome_reason")),
        endpoints=fields,
        crs=crs,
        icans=icans,
        kinetics=kin[keep_kin].sort_values([c for c in ("measure", "day") if c in keep_kin]).reset_index(drop=True),
        labs=labs[keep_labs].sort_values([c for c in ("analyte", "day") if c in keep_labs]).reset_index(drop=True),
        risk=risk,
        figures=figs,
        notes=notes + risk_notes,
    )
