"""The DuckDB store: atomic imports, snapshots, idempotent re-import, round trip."""

from __future__ import annotations

import dataclasses
from contextlib import closing
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cartscope.cohort import store
from cartscope.cohort.model import Cohort, UnitConversion
from cartscope.cohort.schema import SCHEMA_VERSION, TABLE_ORDER


def small_cohort(extra_relapse: bool = False) -> Cohort:
    patients = pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3"],
            "disease": ["B-ALL", "DLBCL", "FL"],
            "sex": ["F", "M", "F"],
            "age": [34.0, 51.0, 47.5],
            "tp53": pd.array([True, False, pd.NA], dtype="boolean"),
            "karyotype": ["complex", "normal", None],
        }
    )
    infusions = pd.DataFrame(
        {"patient_id": ["P1", "P2", "P3"], "infusion_no": [1, 1, 1], "day": [0.0, 0.0, 0.0],
         "product": ["CD19/CD22 cocktail"] * 3, "dose_per_kg": [3.0, 4.5, 5.1]}
    )
    assessments = pd.DataFrame(
        {"patient_id": ["P1", "P2", "P3"], "day": [28.0, 30.0, 30.0], "kind": ["flow_mrd", "pet_ct", "pet_ct"],
         "response": ["MRD-negative CR", "PR", "CR"], "mrd_pct": [0.001, None, None], "deauville": [None, 4, 2]}
    )
    events = pd.DataFrame(
        {"patient_id": ["P1", "P2", "P3"], "day": [400.0, 120.0, 365.0],
         "type": ["last_contact", "progression", "last_contact"]}
    )
    if extra_relapse:
        events.loc[len(events)] = {"patient_id": "P1", "day": 300.0, "type": "relapse"}
    labs = pd.DataFrame(
        {"patient_id": ["P1", "P1", "HD1"], "day": [-3.0, 5.0, 0.0], "analyte": ["IL-6"] * 3,
         "value": [12.0, 5000.0, 2.1], "unit": ["pg/mL"] * 3, "qualifier": [None, ">=", None],
         "role": ["patient", "patient", "healthy_donor"]}
    )
    empty = {name: pd.DataFrame() for name in ("kinetics", "toxicity_daily")}
    return Cohort(
        patients=patients, infusions=infusions, assessments=assessments, events=events, labs=labs,
        **empty,
        present=frozenset({"patients", "infusions", "assessments", "events", "labs"}),
        source="test",
        conversions=(UnitConversion("labs", "value", "ng/mL", "pg/mL", 1000.0, 1),),
        file_hashes={"patients.csv": "ab" * 32},
    )


