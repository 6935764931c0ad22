"""CTCAE laboratory grades (v5.0 by default, v4 on request) and worst-grade tables.

Sources: NCI Common Terminology Criteria for Adverse Events v5.0 (27 Nov 2017) and v4.0/4.03,
as encoded in pharmaverse/admiral ``ncictcaev5.json`` / ``ncictcaev4.json`` and cross-checked
with the PharmaForest ctcae5_grader macros (``domain-reference.md`` section 3).

Range semantics are CTCAE's: for a *decreased* term "<A - B" means ``B <= x < A``; for an
*increased* term ">A - B" means ``A < x <= B``; the grade is the highest grade whose condition
holds. Grade 1 of a decreased term needs the LLN (without one it is undeterminable: NA).

Canonical analytes and units (values must arrive in these; other units raise an error):

==============  ========  ===========================================  ==========  ==========
analyte         unit      CTCAE term                                    default LLN default ULN
==============  ========  ===========================================  ==========  ==========
neutrophils     /uL       Neutrophil count decreased                    2000
wbc             /uL       White blood cell decreased                    4000
lymphocytes     /uL       Lymphocyte count decreased                    1000
platelets       /uL       Platelet count decreased                      150000
haemoglobin     g/L       Anemia                                        120
fibrinogen      g/L       Fibrinogen decreased                          2.0
alt             U/L       Alanine aminotransferase increased                        40
ast             U/L       Aspartate aminotransferase increased                      40
ggt             U/L       GGT increased                                             50
bilirubin       umol/L    Blood bilirubin increased                                 21
creatinine      umol/L    Creatinine increased                                      106
==============  ========  ===========================================  ==========  ==========

The default limits are sex-neutral adult values (a documented parameter, see
:class:`CtcaeRules`); a lab's own limits in ``lln``/``uln`` columns of ``labs`` win row by row.
Ratios to ULN/baseline do not depend on the unit; the absolute thresholds do (haemoglobin
100/80 g/L, fibrinogen 0.5 g/L = 50 mg/dL, counts per uL).

Baseline dependence (v5): ALT, AST, GGT and bilirubin use multiples of the *baseline* when the
baseline is above the ULN; creatinine takes the higher of its ULN and baseline branches;
fibrinogen uses the percentage decrease from baseline when the baseline is below the LLN, and
any value < 0.5 g/L is grade 4. v4 uses ULN multiples only, except creatinine (ULN or baseline
branch, with grade 1 for > 1 - 1.5 x baseline) and fibrinogen (LLN multiples *or* percentage
decrease for every patient with a baseline).

Fibrinogen, baseline-abnormal branch (open point U16): cartscope follows the CTCAE wording, a
*decrease* is required: ``-25 < pchg < 0`` is grade 1 and an unchanged or higher value is grade
0 (admiral grades any value < LLN as >= 1; ctcae5_grader counts ``pchg = 0`` as 1).

Febrile neutropenia (grade 3): ANC < 1000/uL and a temperature > 38.3 C recorded the same day
in ``toxicity_daily``. The daily table holds one temperature per day, so the alternative
">= 38 C sustained for more than one hour" cannot be assessed and is not used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd

from cartscope.clinical._episodes import in_window, require_columns

Version = Literal["5.0", "4.03"]

CANONICAL_UNITS: Mapping[str, str] = MappingProxyType({
    "neutrophils": "/uL", "wbc": "/uL", "lymphocytes": "/uL", "platelets": "/uL",
    "haemoglobin": "g/L", "fibrinogen": "g/L",
    "alt": "U/L", "ast": "U/L", "ggt": "U/L", "bilirubin": "umol/L", "creatinine": "umol/L",
})
"""The unit each graded analyte must be in."""

TERMS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "haemoglobin": ("Anemia", "Anaemia"),
    "wbc": ("White blood cell decreased", "Leukopenia"),
    "neutrophils": ("Neutrophil count decreased", "Neutropenia"),
    "lymphocytes": ("Lymphocyte count decreased", "Lymphopenia"),
    "platelets": ("Platelet count decreased", "Thrombocytopenia"),
    "fibrinogen": ("Fibrinogen decreased", "Fibrinogen decreased"),
    "alt": ("Alanine aminotransferase increased", "ALT increased"),
    "ast": ("Aspartate aminotransferase increased", "AST increased"),
    "ggt": ("GGT increased", "GGT increased"),
    "bilirubin": ("Blood bilirubin increased", "Bilirubin increased"),
    "creatinine": ("Creatinine increased", "Creatinine increased"),
})
"""CTCAE term and the common label (as in published adverse-event tables) per analyte."""

FEBRILE_NEUTROPENIA = ("Febrile neutropenia", "Febrile neutropenia")

DEFAULT_REFERENCE_RANGES: Mapping[str, tuple[float | None, float | None]] = MappingProxyType({
    "neutrophils": (2000.0, None), "wbc": (4000.0, None), "lymphocytes": (1000.0, None),
    "platelets": (150000.0, None), "haemoglobin": (120.0, None), "fibrinogen": (2.0, None),
    "alt": (None, 40.0), "ast": (None, 40.0), "ggt": (None, 50.0),
    "bilirubin": (None, 21.0), "creatinine": (None, 106.0),
})
"""Sex-neutral adult (LLN, ULN) in canonical units, used where a lab gives no limits."""

ANALYTE_ALIASES: Mapping[str, str] = MappingProxyType({
    **{a: a for a in CANONICAL_UNITS},
    "anc": "neutrophils", "neutrophil": "neutrophils", "neut": "neutrophils",
    "neutrophil_count": "neutrophils",
    "leukocytes": "wbc", "white_blood_cells": "wbc", "white blood cells": "wbc",
    "lymphocyte": "lymphocytes", "alc": "lymphocytes", "lymph": "lymphocytes",
    "lymphocyte_count": "lymphocytes",
    "platelet": "platelets", "plt": "platelets", "platelet_count": "platelets",
    "hemoglobin": "haemoglobin", "hb": "haemoglobin", "hgb": "haemoglobin",
    "fib": "fibrinogen",
    "alanine aminotransferase": "alt", "alat": "alt", "sgpt": "alt",
    "aspartate aminotransferase": "ast", "asat": "ast", "sgot": "ast",
    "gamma-gt": "ggt", "gamma_gt": "ggt", "gamma glutamyl transferase": "ggt",
    "total_bilirubin": "bilirubin", "total bilirubin": "bilirubin", "tbil": "bilirubin",
    "bili": "bilirubin",
    "creat": "creatinine", "scr": "creatinine", "serum_creatinine": "creatinine",
})
"""Accepted analyte spellings (lower case) mapped to the canonical name; others are ignored."""

_UNIT_SPELLINGS: Mapping[str, frozenset[str]] = MappingProxyType({
    "/uL": frozenset({"/ul", "cells/ul", "per ul", "/mm3", "cells/mm3", "1/ul"}),
    "g/L": frozenset({"g/l"}),
    "U/L": frozenset({"u/l", "iu/l"}),
    "umol/L": frozenset({"umol/l"}),
})

GRADE_COLUMNS = (
    "patient_id", "day", "analyte", "term", "value", "lln", "uln", "baseline",
    "baseline_abnormal", "rule", "grade",
)
WORST_COLUMNS = (
    "patient_id", "term", "label", "analyte", "worst_grade", "worst_day", "worst_value",
    "baseline", "baseline_grade", "n_measurements",
)


@dataclass(frozen=True)
class CtcaeRules:
    """Parameters of lab grading.

    window: closed day interval for the worst grade (default day 0 to day 28; ``(0, None)``
        = the whole follow-up).
    baseline_last_day: without an explicit ``baseline`` frame the baseline is the row labelled
        ``timepoint == "baseline"``, else the last measurement on or before this day.
    reference_ranges: (LLN, ULN) per canonical analyte, used where ``labs`` has no
        ``lln``/``uln`` value for the row.
    fn_temperature_c: febrile neutropenia needs a temperature strictly above this (38.3 C).
    fn_anc_below: and an ANC strictly below this (1000/uL).
    """

    window: tuple[float | None, float | None] = (0.0, 28.0)
    baseline_last_day: float = 0.0
    reference_ranges: Mapping[str, tuple[float | None, float | None]] = field(
        default_factory=lambda: dict(DEFAULT_REFERENCE_RANGES)
    )
    fn_temperature_c: float = 38.3
    fn_anc_below: float = 1000.0

    def __post_init__(self) -> None:
        start, end = self.window
        if start is not None and end is not None and start > end:
            raise ValueError(f"window start {start} is after its end {end}")
        unknown = set(self.reference_ranges) - set(CANONICAL_UNITS)
        if unknown:
            raise ValueError(
                f"reference_ranges has unknown analytes {sorted(unknown)}; "
                f"known: {sorted(CANONICAL_UNITS)}"
            )


@dataclass(frozen=True)
class LabGrades:
    """CTCAE grades of a cohort's labs.

    daily: one row per graded measurement (columns :data:`GRADE_COLUMNS`; ``grade`` NA when
        undeterminable, e.g. grade 1 of a decreased term without LLN).
    worst: one row per patient x term with a measurement in the window (columns
        :data:`WORST_COLUMNS`); ``baseline_grade`` is the baseline value graded against the
        reference limits (for shift tables).
    patient_ids: the analysis set (``patients`` when given, else every patient in ``labs``).
    """

    daily: pd.DataFrame
    worst: pd.DataFrame
    patient_ids: tuple[str, ...]
    version: str
    rules: CtcaeRules

    @property
    def n_patients(self) -> int:
        return len(self.patient_ids)

    def to_frame(self) -> pd.DataFrame:
        """The per patient x term worst grades (a copy)."""
        return self.worst.copy()

    def ae_table(self, denominator: Literal["all", "evaluable"] = "all") -> pd.DataFrame:
        """Per term, the number and percentage of patients whose worst grade is 1, 2, 3, 4.

        The layout of a published adverse-event table (e.g. Lu et al. 2021, Table 3).
        ``denominator="all"`` divides by the analysis set, ``"evaluable"`` by the patients
        with at least one gradable measurement of the term in the window.
        """
        if denominator not in ("all", "evaluable"):
            raise ValueError("denominator must be 'all' or 'evaluable'")
        terms = [TERMS[a] for a in TERMS]
        if (self.worst["term"] == FEBRILE_NEUTROPENIA[0]).any():
            terms.append(FEBRILE_NEUTROPENIA)
        rows = []
        for term, label in terms:
            w = self.worst[self.worst["term"] == term]
            graded = w["worst_grade"].dropna().astype(int)
            n = self.n_patients if denominator == "all" else int(len(graded))
            row: dict[str, object] = {
                "term": term, "label": label, "n": n, "n_evaluable": int(len(graded)),
            }
            for g in (1, 2, 3, 4):
                count = int((graded == g).sum())
                row[f"grade_{g}_n"] = count
                row[f"grade_{g}_pct"] = 100.0 * count / n if n else np.nan
            rows.append(row)
        return pd.DataFrame(rows)


# --- grading kernels (numpy arrays in, float grades out; NaN = undeterminable) -------------


def _decreased(x: np.ndarray, lln: np.ndarray, cuts: tuple[float, ...]) -> np.ndarray:
    """Grades 2.. by absolute cut points (descending) and grade 1 by ``x < LLN``."""
    conditions = [x < c for c in reversed(cuts)]
    choices = list(range(len(cuts) + 1, 1, -1))
    grade = np.select([*conditions, x < lln], [*choices, 1], default=0).astype(float)
    undetermined = np.isnan(lln) & ~(x < cuts[0])
    grade[undetermined | np.isnan(x)] = np.nan
    return grade


def _multiples(
    x: np.ndarray, ref: np.ndarray, cuts: tuple[float, ...], first_inclusive: bool = False
) -> np.ndarray:
    """Grade 1..len(cuts) when ``x`` exceeds ``cut * ref`` (grade 1 may be ``>=``)."""
    conditions = []
    for k in range(len(cuts), 0, -1):
        bound = cuts[k - 1] * ref
        conditions.append((x >= bound) if (k == 1 and first_inclusive) else (x > bound))
    grade = np.select(conditions, list(range(len(cuts), 0, -1)), default=0).astype(float)
    grade[np.isnan(x) | np.isnan(ref)] = np.nan
    return grade


_UP_ULN = {
    "alt": (1.0, 3.0, 5.0, 20.0), "ast": (1.0, 3.0, 5.0, 20.0),
    "ggt": (1.0, 2.5, 5.0, 20.0), "bilirubin": (1.0, 1.5, 3.0, 10.0),
    "creatinine": (1.0, 1.5, 3.0, 6.0),
}
_UP_BASELINE_V5 = {
    "alt": ((1.5, 3.0, 5.0, 20.0), True), "ast": ((1.5, 3.0, 5.0, 20.0), True),
    "ggt": ((2.0, 2.5, 5.0, 20.0), True), "bilirubin": ((1.0, 1.5, 3.0, 10.0), False),
}
_DOWN_CUTS = {
    "neutrophils": (1500.0, 1000.0, 500.0), "wbc": (3000.0, 2000.0, 1000.0),
    "lymphocytes": (800.0, 500.0, 200.0), "platelets": (75000.0, 50000.0, 25000.0),
    "haemoglobin": (100.0, 80.0),
}
FIBRINOGEN_ABSOLUTE_G_L = 0.5
"""CTCAE fibrinogen grade 4 absolute threshold: < 50 mg/dL = 0.5 g/L."""


def grade_values(
    analyte: str,
    value: np.ndarray,
    *,
    lln: np.ndarray,
    uln: np.ndarray,
    baseline: np.ndarray,
    version: Version = "5.0",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CTCAE grade of each value of one canonical analyte.

    Returns ``(grade, baseline_abnormal, rule)``: float grades (NaN = undeterminable), whether
    the baseline branch applied, and the rule used ("LLN", "ULN", "baseline", "ULN|baseline",
    "percent change", "absolute"). ``baseline`` may be NaN (no baseline: limit-based rules).
    """
    x = np.asarray(value, dtype=float)
    lln = np.asarray(lln, dtype=float)
    uln = np.asarray(uln, dtype=float)
    base = np.asarray(baseline, dtype=float)
    n = len(x)
    no_abn = np.zeros(n, dtype=bool)
    if analyte in _DOWN_CUTS:
        return _decreased(x, lln, _DOWN_CUTS[analyte]), no_abn, np.full(n, "LLN", dtype=object)
    if analyte == "fibrinogen":
        return _fibrinogen(x, lln, base, version)
    if analyte not in _UP_ULN:
        raise ValueError(f"no CTCAE rule for analyte {analyte!r}; known: {sorted(TERMS)}")
    by_uln = _multiples(x, uln, _UP_ULN[analyte])
    rule = np.full(n, "ULN", dtype=object)
    has_base = ~np.isnan(base) & (base > 0)
    if analyte == "creatinine":
        cuts = (1.0, 1.5, 3.0) if version.startswith("4") else (np.inf, 1.5, 3.0)
        by_base = np.where(has_base, np.nan_to_num(_multiples(x, base, cuts), nan=0.0), 0.0)
        grade = np.where(np.isnan(by_uln), np.nan, np.maximum(by_uln, by_base))
        rule[has_base] = "ULN|baseline"
        return grade, no_abn, rule
    if version.startswith("4"):
        return by_uln, no_abn, rule
    abnormal = has_base & (base > uln)
    cuts, inclusive = _UP_BASELINE_V5[analyte]
    by_base = _multiples(x, base, cuts, first_inclusive=inclusive)
    grade = np.where(abnormal, by_base, by_uln)
    rule[abnormal] = "baseline"
    return grade, abnormal, rule


