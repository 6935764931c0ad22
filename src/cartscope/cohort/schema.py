"""The cohort data model: seven long/tidy tables with typed columns.

This module is the single definition of what a cohort looks like. Loading, validation,
the store, the synthetic generators and the clinical rules all read these schemas; nothing
else hard-codes a column name list.

Conventions (design.md, "Time, units and identity"):

- time is **days from the index infusion** (day 0). Every table with a time carries either a
  ``day`` column or a ``date`` column (ISO calendar date); dates are converted to days from the
  patient's first infusion (or the infusion the protocol names) on load;
- ``patient_id`` is a string everywhere;
- each measured quantity has one canonical unit (see :mod:`cartscope.cohort.units`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnKind = Literal["str", "int", "float", "bool", "category", "day", "date"]


@dataclass(frozen=True)
class Column:
    """One column of a cohort table.

    ``allowed`` lists the canonical category labels (after case/spelling normalisation by
    :data:`CATEGORY_ALIASES`); ``minimum``/``maximum`` bound numeric values (inclusive);
    ``unit`` names the canonical unit of a numeric column.
    """

    name: str
    kind: ColumnKind
    required: bool = False
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None
    description: str = ""


@dataclass(frozen=True)
class TableSchema:
    """A cohort table: its columns, its row identity and whether a cohort must have it."""

    name: str
    description: str
    columns: tuple[Column, ...]
    required: bool = False
    keep_extra_columns: bool = False
    timed: bool = True
    key: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


# --- category vocabularies -------------------------------------------------------------

DISEASES = (
    "B-ALL", "DLBCL", "HGBCL", "PMBCL", "tFL", "FL", "MCL", "MZL", "CLL", "Burkitt", "B-NHL",
)
"""Disease labels. ``B-ALL`` is its own group; every other label is grouped as ``B-NHL``."""

DISEASE_GROUP = {d: ("B-ALL" if d == "B-ALL" else "B-NHL") for d in DISEASES}

SEXES = ("F", "M")
COHORT_ROLES = ("training", "validation", "other")
DISEASE_STATUSES = ("refractory", "first relapse", "second+ relapse", "MRD-positive")
PRIOR_HSCT = ("none", "auto", "allo")
ASSESSMENT_KINDS = ("bone_marrow", "flow_mrd", "pet_ct", "ct", "csf", "clinical")
RESPONSES = ("MRD-negative CR", "CR", "CRi", "PR", "SD", "PD", "NR")
EVENT_TYPES = (
    "relapse", "progression", "hsct", "death", "lost_to_follow_up", "last_contact",
    "new_therapy", "reinfusion",
    # infections and toxicity treatment (one row per infection episode or administration)
    "infection", "ivig", "g_csf", "transfusion", "tocilizumab", "corticosteroid", "anakinra",
    "icu_admission", "icu_discharge",
)
TREATMENT_EVENTS = ("ivig", "g_csf", "transfusion", "tocilizumab", "corticosteroid", "anakinra")
"""Event types that record an administration (``agent``, ``dose`` and ``dose_unit`` apply)."""
INFECTION_TYPES = ("bacterial", "viral", "fungal", "other", "unknown")
ANTIGEN_STATUS = ("positive", "negative", "unknown")
DEATH_CAUSES = ("disease", "crs", "icans", "infection", "hsct", "other", "unknown")
LAB_ROLES = ("patient", "healthy_donor")
SAMPLES = ("serum", "plasma", "blood", "marrow", "csf")
KINETIC_MEASURES = (
    "car_copies_per_ug", "car_cells_per_ul", "cd19_car_copies", "cd22_car_copies",
    "cd4_cd8_ratio", "b_cells_per_ul", "b_cells_pct",
)
OXYGEN = ("none", "low-flow", "high-flow", "positive-pressure")
CONSCIOUSNESS = ("alert", "spontaneous", "voice", "tactile", "unarousable")
SEIZURE = ("none", "resolving", "prolonged")
CEREBRAL_EDEMA = ("none", "focal", "diffuse")
QUALIFIERS = ("=", ">", ">=", "<", "<=")
ICANS_TOOLS = ("ice", "capd")

CATEGORY_ALIASES: dict[str, dict[str, str]] = {
    "sex": {"female": "F", "f": "F", "male": "M", "m": "M"},
    "disease": {"b-all": "B-ALL", "ball": "B-ALL", "all": "B-ALL", "b-nhl": "B-NHL", "nhl": "B-NHL"},
    "disease_status": {
        "refractory": "refractory", "primary refractory": "refractory",
        "first relapse": "first relapse", "relapse 1": "first relapse",
        "second relapse": "second+ relapse", "second+ relapse": "second+ relapse",
        ">=second relapse": "second+ relapse", "mrd-positive": "MRD-positive",
    },
    "response": {
        "mrd-negative cr": "MRD-negative CR", "mrd- cr": "MRD-negative CR", "mrdneg cr": "MRD-negative CR",
        "cr": "CR", "cri": "CRi", "pr": "PR", "sd": "SD", "pd": "PD", "nr": "NR",
        "cmr": "CR", "pmr": "PR", "nmr": "SD", "pmd": "PD",
    },
    "type": {
        "gcsf": "g_csf", "g-csf": "g_csf", "ivig": "ivig", "immunoglobulin": "ivig",
        "steroid": "corticosteroid", "steroids": "corticosteroid", "corticosteroids": "corticosteroid",
        "icu admission": "icu_admission", "icu discharge": "icu_discharge",
    },
    "infection_type": {"bacteria": "bacterial", "virus": "viral", "fungus": "fungal", "fungi": "fungal"},
    "oxygen": {
        "none": "none", "room air": "none", "low flow": "low-flow", "low-flow": "low-flow",
        "high flow": "high-flow", "high-flow": "high-flow", "positive pressure": "positive-pressure",
        "positive-pressure": "positive-pressure", "cpap": "positive-pressure", "bipap": "positive-pressure",
        "mechanical ventilation": "positive-pressure",
    },
}
"""Spellings accepted for a category, mapped to the canonical label (keys are lower case)."""


def _id(required: bool = True) -> Column:
    return Column("patient_id", "str", required=required, description="patient identifier (string)")


def _time() -> tuple[Column, ...]:
    return (
        Column("day", "day", description="days from the index infusion (day 0); give day or date"),
        Column("date", "date", description="calendar date (ISO 8601); converted to day on load"),
    )


RECORDED_GRADE_COLUMNS = (
    Column("crs_grade", "int", minimum=0, maximum=5, description="ASTCT CRS grade as recorded by the centre"),
    Column("crs_onset_day", "float", minimum=0, maximum=365, unit="days",
           description="recorded CRS onset, days from the index infusion"),
    Column("crs_duration_days", "float", minimum=0, maximum=365, unit="days", description="recorded CRS duration"),
    Column("icans_grade", "int", minimum=0, maximum=5, description="ASTCT ICANS grade as recorded by the centre"),
    Column("icans_onset_day", "float", minimum=0, maximum=365, unit="days",
           description="recorded ICANS onset, days from the index infusion"),
    Column("icans_duration_days", "float", minimum=0, maximum=365, unit="days",
           description="recorded ICANS duration"),
)
"""Per-patient toxicity grades recorded without daily observations (in ``patients`` or a
``toxicity`` table); :func:`cartscope.clinical.recorded_grades.patient_toxicity_grades` uses them."""

PATIENTS = TableSchema(
    name="patients",
    description="one row per patient: baseline characteristics; extra columns are covariates",
    required=True,
    keep_extra_columns=True,
    timed=False,
    key=("patient_id",),
    columns=(
        _id(),
        Column("disease", "category", required=True, allowed=DISEASES),
        Column("sex", "category", allowed=SEXES),
        Column("age", "float", minimum=0, maximum=120, unit="years"),
        Column("cohort", "category", allowed=COHORT_ROLES),
        Column("prior_lines", "int", minimum=0, maximum=30),
        Column("disease_status", "category", allowed=DISEASE_STATUSES),
        Column("prior_hsct", "category", allowed=PRIOR_HSCT),
        Column("cns_involvement", "bool"),
        Column("extramedullary", "bool"),
        Column("tp53", "bool", description="TP53 mutation or deletion"),
        Column("ph_positive", "bool", description="Philadelphia chromosome (BCR-ABL1)"),
        Column("ecog", "int", minimum=0, maximum=4),
        Column("stage", "int", minimum=1, maximum=4, description="Ann Arbor stage I-IV as 1-4"),
        Column("extranodal_sites", "int", minimum=0, maximum=20),
        Column("ldh", "float", minimum=0, unit="U/L"),
        Column("ldh_uln", "float", minimum=0, unit="U/L"),
        Column("weight_kg", "float", minimum=0, maximum=300, unit="kg"),
        Column("icans_tool", "category", allowed=ICANS_TOOLS,
               description="ice or capd; overrides the age rule (e.g. developmental delay)"),
        *RECORDED_GRADE_COLUMNS,
    ),
)

INFUSIONS = TableSchema(
    name="infusions",
    description="one row per CAR-T infusion",
    required=True,
    key=("patient_id", "infusion_no"),
    columns=(
        _id(),
        Column("infusion_no", "int", required=True, minimum=1, maximum=20),
        *_time(),
        Column("label", "str", description="protocol name of the infusion, e.g. CART1, CART2"),
        Column("product", "str", required=True, description="CD19, CD22, CD19/CD22 cocktail, ..."),
        Column("dose_per_kg", "float", minimum=0, unit="1e6 cells/kg", description="total CAR-T dose"),
        Column("dose_cd19_per_kg", "float", minimum=0, unit="1e6 cells/kg"),
        Column("dose_cd22_per_kg", "float", minimum=0, unit="1e6 cells/kg"),
        Column("lymphodepletion", "str", description="e.g. Flu/Cy"),
    ),
)

ASSESSMENTS = TableSchema(
    name="assessments",
    description="one row per response assessment",
    required=True,
    columns=(
        _id(),
        *_time(),
        Column("kind", "category", required=True, allowed=ASSESSMENT_KINDS),
        Column("response", "category", allowed=RESPONSES),
        Column("blasts_pct", "float", minimum=0, maximum=100, unit="%"),
        Column("mrd_pct", "float", minimum=0, maximum=100, unit="%"),
        Column("deauville", "int", minimum=1, maximum=5),
        Column("anc_per_ul", "float", minimum=0, unit="/uL"),
        Column("platelets_per_ul", "float", minimum=0, unit="/uL"),
        Column("extramedullary", "bool"),
    ),
)

EVENTS = TableSchema(
    name="events",
    description="one row per clinical event after the index infusion",
    required=True,
    columns=(
        _id(),
        *_time(),
        Column("type", "category", required=True, allowed=EVENT_TYPES),
        Column("cd19_status", "category", allowed=ANTIGEN_STATUS, description="relapse CD19 phenotype"),
        Column("cd22_status", "category", allowed=ANTIGEN_STATUS, description="relapse CD22 phenotype"),
        Column("cause", "category", allowed=DEATH_CAUSES, description="cause of death"),
        Column("detail", "str", description="free text (e.g. 'CD19- relapse', 'allo-HSCT')"),
        Column("infection_type", "category", allowed=INFECTION_TYPES,
               description="infection events: bacterial, viral, fungal, other or unknown"),
        Column("grade", "int", minimum=1, maximum=5,
               description="infection events: CTCAE grade (severity) of the infection"),
        Column("agent", "str", description="treatment events: drug or blood product "
               "(dexamethasone, methylprednisolone, filgrastim, red cells, platelets, ...)"),
        Column("dose", "float", minimum=0, description="treatment events: amount of this administration"),
        Column("dose_unit", "str", description="unit of dose: mg, mg/kg, g, g/kg, ug, ug/kg, units"),
    ),
)

LABS = TableSchema(
    name="labs",
    description="one row per laboratory measurement (cytokines, chemistry, haematology)",
    columns=(
        _id(),
        *_time(),
        Column("analyte", "str", required=True),
        Column("value", "float", required=True, minimum=0),
        Column("unit", "str", required=True),
        Column("qualifier", "category", allowed=QUALIFIERS,
               description="'>=' marks a value at the upper assay limit (censored)"),
        Column("panel", "str"),
        Column("timepoint", "str", description="label such as baseline, il6_peak"),
        Column("sample", "category", allowed=SAMPLES),
        Column("role", "category", allowed=LAB_ROLES, description="healthy_donor rows are references"),
        Column("lln", "float", minimum=0, description="the laboratory's lower limit of normal, same unit"),
        Column("uln", "float", minimum=0, description="the laboratory's upper limit of normal, same unit"),
    ),
)

KINETICS = TableSchema(
    name="kinetics",
    description="one row per cellular-kinetics measurement",
    columns=(
        _id(),
        Column("infusion_no", "int", minimum=1, maximum=20),
        *_time(),
        Column("measure", "category", required=True, allowed=KINETIC_MEASURES),
        Column("value", "float", required=True, minimum=0),
        Column("unit", "str"),
    ),
)

TOXICITY_DAILY = TableSchema(
    name="toxicity_daily",
    description="one row per patient-day of toxicity observation",
    key=("patient_id", "day"),
    columns=(
        _id(),
        *_time(),
        Column("temperature_c", "float", minimum=30, maximum=44, unit="C"),
        Column("hypotension", "bool"),
        Column("vasopressors", "int", minimum=0, maximum=6, description="count, excluding vasopressin"),
        Column("vasopressin", "bool"),
        Column("oxygen", "category", allowed=OXYGEN),
        Column("oxygen_l_min", "float", minimum=0, maximum=80, unit="L/min"),
        Column("ice_score", "int", minimum=0, maximum=10),
        Column("capd_score", "int", minimum=0, maximum=32),
        Column("consciousness", "category", allowed=CONSCIOUSNESS),
        Column("seizure", "category", allowed=SEIZURE),
        Column("motor_weakness", "bool"),
        Column("cerebral_edema", "category", allowed=CEREBRAL_EDEMA),
        Column("tocilizumab", "bool"),
        Column("steroids", "bool"),
        Column("antipyretics", "bool"),
    ),
)

TOXICITY = TableSchema(
    name="toxicity",
    description="one row per patient: recorded CRS / ICANS grades (merged into patients on load)",
    timed=False,
    key=("patient_id",),
    columns=(_id(), *RECORDED_GRADE_COLUMNS),
)
"""An optional source table, not a cohort table: its columns join ``patients``."""

ANALYTES_TABLE = TableSchema(
    name="analytes",
    description="one row per analyte: extends the analyte dictionary (cartscope.cohort.analytes)",
    timed=False,
    key=("analyte",),
    columns=(
        Column("analyte", "str", required=True),
        Column("unit", "str", description="canonical unit (required for a new analyte)"),
        Column("aliases", "str", description="other spellings, separated by '|' or ';'"),
        Column("minimum", "float"),
        Column("maximum", "float"),
        Column("lod", "float", description="limit of detection, canonical unit"),
        Column("lloq", "float", description="lower limit of quantification"),
        Column("uloq", "float", description="upper limit of quantification"),
        Column("conversions", "str", description="'unit=factor' pairs to the canonical unit, separated by '|'"),
        Column("description", "str"),
    ),
)
"""An optional source table extending the analyte dictionary for this cohort."""

SOURCE_TABLES: dict[str, TableSchema] = {t.name: t for t in (TOXICITY, ANALYTES_TABLE)}
"""Tables a source may hold besides the cohort tables (read and checked, then folded in)."""

TABLES: dict[str, TableSchema] = {
    t.name: t for t in (PATIENTS, INFUSIONS, ASSESSMENTS, EVENTS, LABS, KINETICS, TOXICITY_DAILY)
}
"""All cohort tables by name, in load order."""

TABLE_ORDER: tuple[str, ...] = tuple(TABLES)

SCHEMA_VERSION = 1
"""Bumped whenever a table or column changes meaning; stored with every import."""
