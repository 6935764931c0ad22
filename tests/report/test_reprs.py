"""Short, R-like printed forms of results (as print(survfit)) and their notebook HTML."""

from __future__ import annotations

import numpy as np
import pytest

from cartscope import stats
from cartscope.analysis.presets import synthesize


@pytest.fixture(scope="module")
def objects():
    rng = np.random.default_rng(3)
    n = 300
    t = rng.exponential(300, n).round()
    e = rng.integers(0, 2, n)
    g = np.where(rng.random(n) < 0.5, "A", "B")
    x = rng.normal(size=n)
    return {
        "km": stats.kaplan_meier(t, e),
        "logrank": stats.logrank(t, e, g),
        "cox": stats.cox(t, e, x[:, None], names=["x"]),
        "roc": stats.roc(x, e),
        "cif": stats.cumulative_incidence(t, np.where(e == 1, rng.integers(1, 3, n), 0), g),
        "ci": stats.proportion_ci(12, 13, method="wilson"),
    }


def test_every_result_prints_short_without_arrays(objects):
    for name, obj in objects.items():
        text = repr(obj)
        assert text.startswith(f"<{type(obj).__name__}>"), name
        assert "array(" not in text and len(text) < 1500, (name, len(text))
        html = obj._repr_html_()
        assert html.startswith(("<div>", "<pre>")) and len(html) < 5000, name


def test_kaplan_meier_prints_as_r_print_survfit(objects):
    km = objects["km"]
    lines = repr(km).splitlines()
    assert lines[1].split() == ["n", "events", "median", "0.95LCL", "0.95UCL"]
    values = lines[2].split()
    assert values[:2] == [str(km.n), str(km.n_events)]
    assert float(values[2]) == pytest.approx(km.median, rel=1e-3)


def test_cohort_and_results_print_short():
    cohort = synthesize("lu2021", seed=2023)
    text = repr(cohort)
    assert text.startswith("<Cohort>") and len(text) < 400
    assert f"{len(cohort.patients)} patients" in text
    assert "<pre>" in cohort._repr_html_()
