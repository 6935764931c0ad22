"""Prognostic scores and categories used around CAR-T (domain-reference §4.1, §5.5, §6).

Every function is vectorised: it takes a patients frame or arrays and returns a DataFrame with
one row per input row (same index for frames), the score/category, and a ``reason`` column that
is empty when the value could be computed and says what was missing otherwise. A missing input
gives a missing (NA) score or category, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import pandas as pd

ArrayLike = Sequence[float] | np.ndarray | pd.Series


def _arr(x: ArrayLike | float, n: int | None = None) -> np.ndarray:
    a = np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(x)), errors="coerce"), dtype=float)
    if n is not None and len(a) == 1 and n != 1:
        a = np.repeat(a, n)
    return a


def _index(*xs) -> pd.Index | None:
    for x in xs:
        if isinstance(x, pd.Series):
            return x.index
    return None


def _reasons(missing: dict[str, np.ndarray], n: int) -> np.ndarray:
    out = np.full(n, "", dtype=object)
    for name, m in missing.items():
        out = np.where(m, np.where(out == "", f"missing {name}", out + f", {name}"), out)
    return out


def _category(codes: np.ndarray, labels: Sequence[str], ok: np.ndarray, ordered: bool = True) -> pd.Categorical:
    c = np.where(ok, codes, -1).astype(int)
    return pd.Categorical.from_codes(c, categories=list(labels), ordered=ordered)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), np.nan)
    col = frame[name]
    if col.dtype == bool or str(col.dtype) == "boolean":
        return col.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)


# --- IPI ----------------------------------------------------------------------------------

IPI_GROUPS = ("low", "low-intermediate", "high-intermediate", "high")


def _ldh_ratio(patients: pd.DataFrame) -> np.ndarray:
    if "ldh_ratio" in patients:
        return _column(patients, "ldh_ratio")
    ldh, uln = _column(patients, "ldh"), _column(patients, "ldh_uln")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(uln > 0, ldh / uln, np.nan)


def ipi(patients: pd.DataFrame) -> pd.DataFrame:
    """International Prognostic Index (Shipp et al. NEJM 1993;329:987 [S47][S48]).

    One point each: age > 60 (completed years, so 61+), LDH > ULN (a ratio of exactly 1 scores
    0), ECOG >= 2, Ann Arbor stage III/IV, more than one extranodal site. Groups 0-1 low,
    2 low-intermediate, 3 high-intermediate, 4-5 high. Uses columns age, ldh and ldh_uln (or
    ldh_ratio), ecog, stage, extranodal_sites.
    """
    age = np.floor(_column(patients, "age"))
    ratio = _ldh_ratio(patients)
    ecog, stage, extra = (_column(patients, c) for c in ("ecog", "stage", "extranodal_sites"))
    parts = {"age": age, "LDH": ratio, "ecog": ecog, "stage": stage, "extranodal_sites": extra}
    missing = {k: ~np.isfinite(v) for k, v in parts.items()}
    ok = ~np.any(list(missing.values()), axis=0)
    score = (age > 60).astype(int) + (ratio > 1).astype(int) + (ecog >= 2).astype(int) \
        + (stage >= 3).astype(int) + (extra > 1).astype(int)
    group = np.select([score <= 1, score == 2, score == 3], [0, 1, 2], 3)
    return pd.DataFrame({
        "ipi": pd.Series(score, index=patients.index).astype("Int64").mask(~ok),
        "ipi_group": _category(group, IPI_GROUPS, ok),
        "reason": _reasons(missing, len(patients)),
    }, index=patients.index)


def aaipi(patients: pd.DataFrame, *, restrict_age: bool = True) -> pd.DataFrame:
    """Age-adjusted IPI (Shipp 1993 [S48]): stage III/IV, LDH > ULN, ECOG >= 2, one point each.

    Groups 0 low, 1 low-intermediate, 2 high-intermediate, 3 high (⚠ U10: labels as recalled).
    Defined for patients aged <= 60; with ``restrict_age`` older patients get NA and a reason.
    """
    age = np.floor(_column(patients, "age"))
    ratio = _ldh_ratio(patients)
    ecog, stage = _column(patients, "ecog"), _column(patients, "stage")
    parts = {"LDH": ratio, "ecog": ecog, "stage": stage}
    if restrict_age:
        parts = {"age": age, **parts}
    missing = {k: ~np.isfinite(v) for k, v in parts.items()}
    ok = ~np.any(list(missing.values()), axis=0)
    reason = _reasons(missing, len(patients))
    if restrict_age:
        old = np.isfinite(age) & (age > 60)
        reason = np.where(old, "aaIPI is defined for age <= 60", reason)
        ok &= ~old
    score = (ratio > 1).astype(int) + (ecog >= 2).astype(int) + (stage >= 3).astype(int)
    return pd.DataFrame({
        "aaipi": pd.Series(score, index=patients.index).astype("Int64").mask(~ok),
        "aaipi_group": _category(score, IPI_GROUPS, ok),
        "reason": reason,
    }, index=patients.index)


# --- CAR-HEMATOTOX ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HematotoxCutpoints:
    """CAR-HEMATOTOX cut points (Rejeski et al. Blood 2021;138:2499 [S51][S52]).

    ⚠ U2: the numbers are the paper's Table 1 as recalled and not verified against a stored
    copy; the structure (five markers, platelets and ferritin 0-2, others 0-1, HT-low 0-1,
    HT-high >= 2, measured before lymphodepletion) is verified. Units: platelets and ANC in
    10^9/L, haemoglobin g/dL, CRP mg/dL, ferritin ng/mL. Convention at the cuts: middle bands
    closed (platelets 75 and 175 -> 1; ferritin 650 and 2000 -> 1); ANC 1.2, Hb 9.0 and
    CRP 3.0 exactly score 0.
    """

    platelets_low: float = 75.0
    platelets_high: float = 175.0
    anc: float = 1.2
    hemoglobin: float = 9.0
    crp: float = 3.0
    ferritin_low: float = 650.0
    ferritin_high: float = 2000.0


def car_hematotox(platelets_1e9_l: ArrayLike, anc_1e9_l: ArrayLike, hemoglobin_g_dl: ArrayLike,
                  crp_mg_dl: ArrayLike, ferritin_ng_ml: ArrayLike, *,
                  cutpoints: HematotoxCutpoints = HematotoxCutpoints()) -> pd.DataFrame:
    """CAR-HEMATOTOX score 0-7 and group (HT-low 0-1, HT-high >= 2) [S51][S52].

    Inputs are pre-lymphodepletion values in the units of :class:`HematotoxCutpoints` (the
    cohort's canonical CRP is mg/L: divide by 10; counts per uL: divide by 1000).
    """
    plt = _arr(platelets_1e9_l)
    n = len(plt)
    anc, hb, crp, fer = (_arr(x, n) for x in (anc_1e9_l, hemoglobin_g_dl, crp_mg_dl, ferritin_ng_ml))
    if not all(len(x) == n for x in (anc, hb, crp, fer)):
        raise ValueError("car_hematotox inputs must have the same length")
    cp = cutpoints
    parts = {"platelets": plt, "ANC": anc, "hemoglobin": hb, "CRP": crp, "ferritin": fer}
    missing = {k: ~np.isfinite(v) for k, v in parts.items()}
    ok = ~np.any(list(missing.values()), axis=0)
    p_plt = np.where(plt < cp.platelets_low, 2, np.where(plt <= cp.platelets_high, 1, 0))
    p_fer = np.where(fer > cp.ferritin_high, 2, np.where(fer >= cp.ferritin_low, 1, 0))
    score = p_plt + (anc < cp.anc) + (hb < cp.hemoglobin) + (crp > cp.crp) + p_fer
    idx = _index(platelets_1e9_l, anc_1e9_l, hemoglobin_g_dl, crp_mg_dl, ferritin_ng_ml)
    return pd.DataFrame({
        "hematotox": pd.Series(score.astype(int), index=idx).astype("Int64").mask(~ok),
        "hematotox_group": _category((score >= 2).astype(int), ("HT-low", "HT-high"), ok),
        "reason": _reasons(missing, n),
    }, index=idx)


# --- EASIX family --------------------------------------------------------------------------------


def _easix_like(name: str, num: dict[str, np.ndarray], platelets: np.ndarray, idx) -> pd.DataFrame:
    n = len(platelets)
    missing = {k: ~np.isfinite(v) for k, v in num.items()}
    missing["platelets"] = ~np.isfinite(platelets)
    ok = ~np.any(list(missing.values()), axis=0)
    reason = _reasons(missing, n)
    zero = ok & (platelets <= 0)
    reason = np.where(zero, "platelets <= 0", reason)
    ok &= ~zero
    prod = np.prod(np.vstack(list(num.values())), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        val = np.where(ok, prod / np.where(ok, platelets, 1.0), np.nan)
        log2 = np.where(ok & (val > 0), np.log2(np.where(ok & (val > 0), val, 1.0)), np.nan)
    return pd.DataFrame({name: val, f"log2_{name}": log2, "reason": reason}, index=idx)


def easix(ldh_u_l: ArrayLike, creatinine_mg_dl: ArrayLike, platelets_1e9_l: ArrayLike) -> pd.DataFrame:
    """EASIX = LDH (U/L) x creatinine (mg/dL) / platelets (10^9/L), with log2(EASIX).

    Luft et al. Bone Marrow Transplant 2020;55:553 [S54][S56]; before CAR-T (EASIX-pre):
    Korell et al. Front Immunol 2022;13:877477, cut-off > 4.67 for severe CRS/ICANS [S57].
    Creatinine in umol/L must be divided by 88.42 first.
    """
    plt = _arr(platelets_1e9_l)
    n = len(plt)
    return _easix_like("easix", {"LDH": _arr(ldh_u_l, n), "creatinine": _arr(creatinine_mg_dl, n)}, plt,
                       _index(ldh_u_l, creatinine_mg_dl, platelets_1e9_l))


def m_easix(ldh_u_l: ArrayLike, crp_mg_dl: ArrayLike, platelets_1e9_l: ArrayLike) -> pd.DataFrame:
    """m-EASIX = LDH (U/L) x CRP (mg/dL, ⚠ U11) / platelets (10^9/L).

    Pennisi et al. Blood Adv 2021;5:3397 [S58][S59]: creatinine replaced by CRP.
    """
    plt = _arr(platelets_1e9_l)
    n = len(plt)
    return _easix_like("m_easix", {"LDH": _arr(ldh_u_l, n), "CRP": _arr(crp_mg_dl, n)}, plt,
                       _index(ldh_u_l, crp_mg_dl, platelets_1e9_l))


def s_easix(ldh_u_l: ArrayLike, platelets_1e9_l: ArrayLike) -> pd.DataFrame:
    """Simplified EASIX = LDH (U/L) / platelets (10^9/L) (Pennisi et al. 2021 [S58])."""
    plt = _arr(platelets_1e9_l)
    return _easix_like("s_easix", {"LDH": _arr(ldh_u_l, len(plt))}, plt, _index(ldh_u_l, platelets_1e9_l))


# --- B-ALL categories ----------------------------------------------------------------------------

BURDEN_CATEGORIES = ("MRD-negative", "MRD-positive", "active disease")
MARROW_CATEGORIES = ("M1", "M2", "M3")


def disease_burden(mrd_pct: ArrayLike, blasts_pct: ArrayLike | None = None,
                   extramedullary: ArrayLike | None = None) -> pd.DataFrame:
    """Pre-infusion B-ALL burden: MRD < 0.01 % / 0.01 to < 5 % / >= 5 % blasts or extramedullary.

    lu2021 (seed 003 [S21]); < 5 % vs >= 5 % split of Park et al. NEJM 2018 [S62]; Schultz
    PRWCC tiers similar (⚠ U8). 5 % exactly is active disease, 0.01 % exactly MRD-positive.
    The blast level is the larger of morphology and MRD; extramedullary disease alone makes
    active disease.
    """
    mrd = _arr(mrd_pct)
    n = len(mrd)
    blasts = _arr(blasts_pct, n) if blasts_pct is not None else np.full(n, np.nan)
    emd = _arr(extramedullary, n) if extramedullary is not None else np.full(n, np.nan)
    level = np.fmax(mrd, blasts)
    active = (level >= 5.0) | (emd == 1.0)
    known = np.isfinite(level) | active
    code = np.where(active, 2, np.where(level < 0.01, 0, 1))
    reason = np.where(known, "", "missing MRD and blasts")
    idx = _index(mrd_pct, blasts_pct, extramedullary)
    return pd.DataFrame({"burden": _category(code, BURDEN_CATEGORIES, known), "reason": reason}, index=idx)


def marrow_category(blasts_pct: ArrayLike) -> pd.DataFrame:
    """Marrow status M1 < 5 %, M2 5-25 %, M3 > 25 % blasts (NCIt C137698/C146709/C140330 [S18]).

    Boundaries: 5 % exactly -> M2, 25 % exactly -> M2.
    """
    b = _arr(blasts_pct)
    ok = np.isfinite(b)
    code = np.where(b < 5.0, 0, np.where(b <= 25.0, 1, 2))
    return pd.DataFrame({"marrow": _category(code, MARROW_CATEGORIES, ok),
                         "reason": np.where(ok, "", "missing blasts")}, index=_index(blasts_pct))


def expander(cmax: ArrayLike, threshold: float | Literal["median"]) -> pd.DataFrame:
    """Strong vs weak expander: strong when Cmax >= threshold (inclusive).

    Ayuk et al. Blood Adv 2021;5:2523 [S46] split axi-cel patients at the cohort median peak,
    16.14 CAR-T cells/uL; ``threshold="median"`` uses this cohort's median of the known Cmax.
    The caller is responsible for giving Cmax and threshold in the same unit.
    """
    c = _arr(cmax)
    ok = np.isfinite(c)
    if isinstance(threshold, str):
        if threshold != "median":
            raise ValueError(f"threshold must be a number or 'median', got {threshold!r}")
        if not ok.any():
            raise ValueError("threshold='median' needs at least one known Cmax")
        thr = float(np.median(c[ok]))
    else:
        thr = float(threshold)
    out = pd.DataFrame({"expander": _category((c >= thr).astype(int), ("weak", "strong"), ok),
                        "reason": np.where(ok, "", "missing Cmax")}, index=_index(cmax))
    out.attrs["threshold"] = thr
    return out


# --- scores from labs in a measurement window ------------------------------------------------

SCORE_COLUMNS = (
    "hematotox", "hematotox_group", "easix", "log2_easix", "m_easix", "log2_m_easix", "s_easix", "log2_s_easix",
    "ipi", "ipi_group", "aaipi", "aaipi_group",
)
"""The score columns :func:`risk_scores` gives (each usable as a plan variable)."""

PRE_LYMPHODEPLETION = (-30.0, -3.0)
"""Default measurement window (days from infusion): before lymphodepletion, which standard
fludarabine/cyclophosphamide gives on days -5 to -3 (⚠ the cohort has no lymphodepletion dates;
CAR-HEMATOTOX and EASIX-pre were measured before lymphodepletion, ~day -5 [S51][S57])."""


def _last_in_window(labs: pd.DataFrame | None, analyte: str, ids: pd.Index,
                    window: tuple[float, float]) -> tuple[pd.Series, pd.Series]:
    from cartscope.clinical._labs import lab_values

    v = lab_values(labs, analyte)
    lo, hi = window
    v = v[(v["day"] >= lo) & (v["day"] <= hi)]
    last = v.groupby("patient_id").last()
    return last["value"].reindex(ids).astype(float), last["day"].reindex(ids).astype(float)


def risk_scores(patients: pd.DataFrame, labs: pd.DataFrame | None = None, *,
                window: tuple[float, float] = PRE_LYMPHODEPLETION,
                cutpoints: HematotoxCutpoints = HematotoxCutpoints()) -> pd.DataFrame:
    """CAR-HEMATOTOX, EASIX, m-EASIX, s-EASIX, IPI and aaIPI per patient (columns :data:`SCORE_COLUMNS`).

    ``labs`` days are days from the index infusion; each lab input is the last value inside
    ``window`` (closed; default :data:`PRE_LYMPHODEPLETION`), converted from the canonical
    units (platelets and ANC /uL -> 10^9/L, haemoglobin g/L -> g/dL, CRP mg/L -> mg/dL,
    creatinine umol/L -> mg/dL). LDH comes from labs in the window, else ``patients.ldh``. IPI
    and aaIPI use the patients table (:func:`ipi`). ``<score>_reason`` says what was missing;
    ``<analyte>_day`` records the day each input was measured. Unverified cut points: CAR-HEMATOTOX
    (⚠ U2), m-EASIX CRP unit (⚠ U11), aaIPI labels (⚠ U10).
    """
    from cartscope.cohort.units import conversion_factor

    pats = patients.assign(patient_id=patients["patient_id"].astype(str)).drop_duplicates("patient_id")
    ids = pd.Index(pats["patient_id"], name="patient_id")
    got = {a: _last_in_window(labs, a, ids, window)
           for a in ("platelets", "anc", "hemoglobin", "crp", "ferritin", "ldh", "creatinine")}
    plt = got["platelets"][0] / 1000.0
    anc = got["anc"][0] / 1000.0
    hb = got["hemoglobin"][0] / 10.0
    crp = got["crp"][0] / 10.0
    fer = got["ferritin"][0]
    ldh = got["ldh"][0]
    if "ldh" in pats.columns:
        ldh = ldh.fillna(pd.Series(_column(pats, "ldh"), index=ids))
    crea = got["creatinine"][0] * conversion_factor("umol/L", "mg/dL", analyte="creatinine")
    ht = car_hematotox(plt, anc, hb, crp, fer, cutpoints=cutpoints)
    ex, mx, sx = easix(ldh, crea, plt), m_easix(ldh, crp, plt), s_easix(ldh, plt)
    ip, aa = ipi(pats.set_index("patient_id", drop=False)), aaipi(pats.set_index("patient_id", drop=False))
    out = pd.DataFrame(index=ids)
    out["hematotox"], out["hematotox_group"], out["hematotox_reason"] = ht["hematotox"], ht["hematotox_group"], \
        ht["reason"]
    for name, frame in (("easix", ex), ("m_easix", mx), ("s_easix", sx)):
        out[name], out[f"log2_{name}"], out[f"{name}_reason"] = frame[name], frame[f"log2_{name}"], frame["reason"]
    out["ipi"], out["ipi_group"], out["ipi_reason"] = ip["ipi"].array, ip["ipi_group"].to_numpy(), \
        ip["reason"].to_numpy()
    out["aaipi"], out["aaipi_group"], out["aaipi_reason"] = aa["aaipi"].array, aa["aaipi_group"].to_numpy(), \
        aa["reason"].to_numpy()
    out["ipi_group"] = pd.Categorical(out["ipi_group"], categories=IPI_GROUPS, ordered=True)
    out["aaipi_group"] = pd.Categorical(out["aaipi_group"], categories=IPI_GROUPS, ordered=True)
    for a, (_, day) in got.items():
        out[f"{a}_day"] = day
    return out
