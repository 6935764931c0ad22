"""Hypogammaglobulinaemia after CAR-T: IgG below a protocol threshold, and IVIG use.

B-cell aplasia after CD19 CAR-T lowers serum IgG; series report the share of patients with
IgG < 400 mg/dL (4.0 g/L) and IVIG replacement (e.g. Hill JA et al. Blood 2019 and the
EBMT/JACIE recommendations, Hayden PJ et al. Ann Oncol 2022;33(3):259 †, which suggest IVIG
for IgG < 400 mg/dL with infections; ⚠ the threshold wording was not checked in a stored copy).
The threshold is a protocol parameter (default 4.0 g/L = 400 mg/dL, strict ``<``). IgG is
taken in g/L (the canonical unit; mg/dL converts at 0.01).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from cartscope.clinical._labs import event_rows, lab_values

PATIENT_COLUMNS = (
    "patient_id", "baseline_igg", "hypogamma_baseline", "nadir_igg", "nadir_day", "hypogammaglobulinemia",
    "first_low_day", "n_igg", "ivig", "ivig_administrations", "first_ivig_day", "reason",
)


@dataclass(frozen=True)
class IggRules:
    """IgG threshold (g/L, strict ``<``) and the post-infusion window (closed; None = open)."""

    threshold_g_l: float = 4.0
    window: tuple[float, float | None] = (1.0, None)


@dataclass(frozen=True)
class HypogammaResult:
    """Per-patient IgG course and IVIG use (columns :data:`PATIENT_COLUMNS`)."""

    patients: pd.DataFrame
    rules: IggRules = field(default_factory=IggRules)

    def to_frame(self) -> pd.DataFrame:
        return self.patients.copy()

    def __repr__(self) -> str:
        p = self.patients
        ev = p["hypogammaglobulinemia"].dropna()
        return (f"Hypogammaglobulinaemia (IgG < {self.rules.threshold_g_l:g} g/L): {int(ev.sum())} of "
                f"{len(ev)} evaluable; IVIG {int(p['ivig'].sum())} of {len(p)}")


def hypogammaglobulinemia(
    labs: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    patients: pd.DataFrame | Sequence[str] | None = None,
    rules: IggRules = IggRules(),
) -> HypogammaResult:
    """Baseline IgG (last value on or before day 0), nadir after infusion, IgG < threshold, IVIG."""
    igg = lab_values(labs, "igg")
    if patients is None:
        ids = sorted(set(igg["patient_id"]))
    elif isinstance(patients, pd.DataFrame):
        ids = [str(p) for p in patients["patient_id"]]
    else:
        ids = [str(p) for p in patients]
    idx = pd.Index(ids, name="patient_id")
    base = igg[igg["day"] <= 0].groupby("patient_id")["value"].last().reindex(idx)
    lo, hi = rules.window
    post = igg[(igg["day"] >= lo) & ((igg["day"] <= hi) if hi is not None else True)]
    order = post.sort_values(["patient_id", "value", "day"], kind="mergesort")
    nadir = order.drop_duplicates("patient_id").set_index("patient_id").reindex(idx)
    low = post[post["value"] < rules.threshold_g_l]
    first_low = low.groupby("patient_id")["day"].min().reindex(idx)
    n_igg = post.groupby("patient_id").size().reindex(idx).fillna(0).astype(int)
    ivig = event_rows(events, ("ivig",))
    ivig = ivig[ivig["day"] >= 0]
    n_ivig = ivig.groupby("patient_id").size().reindex(idx).fillna(0).astype(int)
    first_ivig = ivig.groupby("patient_id")["day"].min().reindex(idx)
    evaluable = n_igg > 0
    out = pd.DataFrame({
        "patient_id": ids,
        "baseline_igg": base.to_numpy(dtype=float),
        "hypogamma_baseline": pd.array(np.where(base.notna(), base < rules.threshold_g_l, None), dtype="boolean"),
        "nadir_igg": nadir["value"].to_numpy(dtype=float),
        "nadir_day": nadir["day"].to_numpy(dtype=float),
        "hypogammaglobulinemia": pd.array(np.where(evaluable, first_low.notna(), None), dtype="boolean"),
        "first_low_day": first_low.to_numpy(dtype=float),
        "n_igg": n_igg.to_numpy(),
        "ivig": (n_ivig > 0).to_numpy(),
        "ivig_administrations": n_ivig.to_numpy(),
        "first_ivig_day": first_ivig.to_numpy(dtype=float),
        "reason": np.where(evaluable, "", "no IgG after infusion"),
    })
    return HypogammaResult(out, rules)