def _fibrinogen(
    x: np.ndarray, lln: np.ndarray, base: np.ndarray, version: Version
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(x)
    by_lln = _multiples(-x, -lln, (1.0, 0.75, 0.5, 0.25))
    has_base = ~np.isnan(base) & (base > 0)
    # The percentage change 100 * (x - base) / base is compared with -75, -50, -25 and 0 as
    # multiples of the baseline (pchg <= -75 <=> x <= 0.25 * base, ...): no division, so a
    # tiny baseline cannot overflow and the bands are exact at 0.25 and 0.5 x baseline.
    b = np.where(has_base, base, np.nan)
    by_pct = np.select(
        [x <= 0.25 * b, x <= 0.5 * b, x <= 0.75 * b, x < b], [4, 3, 2, 1], default=0
    ).astype(float)
    by_pct[~has_base | np.isnan(x)] = np.nan
    rule = np.full(n, "LLN", dtype=object)
    if version.startswith("4"):
        abnormal = np.zeros(n, dtype=bool)
        grade = np.fmax(by_lln, by_pct)
        rule[has_base] = "LLN|percent change"
    else:
        abnormal = has_base & (base < lln)
        grade = np.where(abnormal, by_pct, by_lln)
        rule[abnormal] = "percent change"
    absolute = x < FIBRINOGEN_ABSOLUTE_G_L
    grade = np.where(absolute, 4.0, grade)
    rule[absolute] = "absolute"
    grade[np.isnan(x)] = np.nan
    return grade, abnormal, rule


# --- table handling --------------------------------------------------------------------------


def _canonical_analytes(analyte: pd.Series) -> pd.Series:
    key = analyte.astype("string").str.strip().str.lower()
    return key.map(dict(ANALYTE_ALIASES))


def _unit_key(unit: str) -> str:
    return unit.strip().lower().replace("\u00b5", "u").replace("\u03bc", "u").replace(" ", "")


def _check_units(frame: pd.DataFrame, table: str) -> None:
    if "unit" not in frame.columns:
        return
    allowed = {
        analyte: {_unit_key(s) for s in (unit, *_UNIT_SPELLINGS[unit])}
        for analyte, unit in CANONICAL_UNITS.items()
    }
    pairs = frame[["analyte", "analyte_c", "unit"]].drop_duplicates()
    bad = [
        f"{a} in {u!r} (expected {CANONICAL_UNITS[c]})"
        for a, c, u in pairs.itertuples(index=False)
        if not pd.isna(u) and _unit_key(str(u)) not in allowed[c]
    ]
    if bad:
        raise ValueError(
            f"{table} has values not in the canonical unit for CTCAE grading: "
            f"{'; '.join(bad[:5])}. Convert units on load before grading."
        )


def _prepare(labs: pd.DataFrame, table: str) -> pd.DataFrame:
    require_columns(labs, ("patient_id", "analyte", "value"), table)
    frame = labs.copy()
    if "role" in frame.columns:
        role = frame["role"].astype("string").str.strip().str.lower()
        frame = frame[~(role == "healthy_donor").fillna(False).to_numpy(dtype=bool)]
    frame["analyte_c"] = _canonical_analytes(frame["analyte"])
    frame = frame[frame["analyte_c"].notna()].copy()
    frame["patient_id"] = frame["patient_id"].astype(str)
    try:
        value = pd.to_numeric(frame["value"], errors="raise").astype(float).to_numpy()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{table}.value must be numeric for graded analytes") from exc
    if "qualifier" in frame.columns:
        q = frame["qualifier"].astype("string").str.strip().fillna("=").to_numpy(dtype=object)
        # '<x' lies strictly below x, '>x' strictly above: grade the nearest such number.
        value = np.where(q == "<", np.nextafter(value, -np.inf), value)
        value = np.where(q == ">", np.nextafter(value, np.inf), value)
    frame["value_c"] = value
    _check_units(frame, table)
    return frame


def _limits(frame: pd.DataFrame, rules: CtcaeRules) -> tuple[np.ndarray, np.ndarray]:
    ranges = {**DEFAULT_REFERENCE_RANGES, **dict(rules.reference_ranges)}
    default_lln = frame["analyte_c"].map({a: r[0] for a, r in ranges.items()}).astype(float)
    default_uln = frame["analyte_c"].map({a: r[1] for a, r in ranges.items()}).astype(float)
    lln = default_lln.to_numpy()
    uln = default_uln.to_numpy()
    if "lln" in frame.columns:
        own = pd.to_numeric(frame["lln"], errors="coerce").to_numpy(dtype=float)
        lln = np.where(np.isnan(own), lln, own)
    if "uln" in frame.columns:
        own = pd.to_numeric(frame["uln"], errors="coerce").to_numpy(dtype=float)
        uln = np.where(np.isnan(own), uln, own)
    return lln, uln


def _baselines(
    labs: pd.DataFrame, baseline: pd.DataFrame | None, rules: CtcaeRules
) -> pd.DataFrame:
    """Baseline value and limits per patient x analyte (columns patient_id, analyte_c, ...)."""
    cols = ["patient_id", "analyte_c", "baseline", "baseline_lln", "baseline_uln"]
    if baseline is not None:
        src = _prepare(baseline, "baseline")
        order = ["day"] if "day" in src.columns else []
    else:
        src = labs
        if "day" not in src.columns:
            return pd.DataFrame(columns=cols)
        label = (
            src["timepoint"].astype("string").str.strip().str.lower() == "baseline"
            if "timepoint" in src.columns else pd.Series(False, index=src.index)
        ).fillna(False).to_numpy(dtype=bool)
        day = pd.to_numeric(src["day"], errors="coerce").to_numpy(dtype=float)
        pre = day <= rules.baseline_last_day
        labelled = pd.Series(label).groupby(
            [src["patient_id"].to_numpy(), src["analyte_c"].to_numpy()]
        ).transform("any").to_numpy(dtype=bool)
        src = src[np.where(labelled, label, pre)]
        order = ["day"]
    if src.empty:
        return pd.DataFrame(columns=cols)
    lln, uln = _limits(src, rules)
    out = pd.DataFrame({
        "patient_id": src["patient_id"].to_numpy(),
        "analyte_c": src["analyte_c"].to_numpy(),
        "baseline": src["value_c"].to_numpy(),
        "baseline_lln": lln,
        "baseline_uln": uln,
        **({"day": src["day"].to_numpy(dtype=float)} if order else {}),
    })
    if order:
        out = out.sort_values(order, kind="mergesort")
    out = out.dropna(subset=["baseline"])
    return out.groupby(["patient_id", "analyte_c"], as_index=False).last()[cols]


def _febrile_neutropenia(
    graded: pd.DataFrame, toxicity_daily: pd.DataFrame, rules: CtcaeRules
) -> pd.DataFrame:
    require_columns(toxicity_daily, ("patient_id", "day"), "toxicity_daily")
    if "temperature_c" not in toxicity_daily.columns:
        return graded.iloc[0:0]
    temps = pd.DataFrame({
        "patient_id": toxicity_daily["patient_id"].astype(str),
        "day": pd.to_numeric(toxicity_daily["day"], errors="coerce"),
        "temperature": pd.to_numeric(toxicity_daily["temperature_c"], errors="coerce"),
    }).dropna().groupby(["patient_id", "day"], as_index=False)["temperature"].max()
    anc = graded[graded["analyte"] == "neutrophils"]
    both = anc.merge(temps, on=["patient_id", "day"], how="inner")
    fn = (both["value"] < rules.fn_anc_below) & (both["temperature"] > rules.fn_temperature_c)
    out = both.drop(columns="temperature").assign(
        term=FEBRILE_NEUTROPENIA[0],
        rule=f"ANC < {rules.fn_anc_below:g}/uL and temperature > {rules.fn_temperature_c:g} C",
        grade=np.where(fn, 3.0, 0.0),
        baseline=np.nan,
        baseline_grade=np.nan,
        baseline_abnormal=False,
    )
    return out


def grade_labs(
    labs: pd.DataFrame,
    baseline: pd.DataFrame | None = None,
    *,
    version: Version = "5.0",
    patients: pd.DataFrame | None = None,
    toxicity_daily: pd.DataFrame | None = None,
    rules: CtcaeRules = CtcaeRules(),
) -> LabGrades:
    """CTCAE grade of every graded lab measurement, and each patient's worst grade per term.

    ``labs`` is the cohort labs table (patient_id, day, analyte, value, unit; optional
    qualifier, timepoint, role, lln, uln); analytes outside :data:`ANALYTE_ALIASES` are ignored
    and healthy-donor rows dropped. ``baseline`` (patient_id, analyte, value) overrides the
    baseline taken from ``labs`` (see :class:`CtcaeRules`). ``toxicity_daily`` adds febrile
    neutropenia. ``patients`` fixes the analysis set for :meth:`LabGrades.ae_table`.
    See the module docstring for the criteria, units and limits.
    """
    if version not in ("5.0", "4.03"):
        raise ValueError(f"version must be '5.0' or '4.03', got {version!r}")
    require_columns(labs, ("patient_id", "day", "analyte", "value"), "labs")
    frame = _prepare(labs, "labs")
    frame["day"] = pd.to_numeric(frame["day"], errors="coerce")
    if frame["day"].isna().any():
        raise ValueError("labs has graded rows with a missing or non-numeric day")
    lln, uln = _limits(frame, rules)
    frame["lln"], frame["uln"] = lln, uln
    base = _baselines(frame, baseline, rules)
    frame = frame.merge(base, on=["patient_id", "analyte_c"], how="left")

    pieces = []
    for analyte, part in frame.groupby("analyte_c", sort=True):
        grade, abnormal, rule = grade_values(
            str(analyte), part["value_c"].to_numpy(), lln=part["lln"].to_numpy(),
            uln=part["uln"].to_numpy(), baseline=part["baseline"].to_numpy(dtype=float),
            version=version,
        )
        base_grade, _, _ = grade_values(
            str(analyte), part["baseline"].to_numpy(dtype=float),
            lln=part["baseline_lln"].to_numpy(dtype=float),
            uln=part["baseline_uln"].to_numpy(dtype=float),
            baseline=np.full(len(part), np.nan), version=version,
        )
        pieces.append(pd.DataFrame({
            "patient_id": part["patient_id"].to_numpy(),
            "day": part["day"].to_numpy(dtype=float),
            "analyte": str(analyte),
            "term": TERMS[str(analyte)][0],
            "value": part["value_c"].to_numpy(),
            "lln": part["lln"].to_numpy(),
            "uln": part["uln"].to_numpy(),
            "baseline": part["baseline"].to_numpy(dtype=float),
            "baseline_abnormal": abnormal,
            "rule": rule,
            "grade": grade,
            "baseline_grade": base_grade,
        }))
    empty = pd.DataFrame({c: pd.Series(dtype=float) for c in (*GRADE_COLUMNS, "baseline_grade")})
    graded = pd.concat(pieces, ignore_index=True) if pieces else empty
    if toxicity_daily is not None and not graded.empty:
        graded = pd.concat(
            [graded, _febrile_neutropenia(graded, toxicity_daily, rules)], ignore_index=True
        )
    graded = graded.sort_values(["patient_id", "analyte", "term", "day"], kind="mergesort")
    graded = graded.reset_index(drop=True)

    if patients is not None:
        require_columns(patients, ("patient_id",), "patients")
        ids = tuple(pd.unique(patients["patient_id"].astype(str)))
    else:
        pid = labs["patient_id"].astype(str)
        if "role" in labs.columns:
            role = labs["role"].astype("string").str.strip().str.lower()
            pid = pid[~(role == "healthy_donor").fillna(False).to_numpy(dtype=bool)]
        ids = tuple(sorted(pd.unique(pid)))

    daily = graded[list(GRADE_COLUMNS)].copy()
    daily["grade"] = daily["grade"].astype("Int64")
    return LabGrades(
        daily=daily, worst=_worst(graded, rules), patient_ids=ids, version=version, rules=rules
    )


def _worst(graded: pd.DataFrame, rules: CtcaeRules) -> pd.DataFrame:
    """Worst grade per patient x term inside the window (first day reaching it)."""
    if graded.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in WORST_COLUMNS})
    w = graded[in_window(graded["day"], rules.window)]
    keys = ["patient_id", "term"]
    counts = w.groupby(keys).size().rename("n_measurements")
    ranked = w.assign(_g=w["grade"].fillna(-1.0)).sort_values(
        [*keys, "_g", "day"], ascending=[True, True, False, True], kind="mergesort"
    )
    top = ranked.drop_duplicates(keys, keep="first")
    top = top.merge(counts.reset_index(), on=keys)
    labels = {t: lab for t, lab in (*TERMS.values(), FEBRILE_NEUTROPENIA)}
    out = pd.DataFrame({
        "patient_id": top["patient_id"].to_numpy(),
        "term": top["term"].to_numpy(),
        "label": top["term"].map(labels).to_numpy(),
        "analyte": top["analyte"].to_numpy(),
        "worst_grade": pd.array(
            np.where(top["_g"] < 0, np.nan, top["_g"]), dtype="Float64"
        ).astype("Int64"),
        "worst_day": top["day"].to_numpy(dtype=float),
        "worst_value": top["value"].to_numpy(dtype=float),
        "baseline": top["baseline"].to_numpy(dtype=float),
        "baseline_grade": pd.array(top["baseline_grade"].to_numpy(dtype=float), dtype="Float64")
        .astype("Int64"),
        "n_measurements": top["n_measurements"].to_numpy(dtype=np.int64),
    })
    return out
