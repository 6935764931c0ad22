"""Methods sentences, with their sources, for the haematotoxicity, IEC-HS, infection, IgG,
cytopenia and toxicity-treatment analyses (kinds of :mod:`cartscope.analysis.analyses`).

A sentence is written when its result table is in the results (the report computes nothing);
the thresholds quoted are the defaults documented in docs/toxicity-reference.md, and the
analysis' own method text (``method`` column of the ARD) travels with every number.
"""

from __future__ import annotations

from typing import Any

from cartscope.report.wording import join_words

SENTENCES: tuple[tuple[str, str], ...] = (
    ("icaht_grades",
     "Immune effector cell-associated haematotoxicity was graded by the EHA/EBMT consensus (Rejeski et al., "
     "Blood 2023;142:865-877): early ICAHT (days 0-30) from the cumulative days with an absolute neutrophil count "
     "at or below 500/uL and 100/uL, counting non-stable recoveries shorter than 3 days and censoring at "
     "progression, new therapy or death, and late ICAHT (after day 30) from the lowest count on at least two "
     "measurements; thrombocytopenia was graded by T-ICAHT (Rejeski et al., Blood 2025) with thresholds of "
     "50,000 and 20,000 platelets/uL. G-CSF use and transfusions are reported per patient."),
    ("iec_hs_summary",
     "Immune effector cell-associated HLH-like syndrome was identified following the ASTCT consensus (Hines et al., "
     "Transplant Cell Ther 2023;29:438.e1): ferritin above twice the upper limit of normal (or of a raised "
     "baseline) after the peak of CRS, with at least one of transaminases above five times the upper limit, "
     "fibrinogen below 1.5 g/L, a new grade 3 or higher cytopenia or LDH above the upper limit, graded by the "
     "treatment and organ support recorded."),
    ("infections_windows",
     "Infections were counted by type (bacterial, viral, fungal) in the windows after infusion; the cumulative "
     "incidence of the first infection of CTCAE grade 3 or higher was estimated by the Aalen-Johansen method with "
     "death as the competing event (variance of R cmprsk::cuminc)."),
    ("hypogammaglobulinemia_summary",
     "Hypogammaglobulinaemia was an IgG below the protocol threshold (default 400 mg/dL) after infusion; "
     "immunoglobulin replacement (IVIG) is reported."),
    ("prolonged_cytopenia_summary",
     "Prolonged cytopenia was a CTCAE version 5.0 grade 3 or higher neutropenia, thrombocytopenia or anaemia on the "
     "count nearest the landmark days (default days 28 and 90, within 7 days); patients censored before a landmark "
     "were not evaluable there."),
    ("toxicity_treatment_summary",
     "Toxicity treatment is reported as tocilizumab doses, the cumulative corticosteroid dose in dexamethasone "
     "equivalents (0.75 mg dexamethasone = 4 mg methylprednisolone = 5 mg prednisone = 20 mg hydrocortisone), "
     "anakinra use and days in intensive care."),
)
"""(result table, sentence) in report order."""


def toxicity_methods(results: Any) -> list[str]:
    """The sentences of :data:`SENTENCES` whose table is among ``results.tables``."""
    tables = getattr(results, "tables", {}) or {}
    return [text for table, text in SENTENCES if table in tables]


def _patients(n: int) -> str:
    return f"{n} patient" + ("" if n == 1 else "s")


def grade_provenance(sources: Any, toxicity: str) -> str:
    """Where one toxicity's grades came from, in words with counts, from one group's rows of
    the ``toxicity_sources`` table: e.g. "graded from the daily observations for 20 patients
    and recorded by the treating centre for 8" ("" when the table has no row for it)."""
    rows = sources[sources["toxicity"].astype(str) == toxicity]
    if rows.empty:
        return ""
    daily, rec, none = (int(rows[c].iloc[0]) for c in ("graded_daily", "recorded", "no_grade"))
    parts = []
    if daily:
        parts.append(f"graded from the daily observations for {_patients(daily)}")
    if rec:
        parts.append(f"recorded by the treating centre for {_patients(rec)}")
    if none:
        parts.append(f"ungraded for {_patients(none)}")
    return join_words(parts)


def overall_sources(results: Any) -> Any:
    """The all-patients rows of the first toxicity analysis' ``toxicity_sources`` (None if absent)."""
    tables = getattr(results, "tables", {}) or {}
    src = tables.get("toxicity_sources")
    if src is None or src.empty:
        return None
    if "analysis" in src:
        src = src[src["analysis"].astype(str) == str(src["analysis"].iloc[0])]
    groups = src["group"].astype(str)
    return src[groups == "all"] if (groups == "all").any() else src[groups == groups.iloc[0]]


def grading_sentence(results: Any) -> str:
    """The methods sentence on CRS / ICANS grading, following the grades' provenance in the
    results (ASTCT grading of daily observations, the centre's recorded grade, or both)."""
    src = overall_sources(results)
    head = "(Lee et al., Biol Blood Marrow Transplant 2019)"
    if src is None:
        return (f"Cytokine release syndrome and ICANS were graded by the ASTCT consensus criteria {head}; "
                "the highest grade per patient is reported.")
    said = {t: grade_provenance(src, t) for t in ("CRS", "ICANS")}
    if said["CRS"] and said["CRS"] == said["ICANS"]:
        body = f"cytokine release syndrome and ICANS were {said['CRS']}"
    else:
        body = "; ".join(f"{'cytokine release syndrome' if t == 'CRS' else 'ICANS'} was {s}"
                         for t, s in said.items() if s)
    return (f"Cytokine release syndrome and ICANS are reported as ASTCT consensus grades {head}: {body}; "
            "the highest grade per patient is reported.")
