"""Every figure of every preset's report, and of an adversarial cohort, checked from the
drawn artists (tests/report/figure_quality.py): no overlapping text, no legend over data,
no text below 6 pt at the printed size, no collapsed axes, nothing outside the figure, no
matplotlib warning; and no internal code in any table or figure."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from cartscope.analysis.presets import synthesize
from cartscope.analysis.protocol import load_protocol
from cartscope.analysis.study import run_study
from cartscope.cohort.units import ANALYTES
from cartscope.report.document import build_document
from figure_quality import check_figure, figure_texts

CODE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
ANALYTE_CODES = {n for n in ANALYTES if not n.isalpha() or n in ("il6", "il10", "il18", "ifng", "tnfa", "mcp1")}
WORD_CODES = ANALYTE_CODES | {"tp53", "il6", "il18", "auc0", "bridging", "persistence day"}


def internal_codes(text: str) -> list[str]:
    found = CODE.findall(text)
    low = f" {text} "
    found += [c for c in WORD_CODES if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", low)]
    return found


@pytest.fixture(scope="module", params=["jin2023", "li2023", "lu2021"])
def preset_doc(request):
    cohort = synthesize(request.param, seed=2023)
    results = run_study(cohort, load_protocol(request.param))
    doc = build_document(results, cohort)
    figures = {f.key: f.recipe.draw() for f in doc.figures()}
    return request.param, doc, figures


@pytest.mark.slow
def test_every_figure_passes_the_quality_checks(preset_doc):
    name, _, figures = preset_doc
    problems = [str(p) for key, fig in figures.items() for p in check_figure(fig, f"{name}/{key}")]
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_no_internal_code_in_any_table_or_figure(preset_doc):
    name, doc, figures = preset_doc
    found = []
    for t in doc.tables():
        cells = [t.table.title, *t.table.footnotes, *map(str, t.table.display.columns),
                 *t.table.display.astype(str).to_numpy().ravel()]
        found += [(t.key, c, hit) for c in cells for hit in internal_codes(c)]
    for key, fig in figures.items():
        found += [(key, s, hit) for s in figure_texts(fig) for hit in internal_codes(s)]
    for f in doc.figures():
        found += [(f.key, f.caption, hit) for hit in internal_codes(f.caption)]
    assert not found, "\n".join(f"{name}/{k}: {hit!r} in {c[:80]!r}" for k, c, hit in found[:30])


def test_the_code_finder_finds_codes():
    assert internal_codes("car_copies_per_ug by il6") == ["car_copies_per_ug", "il6"]
    assert internal_codes("IL-6 (pg/mL); CAR transgene, copies/µg DNA; AUC 0-28 d") == []


# --- adversarial inputs ---------------------------------------------------------------------


def _km(times, events):
    from cartscope.stats.km import kaplan_meier

    return kaplan_meier(np.asarray(times, float), np.asarray(events, int))


def _adversarial_figures():
    from cartscope.report.figures.forest import forest_figure
    from cartscope.report.figures.km import km_figure
    from cartscope.report.figures.swimmer import swimmer_figure, swimmer_pages

    rng = np.random.default_rng(7)
    long = "Patients with a very long subgroup label that a registry might use (second line)"
    out = {
        "km_one_patient_per_group": km_figure({"A": _km([100], [1]), "B": _km([300], [0])}, ci=True,
                                              median_lines=True),
        "km_long_labels": km_figure({long: _km(rng.exponential(300, 40), rng.integers(0, 2, 40)),
                                     long + " B": _km(rng.exponential(500, 40), rng.integers(0, 2, 40))},
                                    p_text="p = 0.042", median_lines=True, risk_rows=("at risk", "censored", "events")),
        "km_200_patients": km_figure(_km(rng.exponential(400, 200), rng.integers(0, 2, 200)), ci=True),
    }
    n = 200
    ep = pd.DataFrame({
        "patient_id": [f"P{i:03d}" for i in range(n)], "index_day": 0.0,
        "last_contact_day": rng.uniform(20, 900, n), "death_day": np.where(rng.random(n) < 0.2, rng.uniform(20, 900, n), np.nan),
        "lost_day": np.nan, "response_day": np.where(rng.random(n) < 0.7, 28.0, np.nan),
        "relapse_day": np.where(rng.random(n) < 0.3, rng.uniform(60, 400, n), np.nan), "progression_day": np.nan,
        "hsct_day": np.nan, "relapse_cd19": None, "disease_group": np.where(rng.random(n) < 0.5, "B-ALL", "B-NHL"),
    })
    ep["death_day"] = np.fmax(ep["death_day"], ep["relapse_day"].fillna(0) + 1).where(ep["death_day"].notna())
    ep["last_contact_day"] = np.fmax(ep["last_contact_day"], ep["death_day"].fillna(0))
    xmax = float(ep["last_contact_day"].max())
    for k, page in enumerate(swimmer_pages(ep), 1):
        out[f"swimmer_200_page{k}"] = swimmer_figure(page, group="disease_group", xmax=xmax)
    cox = pd.DataFrame({"term": ["age", long], "hr": [1.1, 2.5], "lower": [0.9, 1.2], "upper": [1.4, 5.1],
                        "p": [0.3, 0.0004]})
    out["forest_long_label"] = forest_figure(cox)
    return out


def test_adversarial_figures_pass_the_quality_checks():
    problems = [str(p) for key, fig in _adversarial_figures().items() for p in check_figure(fig, key)]
    assert not problems, "\n".join(problems)
