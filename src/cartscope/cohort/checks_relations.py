"""Checks across rows and tables: identity, references, infusion sequence and clinical order.

All times here are days from infusion 1 (before any shift to another index infusion), so
"before the first infusion" is simply ``day < 0``.

Clinical order rules (design.md; response criteria in domain-reference.md §4): a relapse
presupposes a prior response (CR, CRi, PR or MRD-negative CR; a non-responder *progresses*);
nothing is observed after death and a patient dies once; events and responses are outcomes of
the infusion and cannot precede it, whereas baseline labs and assessments before day 0 are
normal (a warning only when more than a year before).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.cohort.checks_common import Table, emit, number_text
from cartscope.cohort.problems import Problem, Severity
from cartscope.cohort.schema import TREATMENT_EVENTS

RESPONDED = ("MRD-negative CR", "CR", "CRi", "PR")
BASELINE_WINDOW = 365
"""Observations more than this many days before the first infusion are flagged (warning)."""
OBSERVATION_TABLES = ("assessments", "labs", "kinetics", "toxicity_daily")


def _ok(table: Table | None) -> bool:
    return table is not None and table.usable


def _donor_mask(table: Table) -> np.ndarray:
    if table.name != "labs":
        return np.zeros(len(table.frame), dtype=bool)
    return (table.frame["role"] == "healthy_donor").fillna(False).to_numpy(dtype=bool)


def _first_rows(table: Table, keys: list[str]) -> pd.Series:
    """Row number of the first occurrence of each key combination, aligned to the frame."""
    f = table.frame
    return f.groupby(keys, dropna=False, sort=False)["_row"].transform("first")


def check_duplicates(tables: dict[str, Table | None], out: list[Problem]) -> None:
    patients = tables.get("patients")
    if _ok(patients):
        f = patients.frame
        dup = f["patient_id"].duplicated(keep="first") & f["patient_id"].notna()
        if dup.any():
            first = _first_rows(patients, ["patient_id"])
            emit(out, patients, dup, "patient_id", "duplicate-patient",
                 [f"patient_id {pid!r} already appears in row {int(r)}"
                  for pid, r in zip(f["patient_id"][dup], first[dup])])
    for name, keys in (("infusions", ["patient_id", "infusion_no"]), ("toxicity_daily", ["patient_id", "day"])):
        table = tables.get(name)
        if not _ok(table) or any(k not in table.frame for k in keys):
            continue
        f = table.frame
        complete = f[keys].notna().all(axis=1)
        dup = f.duplicated(keys, keep="first") & complete
        if dup.any():
            first = _first_rows(table, keys)
            what = keys[1]
            emit(out, table, dup.to_numpy(), what, "duplicate-key",
                 [f"patient {pid!r} already has {what} {number_text(float(k))} in row {int(r)}"
                  for pid, k, r in zip(f["patient_id"][dup], f[what][dup], first[dup])])


def check_references(tables: dict[str, Table | None], out: list[Problem]) -> set[str]:
    """Unknown patient ids, healthy-donor roles, kinetics infusion numbers; returns the known ids."""
    patients = tables.get("patients")
    if not _ok(patients):
        return set()
    ids = set(patients.frame["patient_id"].dropna())
    for name in ("infusions", "assessments", "events", "labs", "kinetics", "toxicity_daily"):
        table = tables.get(name)
        if not _ok(table):
            continue
        f = table.frame
        donor = _donor_mask(table)
        if name == "labs" and table.has("role"):
            no_role = f["role"].isna().to_numpy()
            emit(out, table, no_role, "role", "role-missing",
                 "no role in this row (patient or healthy_donor); the labs table has a role column")
            known = f["patient_id"].isin(ids).to_numpy()
            emit(out, table, donor & known, "patient_id", "donor-is-patient",
                 [f"healthy-donor row uses patient_id {pid!r}, which is a patient" for pid in f["patient_id"][donor & known]])
            donor = donor | no_role
        unknown = f["patient_id"].notna().to_numpy() & ~f["patient_id"].isin(ids).to_numpy() & ~donor
        emit(out, table, unknown, "patient_id", "unknown-patient",
             [f"patient_id {pid!r} is not in patients" for pid in f["patient_id"][unknown]])
    kinetics, infusions = tables.get("kinetics"), tables.get("infusions")
    if _ok(kinetics) and _ok(infusions) and kinetics.has("infusion_no"):
        given = set(zip(infusions.frame["patient_id"], infusions.frame["infusion_no"]))
        k = kinetics.frame
        known = k["patient_id"].isin(ids).to_numpy()
        missing = known & k["infusion_no"].notna().to_numpy() & ~np.array(
            [(p, n) in given for p, n in zip(k["patient_id"], k["infusion_no"])], dtype=bool)
        emit(out, kinetics, missing, "infusion_no", "unknown-infusion",
             [f"patient {p!r} has no infusion {n} in infusions" for p, n in zip(k["patient_id"][missing],
                                                                               k["infusion_no"][missing])])
    return ids


def check_infusions(tables: dict[str, Table | None], ids: set[str], out: list[Problem]) -> None:
    patients, infusions = tables.get("patients"), tables.get("infusions")
    if not _ok(infusions):
        return
    f = infusions.frame
    if _ok(patients):
        lacking = patients.frame["patient_id"].notna().to_numpy() & \
            ~patients.frame["patient_id"].isin(set(f["patient_id"].dropna())).to_numpy()
        emit(out, patients, lacking, "patient_id", "no-infusion", "this patient has no row in infusions")
    usable = f[f["patient_id"].isin(ids) & f["infusion_no"].notna()].drop_duplicates(["patient_id", "infusion_no"])
    usable = usable.sort_values(["patient_id", "infusion_no"], kind="stable")
    expected = usable.groupby("patient_id", sort=False).cumcount().to_numpy() + 1
    number = usable["infusion_no"].to_numpy(dtype="float64", na_value=np.nan)
    off = pd.Series(number != expected, index=usable.index)
    first_off = off & (off.groupby(usable["patient_id"], sort=False).cumsum() == 1)
    mask = f.index.isin(usable.index[first_off.to_numpy()])
    if mask.any():
        msgs = []
        for idx in f.index[mask]:
            n, exp = int(f.at[idx, "infusion_no"]), int(expected[usable.index.get_loc(idx)])
            msgs.append(f"infusion numbers start at 1; this patient's first infusion is numbered {n}" if exp == 1
                        else f"infusion {n} follows infusion {exp - 1}; numbers must be consecutive (no {exp})")
        emit(out, infusions, mask, "infusion_no", "infusion-numbering", msgs)
    # day 0 is infusion 1 when days are given directly
    given = f["_day_given"].to_numpy()
    first = (f["infusion_no"] == 1).fillna(False).to_numpy(dtype=bool) & ~np.isnan(given) & (given != 0)
    emit(out, infusions, first, "day", "index-day-not-zero",
         [f"infusion 1 is on day {number_text(d)}; days count from the first infusion, which is day 0"
          for d in given[first]])
    # later infusions come later
    days = usable["day"].to_numpy()
    prev = usable.groupby("patient_id", sort=False)["day"].shift(1).to_numpy()
    not_after = ~np.isnan(days) & ~np.isnan(prev) & (days <= prev)
    mask = f.index.isin(usable.index[not_after])
    if mask.any():
        emit(out, infusions, mask, "day", "infusion-order",
             [f"infusion {int(n)} on day {number_text(d)} is not after the previous infusion (day {number_text(p)})"
              for n, d, p in zip(usable["infusion_no"][not_after], days[not_after], prev[not_after])])


def check_event_details(events: Table, out: list[Problem]) -> None:
    """Infection and treatment columns on events of another type are warnings (they are unused)."""
    e = events.frame
    etype = e["type"].astype(object)
    for column, types, what in (
        ("infection_type", ("infection",), "an infection"),
        ("grade", ("infection",), "an infection"),
        ("agent", TREATMENT_EVENTS, "a treatment"),
        ("dose", TREATMENT_EVENTS, "a treatment"),
        ("dose_unit", TREATMENT_EVENTS, "a treatment"),
    ):
        if column not in e:
            continue
        stray = e[column].notna().to_numpy() & ~etype.isin(types).to_numpy() & etype.notna().to_numpy()
        emit(out, events, stray, column, "detail-on-wrong-event",
             [f"{column} is given on a {t} event, which is not {what} event; it is not used"
              for t in etype[stray]], Severity.WARNING)
    if "dose" in e and "dose_unit" in e:
        no_unit = e["dose"].notna().to_numpy() & e["dose_unit"].isna().to_numpy() & etype.isin(TREATMENT_EVENTS).to_numpy()
        emit(out, events, no_unit, "dose_unit", "dose-without-unit",
             "a dose is given without its dose_unit (mg, mg/kg, g/kg, ...)")


def check_clinical_order(tables: dict[str, Table | None], ids: set[str], out: list[Problem]) -> None:
    events, assessments = tables.get("events"), tables.get("assessments")
    if _ok(events):
        e = events.frame
        before = (e["day"] < 0).to_numpy() & e["patient_id"].isin(ids).to_numpy()
        emit(out, events, before, "day", "event-before-infusion",
             [f"{t} on day {number_text(d)} is before the first infusion (day 0)"
              for t, d in zip(e["type"][before], e["day"][before])])
        cause = e["cause"].notna().to_numpy() & (e["type"] != "death").fillna(False).to_numpy(dtype=bool)
        emit(out, events, cause, "cause", "cause-without-death",
             "a cause of death is given on an event that is not a death", Severity.WARNING)
        check_event_details(events, out)
    if _ok(assessments):
        a = assessments.frame
        early = a["response"].notna().to_numpy() & (a["day"] < 0).to_numpy() & a["patient_id"].isin(ids).to_numpy()
        emit(out, assessments, early, "day", "response-before-infusion",
             [f"response {r} on day {number_text(d)} is before the first infusion (day 0)"
              for r, d in zip(a["response"][early], a["day"][early])])
    for name in OBSERVATION_TABLES:
        table = tables.get(name)
        if not _ok(table):
            continue
        f = table.frame
        far = (f["day"] < -BASELINE_WINDOW).to_numpy() & ~_donor_mask(table) & f["patient_id"].isin(ids).to_numpy()
        emit(out, table, far, "day", "far-before-index",
             [f"day {number_text(d)} is more than {BASELINE_WINDOW} days before the first infusion"
              for d in f["day"][far]], Severity.WARNING)
    if not _ok(events):
        return
    e = events.frame
    is_death = (e["type"] == "death").fillna(False).to_numpy(dtype=bool) & e["patient_id"].isin(ids).to_numpy()
    deaths = e[is_death]
    second = np.zeros(len(e), dtype=bool)
    second[np.flatnonzero(is_death)] = deaths["patient_id"].duplicated(keep="first").to_numpy()
    if second.any():
        first_row = deaths.groupby("patient_id")["_row"].first()
        emit(out, events, second, "type", "duplicate-death",
             [f"a second death for patient {p!r} (first in row {int(first_row[p])})" for p in e["patient_id"][second]])
    death_day = deaths.groupby("patient_id")["day"].min()
    for name in ("events", *OBSERVATION_TABLES):
        table = tables.get(name)
        if not _ok(table) or death_day.empty:
            continue
        f = table.frame
        died = f["patient_id"].map(death_day).to_numpy(dtype="float64", na_value=np.nan)
        later = ~np.isnan(died) & (f["day"].to_numpy() > died) & ~_donor_mask(table)
        if name == "events":
            later &= ~is_death
        emit(out, table, later, "day", "after-death",
             [f"day {number_text(d)} is after the patient's death on day {number_text(x)}"
              for d, x in zip(f["day"][later], died[later])])
    if not _ok(assessments):
        return
    a = assessments.frame
    responded = a[a["response"].isin(RESPONDED).to_numpy()]
    first_response = responded.groupby("patient_id")["day"].min()
    relapse = (e["type"] == "relapse").fillna(False).to_numpy(dtype=bool) & e["patient_id"].isin(ids).to_numpy()
    response_day = e["patient_id"].map(first_response).to_numpy(dtype="float64", na_value=np.nan)
    no_prior = relapse & ~(response_day <= e["day"].to_numpy())
    no_prior &= ~np.isnan(e["day"].to_numpy())
    emit(out, events, no_prior, "type", "relapse-without-response",
         [f"relapse on day {number_text(d)} without an earlier response (CR, CRi, PR or MRD-negative CR) "
          "in assessments; a non-responder has progression, not relapse" for d in e["day"][no_prior]])
