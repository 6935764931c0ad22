"""Infections after CAR-T: counts by time window and type, and the competing-risks coding.

Infections are ``events`` rows of type ``infection`` with ``infection_type`` (bacterial,
viral, fungal, other, unknown) and ``grade`` (CTCAE grade of the infection, the severity).
CAR-T series report infections in the windows day 0-30, 31-180 and > 180 after infusion
(e.g. Hill JA et al. Blood 2018;131(1):121-130 for days 0-28 / 29-90; Wudhikarn K et al.
Blood Adv 2020 for 0-30 / 31-180 / > 180 † — window edges are protocol options, ⚠ the exact
edges of each paper were not checked in a stored copy). "Severe" = grade >= 3 (CTCAE severe),
a protocol option. An infection without a grade counts in the totals, never as severe.

For the cumulative incidence of the first severe infection, death without a prior severe
infection is the competing event (Aalen-Johansen; ``stats.cumulative_incidence``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from cartscope.clinical._labs import event_rows

INFECTION_TYPES = ("bacterial", "viral", "fungal", "other", "unknown")
DEFAULT_WINDOWS: tuple[tuple[float, float | None], ...] = ((0.0, 30.0), (30.0, 180.0), (180.0, None))
"""(after, up to and including) day edges: day 0-30, 31-180, > 180."""


def window_label(window: tuple[float, float | None]) -> str:
    lo, hi = window
    if hi is None:
        return f"> day {lo:g}"
    return f"day {lo:g}-{hi:g}" if lo <= 0 else f"day {lo + 1:g}-{hi:g}"


@dataclass(frozen=True)
class InfectionRules:
    """Windows (``(lo, hi]``, the first including day ``lo`` itself) and the severe grade."""

    windows: tuple[tuple[float, float | None], ...] = DEFAULT_WINDOWS
    severe_grade: int = 3

    def __post_init__(self) -> None:
        for lo, hi in self.windows:
            if hi is not None and hi <= lo:
                raise ValueError(f"window ({lo}, {hi}) is empty")


@dataclass(frozen=True)
class InfectionSummary:
    """Per patient x window counts, and the first severe infection with its competing death.

    ``patients``: patient_id, window, n_infections, n_<type> per type, n_severe, any_infection.
    ``first_severe``: patient_id, time, cause (1 = severe infection, 2 = death first, 0 = censored),
    infection_type of the first severe infection.
    """

    patients: pd.DataFrame
    first_severe: pd.DataFrame
    rules: InfectionRules = field(default_factory=InfectionRules)

    def to_frame(self) -> pd.DataFrame:
        return self.patients.copy()

    def table(self) -> pd.DataFrame:
        """Per window: episodes and patients with >= 1 infection, by type and severe."""
        rows = []
        n = self.first_severe.shape[0]
        for label, part in self.patients.groupby("window", sort=False):
            row: dict[str, object] = {"window": label, "n_patients": n,
                                      "episodes": int(part["n_infections"].sum()),
                                      "patients_any": int((part["n_infections"] > 0).sum()),
                                      "patients_severe": int((part["n_severe"] > 0).sum())}
            for t in INFECTION_TYPES:
                row[f"episodes_{t}"] = int(part[f"n_{t}"].sum())
                row[f"patients_{t}"] = int((part[f"n_{t}"] > 0).sum())
            rows.append(row)
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        t = self.table()
        parts = ", ".join(f"{r.window}: {r.episodes} episodes in {r.patients_any}" for r in t.itertuples())
        return f"Infections ({self.first_severe.shape[0]} patients) {parts}"


def _in(day: np.ndarray, window: tuple[float, float | None], first: bool) -> np.ndarray:
    lo, hi = window
    m = (day >= lo) if first else (day > lo)
    if hi is not None:
        m &= day <= hi
    return m


def summarise_infections(
    events: pd.DataFrame,
    *,
    patients: pd.DataFrame | Sequence[str] | None = None,
    follow_up: pd.Series | None = None,
    rules: InfectionRules = InfectionRules(),
) -> InfectionSummary:
    """Infections per patient and window, and the first severe infection (competing: death).

    ``follow_up`` (patient_id -> last day known alive or death day) censors the first-severe
    coding; without it, the last event day of each patient is used.
    """
    inf = event_rows(events, ("infection",))
    inf = inf[inf["day"] >= 0]
    if patients is None:
        ids = sorted(set(events["patient_id"].astype(str))) if events is not None and len(events) else []
    elif isinstance(patients, pd.DataFrame):
        ids = [str(p) for p in patients["patient_id"]]
    else:
        ids = [str(p) for p in patients]
    itype = inf["infection_type"].astype(object).where(inf["infection_type"].notna(), "unknown") \
        if "infection_type" in inf.columns else pd.Series("unknown", index=inf.index)
    grade = pd.to_numeric(inf["grade"], errors="coerce") if "grade" in inf.columns \
        else pd.Series(np.nan, index=inf.index)
    severe = (grade >= rules.severe_grade).fillna(False).to_numpy(dtype=bool)
    day = inf["day"].to_numpy(dtype=float)
    idx = pd.Index(ids, name="patient_id")
    rows = []
    for k, w in enumerate(rules.windows):
        m = _in(day, w, k == 0)
        sub = inf[m]
        count = lambda mask: pd.Series(mask[m]).groupby(sub["patient_id"].to_numpy()).sum().reindex(idx).fillna(0)  # noqa: E731
        block = pd.DataFrame({"patient_id": ids, "window": window_label(w),
                              "n_infections": count(np.ones(len(inf), dtype=bool)).astype(int).to_numpy()})
        for t in INFECTION_TYPES:
            block[f"n_{t}"] = count((itype == t).to_numpy(dtype=bool)).astype(int).to_numpy()
        block["n_severe"] = count(severe).astype(int).to_numpy()
        block["any_infection"] = block["n_infections"] > 0
        rows.append(block)
    per = pd.concat(rows, ignore_index=True)

    first = inf[severe].drop_duplicates("patient_id", keep="first").set_index("patient_id")
    deaths = event_rows(events, ("death",)).drop_duplicates("patient_id").set_index("patient_id")["day"]
    if follow_up is None:
        ev = event_rows(events, tuple(pd.unique(events["type"].astype(object)))) if events is not None \
            and "type" in events.columns else pd.DataFrame(columns=["patient_id", "day"])
        follow_up = ev.groupby("patient_id")["day"].max() if len(ev) else pd.Series(dtype=float)
    fu = pd.Series(follow_up).rename(index=str).reindex(idx).astype(float)
    t_inf = first["day"].reindex(idx).astype(float)
    t_death = deaths.reindex(idx).astype(float)
    time = np.where(np.isfinite(t_inf), t_inf, np.where(np.isfinite(t_death), t_death, fu))
    cause = np.where(np.isfinite(t_inf) & ~(t_death < t_inf), 1, np.where(np.isfinite(t_death), 2, 0))
    time = np.where(cause == 2, t_death, time)
    fs = pd.DataFrame({
        "patient_id": ids, "time": np.where(np.isfinite(time), time, 0.0), "cause": cause.astype(int),
        "infection_type": first.reindex(idx)["infection_type"].to_numpy(dtype=object)
        if "infection_type" in first.columns else None,
        "reason": np.where(np.isfinite(time), "", "no follow-up: time 0"),
    })
    return InfectionSummary(per, fs, rules)
