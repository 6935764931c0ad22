"""A store written before the recorded-grade columns joined ``patients`` still imports."""

from __future__ import annotations

from pathlib import Path

import duckdb

from cartscope.cohort.load import load_cohort
from cartscope.cohort.store import load_snapshot, store_cohort

GOOD = Path(__file__).resolve().parent / "good" / "days"


def test_old_store_gains_new_columns(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    cohort = load_cohort(GOOD)
    store_cohort(cohort, db, study="s")
    with duckdb.connect(str(db)) as con:  # the layout of an older release: no recorded-grade columns
        for col in ("crs_grade", "crs_onset_day", "crs_duration_days", "icans_grade", "icans_onset_day",
                    "icans_duration_days"):
            con.execute(f'ALTER TABLE t_patients DROP COLUMN "{col}"')
    report = store_cohort(cohort, db, study="t")
    assert report.snapshot == 1
    back = load_snapshot(db, "t")
    assert list(back.patients.columns) == list(cohort.patients.columns)
