"""B-cell aplasia (BCA) after CAR-T: start, loss, duration, censoring (domain-reference §4.6).

Definition (li2023 citing Wang et al., seed 001 [S20]): BCA on a sample when CD3-CD19+ B cells
are **< 1 %** **or** the absolute B-cell count is **<= 200/uL** (blood or marrow). Loss of BCA
must be confirmed on a subsequent sample (Cincinnati tisagenlecleucel series [S36]):
with ``confirm_loss`` the loss is dated at the first of two consecutive non-aplastic samples.
BCA duration runs from the first aplastic post-infusion sample to that loss day, and is
censored at the last sample when no confirmed loss is seen. Early B-cell recovery (within 6
months) marks a high relapse risk [S22][S37]. Thresholds are protocol parameters.

A sample is non-aplastic only when every measured criterion fails (B cells >= threshold_pct
and, if counted, > threshold_abs): the "or" of the definition. A sample with neither measure
is skipped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.clinical.endpoints import MONTH_DAYS, index_days
from cartscope.clinical.kinetics import infusion_windows

BCA_COLUMNS: dict[str, str] = {
    "patient_id": "patient identifier",
    "infusion_no": "infusion window (only with by_infusion=True)",
    "bca": "any aplastic post-infusion sample",
    "bca_start_day": "first aplastic post-infusion sample (days from the infusion)",
    "bca_end_day": "confirmed loss day, or the last sample when censored",
    "bca_duration_days": "end - start (days)",
    "bca_duration_months": "duration in months of 30.4375 days",
    "censored": "no confirmed loss: duration censored at the last sample",
    "unconfirmed_loss_day": "a single trailing non-aplastic sample awaiting confirmation",
    "n_samples": "post-infusion samples with a B-cell value",
    "reason": "why BCA is not determined ('' if it is)",
}


def aplastic(pct: np.ndarray, absolute: np.ndarray, *, threshold_pct: float = 1.0,
             threshold_abs: float = 200.0) -> np.ndarray:
    """Per sample: 1.0 aplastic, 0.0 not, NaN when neither measure is present."""
    pct = np.asarray(pct, dtype=float)
    absolute = np.asarray(absolute, dtype=float)
    yes = (np.isfinite(pct) & (pct < threshold_pct)) | (np.isfinite(absolute) & (absolute <= threshold_abs))
    known = np.isfinite(pct) | np.isfinite(absolute)
    return np.where(known, yes.astype(float), np.nan)


def _course(t: np.ndarray, a: np.ndarray, confirm_loss: bool) -> dict:
    n = len(t)
    res = dict(bca=False, bca_start_day=np.nan, bca_end_day=np.nan, bca_duration_days=np.nan,
               bca_duration_months=np.nan, censored=pd.NA, unconfirmed_loss_day=np.nan, n_samples=n, reason="")
    if n == 0:
        res["reason"] = "no post-infusion B-cell sample"
        return res
    hits = np.nonzero(a == 1.0)[0]
    if len(hits) == 0:
        res["reason"] = "no B-cell aplasia after infusion"
        return res
    s = int(hits[0])
    end, censored = t[-1], True
    for j in range(s + 1, n):
        if a[j] == 0.0:
            if not confirm_loss:
                end, censored = t[j], False
                break
            if j + 1 < n and a[j + 1] == 0.0:
                end, censored = t[j], False
                break
            if j + 1 == n:
                res["unconfirmed_loss_day"] = float(t[j])
    res.update(bca=True, bca_start_day=float(t[s]), bca_end_day=float(end),
               bca_duration_days=float(end - t[s]), bca_duration_months=float(end - t[s]) / MONTH_DAYS,
               censored=censored)
    return res


def b_cell_aplasia(kinetics: pd.DataFrame, *, threshold_pct: float = 1.0, threshold_abs: float = 200.0,
                   confirm_loss: bool = True, infusions: pd.DataFrame | None = None,
                   index: int | str = 1, by_infusion: bool = False) -> pd.DataFrame:
    """BCA start, loss, duration and censoring per patient (or per patient x infusion).

    Days come from ``kinetics`` as loaded (from infusion 1). With ``infusions`` they are
    re-based to the ``index`` infusion (number or label) and only later samples count; with
    ``by_infusion`` each infusion is its own window up to the next one. Post-infusion means
    day > 0. Columns: :data:`BCA_COLUMNS`.
    """
    k = kinetics[kinetics["measure"].isin(["b_cells_pct", "b_cells_per_ul"])].reset_index(drop=True)
    if by_infusion:
        k = infusion_windows(k, infusions)
        keys = ["patient_id", "infusion_no"]
    else:
        k = k.copy()
        k["patient_id"] = k["patient_id"].astype(str)
        k["value"] = pd.to_numeric(k["value"], errors="coerce")
        k["t"] = pd.to_numeric(k["day"], errors="coerce")
        if infusions is not None:
            k["t"] = k["t"] - k["patient_id"].map(index_days(infusions, index))
        k = k[k["t"].notna() & k["value"].notna()]
        keys = ["patient_id"]
    wide = k.pivot_table(index=keys + ["t"], columns="measure", values="value", aggfunc="mean")
    for m in ("b_cells_pct", "b_cells_per_ul"):
        if m not in wide:
            wide[m] = np.nan
    wide = wide.reset_index()
    wide = wide[wide["t"] > 0]
    wide["aplastic"] = aplastic(wide["b_cells_pct"].to_numpy(), wide["b_cells_per_ul"].to_numpy(),
                                threshold_pct=threshold_pct, threshold_abs=threshold_abs)
    wide = wide[wide["aplastic"].notna()]
    groups = {(key if isinstance(key, tuple) else (key,)): g
              for key, g in wide.sort_values(keys + ["t"]).groupby(keys, sort=True)}
    empty = wide.iloc[0:0]
    rows = []
    for key in sorted(set(map(tuple, k[keys].drop_duplicates().itertuples(index=False)))):
        g = groups.get(key, empty)
        r = _course(g["t"].to_numpy(dtype=float), g["aplastic"].to_numpy(dtype=float), confirm_loss)
        rows.append(dict(zip(keys, key)) | r)
    cols = [c for c in BCA_COLUMNS if c in keys or c not in ("patient_id", "infusion_no")]
    out = pd.DataFrame(rows, columns=cols)
    out["censored"] = out["censored"].astype("boolean")
    return out
