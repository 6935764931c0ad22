"""Plan kind ``biomarker_resampling``: bootstrap intervals of each marker's Youden cut-off and
permutation p-values of a panel (:mod:`cartscope.analysis.biomarkers.resampling`).

For a binary outcome (default NR/ER vs durable) and a panel at one timepoint (fold change vs
healthy donors unless ``reference: none``): per marker the Youden cut-off with sensitivity and
specificity at it and their stratified-bootstrap percentile intervals (``n_boot``), and the
permutation p-value of the AUC with the Westfall-Young max-T adjusted p over the panel
(``n_perm``). Seeded (``seed``); the same on a Dask cluster as in process.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from cartscope.analysis.analyses.biomarkers import Reference, _analysis_set, panel_values
from cartscope.analysis.biomarkers.resampling import permutation_test, youden_bootstrap
from cartscope.analysis.plan import Kind, Options, RunContext


class ResamplingOptions(Options):
    timepoint: str
    analytes: tuple[str, ...] | Literal["all"] = "all"
    reference: Reference = "healthy_donor_mean"
    outcome: str = "nr_er"
    n_boot: int = Field(2000, ge=10, le=1_000_000)
    n_perm: int = Field(10_000, ge=10, le=10_000_000)
    level: float = Field(0.95, gt=0, lt=1)
    seed: int = 20230304


def needs(rc: RunContext) -> str:
    if not rc.has("labs"):
        return "no labs table"
    return ""


def run(rc: RunContext) -> None:
    o: ResamplingOptions = rc.options
    wide = panel_values(rc.cohort, o.timepoint, o.analytes, o.reference, rc.plan.panels)
    train, is_case = _analysis_set(rc, wide, o.outcome, o.timepoint)
    if is_case.sum() < 2 or (~is_case).sum() < 2:
        rc.skip(f"the population needs at least 2 cases and 2 controls of {o.outcome}")
    values = wide.reindex(train["patient_id"].astype(str))
    # resampling exchanges whole patients: the patients with every analyte of the panel
    complete = values.notna().all(axis=1).to_numpy()
    if not complete.all():
        rc.exclude(rc.ids(np.isin(rc.endpoints["patient_id"].astype(str), values.index[~complete])),
                   "a panel analyte is missing (resampling needs every analyte per patient)")
    values, is_case = values[complete], is_case[complete]
    if is_case.sum() < 2 or (~is_case).sum() < 2:
        rc.skip("fewer than 2 cases or 2 controls with every analyte of the panel")
    x = values.to_numpy(dtype=float)
    y = is_case.astype(float)
    complete = list(values.columns)
    boot = youden_bootstrap(x, y, n_boot=o.n_boot, seed=o.seed, level=o.level, markers=complete)
    perm = permutation_test(x, y, n_perm=o.n_perm, seed=o.seed, markers=complete)
    table = boot.table.merge(perm.table, on="marker").rename(columns={"marker": "analyte"})
    table.insert(1, "outcome", o.outcome)
    rc.add_table("biomarker_resampling", table)
    for rec in table.itertuples():
        rc.stats({"youden_cutoff": rec.threshold, "youden_cutoff_lower": rec.threshold_lower,
                  "youden_cutoff_upper": rec.threshold_upper, "sensitivity": rec.sensitivity,
                  "sensitivity_lower": rec.sensitivity_lower, "sensitivity_upper": rec.sensitivity_upper,
                  "specificity": rec.specificity, "specificity_lower": rec.specificity_lower,
                  "specificity_upper": rec.specificity_upper, "p_perm": rec.p_perm, "p_maxt": rec.p_maxt},
                 variable=str(rec.analyte), variable_level=o.outcome,
                 method=f"stratified bootstrap ({o.n_boot}, percentile); permutation ({o.n_perm}, max-T)")


def describe(spec, o: ResamplingOptions) -> str:  # type: ignore[no-untyped-def]
    what = "every analyte" if o.analytes == "all" else ", ".join(o.analytes)
    return (f"Bootstrap ({o.n_boot} stratified resamples) intervals of the Youden cut-off and of sensitivity and "
            f"specificity at it, and permutation ({o.n_perm}) p-values with max-T adjustment, for {what} at "
            f"{o.timepoint} against {o.outcome}.")


KINDS = (
    Kind("biomarker_resampling", ResamplingOptions, run, describe, needs,
         names={"timepoint": "timepoint", "analytes": "analyte", "outcome": "binary"},
         section="biomarkers", summary="bootstrap CIs of Youden cut-offs and permutation p-values of a panel"),
)
