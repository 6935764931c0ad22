"""Methods sentences of the haematotoxicity kinds: written exactly when their tables exist."""

from __future__ import annotations

from types import SimpleNamespace

from cartscope.report.toxicity_methods import SENTENCES, toxicity_methods


def test_one_sourced_sentence_per_analysis_that_ran() -> None:
    res = SimpleNamespace(tables={"icaht_grades": None, "infections_windows": None, "survival": None})
    out = toxicity_methods(res)
    assert len(out) == 2
    assert "Rejeski et al., Blood 2023" in out[0] and "T-ICAHT" in out[0]
    assert "competing event" in out[1]
    assert toxicity_methods(SimpleNamespace(tables={})) == []
    every = toxicity_methods(SimpleNamespace(tables={t: None for t, _ in SENTENCES}))
    assert len(every) == 6 and any("Hines et al." in s for s in every)
    assert any("dexamethasone equivalents" in s for s in every)
