"""Every hostile input is refused with one clear problem, in bounded time and memory.

The corpus (``hostile.py``, built on the fly) runs in a subprocess so that a regression which
exhausts memory fails these tests instead of the test process; the subprocess reports each
case's error codes, seconds and peak resident memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import hostile  # noqa: E402

SECONDS = 10.0
MEMORY = 1.5 * 2**30


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, dict]:
    work = tmp_path_factory.mktemp("hostile")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    done = subprocess.run([sys.executable, str(HERE / "hostile.py"), str(work)], capture_output=True, text=True,
                          timeout=240, env=env, check=False)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines and "baseline_rss" in lines[0], done.stderr[-2000:]
    baseline = lines[0]["baseline_rss"]
    return {d["name"]: {**d, "growth": d["peak_rss"] - baseline} for d in lines[1:]}


def test_corpus_has_at_least_forty_cases():
    assert len(hostile.CASES) >= 40
    assert len({c.name for c in hostile.CASES}) == len(hostile.CASES)


@pytest.mark.slow
@pytest.mark.parametrize("case", hostile.CASES, ids=lambda c: c.name)
def test_hostile_input_is_one_clear_problem(corpus, case):
    result = corpus.get(case.name)
    assert result is not None, "the corpus run stopped before this case"
    assert result["crashed"] is None, result["crashed"]
    assert result["codes"] == [case.code]
    assert result["seconds"] < SECONDS
    assert result["growth"] < MEMORY, f"{result['growth'] / 2**20:.0f} MB"


def test_cli_validate_prints_one_line_for_a_fifo_and_a_dev_zero_link(tmp_path):
    from typer.testing import CliRunner

    from cartscope.cli import app

    os.mkfifo(tmp_path / "pipe.xlsx")
    os.symlink("/dev/zero", tmp_path / "zero.xlsx")
    for name in ("pipe.xlsx", "zero.xlsx"):
        result = CliRunner().invoke(app, ["validate", str(tmp_path / name)])
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        assert "not-a-file" in result.output and "only regular files are read" in result.output


def test_csv_limits_are_configurable(tmp_path):
    from cartscope.cohort import input_limits

    data = b"patient_id,a,b\n" + b"p,1,2\n" * 50
    assert input_limits.check_csv(data, "x.csv") is None
    small = input_limits.InputLimits(max_rows=10, max_columns=2)
    assert input_limits.check_csv(data, "x.csv", small).code == "too-many-columns"
    assert input_limits.check_csv(data, "x.csv", input_limits.InputLimits(max_rows=10)).code == "too-many-rows"
    env = input_limits.limits_from_env("max_rows=10, max_columns=2")
    assert (env.max_rows, env.max_columns) == (10, 2)
    with pytest.raises(ValueError, match="did you mean 'max_rows'"):
        input_limits.limits_from_env("max_row=10")
    with pytest.raises(ValueError, match="whole number"):
        input_limits.limits_from_env("max_rows=ten")


def test_workbook_rows_past_the_declared_range_are_read(tmp_path):
    """A sheet declaring A1:G3 but holding every event row loses none of them."""
    import re
    import zipfile

    from cartscope.analysis.presets import synthesize
    from cartscope.cohort.readers import read_source
    from cartscope.cohort.write import write_cohort

    cohort = synthesize("li2023", seed=3)
    book = Path(write_cohort(cohort, tmp_path / "c.xlsx", fmt="xlsx"))
    member = hostile._sheet_members(book)["events"]
    lying = tmp_path / "lying.xlsx"
    hostile._rewrite(book, lying, lambda n, d: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:G3"', d)
                     if n == member else d)
    with zipfile.ZipFile(lying) as zf:
        assert b'<dimension ref="A1:G3"' in zf.read(member)
    assert len(read_source(lying).tables["events"].frame) == len(cohort.events) > 2


def test_formula_without_value_names_the_cell(tmp_path):
    from cartscope.analysis.presets import synthesize
    from cartscope.cohort.readers import read_source
    from cartscope.cohort.write import write_cohort

    book = Path(write_cohort(synthesize("li2023", seed=3), tmp_path / "c.xlsx", fmt="xlsx"))
    member = hostile._sheet_members(book)["patients"]
    edited = hostile._rewrite(book, tmp_path / "f.xlsx", lambda n, d: hostile._formula_without_value(d)
                              if n == member else d)
    found = [p for p in read_source(edited).problems if p.code == "formula-without-value"]
    assert len(found) == 1 and found[0].is_error
    assert found[0].row == 2 and found[0].column.endswith("2") and "=50+4" in found[0].message
