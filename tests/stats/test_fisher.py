"""Fisher's exact test for r x c tables against R ``fisher.test`` (R script: r/fisher.R).

R runs live: the fixed cases (the benchmark's Table 1 shapes, a near tie, exact ties, a sparse
table) carry their data in the R script; the random tables are drawn here by hypothesis
(deterministic) and sent to the same script in one call. A brute-force enumeration of every
table with the margins is the second, independent reference on small tables.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import special

from cartscope.stats import _fisher_network
from cartscope.stats._fisher_network import FEXACT_TOL, fisher_rxc_network
from cartscope.stats.contingency import fisher_exact

from r_json import num

R_SCRIPT = Path(__file__).parent / "r" / "fisher.R"
RTOL = 1e-10  # same algorithm (exact enumeration of the same tables): rounding only
SETTINGS = settings(derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def tables(draw: Any, max_rows: int = 4, max_cols: int = 5, max_cell: int = 9) -> list[list[int]]:
    """r x c tables (not 2 x 2) with no empty row or column and R's default workspace enough."""
    r = draw(st.integers(2, max_rows))
    c = draw(st.integers(3 if r == 2 else 2, max_cols))
    cell = st.integers(0, max_cell if r * c <= 12 else 4)
    tab = np.array(draw(st.lists(st.lists(cell, min_size=c, max_size=c), min_size=r, max_size=r)))
    tab[:, 0] += tab.sum(axis=1) == 0  # no empty row (R drops none: FEXACT takes the table)
    tab[0] += tab.sum(axis=0) == 0  # no empty column
    return tab.tolist()


def _drawn(n: int) -> list[list[list[int]]]:
    """The first n tables hypothesis draws (derandomized: the same tables on every run)."""
    seen: list[list[list[int]]] = []

    @settings(SETTINGS, max_examples=n)
    @given(tables())
    def collect(tab: list[list[int]]) -> None:
        seen.append(tab)

    collect()
    return seen


def _run_r(tmp_dir: Path, given_tables: list[list[list[int]]]) -> Any:
    rscript = shutil.which("Rscript")
    if rscript is None:
        if os.environ.get("CARTSCOPE_REQUIRE_R"):
            pytest.fail("Rscript is required (CARTSCOPE_REQUIRE_R=1) but not installed")
        pytest.skip("Rscript not installed; R reference tests run in CI")
    tables_json = tmp_dir / "tables.json"
    tables_json.write_text(json.dumps(given_tables))
    out = tmp_dir / "fisher.json"
    proc = subprocess.run([rscript, "--vanilla", str(R_SCRIPT), str(out), str(tables_json)],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"R script {R_SCRIPT.name} failed:\n{proc.stderr[-4000:]}")
    return json.loads(out.read_text())


DRAWN = _drawn(60)


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _run_r(tmp_path_factory.mktemp("fisher_r"), DRAWN)


def _case(ref: Any, name: str) -> Any:
    return next(c for c in ref["cases"] if c["name"] == name)


def _splits(total: int, caps: list[int]) -> Iterator[tuple[int, ...]]:
    """Every split of total over len(caps) cells within caps."""
    if len(caps) == 1:
        if total <= caps[0]:
            yield (total,)
        return
    rest = sum(caps[1:])
    for x in range(max(0, total - rest), min(caps[0], total) + 1):
        for tail in _splits(total - x, caps[1:]):
            yield (x, *tail)


def _brute_force(table: np.ndarray, log_tol: float = FEXACT_TOL) -> float:
    """Sum of P(T) over every table T with the margins and log P(T) <= log P(obs) + log_tol."""
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    n = int(rows.sum())
    lf = special.gammaln(np.arange(n + 1) + 1.0)
    const = lf[rows].sum() + lf[cols].sum() - lf[n]
    obs = -lf[table].sum()
    total = 0.0

    def fill(j: int, left: np.ndarray, value: float) -> None:
        nonlocal total
        if j == cols.size - 1:
            v = value - lf[left].sum()
            if v <= obs + log_tol:
                total += np.exp(const + v)
            return
        for x in _splits(int(cols[j]), [int(m) for m in left]):
            xa = np.array(x)
            fill(j + 1, left - xa, value - lf[xa].sum())

    fill(0, rows.copy(), 0.0)
    return float(min(1.0, total))


@pytest.mark.r_reference
@pytest.mark.parametrize("name", ["8x2", "4x2", "5x2", "3x3", "4x3", "3x5", "near_tie",
                                  "exact_ties", "sparse"])
