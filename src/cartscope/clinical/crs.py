"""Cytokine release syndrome (CRS) grade from daily observations — ASTCT consensus.

Source: Lee DW, Santomasso BD, Locke FL, et al. ASTCT consensus grading for cytokine release
syndrome and neurologic toxicity associated with immune effector cells. Biol Blood Marrow
Transplant 2019;25(4):625-638, doi:10.1016/j.bbmt.2018.12.758. Footnotes on fever masking, on
"the more severe event wins" and on the 6 L/min boundary as reproduced in PMC8021214 (Table 1)
and J Immunother Cancer (Maus et al. 2020, doi:10.1136/jitc-2020-001511); grade 5 (death due to
CRS) as in the EBMT registry guidance. Onset/resolution are a project convention
(:mod:`cartscope.clinical._episodes`), because ASTCT defines none.

Per patient-day (``domain-reference.md`` section 1.3):

- fever = ``temperature_c >= 38.0`` (38.0 exactly is fever);
- hypotension grade: none 0; present without vasopressor 2; one vasopressor with or without
  vasopressin 3; two or more vasopressors (vasopressin not counted) 4; vasopressin as the only
  agent is treated as one vasopressor (3; ASTCT is silent, see :class:`CrsRules`);
- hypoxia grade: none 0; low-flow 2; high-flow 3; positive pressure 4; when the flow is
  recorded, ``<= 6 L/min`` is low-flow and ``> 6 L/min`` high-flow;
- CRS needs fever, except once CRS has begun and tocilizumab, steroids or antipyretics have
  been given (fever masking): from then on hypotension/hypoxia grade CRS without fever;
- day grade = the more severe of fever (1), hypotension and hypoxia grades.

Organ toxicities do not change the CRS grade (ASTCT); they are graded by CTCAE
(:mod:`cartscope.clinical.ctcae`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cartscope.clinical._episodes import (
    category_grade,
    check_episode_rules,
    episodes,
    flag,
    grade_summary,
    in_window,
    known_flag,
    number,
    patient_ids,
    sorted_days,
    summary_columns,
    window_rows,
)
from cartscope.cohort.schema import CATEGORY_ALIASES

OXYGEN_GRADE: dict[str, int] = {
    "none": 0, "low-flow": 2, "high-flow": 3, "positive-pressure": 4,
}
"""ASTCT hypoxia grade of each canonical oxygen category."""

OXYGEN_LABEL: dict[int, str] = {v: k for k, v in OXYGEN_GRADE.items()}

DAILY_COLUMNS = ("patient_id", "day", "fever", "vaso_grade", "oxy_grade", "masked", "crs_grade")

PATIENT_COLUMNS = (
    "patient_id", "crs_grade", "onset_day", "resolution_day", "duration_days",
    "max_temperature_c", "vasopressors", "vasopressin", "oxygen", "tocilizumab", "steroids",
    "episodes", "reason",
)


@dataclass(frozen=True)
class CrsRules:
    """Protocol parameters of CRS grading (defaults = ASTCT 2019 and the project convention).

    fever_c: fever is ``temperature_c >= fever_c`` (ASTCT: 38.0 C).
    low_flow_max_l_min: recorded flow ``<= this`` is low-flow, above it high-flow (ASTCT: 6).
    flow_decides: when a flow is recorded (> 0 L/min) it decides low- vs high-flow whatever the
        recorded category (positive pressure is never overridden); False = the category wins
        and the flow only fills a missing category.
    masking_treatments: toxicity_daily columns whose administration, once CRS has begun,
        removes the fever requirement on that and later days (ASTCT footnote).
    vasopressin_alone_grade: grade of hypotension treated with vasopressin only (ASTCT is
        silent; default 3 = "one vasopressor").
    window: closed day interval whose observations count for the patient-level grade and
        episodes (None = unbounded); default day 0 onwards.
    min_gap_days: consecutive observed grade-0 days that separate two episodes.
    merge_episodes: merge re-escalations into one episode (onset of the first, resolution of
        the last).
    death_cause: the ``events.cause`` label that makes a death grade 5.
    """

    fever_c: float = 38.0
    low_flow_max_l_min: float = 6.0
    flow_decides: bool = True
    masking_treatments: tuple[str, ...] = ("tocilizumab", "steroids", "antipyretics")
    vasopressin_alone_grade: int = 3
    window: tuple[float | None, float | None] = (0.0, None)
    min_gap_days: int = 1
    merge_episodes: bool = False
    death_cause: str = "crs"

    def __post_init__(self) -> None:
        if not 35.0 <= self.fever_c <= 42.0:
            raise ValueError(f"fever_c must be a body temperature in C, got {self.fever_c}")
        if self.low_flow_max_l_min <= 0:
            raise ValueError("low_flow_max_l_min must be positive")
        if self.vasopressin_alone_grade not in (2, 3, 4):
            raise ValueError("vasopressin_alone_grade must be 2, 3 or 4")
        check_episode_rules(self.window, self.min_gap_days)


def _oxygen_grade(tox: pd.DataFrame, rules: CrsRules) -> np.ndarray:
    aliases = {**CATEGORY_ALIASES["oxygen"], **{k: k for k in OXYGEN_GRADE}}
    grades = {alias: OXYGEN_GRADE[label] for alias, label in aliases.items()}
    category = category_grade(tox, "oxygen", grades)
    flow = number(tox, "oxygen_l_min")
    has_flow = np.nan_to_num(flow, nan=0.0) > 0
    by_flow = np.where(flow <= rules.low_flow_max_l_min, 2, 3)
    if rules.flow_decides:
        use_flow = has_flow & (category != 4)
    else:
        recorded = known_flag(tox, "oxygen")
        use_flow = has_flow & ~recorded
    return np.where(use_flow, by_flow, category)


def _vaso_grade(tox: pd.DataFrame, rules: CrsRules) -> np.ndarray:
    n = np.nan_to_num(number(tox, "vasopressors"), nan=0.0)
    if (n < 0).any():
        raise ValueError("vasopressors must be a non-negative count")
    vasopressin = flag(tox, "vasopressin")
    # A vasopressor is only given for hypotension: a missing flag with a pressor counts as
    # hypotension; an explicit False is taken as recorded.
    hypotension = flag(tox, "hypotension") | (
        ~known_flag(tox, "hypotension") & ((n >= 1) | vasopressin)
    )
    grade = np.select(
        [n >= 2, n >= 1, vasopressin], [4, 3, rules.vasopressin_alone_grade], default=2
    )
    return np.where(hypotension, grade, 0)


def grade_crs_daily(toxicity_daily: pd.DataFrame, *, rules: CrsRules = CrsRules()) -> pd.DataFrame:
    """ASTCT CRS grade of every patient-day (Lee et al. 2019; algorithm in the module doc).

    Returns one row per patient-day, sorted by patient and day, with columns
    ``patient_id, day, fever, vaso_grade, oxy_grade, masked, crs_grade``. ``masked`` is True
    on days where fever is no longer required (CRS began on or before the day and a masking
    treatment was given between the first CRS day and this day). Missing observations count
    as absent (no fever, no hypotension, no oxygen).
    """
    tox = sorted_days(toxicity_daily, "toxicity_daily")
    pid = tox["patient_id"]
    temp = number(tox, "temperature_c")
    fever = np.nan_to_num(temp, nan=-np.inf) >= rules.fever_c
    vaso = _vaso_grade(tox, rules)
    oxy = _oxygen_grade(tox, rules)

    day = tox["day"].to_numpy(dtype=float)
    first_fever = (
        pd.Series(np.where(fever, day, np.inf), index=tox.index).groupby(pid).transform("min")
    ).to_numpy()
    treated = np.zeros(len(tox), dtype=bool)
    for column in rules.masking_treatments:
        treated |= flag(tox, column)
    treated_after_onset = pd.Series(treated & (day >= first_fever), index=tox.index)
    masked = treated_after_onset.groupby(pid).cummax().to_numpy(dtype=bool)

    severity = np.maximum(fever.astype(np.int64), np.maximum(vaso, oxy))
    crs = np.where(fever | masked, severity, 0)
    return pd.DataFrame({
        "patient_id": pid.to_numpy(),
        "day": tox["day"].to_numpy(),
        "fever": fever,
        "vaso_grade": vaso.astype(np.int64),
        "oxy_grade": oxy.astype(np.int64),
        "masked": masked,
        "crs_grade": crs.astype(np.int64),
    })


def crs_episodes(toxicity_daily: pd.DataFrame, *, rules: CrsRules = CrsRules()) -> pd.DataFrame:
    """One row per CRS episode inside ``rules.window`` (onset, resolution, duration, max grade).

    Episode convention: :mod:`cartscope.clinical._episodes` (project rule, ASTCT defines none).
    """
    daily = grade_crs_daily(toxicity_daily, rules=rules)
    daily = daily[in_window(daily["day"], rules.window)].reset_index(drop=True)
    return episodes(
        daily, "crs_grade", min_gap_days=rules.min_gap_days, merge=rules.merge_episodes
    )


def grade_crs(
    toxicity_daily: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    patients: pd.DataFrame | None = None,
    rules: CrsRules = CrsRules(),
) -> pd.DataFrame:
    """Patient-level ASTCT CRS grade, onset, resolution and supportive-care summary.

    One row per patient (those in ``patients`` when given, plus any others seen in
    ``toxicity_daily``), columns :data:`PATIENT_COLUMNS`. ``crs_grade`` is the maximum daily
    grade inside ``rules.window`` (Lee et al. 2019), or 5 when ``events`` records a death with
    cause ``rules.death_cause`` (EBMT registry guidance: death due to CRS). A patient with no
    observation in the window gets grade NA and a ``reason``; an unresolved episode keeps its
    grade, has no resolution/duration and says so in ``reason``. ``vasopressors`` is the
    largest daily count, ``oxygen`` the most intensive support, both over the window.
    """
    daily = grade_crs_daily(toxicity_daily, rules=rules)
    ids = patient_ids(daily["patient_id"], patients)
    dw, rw = window_rows(daily, toxicity_daily, rules.window)

    by = dw.groupby("patient_id", sort=False)
    oxy_max = by["oxy_grade"].max()
    agg = pd.DataFrame({
        "max_temperature_c": pd.Series(number(rw, "temperature_c")).groupby(rw["patient_id"]).max(),
        "vasopressors": pd.Series(number(rw, "vasopressors")).groupby(rw["patient_id"]).max(),
        "vasopressin": pd.Series(flag(rw, "vasopressin")).groupby(rw["patient_id"]).any(),
        "oxygen": oxy_max.map(OXYGEN_LABEL),
        "tocilizumab": pd.Series(flag(rw, "tocilizumab")).groupby(rw["patient_id"]).any(),
        "steroids": pd.Series(flag(rw, "steroids")).groupby(rw["patient_id"]).any(),
    }).reindex(ids)
    summary = grade_summary(
        daily, "crs_grade", ids, window=rules.window, min_gap_days=rules.min_gap_days,
        merge=rules.merge_episodes, events=events, death_cause=rules.death_cause, label="CRS",
    )
    out = pd.DataFrame({
        "patient_id": ids.astype(object),
        **summary_columns(summary, "crs_grade"),
        "max_temperature_c": agg["max_temperature_c"].to_numpy(dtype=float),
        "vasopressors": agg["vasopressors"].astype("Int64").array,
        "vasopressin": agg["vasopressin"].astype("boolean").array,
        "oxygen": agg["oxygen"].astype("string").array,
        "tocilizumab": agg["tocilizumab"].astype("boolean").array,
        "steroids": agg["steroids"].astype("boolean").array,
    })
    return out[list(PATIENT_COLUMNS)]
