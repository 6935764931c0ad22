"""The ``compare`` kind lists every patient it leaves out, with the reason (lu2021 synthetic
cohort with a few values removed): unpaired, no value of the variable or of the ``by``
variable; paired, no value of one reading or of both."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from cartscope.analysis.analyses import compare as compare_kind
from cartscope.analysis.presets import synthesize
from kind_runner import run_kind

PLAN = """
version: 1
name: compare-exclusions
analyses:
  - {id: age_by_sex, kind: compare, by: sex, variables: [age, ph_positive]}
  - {id: ldh_vs_weight, kind: compare, paired: true, variables: [ldh, weight_kg]}
"""

KIND = compare_kind.KINDS[0]


def _run():
    cohort = synthesize("lu2021", seed=2023)
    pats = cohort.patients.copy()
    ids = pats["patient_id"].astype(str).tolist()
    pats.loc[pats.index[[0, 1]], "age"] = np.nan
    pats["sex"] = pats["sex"].astype(object)
    pats.loc[pats.index[2], "sex"] = None
    pats.loc[pats.index[3], "ph_positive"] = pd.NA
    pats["ldh"] = np.linspace(180.0, 640.0, len(pats))  # two readings per patient
    pats["weight_kg"] = np.linspace(80.0, 52.0, len(pats)) ** 1.1
    both = pats.index[-3:]
    pats.loc[both[[0, 2]], "ldh"] = np.nan
    pats.loc[both[[1, 2]], "weight_kg"] = np.nan
    cohort = dataclasses.replace(cohort, patients=pats)
    study = run_kind(cohort, PLAN, KIND)
    rows = pd.DataFrame(study.exclusion_rows, columns=["analysis", "patient_id", "reason"])
    return ids, rows, study


def _expected(pats: pd.DataFrame) -> set[tuple[str, str, str]]:
    out = set()
    for r in pats.itertuples(index=False):
        pid = str(r.patient_id)
        for var in ("age", "ph_positive"):
            if pd.isna(getattr(r, var)):
                out.add((f"age_by_sex:{var}", pid, f"missing {var}"))
            elif pd.isna(r.sex):
                out.add((f"age_by_sex:{var}", pid, "missing sex (the groups)"))
        a, b = pd.isna(r.ldh), pd.isna(r.weight_kg)
        if a or b:
            why = ("missing ldh and weight_kg" if a and b else "missing ldh (no pair for its weight_kg)" if a
                   else "missing weight_kg (no pair for its ldh)")
            out.add(("ldh_vs_weight", pid, why))
    return out


def test_compare_lists_each_left_out_patient_with_the_reason() -> None:
    ids, rows, study = _run()
    got = {(a, p, r) for a, p, r in rows.itertuples(index=False)}
    expected = _expected(study.cohort.patients)
    assert got == expected
    # the patients changed above are among them, each with its reason
    assert {
        ("age_by_sex:age", ids[0], "missing age"),
        ("age_by_sex:age", ids[2], "missing sex (the groups)"),
        ("age_by_sex:ph_positive", ids[3], "missing ph_positive"),
        ("ldh_vs_weight", ids[-3], "missing ldh (no pair for its weight_kg)"),
        ("ldh_vs_weight", ids[-2], "missing weight_kg (no pair for its ldh)"),
        ("ldh_vs_weight", ids[-1], "missing ldh and weight_kg"),
    } <= got

    # the counts in the results agree: everyone not listed was compared
    table = pd.concat(study.tables["comparisons"], ignore_index=True)
    n_age = table[(table["analysis"] == "age_by_sex") & (table["variable"] == "age")
                  & (table["group"] != "test")]["n"].sum()
    assert n_age == len(ids) - len({p for a, p, _ in expected if a == "age_by_sex:age"})
    paired = table[(table["analysis"] == "ldh_vs_weight") & (table["group"] == "all")]
    assert int(paired["n"].iloc[0]) == len(ids) - len({p for a, p, _ in expected if a == "ldh_vs_weight"})
