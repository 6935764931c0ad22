"""What starting cartscope imports: the CLI starts without the numerical stack, and ``analyze``
loads only what the analyses use (no plotting, templating, spreadsheet, cluster or report code).

Asserted on the set of modules imported in a fresh interpreter, not on seconds, so the test
holds on a loaded machine: each heavy library named here costs 0.1-1.5 s to import.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

NUMERICAL = ("numpy", "pandas", "scipy", "pyarrow", "duckdb", "pydantic", "yaml")
"""Imported by the analyses, never by ``import cartscope`` or the CLI's start-up."""

NEVER_FOR_ANALYZE = (
    "matplotlib", "jinja2", "sklearn", "statsmodels", "lifelines", "openpyxl", "dask", "distributed",
    "playwright", "cartscope.report", "cartscope.bench",
)
"""Not needed to analyse and write the results (the report, the benchmarks, spreadsheets and
Dask are loaded only by the commands and options that use them)."""


def _imported(code: str) -> set[str]:
    """Modules in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _loaded(mods: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in mods))


def test_import_cartscope_loads_no_library():
    mods = _imported("import cartscope")
    assert _loaded(mods, NUMERICAL + NEVER_FOR_ANALYZE + ("rich", "typer")) == []
    assert sorted(m for m in mods if m.startswith("cartscope.")) == []


def test_cli_start_up_loads_no_numerical_library():
    mods = _imported("import cartscope.cli")
    assert _loaded(mods, NUMERICAL + NEVER_FOR_ANALYZE) == []
    assert _loaded(mods, ("cartscope.stats", "cartscope.analysis", "cartscope.clinical", "cartscope.cohort")) == []


@pytest.mark.slow
def test_analyze_imports_only_what_the_analyses_use():
    """What ``cartscope analyze`` imports before it runs: the protocol, every analysis kind, the
    cohort loader, the study runner and the results writer."""
    mods = _imported(
        "import cartscope.cli\n"
        "from cartscope.analysis.protocol import load_protocol\n"
        "from cartscope.analysis.plan.registry import kinds\n"
        "from cartscope.cohort.load import load_cohort\n"
        "from cartscope.cli_protocol import checked_plan\n"
        "from cartscope.analysis.study import run_study\n"
        "from cartscope.analysis.results import write_results\n"
        "load_protocol('jin2023'); kinds()"
    )
    assert _loaded(mods, ("numpy", "pandas", "scipy.stats")) == ["numpy", "pandas", "scipy.stats"]
    assert _loaded(mods, NEVER_FOR_ANALYZE) == []


@pytest.mark.slow
def test_a_whole_study_run_imports_nothing_it_does_not_need(tmp_path):
    """The imports made while the analyses run (a kind importing lazily counts too)."""
    mods = _imported(
        "from cartscope.analysis.presets import synthesize\n"
        "from cartscope.analysis.protocol import load_protocol\n"
        "from cartscope.analysis.study import run_study\n"
        "from cartscope.analysis.results import write_results\n"
        f"write_results(run_study(synthesize('jin2023', seed=1), load_protocol('jin2023')), {str(tmp_path)!r})"
    )
    assert "cartscope.analysis.analyses.kinetics" in mods
    assert _loaded(mods, NEVER_FOR_ANALYZE) == []
