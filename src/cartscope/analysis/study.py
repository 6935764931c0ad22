"""Run an analysis plan over a cohort: one call, one :class:`~cartscope.analysis.results.Results`.

:func:`run_study` derives the endpoints under the plan's rules, adds the grouping columns
the analyses split by (disease group, cohort role, ASTCT CRS grade and its high/low group,
pre-infusion B-ALL disease burden), then runs each analysis of the plan through its kind
(:mod:`cartscope.analysis.plan`). An analysis whose data is missing (e.g. no
``toxicity_daily`` table) is skipped with the reason, printed and recorded, never guessed; the
``exclusions`` analyses run last. An analysis that fails (an error inside it) is recorded
as failed with the message, and the other analyses still run. Every number comes from :mod:`cartscope.stats`,
:mod:`cartscope.clinical` or the biomarker layer; this module only selects patients, records
who was left out and why, and assembles the results.
"""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any, Callable

import numpy as np
import pandas as pd

from cartscope.analysis.analyses._context import rebase
from cartscope.analysis.plan import AnalysisSkipped, Plan, RunContext, StudyRun, ard_frame, kinds
from cartscope.analysis.protocol import Protocol
from cartscope.analysis.results import EXCLUSION_COLUMNS, STATUS_COLUMNS, Results
from cartscope.clinical.recorded_grades import has_toxicity_grades, patient_toxicity_grades
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


def study_endpoints(cohort: Cohort, protocol: Plan | Protocol) -> pd.DataFrame:
    """:func:`derive_endpoints` under the plan's rules plus the grouping columns:
    ``disease``, ``cohort_role``, ``crs_grade`` / ``crs_group`` ("0-<k-1>" vs "<k>-5" with
    k = ``protocol.crs_high_grade``; CRS graded on days from the index infusion) and
    ``disease_burden`` (B-ALL).

    The frame depends on the cohort, the endpoint rules and k alone, so it is derived once per
    cohort and rules (:meth:`Cohort.derived`): the plan's check and its run share it. Each call
    returns its own copy."""
    rules, k = protocol.endpoint_rules(), protocol.crs_high_grade
    return cohort.derived(("study_endpoints", rules, k), lambda: _study_endpoints(cohort, rules, k),
                          pd.DataFrame.copy)


def _study_endpoints(cohort: Cohort, rules: Any, k: int) -> pd.DataFrame:
    ep = derive_endpoints(cohort, rules)
    pats = cohort.patients.assign(patient_id=cohort.patients["patient_id"].astype(str)).set_index("patient_id")
    ep.insert(1, "disease", ep["patient_id"].map(pats["disease"]).astype(object))
    role = pats["cohort"].astype(object) if "cohort" in pats else pd.Series(dtype=object)
    ep.insert(3, "cohort_role", ep["patient_id"].map(role).astype(object).where(lambda s: s.notna(), None))
    low, high = (f"0-{k - 1}", f"{k}-5")
    daily = cohort.toxicity_daily if "toxicity_daily" in cohort.present and not cohort.toxicity_daily.empty else None
    if has_toxicity_grades(cohort.patients, daily):  # daily-graded, else recorded (clinical.recorded_grades)
        index_day = ep.set_index("patient_id")["index_day"]
        tox = rebase(daily, index_day) if daily is not None else None
        events = rebase(cohort.events, index_day)
        crs = patient_toxicity_grades(pats.reindex(ep["patient_id"]).reset_index(), tox, events).table
        grade = ep["patient_id"].map(crs.set_index("patient_id")["crs_grade"]).astype("Int64")
        ep["crs_grade"] = grade
        ep["crs_group"] = np.where(grade.isna(), None, np.where(grade.fillna(0) >= k, high, low)).astype(object)
    else:
        ep["crs_grade"] = pd.array([pd.NA] * len(ep), dtype="Int64")
        ep["crs_group"] = pd.Series([None] * len(ep), dtype=object)
    ep["disease_burden"] = _burden(cohort, ep)
    return ep


def as_plan(protocol: Plan | Protocol) -> Plan:
    """A plan, migrating an old section-form :class:`Protocol`."""
    if isinstance(protocol, Plan):
        return protocol
    from cartscope.analysis.plan.check import read_plan
    from cartscope.analysis.plan.migrate import migrate

    source = f"{protocol.name}.yaml"
    plan, _ = read_plan(migrate(protocol, source), source)  # a listed section with no analysis is refused
    return plan


