"""Immune effector cell-associated neurotoxicity syndrome (ICANS) grade — ASTCT consensus.

Source: Lee DW et al. ASTCT consensus grading for cytokine release syndrome and neurologic
toxicity associated with immune effector cells. Biol Blood Marrow Transplant
2019;25(4):625-638, doi:10.1016/j.bbmt.2018.12.758 (adult table as reproduced in J Blood Med
2021;12:775, doi:10.2147/JBM.S281247, and J Neurol 2021;268:1544; ICE composition in
Neuro-Oncology Practice 2021;8:259). Children under 12 are assessed with the Cornell Assessment
of Pediatric Delirium (CAPD; Traube et al., Crit Care Med 2014;42:656) in place of the ICE.

Per patient-day the grade is the most severe of five domains (``domain-reference.md`` 2.4):

=================  ===  =====  =====  ===========================================
domain             1    2      3      4
=================  ===  =====  =====  ===========================================
ICE (age >= 12)    7-9  3-6    0-2    0 because unarousable
CAPD (age < 12)    1-8  --     >= 9   unable to perform (unarousable)
consciousness      spontaneous  voice  tactile  unarousable / stupor / coma
seizure            --   --     resolving   prolonged (> 5 min) or repetitive
motor weakness     --   --     --     deep focal weakness
cerebral edema     --   --     focal  diffuse
=================  ===  =====  =====  ===========================================

ICE 10 (or CAPD 0) with an alert patient and no other finding is grade 0. Tremor, myoclonus and
intracranial haemorrhage do not enter the ICANS grade (graded by CTCAE). Grade 5 = death due to
ICANS. Onset/resolution follow the project episode convention of
:mod:`cartscope.clinical._episodes`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cartscope.clinical._episodes import (
    category_grade,
    check_episode_rules,
    flag,
    grade_summary,
    number,
    patient_ids,
    require_columns,
    sorted_days,
    summary_columns,
    window_rows,
)

CONSCIOUSNESS_GRADE: dict[str, int] = {
    "alert": 0, "spontaneous": 1, "voice": 2, "tactile": 3, "unarousable": 4,
    "awakens spontaneously": 1, "awakens to voice": 2, "awakens to tactile stimulus": 3,
    "stupor": 4, "coma": 4,
}
"""ASTCT depressed-level-of-consciousness grade of each label (canonical labels first)."""

SEIZURE_GRADE: dict[str, int] = {"none": 0, "resolving": 3, "prolonged": 4}
EDEMA_GRADE: dict[str, int] = {"none": 0, "focal": 3, "diffuse": 4}
SEIZURE_LABEL: dict[int, str] = {0: "none", 3: "resolving", 4: "prolonged"}
EDEMA_LABEL: dict[int, str] = {0: "none", 3: "focal", 4: "diffuse"}
TOOLS = ("ice", "capd")

DAILY_COLUMNS = (
    "patient_id", "day", "tool", "ice_grade", "capd_grade", "consciousness_grade",
    "seizure_grade", "motor_grade", "edema_grade", "icans_grade",
)

PATIENT_COLUMNS = (
    "patient_id", "icans_grade", "onset_day", "resolution_day", "duration_days",
    "min_ice_score", "max_capd_score", "seizure", "cerebral_edema", "motor_weakness",
    "episodes", "tool", "reason",
)


@dataclass(frozen=True)
class IcansRules:
    """Protocol parameters of ICANS grading (defaults = ASTCT 2019 and the project convention).

    capd_age_below: patients younger than this (``patients.age``, years) are assessed with the
        CAPD, others with the ICE (ASTCT: "younger than 12"; NCIt says "12 and under", i.e. 13).
        A ``patients.icans_tool`` column ("ice" / "capd") overrides the age rule per patient
        (e.g. older children with developmental delay). Without age or override the tool is
        the score the patient has data for (ICE when both or neither).
    window, min_gap_days, merge_episodes: as :class:`cartscope.clinical.crs.CrsRules`.
    death_cause: the ``events.cause`` label that makes a death grade 5.
    """

    capd_age_below: float = 12.0
    window: tuple[float | None, float | None] = (0.0, None)
    min_gap_days: int = 1
    merge_episodes: bool = False
    death_cause: str = "icans"

    def __post_init__(self) -> None:
        check_episode_rules(self.window, self.min_gap_days)


def _tools(tox: pd.DataFrame, patients: pd.DataFrame | None, rules: IcansRules) -> pd.Series:
    """Assessment tool ("ice" or "capd") per patient_id of ``tox``."""
    pid = tox["patient_id"]
    ids = pd.Index(pd.unique(pid))
    has_ice = pd.Series(~np.isnan(number(tox, "ice_score"))).groupby(pid.to_numpy()).any()
    has_capd = pd.Series(~np.isnan(number(tox, "capd_score"))).groupby(pid.to_numpy()).any()
    by_data = pd.Series(
        np.where(has_capd & ~has_ice, "capd", "ice"), index=has_ice.index
    ).reindex(ids)
    tool = pd.Series(pd.NA, index=ids, dtype="string")
    if patients is not None:
        require_columns(patients, ("patient_id",), "patients")
        pts = (
            patients.assign(patient_id=patients["patient_id"].astype(str))
            .drop_duplicates("patient_id")
            .set_index("patient_id")
        )
        if "age" in pts.columns:
            age = pd.to_numeric(pts["age"], errors="coerce").reindex(ids)
            known = age.notna()
            tool[known] = np.where(age[known] < rules.capd_age_below, "capd", "ice")
        if "icans_tool" in pts.columns:
            override = pts["icans_tool"].astype("string").str.strip().str.lower().reindex(ids)
            bad = sorted(set(override.dropna()) - set(TOOLS))
            if bad:
                raise ValueError(f"patients.icans_tool must be 'ice' or 'capd', got {bad}")
            tool = override.fillna(tool)
    return tool.fillna(by_data)


def grade_icans_daily(
    toxicity_daily: pd.DataFrame,
    patients: pd.DataFrame | None = None,
    *,
    rules: IcansRules = IcansRules(),
) -> pd.DataFrame:
    """ASTCT ICANS grade of every patient-day, with each domain's grade (Lee et al. 2019).

    Columns :data:`DAILY_COLUMNS`, sorted by patient and day. The score that does not apply
    to the patient's tool (ICE for age >= 12, CAPD below) is ignored and its grade is 0.
    Missing observations count as normal.
    """
    tox = sorted_days(toxicity_daily, "toxicity_daily")
    tool = _tools(tox, patients, rules).reindex(tox["patient_id"]).to_numpy()
    uses_ice = tool == "ice"

    consciousness = category_grade(tox, "consciousness", CONSCIOUSNESS_GRADE)
    unarousable = consciousness == 4

    ice = number(tox, "ice_score")
    if np.any((ice < 0) | (ice > 10)):
        raise ValueError("ice_score must lie in 0-10")
    ice_grade = np.select([ice >= 10, ice >= 7, ice >= 3, ice >= 0], [0, 1, 2, 3], default=0)
    ice_grade = np.where(unarousable & (np.isnan(ice) | (ice <= 2)), 4, ice_grade)

    capd = number(tox, "capd_score")
    if np.any((capd < 0) | (capd > 32)):
        raise ValueError("capd_score must lie in 0-32")
    capd_grade = np.select([capd >= 9, capd >= 1], [3, 1], default=0)
    capd_grade = np.where(unarousable & np.isnan(capd), 4, capd_grade)

    ice_grade = np.where(uses_ice, ice_grade, 0)
    capd_grade = np.where(uses_ice, 0, capd_grade)
    seizure = category_grade(tox, "seizure", SEIZURE_GRADE)
    motor = np.where(flag(tox, "motor_weakness"), 4, 0)
    edema = category_grade(tox, "cerebral_edema", EDEMA_GRADE)

    grade = np.maximum.reduce([ice_grade, capd_grade, consciousness, seizure, motor, edema])
    return pd.DataFrame({
        "patient_id": tox["patient_id"].to_numpy(),
        "day": tox["day"].to_numpy(),
        "tool": tool,
        "ice_grade": ice_grade.astype(np.int64),
        "capd_grade": capd_grade.astype(np.int64),
        "consciousness_grade": consciousness.astype(np.int64),
        "seizure_grade": seizure.astype(np.int64),
        "motor_grade": motor.astype(np.int64),
        "edema_grade": edema.astype(np.int64),
        "icans_grade": grade.astype(np.int64),
    })


def grade_icans(
    toxicity_daily: pd.DataFrame,
    patients: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    *,
    rules: IcansRules = IcansRules(),
) -> pd.DataFrame:
    """Patient-level ASTCT ICANS grade, onset, resolution and domain summary.

    One row per patient (those in ``patients`` when given, plus any others seen), columns
    :data:`PATIENT_COLUMNS`. ``icans_grade`` = maximum daily grade inside ``rules.window``, or 5
    when ``events`` records a death with cause ``rules.death_cause``. ``min_ice_score`` and
    ``max_capd_score`` summarise the raw scores in the window; ``seizure`` and
    ``cerebral_edema`` give the worst category seen; a patient with no observation gets grade
    NA and a ``reason``.
    """
    daily = grade_icans_daily(toxicity_daily, patients, rules=rules)
    ids = patient_ids(daily["patient_id"], patients)
    dw, rw = window_rows(daily, toxicity_daily, rules.window)
    pid = rw["patient_id"].to_numpy()

    by = dw.groupby("patient_id")
    agg = pd.DataFrame({
        "min_ice_score": pd.Series(number(rw, "ice_score")).groupby(pid).min(),
        "max_capd_score": pd.Series(number(rw, "capd_score")).groupby(pid).max(),
        "seizure": by["seizure_grade"].max().map(SEIZURE_LABEL),
        "cerebral_edema": by["edema_grade"].max().map(EDEMA_LABEL),
        "motor_weakness": pd.Series(flag(rw, "motor_weakness")).groupby(pid).any(),
        "tool": daily.groupby("patient_id")["tool"].first(),
    }).reindex(ids)
    summary = grade_summary(
        daily, "icans_grade", ids, window=rules.window, min_gap_days=rules.min_gap_days,
        merge=rules.merge_episodes, events=events, death_cause=rules.death_cause, label="ICANS",
    )
    out = pd.DataFrame({
        "patient_id": ids.astype(object),
        **summary_columns(summary, "icans_grade"),
        "min_ice_score": agg["min_ice_score"].astype("Int64").array,
        "max_capd_score": agg["max_capd_score"].astype("Int64").array,
        "seizure": agg["seizure"].astype("string").array,
        "cerebral_edema": agg["cerebral_edema"].astype("string").array,
        "motor_weakness": agg["motor_weakness"].astype("boolean").array,
        "tool": agg["tool"].astype("string").array,
    })
    return out[list(PATIENT_COLUMNS)]