def test_fixed_tables_match_r(ref: Any, name: str) -> None:
    c = _case(ref, name)
    table = np.array([[num(v) for v in row] for row in c["table"]])
    np.testing.assert_allclose(fisher_exact(table).p_value, num(c["p"]), rtol=RTOL)


@pytest.mark.r_reference
def test_drawn_tables_match_r(ref: Any) -> None:
    assert len(ref["given"]) == len(DRAWN) == 60
    ours = np.array([fisher_exact(t).p_value for t in DRAWN])
    np.testing.assert_allclose(ours, num(ref["given"]), rtol=RTOL)


@pytest.mark.r_reference
def test_near_tie_counts_as_fexact_does(ref: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """R's r x c rule is FEXACT's log-scale tol, not the 2 x 2 rule 1 + 1e-7: they differ here."""
    table = np.array([[7, 2, 3, 14, 17], [17, 17, 15, 7, 3]])
    r_p = num(_case(ref, "near_tie")["p"])
    np.testing.assert_allclose(fisher_rxc_network(table), r_p, rtol=RTOL)
    monkeypatch.setattr(_fisher_network, "FEXACT_TOL", float(np.log1p(1e-7)))
    strict = fisher_rxc_network(table)
    assert abs(strict / r_p - 1) > 1e-5  # the rule matters for this table


@pytest.mark.r_reference
def test_table_r_refuses_at_its_default_workspace(ref: Any) -> None:
    """R's default workspace (200000) is too small for this 4 x 5 table; cartscope's limits are
    not, and its p equals R's run with workspace = 2e7."""
    c = _case(ref, "needs_workspace")
    assert "FEXACT error" in c["default_error"]
    table = np.array([[num(v) for v in row] for row in c["table"]])
    np.testing.assert_allclose(fisher_exact(table).p_value, num(c["p"]), rtol=RTOL)


@settings(SETTINGS, max_examples=40)
@given(tables(max_rows=3, max_cols=4, max_cell=3))
def test_matches_brute_force(tab: list[list[int]]) -> None:
    table = np.array(tab)
    np.testing.assert_allclose(fisher_exact(table).p_value, _brute_force(table), rtol=1e-11)


@settings(SETTINGS, max_examples=40)
@given(tables(), st.randoms(use_true_random=False))
def test_same_p_under_transpose_and_permutation(tab: list[list[int]], rnd: Any) -> None:
    table = np.array(tab)
    rows = list(range(table.shape[0]))
    cols = list(range(table.shape[1]))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    p = fisher_exact(table).p_value
    np.testing.assert_allclose(fisher_exact(table.T).p_value, p, rtol=1e-12)
    np.testing.assert_allclose(fisher_exact(table[rows][:, cols]).p_value, p, rtol=1e-12)


def test_direct_three_column_tail_gives_the_same_p(monkeypatch: pytest.MonkeyPatch) -> None:
    """The (path, arc) queries of the last three columns, forced on every table, change nothing."""
    default = np.array([fisher_exact(t).p_value for t in DRAWN])
    monkeypatch.setattr(_fisher_network, "_DIRECT", 0)
    monkeypatch.setattr(_fisher_network, "_CHUNK", 7)  # many chunks, each smaller than a node
    direct = np.array([fisher_exact(t).p_value for t in DRAWN])
    np.testing.assert_allclose(direct, default, rtol=1e-12)


def test_work_limit_raises_a_clear_error() -> None:
    tab = [[9, 3, 5, 1, 7], [2, 8, 4, 6, 3], [5, 5, 9, 2, 1], [3, 7, 2, 8, 6]]
    with pytest.raises(ValueError, match="too large for the exact test"):
        fisher_exact(tab, max_tables=1000)


def test_few_tables_by_hand() -> None:
    """Margins (1, 1, 5) x (1, 6): three tables, the lone 1 of column 1 in row 1, 2 or 3.

    P = (1, 1, 5) / 7 for the 1 in rows 1, 2, 3; the observed (row 1) is among the least
    likely, with the row-2 table exactly as likely: p = 2 / 7.
    """
    table = np.array([[1, 0], [0, 1], [0, 5]])
    assert fisher_exact(table).p_value == pytest.approx(2 / 7, rel=1e-13)
    assert fisher_exact(np.array([[0, 1], [0, 1], [1, 4]])).p_value == pytest.approx(1.0, rel=1e-13)
