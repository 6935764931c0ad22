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


# --- the round trip is the identity ----------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cartscope.cohort.checks_columns import STR_DTYPE  # noqa: E402
from cartscope.cohort.schema import TABLES  # noqa: E402

_TEXT = st.one_of(st.none(), st.sampled_from(["None", "nan", "NA", "", " ", "null", "=1+1", "True"]),
                  st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12))
_FLOAT = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64),
                   st.sampled_from([0.1 + 0.2, 1e-300, -0.0, 2.0**53 + 1]))
_INT = st.one_of(st.none(), st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1))
_BOOL = st.one_of(st.none(), st.booleans())


def _column(kind: str, n: int):
    """A strategy for one column of ``n`` cells in the dtype load_cohort gives that kind."""
    if kind in ("str", "category"):
        return st.lists(_TEXT, min_size=n, max_size=n).map(lambda v: pd.Series(v, dtype=STR_DTYPE))
    if kind in ("float", "day"):
        return st.lists(_FLOAT, min_size=n, max_size=n).map(
            lambda v: pd.Series([float("nan") if x is None else x for x in v], dtype="float64"))
    if kind == "int":
        return st.lists(_INT, min_size=n, max_size=n).map(lambda v: pd.Series(pd.array(v, dtype="Int64")))
    return st.lists(_BOOL, min_size=n, max_size=n).map(lambda v: pd.Series(pd.array(v, dtype="boolean")))


@st.composite
def _table(draw, name: str, covariates: bool = False) -> pd.DataFrame:
    n = draw(st.integers(0, 6))
    cols = {c.name: draw(_column(c.kind, n)) for c in TABLES[name].columns if c.kind != "date"}
    if covariates:
        for i, kind in enumerate(draw(st.lists(st.sampled_from(["float", "str", "missing"]), max_size=3))):
            if kind == "missing":
                cols[f"cov_{i}"] = pd.Series([None] * n, dtype=STR_DTYPE)
            else:
                cols[f"cov {i} {kind}"] = draw(_column(kind, n))
    return pd.DataFrame(cols)


@st.composite
def _cohorts(draw) -> Cohort:
    optional = draw(st.sets(st.sampled_from(["labs", "kinetics", "toxicity_daily"])))
    present = {"patients", "infusions", "assessments", "events", *optional}
    tables = {name: (draw(_table(name, covariates=name == "patients")) if name in present else
                     pd.DataFrame({c.name: pd.Series(dtype=STR_DTYPE) for c in TABLES[name].columns if c.kind != "date"}))
              for name in TABLE_ORDER}
    return Cohort(**tables, present=frozenset(present), source="generated")


def _assert_same(back: Cohort, cohort: Cohort) -> None:
    for name in cohort.present:
        got, want = back.table(name), cohort.table(name)
        assert list(got.columns) == list(want.columns), name
        for col in want.columns:
            assert got[col].dtype == want[col].dtype, (name, col, got[col].dtype, want[col].dtype)
        pd.testing.assert_frame_equal(got, want, check_exact=True)


@pytest.mark.slow
@settings(derandomize=True, max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                                      HealthCheck.data_too_large])
@given(cohort=_cohorts())
def test_store_round_trip_is_the_identity_on_generated_cohorts(tmp_path_factory, cohort: Cohort) -> None:
    db = tmp_path_factory.mktemp("rt") / "s.duckdb"
    store.store_cohort(cohort, db, study="gen")
    back = store.load_snapshot(db, "gen")
    _assert_same(back, cohort)
    assert store.data_hash(back) == store.data_hash(cohort)


def test_missing_text_is_missing_not_the_word_none(tmp_path: Path) -> None:
    cohort = small_cohort()
    patients = cohort.patients.assign(icans_tool=pd.Series([None, "ice", None], dtype=STR_DTYPE),
                                      karyotype=pd.Series(["None", None, "nan"], dtype=STR_DTYPE))
    cohort = dataclasses.replace(cohort, patients=patients)
    store.store_cohort(cohort, tmp_path / "s.duckdb", study="demo")
    back = store.load_snapshot(tmp_path / "s.duckdb", "demo").patients
    assert back["icans_tool"].isna().tolist() == [True, False, True]
    assert back["karyotype"].tolist()[0] == "None" and back["karyotype"].tolist()[2] == "nan"
    assert pd.isna(back["karyotype"].iloc[1])


def test_store_without_column_types_reads_with_the_loader_dtypes(tmp_path: Path) -> None:
    """A store written before the per-snapshot column types existed still reads back exactly."""
    from cartscope.cohort.load import load_cohort

    source = Path(__file__).parent / "good" / "days"
    loaded = load_cohort(source)
    db = tmp_path / "old.duckdb"
    store.store_cohort(loaded, db, study="good")
    with closing(duckdb.connect(str(db))) as con:
        con.execute("DROP TABLE snapshot_columns")
    _assert_same(store.load_snapshot(db, "good"), loaded)


@pytest.mark.slow
@pytest.mark.parametrize(("preset", "fmt"), [("jin2023", "csv"), ("li2023", "xlsx"), ("lu2021", "csv")])
def test_loaded_preset_cohort_reads_back_exactly(tmp_path: Path, preset: str, fmt: str) -> None:
    from cartscope.analysis.presets import synthesize
    from cartscope.cohort.load import load_cohort
    from cartscope.cohort.write import write_cohort

    target = tmp_path / ("c.xlsx" if fmt == "xlsx" else "c")
    loaded = load_cohort(write_cohort(synthesize(preset, seed=7), target, fmt=fmt))
    store.store_cohort(loaded, tmp_path / "s.duckdb", study=preset)
    _assert_same(store.load_snapshot(tmp_path / "s.duckdb", preset), loaded)


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["jin2023", "li2023", "lu2021"])
def test_analysing_the_stored_snapshot_equals_analysing_the_files(tmp_path: Path, preset: str) -> None:
    """``cartscope analyze`` of the files and of the stored snapshot write byte-identical results."""
    from typer.testing import CliRunner

    from cartscope.analysis.presets import synthesize
    from cartscope.cli import app
    from cartscope.cohort.write import write_cohort

    files = write_cohort(synthesize(preset, seed=11), tmp_path / "cohort", fmt="csv")
    runner = CliRunner()
    db = tmp_path / "s.duckdb"
    for args in (["import", str(files), "--db", str(db), "--study", "S"],
                 ["analyze", str(files), "--protocol", preset, "--out", str(tmp_path / "from-files")],
                 ["analyze", str(db), "--study", "S", "--protocol", preset, "--out", str(tmp_path / "from-store")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    a, b = tmp_path / "from-files", tmp_path / "from-store"
    names = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    assert "results.json" in names and any(n.startswith("tables/") for n in names)
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
