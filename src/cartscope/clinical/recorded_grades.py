"""Per-patient CRS / ICANS grades with their provenance: graded from daily data, or recorded.

Many centres keep toxicity as one grade per patient (the ASTCT grade the treating team
assigned, Lee et al. 2019, with onset and duration), not as daily observations. Both are
legitimate sources; they are not interchangeable, so every grade says where it came from:

- ``"graded from daily data"``: :func:`cartscope.clinical.crs.grade_crs` /
  :func:`cartscope.clinical.icans.grade_icans` applied to ``toxicity_daily`` (ASTCT consensus
  grading, Lee et al., Biol Blood Marrow Transplant 2019;25:625-638);
- ``"recorded"``: the ``crs_grade`` / ``icans_grade`` (and ``*_onset_day`` /
  ``*_duration_days``) columns of ``patients`` (or of a ``toxicity`` table folded into it).

A patient with daily observations is graded from them (the rule is then applied, not
trusted); a patient without any daily observation uses the recorded grade, so a cohort with no
daily table at all is graded entirely from its records. When both exist and disagree, the
daily grade is used (``prefer="daily"``, the default) or the recorded one
(``prefer="recorded"``), and each disagreement is a warning naming the patient and both grades.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cartscope.clinical.crs import CrsRules, grade_crs
from cartscope.clinical.icans import IcansRules, grade_icans

DAILY = "graded from daily data"
RECORDED = "recorded"

COLUMNS = (
    "patient_id",
    "crs_grade", "crs_onset_day", "crs_duration_days", "crs_source",
    "icans_grade", "icans_onset_day", "icans_duration_days", "icans_source",
    "tocilizumab", "steroids", "reason",
)


@dataclass(frozen=True)
class ToxicityGrades:
    """One row per patient (:data:`COLUMNS`) and one warning per disagreeing patient and toxicity."""

    table: pd.DataFrame
    warnings: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def __repr__(self) -> str:
        t = self.table
        parts = []
        for what in ("crs", "icans"):
            counts = t[f"{what}_source"].value_counts()
            parts.append(f"{what.upper()}: " + ", ".join(f"{n} {src}" for src, n in counts.items()) or "none")
        return f"<ToxicityGrades {len(t)} patients; {'; '.join(parts)}; {len(self.warnings)} disagreement(s)>"


def _recorded(patients: pd.DataFrame, ids: pd.Series, column: str) -> np.ndarray:
    if column not in patients:
        return np.full(len(ids), np.nan)
    values = patients.assign(patient_id=patients["patient_id"].astype(str)).drop_duplicates("patient_id")
    mapped = ids.map(values.set_index("patient_id")[column])
    return pd.to_numeric(mapped, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _has_daily(toxicity_daily: pd.DataFrame | None) -> bool:
    return toxicity_daily is not None and not toxicity_daily.empty


def _combine(what: str, ids: pd.Series, daily: pd.DataFrame | None, patients: pd.DataFrame, prefer: str,
             warnings: list[str]) -> dict[str, object]:
    n = len(ids)
    rec_grade = _recorded(patients, ids, f"{what}_grade")
    rec_onset = _recorded(patients, ids, f"{what}_onset_day")
    rec_duration = _recorded(patients, ids, f"{what}_duration_days")
    if daily is not None:
        d = daily.assign(patient_id=daily["patient_id"].astype(str)).set_index("patient_id").reindex(ids)
        d_grade = pd.to_numeric(d[f"{what}_grade"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        d_onset = pd.to_numeric(d["onset_day"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        d_duration = pd.to_numeric(d["duration_days"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        reason = d["reason"].astype(object).to_numpy()
    else:
        d_grade = d_onset = d_duration = np.full(n, np.nan)
        reason = np.full(n, "no toxicity_daily table", dtype=object)
    has_daily, has_rec = ~np.isnan(d_grade), ~np.isnan(rec_grade)
    use_rec = has_rec & (~has_daily | (prefer == "recorded"))
    for i in np.flatnonzero(has_daily & has_rec & (d_grade != rec_grade)):
        chosen = "recorded" if prefer == "recorded" else "graded"
        warnings.append(f"patient {ids.iloc[i]}: {what.upper()} grade {int(d_grade[i])} graded from daily data "
                        f"but {int(rec_grade[i])} recorded; the {chosen} grade is used")
    grade = np.where(use_rec, rec_grade, d_grade)
    source = [RECORDED if r else DAILY if d else None for r, d in zip(use_rec, has_daily)]
    reason = [None if r or d else (f"no {what}_grade value" if pd.isna(why) else why)
              for r, d, why in zip(use_rec, has_daily, reason)]
    return {
        "grade": pd.array([None if np.isnan(g) else int(g) for g in grade], dtype="Int64"),
        "onset": np.where(use_rec, rec_onset, d_onset),
        "duration": np.where(use_rec, rec_duration, d_duration),
        "source": pd.Series(source, dtype=object),
        "reason": pd.Series(reason, dtype=object),
    }


def patient_toxicity_grades(
    patients: pd.DataFrame,
    toxicity_daily: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    *,
    crs_rules: CrsRules = CrsRules(),
    icans_rules: IcansRules = IcansRules(),
    prefer: str = "daily",
) -> ToxicityGrades:
    """CRS and ICANS grade, onset and duration per patient of ``patients``, with provenance.

    ``toxicity_daily`` and ``events`` are on days from the index infusion (as the analyses
    rebase them); the recorded onset days are taken as the centre gives them (days from the
    index infusion). ``tocilizumab`` / ``steroids`` come from daily data only (NA otherwise).
    ``reason`` explains a patient left without a grade.
    """
    if prefer not in ("daily", "recorded"):
        raise ValueError(f"prefer must be 'daily' or 'recorded', not {prefer!r}")
    ids = patients["patient_id"].astype(str).drop_duplicates().reset_index(drop=True)
    crs = icans = None
    if _has_daily(toxicity_daily):
        frame = pd.DataFrame({"patient_id": ids})
        crs = grade_crs(toxicity_daily, events, patients=frame, rules=crs_rules)
        pats = patients.assign(patient_id=patients["patient_id"].astype(str)).drop_duplicates("patient_id")
        icans = grade_icans(toxicity_daily, pats.set_index("patient_id").reindex(ids).reset_index(), events,
                            rules=icans_rules)
    warnings: list[str] = []
    c = _combine("crs", ids, crs, patients, prefer, warnings)
    i = _combine("icans", ids, icans, patients, prefer, warnings)
    if crs is not None:
        care = crs.assign(patient_id=crs["patient_id"].astype(str)).set_index("patient_id").reindex(ids)
        toci, ster = care["tocilizumab"].astype("boolean").array, care["steroids"].astype("boolean").array
    else:
        toci = ster = pd.array([pd.NA] * len(ids), dtype="boolean")
    table = pd.DataFrame({
        "patient_id": ids.astype(object),
        "crs_grade": c["grade"], "crs_onset_day": c["onset"], "crs_duration_days": c["duration"],
        "crs_source": c["source"].to_numpy(),
        "icans_grade": i["grade"], "icans_onset_day": i["onset"], "icans_duration_days": i["duration"],
        "icans_source": i["source"].to_numpy(),
        "tocilizumab": toci, "steroids": ster,
        "reason": c["reason"].to_numpy(),
    })
    return ToxicityGrades(table[list(COLUMNS)], tuple(warnings))


def has_toxicity_grades(patients: pd.DataFrame, toxicity_daily: pd.DataFrame | None) -> bool:
    """Whether any patient can be graded: daily observations or a recorded CRS / ICANS grade."""
    if _has_daily(toxicity_daily):
        return True
    return any(c in patients and patients[c].notna().any() for c in ("crs_grade", "icans_grade"))
