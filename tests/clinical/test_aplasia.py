"""B-cell aplasia: start, confirmed loss, censoring, thresholds and infusion windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cartscope.clinical.aplasia import BCA_COLUMNS, aplastic, b_cell_aplasia
from cartscope.clinical.endpoints import MONTH_DAYS


def bcells(pid: str, days, pct=None, absolute=None, infusion_no=None) -> pd.DataFrame:
    parts = []
    if pct is not None:
        parts.append(pd.DataFrame({"patient_id": pid, "infusion_no": infusion_no, "day": days,
                                   "measure": "b_cells_pct", "value": pct}))
    if absolute is not None:
        parts.append(pd.DataFrame({"patient_id": pid, "infusion_no": infusion_no, "day": days,
                                   "measure": "b_cells_per_ul", "value": absolute}))
    return pd.concat(parts, ignore_index=True)


def test_threshold_boundaries_are_literal() -> None:
    # < 1 % or <= 200/uL (li2023): 1.0 % exactly is not aplastic, 200/uL exactly is
    a = aplastic(np.array([0.99, 1.0, 1.0, np.nan, 5.0, np.nan]), np.array([np.nan, np.nan, 200.0, 201.0, 150.0, np.nan]))
    assert a[:5].tolist() == [1.0, 0.0, 1.0, 0.0, 1.0] and np.isnan(a[5])


def test_confirmed_loss() -> None:
    # transient single recovery at day 60 is not a loss; loss confirmed at 150 + 180
    k = bcells("a", [-5, 14, 30, 60, 90, 150, 180], pct=[8, 0.1, 0.2, 3.0, 0.1, 2.0, 4.0])
    r = b_cell_aplasia(k).iloc[0]
    assert (r["bca_start_day"], r["bca_end_day"], r["bca_duration_days"]) == (14, 150, 136)
    assert not bool(r["censored"])
    assert r["bca_duration_months"] == pytest.approx(136 / MONTH_DAYS)
    # without confirmation the first non-aplastic sample is the loss
    r2 = b_cell_aplasia(k, confirm_loss=False).iloc[0]
    assert r2["bca_end_day"] == 60 and not bool(r2["censored"])
    assert list(b_cell_aplasia(k).columns) == [c for c in BCA_COLUMNS if c != "infusion_no"]


def test_unconfirmed_trailing_loss_is_censored_at_last_sample() -> None:
    k = bcells("a", [14, 60, 120], pct=[0.1, 0.3, 2.5])
    r = b_cell_aplasia(k).iloc[0]
    assert bool(r["censored"]) and r["bca_end_day"] == 120 and r["unconfirmed_loss_day"] == 120
    assert r["bca_duration_days"] == 106


def test_absolute_count_or_percentage() -> None:
    k = bcells("a", [14, 28, 42], pct=[5.0, 5.0, 5.0], absolute=[150.0, 300.0, 400.0])
    r = b_cell_aplasia(k).iloc[0]
    assert (r["bca_start_day"], r["bca_end_day"]) == (14, 28)
    r2 = b_cell_aplasia(k, threshold_abs=100.0).iloc[0]
    assert not bool(r2["bca"]) and r2["reason"] == "no B-cell aplasia after infusion"


def test_index_and_by_infusion() -> None:
    infusions = pd.DataFrame({"patient_id": ["a", "a"], "infusion_no": [1, 2], "day": [0, 300],
                              "label": ["CART1", "CART2"]})
    k = bcells("a", [14, 60, 120, 150, 280, 310, 400, 500], pct=[0.1, 0.1, 2, 3, 5, 0.2, 0.3, 0.1])
    per = b_cell_aplasia(k, infusions=infusions, by_infusion=True).set_index("infusion_no")
    assert (per.loc[1, "bca_start_day"], per.loc[1, "bca_end_day"]) == (14, 120)
    assert (per.loc[2, "bca_start_day"], per.loc[2, "bca_end_day"]) == (10, 200)
    assert bool(per.loc[2, "censored"])
    cart2 = b_cell_aplasia(k, infusions=infusions, index="CART2").iloc[0]
    assert (cart2["bca_start_day"], cart2["bca_duration_days"], cart2["n_samples"]) == (10, 190, 3)


def test_patient_without_post_infusion_sample_is_listed() -> None:
    r = b_cell_aplasia(bcells("a", [-3], pct=[10.0])).iloc[0]
    assert r["patient_id"] == "a" and r["reason"] == "no post-infusion B-cell sample" and r["n_samples"] == 0
