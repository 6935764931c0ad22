"""The reproduction record: every published figure gets a cartscope value and a verdict."""

from __future__ import annotations

import pytest

from cartscope.analysis.reproduction import PUBLISHED, Published, judge, render, reproduce


@pytest.fixture(scope="module")
def jin_rows():
    return reproduce("jin2023", seed=2023)


def test_every_published_figure_of_jin2023_is_compared(jin_rows):
    expected = [p.quantity for p in PUBLISHED if p.preset == "jin2023"]
    assert [r.quantity for r in jin_rows] == expected
    assert all(r.cartscope != "n/a" for r in jin_rows)
    assert all(r.agrees.startswith(("yes", "no: ")) for r in jin_rows)


def test_jin2023_core_figures_agree(jin_rows):
    by = {r.quantity: r for r in jin_rows}
    for q in ("B-ALL no response / relapse / remission", "NR/ER share among evaluable, B-NHL",
              "MIP3a AUC (training)", "MIP3a sensitivity", "relapses by 6-month bin, B-NHL"):
        assert by[q].agrees.startswith("yes"), (q, by[q])


def test_judge_rules():
    p = Published("x", "q", "0.0049", 0.0049, "p", "s")
    assert judge(p, "0.01", 0.01).startswith("yes")
    assert judge(p, "0.2", 0.2).startswith("no: opposite side of 0.05")
    share = Published("x", "q", "50%", 0.5, "share", "s")
    assert judge(share, "55%", 0.55).startswith("yes")
    assert judge(share, "75%", 0.75).startswith("no: differs by 0.250")
    count = Published("x", "q", "3 / 2", None, "count", "s")
    assert judge(count, "3 / 2", None) == "yes (exact)"
    assert judge(count, "2 / 3", None).startswith("no")
    r = Published("x", "q", "-0.5", -0.5, "r", "s")
    assert judge(r, "0.5", 0.5) == "no: opposite direction"


def test_render_has_one_table_per_preset(jin_rows):
    text = render({"jin2023": jin_rows}, seed=7)
    assert "## jin2023" in text and "seed 7" in text
    assert text.count("| quantity | published | cartscope | agrees | source |") == 1


@pytest.mark.slow
def test_committed_reproduction_record_is_current(tmp_path):
    """Regenerates docs/reproduction.md (what `cartscope reproduce` writes) and fails on any
    difference, so the record cannot go stale; the targets of the three presets hold."""
    from pathlib import Path

    from cartscope.analysis.reproduction import write_reproduction

    committed = Path(__file__).resolve().parents[2] / "docs" / "reproduction.md"
    fresh = write_reproduction(tmp_path / "reproduction.md", seed=2023).read_text(encoding="utf-8")
    assert fresh == committed.read_text(encoding="utf-8"), "docs/reproduction.md is stale: run `cartscope reproduce`"
    assert "26 of 27 figures agree" in fresh and "12 of 13 figures agree" in fresh and "8 of 8 figures agree" in fresh
    verdicts = [line.split(" | ")[3] for line in fresh.splitlines() if line.startswith("| ") and "---" not in line
                and not line.startswith("| quantity")]
    misses = [v for v in verdicts if v.startswith("no")]
    assert len(misses) == 2 and misses[0].startswith("no: the generator places the validation MIP3a values")
    assert misses[1].startswith("no: censoring the three children at their transplant")


def test_lu2021_listing_figures_at_printed_precision():
    rows = {r.quantity: r for r in reproduce("lu2021", seed=2023)}
    assert rows["2-year EFS, MRD-positive group"].cartscope == "61.2% +- 14.0%"
    assert rows["CRS grade 1 after the first infusion (%)"].cartscope == "71.4"
    assert rows["CRS grade 1 after the first infusion (%)"].agrees == "yes (equal at the printed precision)"
    assert judge(Published("x", "q", "71.4", 0.714, "printed", "s"), "64.3", 0.643).startswith("no: 64.3")
