"""Methods sentences, with their sources, for the haematotoxicity, IEC-HS, infection, IgG,
cytopenia and toxicity-treatment analyses (kinds of :mod:`cartscope.analysis.analyses`).

A sentence is written when its result table is in the results (the report computes nothing);
the thresholds quoted are the defaults documented in docs/toxicity-reference.md, and the
analysis' own method text (``method`` column of the ARD) travels with every number.
"""

from __future__ import annotations

from typing import Any

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
