"""Lab and event access shared by the haematotoxicity, IEC-HS and exposure rules.

One analyte at a time in its canonical unit (:mod:`cartscope.cohort.units`), healthy-donor
rows dropped; a value in a unit that cannot be converted is an error, never a guess. Events
of given types with their day, and the per-patient censoring day (first progression, relapse,
new therapy, HSCT or death) the ICAHT consensus censors at.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from cartscope.clinical._episodes import require_columns
from cartscope.cohort.units import ANALYTES, UnitError, canonical_analyte, conversion_factor, normalise_unit

CENSORING_EVENTS = ("progression", "relapse", "new_therapy", "hsct", "death")
"""Events that end the ICAHT observation (Rejeski 2023; T-ICAHT table note, Rejeski 2025)."""


def lab_values(labs: pd.DataFrame | None, analyte: str) -> pd.DataFrame:
    """``patient_id, day, value`` of one canonical analyte in its canonical unit, sorted.

    Analyte spellings are resolved with :func:`cartscope.cohort.units.canonical_analyte`; rows
    with a missing value or day are dropped; several values of a patient on one day stay
    (callers take the worst). A unit outside the analyte's dimension raises ``ValueError``.
    """
    empty = pd.DataFrame({"patient_id": pd.Series(dtype=object), "day": pd.Series(dtype=float),
                          "value": pd.Series(dtype=float)})
    if labs is None or labs.empty:
        return empty
    require_columns(labs, ("patient_id", "day", "analyte", "value"), "labs")
    if analyte not in ANALYTES:
        raise ValueError(f"unknown analyte {analyte!r}")
    names = labs["analyte"].astype(object)
    canon = names.map(lambda a: canonical_analyte(a) if isinstance(a, str) else None)
    keep = np.array(canon == analyte, dtype=bool)
    if "role" in labs.columns:
        role = labs["role"].astype("string").str.strip().str.lower()
        keep &= ~(role == "healthy_donor").fillna(False).to_numpy(dtype=bool)
    part = labs[keep]
    if part.empty:
        return empty
    value = pd.to_numeric(part["value"], errors="coerce").to_numpy(dtype=float)
    target = ANALYTES[analyte].unit
    if "unit" in part.columns:
        factors = {}
        for unit in pd.unique(part["unit"].astype(object)):
            if unit is None or (isinstance(unit, float) and np.isnan(unit)) or unit is pd.NA:
                factors[unit] = 1.0
                continue
            norm = normalise_unit(unit)
            if norm is None:
                raise ValueError(f"labs: unknown unit {unit!r} for {analyte}")
            try:
                factors[unit] = conversion_factor(norm, target, analyte=analyte)
            except UnitError as exc:
                raise ValueError(f"labs: {exc}") from exc
        value = value * part["unit"].astype(object).map(factors).to_numpy(dtype=float)
    out = pd.DataFrame({
        "patient_id": part["patient_id"].astype(str).to_numpy(),
        "day": pd.to_numeric(part["day"], errors="coerce").to_numpy(dtype=float),
        "value": value,
    }).dropna()
    return out.sort_values(["patient_id", "day"], kind="mergesort").reset_index(drop=True)


def event_rows(events: pd.DataFrame | None, types: Iterable[str]) -> pd.DataFrame:
    """Events of the given types (all columns, ``patient_id`` as str, numeric ``day``)."""
    types = tuple(types)
    if events is None or events.empty or "type" not in events.columns:
        cols = list(events.columns) if events is not None else ["patient_id", "day", "type"]
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols}).assign(day=pd.Series(dtype=float))
    require_columns(events, ("patient_id", "day", "type"), "events")
    part = events[events["type"].astype(object).isin(types).to_numpy(dtype=bool)].copy()
    part["patient_id"] = part["patient_id"].astype(str)
    part["day"] = pd.to_numeric(part["day"], errors="coerce").astype(float)
    return part.sort_values(["patient_id", "day"], kind="mergesort").reset_index(drop=True)


def censoring(events: pd.DataFrame | None, ids: Sequence[str],
              types: Sequence[str] = CENSORING_EVENTS) -> pd.DataFrame:
    """Per patient the first censoring event after day 0: ``censor_day`` and ``censor_reason``."""
    ev = event_rows(events, types)
    ev = ev[ev["day"] > 0]
    first = ev.drop_duplicates("patient_id", keep="first").set_index("patient_id")
    idx = pd.Index(list(ids), name="patient_id")
    return pd.DataFrame({
        "censor_day": first["day"].reindex(idx).astype(float),
        "censor_reason": first["type"].reindex(idx).astype(object),
    }, index=idx)


def daily_grid(days: np.ndarray, values: np.ndarray, start: int, end: int,
               max_carry_days: float) -> np.ndarray:
    """Value on each integer day ``start..end``: the last measurement on or before that day.

    Last observation carried forward for at most ``max_carry_days`` days (a project
    convention: the consensus counts days, laboratories measure on some days only); a day
    further from any earlier measurement is NaN (unobserved). The worst (lowest) value of a
    day stands for that day.
    """
    n = end - start + 1
    if n <= 0:
        return np.empty(0)
    grid = np.arange(start, end + 1, dtype=float)
    if len(days) == 0:
        return np.full(n, np.nan)
    d = np.floor(np.asarray(days, dtype=float))
    v = np.asarray(values, dtype=float)
    order = np.lexsort((-v, d))  # by day, lowest value last within a day
    d, v = d[order], v[order]
    pos = np.searchsorted(d, grid, side="right") - 1
    ok = pos >= 0
    out = np.full(n, np.nan)
    out[ok] = v[pos[ok]]
    gap = np.where(ok, grid - d[np.clip(pos, 0, None)], np.inf)
    out[gap > max_carry_days] = np.nan
    return out
