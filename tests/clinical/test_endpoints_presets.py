"""The synthetic jin2023 cohort classifies back to the published outcome counts (seed 000).

Table 1 of jin2023: B-ALL (35) no response 3, relapse 11, remission 12, not evaluable 9
(HSCT 7, lost 2, non-relapse death 0); B-NHL (84) 9, 30, 35, 10 (4, 2, 4). NR/ER among the
evaluable: 8 of 26 (30.8 %) and 31 of 74 (41.9 %). Relapse timing in 6-month bins: B-ALL
5, 0, 1, 3, 2; B-NHL 22, 3, 2, 1, 2.
"""

from __future__ import annotations

import importlib

import pandas as pd
import pytest

from cartscope.clinical.endpoints import derive_endpoints

presets = pytest.importorskip("cartscope.analysis.presets")


@pytest.fixture(scope="module")
def jin() -> pd.DataFrame:
    synth = getattr(presets, "synthesize", None)
    if synth is not None:
        cohort = synth("jin2023")
    else:
        cohort = importlib.import_module("cartscope.analysis.presets.jin2023").synthesize()
    return derive_endpoints(cohort)


@pytest.mark.parametrize("group, counts", [
    ("B-ALL", {"no response": 3, "relapse": 11, "remission": 12, "not evaluable": 9}),
    ("B-NHL", {"no response": 9, "relapse": 30, "remission": 35, "not evaluable": 10}),
])
def test_table1_outcomes(jin: pd.DataFrame, group: str, counts: dict[str, int]) -> None:
    g = jin[jin["disease_group"] == group]
    assert g["outcome"].value_counts().to_dict() == counts


@pytest.mark.parametrize("group, hsct, lost, nrm", [("B-ALL", 7, 2, 0), ("B-NHL", 4, 2, 4)])
def test_not_evaluable_reasons(jin: pd.DataFrame, group: str, hsct: int, lost: int, nrm: int) -> None:
    g = jin[(jin["disease_group"] == group) & (jin["outcome_class"] == "not evaluable")]
    reasons = g["outcome_reason"].value_counts()
    assert reasons.get("bridged to HSCT within window", 0) == hsct
    assert reasons.get("lost to follow-up within window", 0) == lost
    assert reasons.get("non-relapse death within window", 0) == nrm
    assert len(g) == hsct + lost + nrm


@pytest.mark.parametrize("group, nrer, evaluable", [("B-ALL", 8, 26), ("B-NHL", 31, 74)])
def test_nrer_share(jin: pd.DataFrame, group: str, nrer: int, evaluable: int) -> None:
    g = jin[jin["disease_group"] == group]
    assert (g["outcome_class"] == "NR/ER").sum() == nrer
    assert g["outcome_class"].isin(["NR/ER", "durable"]).sum() == evaluable


@pytest.mark.parametrize("group, bins", [("B-ALL", [5, 0, 1, 3, 2]), ("B-NHL", [22, 3, 2, 1, 2])])
def test_relapse_timing_bins(jin: pd.DataFrame, group: str, bins: list[int]) -> None:
    g = jin[(jin["disease_group"] == group) & (jin["outcome"] == "relapse")]
    counts = g["relapse_bin"].value_counts()
    assert [int(counts.get(b, 0)) for b in ("0-6", "6-12", "12-18", "18-24", ">24")] == bins