def run_study(cohort: Cohort, protocol: Plan | Protocol, *, progress: Progress | None = None,
              on_endpoints: Callable[[pd.DataFrame, Plan], None] | None = None) -> Results:
    """Run every analysis of the plan ``protocol`` over ``cohort`` (see the module docstring).

    Names are not checked here: call :func:`cartscope.analysis.plan.check.check_plan` first
    (the command line and the web app do). ``progress(label, fraction)`` is called before each
    analysis and with 1.0 at the end. ``on_endpoints(endpoints, plan)`` gets the endpoints
    table (the results' ``endpoints``, not to be changed) as soon as it is derived, before
    the analyses run: a report starts drawing what needs nothing else.
    """
    plan = as_plan(protocol)
    reg = kinds()
    report = progress or (lambda label, fraction: None)
    order = [a for a in plan.analyses if a.kind != "exclusions"] + [a for a in plan.analyses if a.kind == "exclusions"]
    total = len(order) + 1
    report("endpoints", 0.0)
    ep = study_endpoints(cohort, plan)
    if on_endpoints is not None:
        on_endpoints(ep, plan)
    study = StudyRun(cohort=cohort, plan=plan, endpoints=ep)
    no_index = ep["index_day"].isna().to_numpy()
    for pid, why in zip(ep.loc[no_index, "patient_id"], ep.loc[no_index, "reason"]):
        study.exclusion_rows.append(("endpoints", str(pid), str(why) if why else "not stated"))
    status = []
    for i, spec in enumerate(order, start=1):
        report(spec.id, i / total)
        kind = reg[spec.kind]
        options = kind.options.model_validate(spec.options)
        rc = RunContext(study, spec, kind, options)
        why = kind.needs(rc)
        if not why and spec.population is not None and rc.endpoints.empty:
            why = f"population {spec.population!r} has no patients"
        state = "skipped" if why else "ran"
        if not why:
            state, why = _run_one(kind, rc, study)
        if why:
            study.skipped[spec.id] = why
        else:
            study.ran.append(spec.id)
        status.append({"analysis": spec.id, "kind": spec.kind, "section": kind.section,
                       "population": spec.population or "", "status": state, "reason": why})
    study.key_numbers["patients"] = len(ep)
    exclusions = pd.DataFrame(study.exclusion_rows, columns=list(EXCLUSION_COLUMNS))
    exclusions = exclusions.drop_duplicates().sort_values(list(EXCLUSION_COLUMNS), kind="mergesort")
    exclusions = exclusions.reset_index(drop=True)
    status_frame = pd.DataFrame(status, columns=list(STATUS_COLUMNS))
    status_frame = status_frame.set_index("analysis").loc[[a.id for a in plan.analyses]].reset_index()
    tables = {name: pd.concat(parts, ignore_index=True) for name, parts in sorted(study.tables.items())}
    sections, skipped = _section_status(status_frame, study.notes)
    result = Results(
        protocol=plan.legacy,
        data_hash=data_hash(cohort),
        versions=versions(),
        endpoints=ep,
        tables=tables,
        objects=dict(study.objects),
        exclusions=exclusions,
        sections=sections,
        skipped=skipped,
        key_numbers=dict(sorted(study.key_numbers.items())),
        plan=plan,
        ard=ard_frame(study.ard_rows),
        status=status_frame,
    )
    report("done", 1.0)
    return result


def _run_one(kind: Any, rc: RunContext, study: StudyRun) -> tuple[str, str]:
    """Run one analysis: ("ran", ""), ("skipped", why) or ("failed", the error message).

    An error inside one analysis (a model that cannot be fitted, a numerical failure) does not
    stop the others: what the analysis had written (tables, objects, ARD rows, exclusions,
    notes, key numbers) is removed, and the failure is recorded with its message like a skip.
    """
    tables = {name: len(parts) for name, parts in study.tables.items()}
    objects, notes, keys = set(study.objects), set(study.notes), set(study.key_numbers)
    owners = set(study.object_owner)
    n_ard, n_excl, n_warn = len(study.ard_rows), len(study.exclusion_rows), len(study.warnings)
    try:
        kind.run(rc)
    except AnalysisSkipped as exc:
        return "skipped", str(exc)
    except Exception as exc:  # noqa: BLE001 - any error fails this analysis only
        for name in list(study.tables):
            if name in tables:
                del study.tables[name][tables[name]:]
            else:
                del study.tables[name]
        for d, before in ((study.objects, objects), (study.notes, notes), (study.key_numbers, keys),
                          (study.object_owner, owners)):
            for k in set(d) - before:
                del d[k]
        del study.ard_rows[n_ard:]
        del study.exclusion_rows[n_excl:]
        del study.warnings[n_warn:]
        return "failed", str(exc) or type(exc).__name__
    return "ran", ""


def _section_status(status: pd.DataFrame, notes: dict[str, str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """Report sections that ran, and the skips keyed as the report reads them (a failed analysis
    with the reason "failed: <message>"): ``<section>`` when
    none of its analyses ran, ``<section>:<id>`` for a skipped analysis beside others that ran,
    ``<section>:<id>:<part>`` for a part noted by an analysis (``<id>...`` without a section)."""
    ran: list[str] = []
    skipped: dict[str, str] = {}
    sec_of = dict(zip(status["analysis"], status["section"]))
    for section, part in status.groupby("section", sort=False):
        did = part[part["status"] == "ran"]
        for rec in part[part["status"] != "ran"].itertuples():
            reason = rec.reason if rec.status == "skipped" else f"failed: {rec.reason}"
            if not section:
                skipped[rec.analysis] = reason
            elif did.empty and section not in skipped:
                skipped[section] = reason if len(part) == 1 else f"{rec.analysis}: {reason}"
            else:
                skipped[f"{section}:{rec.analysis}"] = reason
        if section and not did.empty:
            ran.append(section)
    for key, text in notes.items():
        aid = key.split(":", 1)[0]
        sec = sec_of.get(aid, "")
        skipped[f"{sec}:{key}" if sec else key] = text
    order = [s for s in dict.fromkeys(status["section"]) if s in ran]
    return tuple(order), dict(sorted(skipped.items()))
