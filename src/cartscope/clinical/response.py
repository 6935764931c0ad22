"""Best overall response (BOR) from serial response assessments.

Rules (domain-reference §4.1, §4.2, §4.4):

- BOR is the best response recorded from the index infusion until progression/relapse or the
  start of new anticancer therapy, whichever comes first (ELARA results record [S34]).
- B-ALL ordering: MRD-negative CR > CR > CRi > PR > NR (SD and PD count as NR).
  A CR or CRi whose marrow flow MRD on the same day is **< 0.01 %** (< 10^-4) is upgraded to
  MRD-negative CR (FDA tisagenlecleucel approval [S19]; li2023 [S20]); exactly 0.01 % is
  MRD-positive and does not upgrade.
- Lymphoma (Lugano 2014 [S29]): CR > PR > SD > NR > PD. A recorded "MRD-negative CR" or "CRi"
  counts as CR on this scale (neither label exists in Lugano).
- Responders: B-ALL CR/CRi (with or without MRD negativity; ELIANA overall remission [S26]);
  lymphoma CR or PR (ORR, JULIET/ELARA [S33][S34]). Both sets are protocol parameters.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from cartscope.cohort.schema import DISEASE_GROUP

Scale = Literal["b-all", "lugano"]

B_ALL_ORDER: tuple[str, ...] = ("NR", "PR", "CRi", "CR", "MRD-negative CR")
"""B-ALL responses from worst to best."""

LUGANO_ORDER: tuple[str, ...] = ("PD", "NR", "SD", "PR", "CR")
"""Lugano responses from worst to best."""

_B_ALL_MAP = {"MRD-negative CR": "MRD-negative CR", "CR": "CR", "CRi": "CRi", "PR": "PR",
              "SD": "NR", "PD": "NR", "NR": "NR"}
_LUGANO_MAP = {"MRD-negative CR": "CR", "CR": "CR", "CRi": "CR", "PR": "PR", "SD": "SD",
               "NR": "NR", "PD": "PD"}

MRD_NEGATIVE_BELOW = 0.01
"""Flow MRD below this percentage (strictly) is MRD-negative [S19][S20]."""


def scale_for_disease(disease: pd.Series) -> pd.Series:
    """Response scale per patient: ``b-all`` for B-ALL, ``lugano`` for every B-NHL label."""
    group = disease.map(DISEASE_GROUP)
    return pd.Series(np.where(group == "B-ALL", "b-all", "lugano"), index=disease.index, dtype=object)


def normalise_response(response: pd.Series, scale: pd.Series) -> pd.Series:
    """Map recorded labels onto the patient's scale (B-ALL: SD/PD -> NR; Lugano: CRi -> CR)."""
    ball = response.map(_B_ALL_MAP)
    lug = response.map(_LUGANO_MAP)
    out = ball.where(scale == "b-all", lug)
    return out.astype(object)


def response_rank(response: pd.Series, scale: pd.Series) -> pd.Series:
    """Rank of a normalised response on its scale (higher is better); NaN when unknown."""
    rb = response.map({r: i for i, r in enumerate(B_ALL_ORDER)})
    rl = response.map({r: i for i, r in enumerate(LUGANO_ORDER)})
    return rb.where(scale == "b-all", rl).astype(float)


def upgrade_mrd(response: pd.Series, mrd_pct: pd.Series, *,
                below: float = MRD_NEGATIVE_BELOW) -> pd.Series:
    """B-ALL: CR/CRi with MRD strictly below ``below`` % becomes MRD-negative CR."""
    mrd = pd.to_numeric(mrd_pct, errors="coerce")
    upgrade = response.isin(["CR", "CRi"]) & (mrd < below).fillna(False)
    return response.where(~upgrade, "MRD-negative CR")


def assessment_responses(assessments: pd.DataFrame, scale_by_patient: pd.Series, *,
                         mrd_negative_below: float = MRD_NEGATIVE_BELOW) -> pd.DataFrame:
    """One row per patient-day with a recorded response, on the patient's scale.

    The day's lowest MRD from any assessment row that day (e.g. a separate ``flow_mrd`` row)
    decides the MRD upgrade of a B-ALL CR/CRi. Columns: patient_id, day, response, rank.
    """
    a = assessments[["patient_id", "day", "response", "mrd_pct"]].copy()
    a["patient_id"] = a["patient_id"].astype(str)
    a["day"] = pd.to_numeric(a["day"], errors="coerce")
    a["mrd_pct"] = pd.to_numeric(a["mrd_pct"], errors="coerce")
    a = a[a["day"].notna()]
    day_mrd = a.groupby(["patient_id", "day"], sort=False)["mrd_pct"].min().rename("day_mrd")
    r = a[a["response"].notna()].drop(columns="mrd_pct")
    r = r.join(day_mrd, on=["patient_id", "day"])
    scale = r["patient_id"].map(scale_by_patient)
    resp = normalise_response(r["response"].astype(object), scale)
    resp = resp.where(scale != "b-all", upgrade_mrd(resp, r["day_mrd"], below=mrd_negative_below))
    out = pd.DataFrame({
        "patient_id": r["patient_id"].to_numpy(),
        "day": r["day"].to_numpy(dtype=float),
        "response": resp.to_numpy(dtype=object),
        "rank": response_rank(resp, scale).to_numpy(dtype=float),
    })
    return out[np.isfinite(out["rank"].to_numpy())].reset_index(drop=True)


def responses_in_window(responses: pd.DataFrame, stop_day: pd.Series | None = None, *,
                        bor_days: float | None = None) -> pd.DataFrame:
    """Assessments that count for BOR: ``0 < day <= min(bor_days, stop_day[patient])``.

    ``stop_day`` (indexed by patient_id) is the last day an assessment may count: the
    progression day itself, or the last day before new therapy; NaN means no stop.
    """
    r = responses[responses["day"] > 0]
    limit = np.full(len(r), np.inf)
    if stop_day is not None:
        limit = r["patient_id"].map(stop_day).astype(float).fillna(np.inf).to_numpy()
    if bor_days is not None:
        limit = np.minimum(limit, float(bor_days))
    return r[r["day"].to_numpy() <= limit]


def best_response(responses: pd.DataFrame) -> pd.DataFrame:
    """Best response per patient among the given assessment responses.

    ``responses`` comes from :func:`assessment_responses`, already restricted by
    :func:`responses_in_window`. Ties in rank keep the earliest day. Returns a
    patient_id-indexed frame with bor, bor_day, n_assessments, first_assessment_day.
    """
    cols = ["bor", "bor_day", "n_assessments", "first_assessment_day"]
    if responses.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="patient_id"))
    r = responses.sort_values(["patient_id", "rank", "day"], ascending=[True, False, True],
                              kind="mergesort")
    best = r.groupby("patient_id", sort=True).first()
    counts = r.groupby("patient_id", sort=True)["day"].agg(["size", "min"])
    return pd.DataFrame({
        "bor": best["response"].astype(object),
        "bor_day": best["day"].astype(float),
        "n_assessments": counts["size"].astype(int),
        "first_assessment_day": counts["min"].astype(float),
    })
