"""Canonical units: one unit per analyte, known conversions, nothing guessed.

Every lab analyte and kinetics measure has one canonical unit (design.md, "Time, units and
identity"): cytokines pg/mL, ferritin ng/mL (= ug/L), CRP mg/L, cell counts per uL, CAR
transgene copies per ug genomic DNA, haemoglobin g/dL, bilirubin and creatinine mg/dL.

A unit is first normalised for spelling (``UNIT_SPELLINGS``: ``ug/l``, ``µg/L``, ``mcg/L`` are
all ``ug/L``), then placed in a dimension with a factor to that dimension's reference unit
(``DIMENSIONS``). Conversion between two units of one dimension is the ratio of their factors;
molar units (umol/L) convert to mass only for analytes with a known molar mass, through the
conventional clinical factors bilirubin 17.1 umol/L per mg/dL and creatinine 88.4 umol/L per
mg/dL. A unit outside this vocabulary, or a unit of the wrong dimension for the analyte, is a
validation problem: the loader never guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --- spelling --------------------------------------------------------------------------

_SPELLING_GROUPS: dict[str, tuple[str, ...]] = {
    "pg/mL": ("pg/ml", "pg per ml", "pg/cc"),
    "ng/mL": ("ng/ml", "ng per ml"),
    "ng/L": ("ng/l",),
    "ng/dL": ("ng/dl",),
    "ug/L": ("ug/l", "mcg/l", "µg/l", "μg/l"),
    "ug/mL": ("ug/ml", "mcg/ml", "µg/ml", "μg/ml"),
    "ug/dL": ("ug/dl", "mcg/dl", "µg/dl", "μg/dl"),
    "mg/L": ("mg/l",),
    "mg/dL": ("mg/dl", "mg%"),
    "mg/mL": ("mg/ml",),
    "g/L": ("g/l",),
    "g/dL": ("g/dl", "g%"),
    "umol/L": ("umol/l", "µmol/l", "μmol/l", "micromol/l"),
    "mmol/L": ("mmol/l",),
    "/uL": ("/ul", "/µl", "/μl", "per ul", "cells/ul", "cells/µl", "/mm3", "/mm^3", "cells/mm3", "/cmm",
            "x10^6/l", "10^6/l", "x10e6/l", "10e6/l"),
    "x10^9/L": ("x10^9/l", "10^9/l", "x10e9/l", "10e9/l", "x 10^9/l", "×10^9/l", "×10⁹/l", "x10*9/l",
                "10*9/l", "giga/l", "x10^3/ul", "10^3/ul", "x10e3/ul", "k/ul", "/nl", "x10^3/µl", "10^3/µl"),
    "x10^12/L": ("x10^12/l", "10^12/l", "x10e12/l", "x10^6/ul", "10^6/ul", "m/ul"),
    "/L": ("/l", "cells/l"),
    "U/L": ("u/l", "iu/l", "ui/l"),
    "ukat/L": ("ukat/l", "µkat/l", "μkat/l"),
    "copies/ug": ("copies/ug", "copies/µg", "copies/μg", "copies/ug dna", "copies/µg dna", "copies/ug gdna",
                  "copies/µg gdna", "copies/μg gdna", "copies per ug", "copies per ug dna", "copies/mcg",
                  "copies/mcg dna", "copies/ug genomic dna", "copies/µg genomic dna"),
    "copies/ng": ("copies/ng", "copies/ng dna", "copies/ng gdna"),
    "%": ("%", "pct", "percent"),
    "ratio": ("ratio", "1", "none", "-"),
    "NPX": ("npx",),
    "hGE/mL": ("hge/ml", "hge per ml", "haploid genome equivalents/ml", "genome equivalents/ml", "ge/ml"),
    "mL": ("ml", "cm3", "cm^3", "cc", "cm³"),
    "L": ("l", "litre", "liter"),
    "score": ("score", "z-score", "zscore", "gsva", "ssgsea", "gsva score", "ssgsea score"),
    "SUV": ("suv", "g/ml bw"),
}

UNIT_SPELLINGS: dict[str, str] = {alias: unit for unit, aliases in _SPELLING_GROUPS.items() for alias in aliases}
"""Lower-case spelling (spaces collapsed) -> canonical spelling of the unit."""
UNIT_SPELLINGS.update({unit.lower(): unit for unit in _SPELLING_GROUPS})

DIMENSIONS: dict[str, tuple[str, float]] = {
    # mass concentration, factor in pg/mL
    "pg/mL": ("mass", 1.0), "ng/L": ("mass", 1.0), "ng/dL": ("mass", 10.0), "ng/mL": ("mass", 1e3),
    "ug/L": ("mass", 1e3), "ug/dL": ("mass", 1e4), "ug/mL": ("mass", 1e6), "mg/L": ("mass", 1e6),
    "mg/dL": ("mass", 1e7), "mg/mL": ("mass", 1e9), "g/L": ("mass", 1e9), "g/dL": ("mass", 1e10),
    # amount concentration, factor in umol/L (converted to mass only through an analyte's molar factor)
    "umol/L": ("molar", 1.0), "mmol/L": ("molar", 1e3),
    # cell concentration, factor in cells/uL
    "/uL": ("count", 1.0), "x10^9/L": ("count", 1e3), "x10^12/L": ("count", 1e6), "/L": ("count", 1e-6),
    # enzyme activity, factor in U/L
    "U/L": ("activity", 1.0), "ukat/L": ("activity", 60.0),
    # transgene copies per mass of genomic DNA, factor in copies/ug
    "copies/ug": ("copies", 1.0), "copies/ng": ("copies", 1e3),
    "%": ("percent", 1.0),
    "ratio": ("ratio", 1.0),
    "NPX": ("npx", 1.0),
    # ctDNA: haploid genome equivalents per mL of plasma
    "hGE/mL": ("genomes", 1.0),
    # volume (metabolic tumour volume), factor in mL
    "mL": ("volume", 1.0), "L": ("volume", 1e3),
    # gene-set and signature scores (GSVA, ssGSEA, z-scores): unitless, may be negative
    "score": ("score", 1.0),
    "SUV": ("suv", 1.0),
}
"""Canonical unit -> (dimension, factor to the dimension's reference unit)."""


def normalise_unit(text: object) -> str | None:
    """The canonical spelling of a unit, or ``None`` when the spelling is not known."""
    if text is None:
        return None
    key = re.sub(r"\s+", " ", str(text).strip().lower())
    if key in UNIT_SPELLINGS:
        return UNIT_SPELLINGS[key]
    compact = key.replace(" ", "")
    for candidate in (compact, compact.replace("μ", "u").replace("µ", "u")):
        if candidate in UNIT_SPELLINGS:
            return UNIT_SPELLINGS[candidate]
    return None


# --- analytes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Analyte:
    """A lab analyte with its canonical unit.

    ``molar_per_mass`` is umol/L per mg/dL (bilirubin 17.1, creatinine 88.4) where a molar unit
    may be converted; ``plausible_max`` (canonical unit) flags values that suggest a unit error.
    ``minimum`` / ``maximum`` bound possible values (``minimum=None``: negative values allowed,
    as for gene-set scores); ``lod`` / ``lloq`` / ``uloq`` are the assay limits in the canonical
    unit (they give a value to ``<LOD``, ``<LLOQ``, ``>ULOQ`` cells); ``conversions`` lists
    ``(unit, factor)`` pairs for units outside the shared vocabulary (value x factor = value in
    ``unit``).
    """

    name: str
    unit: str
    aliases: tuple[str, ...] = ()
    molar_per_mass: float | None = None
    plausible_max: float | None = None
    minimum: float | None = 0.0
    maximum: float | None = None
    lod: float | None = None
    lloq: float | None = None
    uloq: float | None = None
    conversions: tuple[tuple[str, float], ...] = ()
    description: str = ""


_CYTOKINE_MAX = 1e6

ANALYTES: dict[str, Analyte] = {a.name: a for a in (
    Analyte("il6", "pg/mL", ("il-6", "interleukin-6", "interleukin 6"), plausible_max=_CYTOKINE_MAX),
    Analyte("il10", "pg/mL", ("il-10", "interleukin-10"), plausible_max=_CYTOKINE_MAX),
    Analyte("il8", "pg/mL", ("il-8", "cxcl8", "interleukin-8"), plausible_max=_CYTOKINE_MAX),
    Analyte("il2", "pg/mL", ("il-2", "interleukin-2"), plausible_max=_CYTOKINE_MAX),
    Analyte("il4", "pg/mL", ("il-4",), plausible_max=_CYTOKINE_MAX),
    Analyte("il5", "pg/mL", ("il-5",), plausible_max=_CYTOKINE_MAX),
    Analyte("il15", "pg/mL", ("il-15",), plausible_max=_CYTOKINE_MAX),
    Analyte("il18", "pg/mL", ("il-18",), plausible_max=_CYTOKINE_MAX),
    Analyte("il1b", "pg/mL", ("il-1b", "il-1β", "il1β", "il-1beta", "il1beta"), plausible_max=_CYTOKINE_MAX),
    Analyte("il1ra", "pg/mL", ("il-1ra", "il1-ra"), plausible_max=_CYTOKINE_MAX),
    Analyte("il2r", "pg/mL", ("il-2r", "sil-2r", "sil2r", "scd25", "sil-2ra", "il2ra"), plausible_max=1e7),
    Analyte("ifng", "pg/mL", ("ifn-g", "ifn-γ", "ifnγ", "ifn-gamma", "ifngamma", "interferon gamma"),
            plausible_max=_CYTOKINE_MAX),
    Analyte("tnfa", "pg/mL", ("tnf-a", "tnf-α", "tnfα", "tnf-alpha", "tnf"), plausible_max=_CYTOKINE_MAX),
    Analyte("gm_csf", "pg/mL", ("gm-csf", "gmcsf"), plausible_max=_CYTOKINE_MAX),
    Analyte("mcp1", "pg/mL", ("mcp-1", "ccl2"), plausible_max=_CYTOKINE_MAX),
    Analyte("ferritin", "ng/mL", (), plausible_max=5e5),
    Analyte("crp", "mg/L", ("c-reactive protein", "hscrp", "hs-crp"), plausible_max=1000.0),
    Analyte("ldh", "U/L", ("lactate dehydrogenase",), plausible_max=1e5),
    Analyte("alt", "U/L", ("alat", "sgpt"), plausible_max=2e4),
    Analyte("ast", "U/L", ("asat", "sgot"), plausible_max=3e4),
    Analyte("bilirubin", "umol/L", ("total bilirubin", "tbil", "bili"), molar_per_mass=17.1, plausible_max=1000.0),
    Analyte("creatinine", "umol/L", ("crea", "creat"), molar_per_mass=88.4, plausible_max=2500.0),
    Analyte("hemoglobin", "g/L", ("haemoglobin", "hb", "hgb"), plausible_max=250.0),
    Analyte("fibrinogen", "g/L", ("fib",), plausible_max=20.0),
    Analyte("igg", "g/L", ("immunoglobulin g", "serum igg", "total igg"), plausible_max=100.0),
    Analyte("triglycerides", "mmol/L", ("triglyceride", "tg"), molar_per_mass=11.29, plausible_max=100.0),
    Analyte("platelets", "/uL", ("plt", "platelet count", "platelet"), plausible_max=3e6),
    Analyte("anc", "/uL", ("neutrophils", "absolute neutrophil count"), plausible_max=3e5),
    Analyte("alc", "/uL", ("lymphocytes", "absolute lymphocyte count"), plausible_max=1e6),
    Analyte("wbc", "/uL", ("leukocytes", "white blood cells"), plausible_max=1e6),
    # tumour burden and circulating tumour DNA (review, seed 002: ctDNA, TMTV > 80 mL)
    Analyte("ctdna", "hGE/mL", ("ct-dna", "circulating tumor dna", "circulating tumour dna", "ctdna level"),
            plausible_max=1e7, description="circulating tumour DNA, haploid genome equivalents per mL plasma"),
    Analyte("ctdna_vaf", "%", ("ctdna vaf", "ctdna af", "variant allele frequency"), maximum=100.0,
            description="ctDNA variant allele fraction"),
    Analyte("tmtv", "mL", ("total metabolic tumor volume", "total metabolic tumour volume", "mtv", "tmtv ml"),
            plausible_max=1e4, description="total metabolic tumour volume on PET-CT"),
    Analyte("suvmax", "SUV", ("suv max", "suv_max"), plausible_max=200.0, description="maximum standardised uptake"),
    # suppressive myeloid cells
    Analyte("mdsc_pct", "%", ("mdsc", "mdsc %", "mdsc_percent", "m-mdsc", "myeloid-derived suppressor cells"),
            maximum=100.0, description="myeloid-derived suppressor cells, % of PBMC"),
    # gene-set / signature scores: unitless, negative allowed
    Analyte("exhaustion_score", "score", ("t cell exhaustion score", "exhaustion signature"), minimum=None,
            description="T-cell exhaustion gene-set score (GSVA / ssGSEA)"),
    Analyte("memory_score", "score", ("stemness score", "memory signature", "tscm score"), minimum=None,
            description="memory / stem-like gene-set score"),
    Analyte("ifn_score", "score", ("interferon signature", "ifn signature score"), minimum=None,
            description="interferon response gene-set score"),
    # CAR-T phenotypes (commentary, seed 004; review, seed 002): % of CAR+ T cells
    Analyte("car_tscm_pct", "%", ("car tscm", "car-t tscm %", "car stem memory"), maximum=100.0,
            description="stem-cell memory CAR-T cells (CD45RA+ CCR7+ CD95+), % of CAR+ T cells"),
    Analyte("car_tcm_pct", "%", ("car tcm", "car-t tcm %", "car central memory"), maximum=100.0,
            description="central memory CAR-T cells (CD45RO+ CD62L+), % of CAR+ T cells"),
    Analyte("car_tem_pct", "%", ("car tem", "car-t tem %", "car effector memory"), maximum=100.0,
            description="effector memory CAR-T cells (CD45RO+ CD62L-), % of CAR+ T cells"),
    Analyte("car_t_exhausted_pct", "%", ("car exhausted", "car-t exhausted %", "car pd1 tim3 lag3"), maximum=100.0,
            description="exhausted CAR-T cells (PD-1+ TIM-3+ LAG-3+), % of CAR+ T cells"),
    Analyte("car_treg_pct", "%", ("car-treg", "car treg", "car-treg %", "car tregs"), maximum=100.0,
            description="CAR+ regulatory T cells (CD4+ CD25+ FOXP3+), % of CAR+ T cells"),
    Analyte("car_treg_per_ul", "/uL", ("car-treg count", "car treg count"), plausible_max=1e5,
            description="CAR+ regulatory T cells per uL blood"),
)}
"""Known analytes by canonical name (lower case, no separators)."""


def _analyte_key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


_ANALYTE_LOOKUP: dict[str, str] = {}
for _a in ANALYTES.values():
    for _spelling in (_a.name, *_a.aliases):
        _ANALYTE_LOOKUP[_analyte_key(_spelling)] = _a.name


def canonical_analyte(name: object) -> str | None:
    """The canonical name of a known analyte (``"IL-6"`` -> ``"il6"``), else ``None``."""
    if name is None:
        return None
    return _ANALYTE_LOOKUP.get(_analyte_key(str(name)))


def analyte_name_key(name: object) -> str:
    """The key under which two analyte names are one analyte: the canonical name of a known
    analyte (``"IL-6"``, ``"il6"``, ``"IL6"``), else the name as written."""
    return canonical_analyte(name) or str(name)


KINETIC_UNITS: dict[str, str] = {
    "car_copies_per_ug": "copies/ug",
    "cd19_car_copies": "copies/ug",
    "cd22_car_copies": "copies/ug",
    "car_cells_per_ul": "/uL",
    "b_cells_per_ul": "/uL",
    "b_cells_pct": "%",
    "cd4_cd8_ratio": "ratio",
}
"""Canonical unit of each kinetics measure (the measure name states it)."""


class UnitError(ValueError):
    """A unit that cannot be converted to the required canonical unit (message says why)."""


def conversion_factor(from_unit: str, to_unit: str, *, analyte: str | None = None) -> float:
    """Multiply a value in ``from_unit`` by this to express it in ``to_unit``.

    Both units are canonical spellings. Mass <-> molar conversion needs a known ``analyte`` with
    a molar factor (mg/dL = umol/L / ``molar_per_mass``).
    """
    if from_unit == to_unit:
        return 1.0
    dim_from, f_from = DIMENSIONS[from_unit]
    dim_to, f_to = DIMENSIONS[to_unit]
    if dim_from == dim_to:
        return f_from / f_to
    info = ANALYTES.get(analyte) if analyte else None
    if info is not None and info.molar_per_mass and {dim_from, dim_to} == {"molar", "mass"}:
        mgdl = DIMENSIONS["mg/dL"][1]
        if dim_from == "molar":  # umol/L -> mg/dL -> target mass unit
            return f_from / info.molar_per_mass * mgdl / f_to
        return f_from / mgdl * info.molar_per_mass / f_to
    what = f" for {analyte}" if analyte else ""
    raise UnitError(f"{from_unit} ({dim_from}) cannot be converted to {to_unit} ({dim_to}){what}")