def dump(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table, for comparing a whole database before and after."""
    with closing(duckdb.connect(str(db), read_only=True)) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return {n: sorted(map(repr, con.execute(f"SELECT * FROM {n}").fetchall())) for n in sorted(names)}


def test_store_and_read_back(tmp_path: Path) -> None:
    db = tmp_path / "study.duckdb"
    cohort = small_cohort()
    report = store.store_cohort(cohort, db, study="demo")
    assert (report.status, report.snapshot) == ("created", 1)
    assert report.rows == {"patients": 3, "infusions": 3, "assessments": 3, "events": 3, "labs": 3}

    back = store.load_snapshot(db, "demo")
    assert back.present == cohort.present
    assert back.conversions == cohort.conversions
    assert back.file_hashes == cohort.file_hashes
    assert back.patients["patient_id"].tolist() == ["P1", "P2", "P3"]
    assert back.patients["karyotype"].tolist()[:2] == ["complex", "normal"]
    assert pd.isna(back.patients["karyotype"].iloc[2])
    assert back.patients["tp53"].tolist() == [True, False, pd.NA]
    assert back.labs["qualifier"].fillna("").tolist() == ["", ">=", ""]
    assert back.labs["value"].tolist() == [12.0, 5000.0, 2.1]
    assert back.infusions["infusion_no"].tolist() == [1, 1, 1]
    assert back.kinetics.empty

    snapshots = store.list_snapshots(db)
    assert snapshots[["study", "snapshot", "schema_version", "n_patients"]].values.tolist() == [
        ["demo", 1, SCHEMA_VERSION, 3]
    ]
    assert snapshots["data_hash"].iloc[0] == store.data_hash(cohort)


def test_reimport_identical_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "study.duckdb"
    store.store_cohort(small_cohort(), db, study="demo")
    before = dump(db)
    again = store.store_cohort(small_cohort(), db, study="demo")
    assert (again.status, again.snapshot) == ("unchanged", 1)
    assert dump(db) == before


def test_new_version_is_a_new_snapshot(tmp_path: Path) -> None:
    db = tmp_path / "study.duckdb"
    store.store_cohort(small_cohort(), db, study="demo")
    second = store.store_cohort(small_cohort(extra_relapse=True), db, study="demo")
    assert (second.status, second.snapshot) == ("created", 2)
    assert len(store.load_snapshot(db, "demo", 1).events) == 3
    assert len(store.load_snapshot(db, "demo", 2).events) == 4
    assert len(store.load_snapshot(db, "demo").events) == 4
    assert store.list_snapshots(db)["snapshot"].tolist() == [1, 2]


def _fail_on_labs(real):
    def insert(con, schema, frame, study, snapshot):
        if schema.name == "labs":
            raise RuntimeError("injected failure while writing labs")
        real(con, schema, frame, study, snapshot)

    return insert


def test_failure_midway_leaves_database_exactly_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "study.duckdb"
    store.store_cohort(small_cohort(), db, study="demo")
    before = dump(db)
    monkeypatch.setattr(store, "_insert_table", _fail_on_labs(store._insert_table))
    with pytest.raises(RuntimeError, match="injected failure"):
        store.store_cohort(small_cohort(extra_relapse=True), db, study="demo")
    assert dump(db) == before
    with pytest.raises(RuntimeError, match="injected failure"):
        store.store_cohort(small_cohort(), db, study="other-study")
    assert dump(db) == before


def test_failed_first_import_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "new.duckdb"
    monkeypatch.setattr(store, "_insert_table", _fail_on_labs(store._insert_table))
    with pytest.raises(RuntimeError):
        store.store_cohort(small_cohort(), db, study="demo")
    assert not db.exists()


def test_data_hash_ignores_absent_tables_and_sees_changes() -> None:
    a, b = small_cohort(), small_cohort(extra_relapse=True)
    assert store.data_hash(a) == store.data_hash(small_cohort())
    assert store.data_hash(a) != store.data_hash(b)
    assert len(store.data_hash(a)) == 64
    assert set(TABLE_ORDER) >= a.present


def test_store_round_trip_keeps_the_data_hash_of_a_loaded_cohort(tmp_path: Path) -> None:
    from cartscope.cohort.load import load_cohort

    source = Path(__file__).parent / "good" / "days"
    loaded = load_cohort(source)
    report = store.import_cohort(source, tmp_path / "s.duckdb", study="good")
    back = store.load_snapshot(tmp_path / "s.duckdb", "good")
    assert report.data_hash == store.data_hash(loaded) == store.data_hash(back)
    for name in loaded.present:
        pd.testing.assert_frame_equal(back.table(name), loaded.table(name), check_dtype=False)


def test_data_hash_is_the_same_for_csv_and_xlsx_of_one_cohort(tmp_path: Path) -> None:
    """A workbook rounds the last bits of some doubles; the cohort's identity must not change."""
    from cartscope.analysis.presets import synthesize
    from cartscope.cohort.load import load_cohort
    from cartscope.cohort.write import write_cohort

    cohort = synthesize("li2023", seed=2023)
    from_csv = load_cohort(write_cohort(cohort, tmp_path / "csv"))
    from_xlsx = load_cohort(write_cohort(cohort, tmp_path / "cohort.xlsx", fmt="xlsx"))
    assert store.data_hash(from_csv) == store.data_hash(from_xlsx)
    changed = dataclasses.replace(from_csv, kinetics=from_csv.kinetics.assign(value=from_csv.kinetics["value"] * 1.001))
    assert store.data_hash(changed) != store.data_hash(from_csv)
