"""Risk scores as plan variables: ``{derive: score, score: <name>, start_day, end_day}``.

:func:`derive_score` gives one score per patient from :func:`cartscope.clinical.scores.risk_scores`
(CAR-HEMATOTOX, EASIX, m-EASIX, s-EASIX with their log2, IPI, aaIPI and the groups), the lab
inputs taken as the last value in days ``start_day``..``end_day`` from the index infusion
(default -30 to -3: before lymphodepletion). Numbers come back as floats, groups as ordered
categories, so a score can be a covariate, a ``by`` grouping or a Table 1 row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from cartscope.clinical.scores import PRE_LYMPHODEPLETION, SCORE_COLUMNS, risk_scores

if TYPE_CHECKING:  # pragma: no cover
    from cartscope.analysis.plan.context import StudyRun

SCORES = SCORE_COLUMNS
"""Every ``score:`` value."""


def score_frame(study: "StudyRun", start_day: float = PRE_LYMPHODEPLETION[0],
                end_day: float = PRE_LYMPHODEPLETION[1]) -> pd.DataFrame:
    """All scores per patient (index patient_id) for one measurement window (cached per run)."""
    key = ("risk_scores", float(start_day), float(end_day))
    if key in study.cache:
        return study.cache[key]
    w = study.window(None)
    labs = study.cohort.labs
    if not labs.empty and "role" in labs:
        labs = labs[labs["role"].astype(object).fillna("patient") != "healthy_donor"]
    labs = w.shift(labs) if not labs.empty else None
    out = risk_scores(study.cohort.patients, labs, window=(float(start_day), float(end_day)))
    study.cache[key] = out
    return out


def derive_score(study: "StudyRun", spec: Any) -> pd.Series:
    """The score ``spec.score`` per patient (``spec.start_day``/``end_day`` when the spec has them)."""
    if spec.score not in SCORES:
        raise ValueError(f"unknown score {spec.score!r}; scores: {', '.join(SCORES)}")
    frame = score_frame(study, getattr(spec, "start_day", PRE_LYMPHODEPLETION[0]),
                        getattr(spec, "end_day", PRE_LYMPHODEPLETION[1]))
    s = frame[spec.score]
    if spec.score.endswith("_group"):
        return s
    return pd.to_numeric(s.astype("Float64"), errors="coerce").astype(float)
