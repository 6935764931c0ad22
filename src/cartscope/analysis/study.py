"""Run a study protocol over a cohort: one call, one :class:`~cartscope.analysis.results.Results`.

:func:`run_study` derives the endpoints under the protocol's rules, adds the grouping columns
the analyses split by (disease group, cohort role, ASTCT CRS grade and its high/low group,
pre-infusion B-ALL disease burden), then runs each section the protocol lists. A section whose
data is missing (e.g. no ``toxicity_daily`` table) is skipped with the reason, never guessed.
Every number comes from :mod:`cartscope.stats`, :mod:`cartscope.clinical` or the biomarker
layer; this module only selects patients, records who was left out and why, and names tables.
"""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Callable

import numpy as np
import pandas as pd

from cartscope.analysis.analyses import SECTIONS
from cartscope.analysis.analyses._context import StudyContext, rebase
from cartscope.analysis.protocol import Protocol
from cartscope.analysis.results import EXCLUSION_COLUMNS, Results
from cartscope.clinical.crs import grade_crs
from cartscope.clinical.endpoints import derive_endpoints
from cartscope.clinical.scores import disease_burden
from cartscope.cohort.model import Cohort
from cartscope.cohort.store import data_hash

Progress = Callable[[str, float], None]


def versions() -> dict[str, str]:
    """Versions of cartscope, Python and the numerical packages behind the numbers."""
    out = {"python": platform.python_version()}
    for pkg in ("cartscope", "numpy", "scipy", "pandas"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:  # pragma: no cover - source checkout without install
            out[pkg] = "unknown"
    return out


def _burden(cohort: Cohort, ep: pd.DataFrame) -> pd.Series:
    """Pre-infusion B-ALL burden (lu2021 categories, :func:`clinical.scores.disease_burden`)
    from the last assessment on or before the index day; NA for B-NHL or without assessment."""
    index_day = ep.set_index("patient_id")["index_day"]
    a = rebase(cohort.assessments, index_day)
    a = a[a["day"] <= 0].sort_values(["patient_id", "day"], kind="mergesort")
    if a.empty:
        return pd.Series(pd.NA, index=ep.index, dtype="object")
    cols = {c: pd.to_numeric(a[c], errors="coerce") if c in a else pd.Series(np.nan, index=a.index)
            for c in ("mrd_pct", "blasts_pct")}
    a = a.assign(**cols)
    last = a.groupby("patient_id")[["mrd_pct", "blasts_pct"]].last()
    emd = None
    if "extramedullary" in cohort.patients:
        pats = cohort.patients.assign(patient_id=cohort.patients["patient_id"].astype(str))
        emd = pats.set_index("patient_id")["extramedullary"].reindex(last.index)
        emd = pd.to_numeric(emd.astype("Float64"), errors="coerce").to_numpy(dtype=float)
    b = disease_burden(last["mrd_pct"].to_numpy(dtype=float), last["blasts_pct"].to_numpy(dtype=float), emd)
    burden = pd.Series(b["burden"].astype(object).to_numpy(), index=last.index)
    out = ep["patient_id"].map(burden).astype(object)
    out[ep["disease_group"] != "B-ALL"] = None
    return out.where(out.notna(), None)


def study_endpoints(cohort: Cohort, protocol: Protocol) -> pd.DataFrame:
    """:func:`derive_endpoints` under the protocol's rules plus the grouping columns:
    ``disease``, ``cohort_role``, ``crs_grade`` / ``crs_group`` ("0-<k-1>" vs "<k>-5" with
    k = ``protocol.crs_high_grade``; CRS graded on days from the index infusion) and
    ``disease_burden`` (B-ALL)."""
    ep = derive_endpoints(cohort, protocol.endpoint_rules())
    pats = cohort.patients.assign(patient_id=cohort.patients["patient_id"].astype(str)).set_index("patient_id")
    ep.insert(1, "disease", ep["patient_id"].map(pats["disease"]).astype(object))
    role = pats["cohort"].astype(object) if "cohort" in pats else pd.Series(dtype=object)
    ep.insert(3, "cohort_role", ep["patient_id"].map(role).astype(object).where(lambda s: s.notna(), None))
    k = protocol.crs_high_grade
    low, high = (f"0-{k - 1}", f"{k}-5")
    if "toxicity_daily" in cohort.present and not cohort.toxicity_daily.empty:
        index_day = ep.set_index("patient_id")["index_day"]
        tox = rebase(cohort.toxicity_daily, index_day)
        events = rebase(cohort.events, index_day)
        crs = grade_crs(tox, events, patients=ep[["patient_id"]]).set_index("patient_id")
        grade = ep["patient_id"].map(crs["crs_grade"]).astype("Int64")
        ep["crs_grade"] = grade
        ep["crs_group"] = np.where(grade.isna(), None, np.where(grade.fillna(0) >= k, high, low)).astype(object)
    else:
        ep["crs_grade"] = pd.array([pd.NA] * len(ep), dtype="Int64")
        ep["crs_group"] = pd.Series([None] * len(ep), dtype=object)
    ep["disease_burden"] = _burden(cohort, ep)
    return ep


def run_study(cohort: Cohort, protocol: Protocol, *, progress: Progress | None = None) -> Results:
    """Run every section of ``protocol`` over ``cohort`` (see the module docstring).

    ``progress(label, fraction)`` is called before each step and with 1.0 at the end.
    """
    report = progress or (lambda label, fraction: None)
    steps = [s for s in protocol.sections if s != "exclusions"]
    total = len(steps) + 2
    report("endpoints", 0.0)
    ep = study_endpoints(cohort, protocol)
    ctx = StudyContext(cohort=cohort, protocol=protocol, endpoints=ep)
    no_index = ep["index_day"].isna()
    ctx.exclude("endpoints", ctx.ids(no_index), ep.loc[no_index, "reason"].tolist())

    ran: list[str] = []
    skipped: dict[str, str] = {}
    for i, section in enumerate(steps, start=1):
        report(section, i / total)
        analysis = SECTIONS[section]
        why = analysis.needs(ctx)
        if why:
            skipped[section] = why
            continue
        analysis.run(ctx)
        ran.append(section)
    skipped.update(ctx.notes)

    report("exclusions", (total - 1) / total)
    exclusions = pd.DataFrame(ctx.exclusion_rows, columns=list(EXCLUSION_COLUMNS))
    exclusions = exclusions.drop_duplicates().sort_values(list(EXCLUSION_COLUMNS), kind="mergesort")
    exclusions = exclusions.reset_index(drop=True)
    if "exclusions" in protocol.sections:
        flow = exclusions.groupby(["analysis", "reason"], sort=True).size().rename("patients").reset_index()
        ctx.add_table("exclusion_flow", flow)
        ran.append("exclusions")
    ctx.key("patients", len(ep))
    result = Results(
        protocol=protocol,
        data_hash=data_hash(cohort),
        versions=versions(),
        endpoints=ep,
        tables=dict(sorted(ctx.tables.items())),
        objects=dict(ctx.objects),
        exclusions=exclusions,
        sections=tuple(ran),
        skipped=dict(sorted(skipped.items())),
        key_numbers=dict(sorted(ctx.key_numbers.items())),
    )
    report("done", 1.0)
    return result
