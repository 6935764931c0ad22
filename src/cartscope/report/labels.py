"""One label registry: internal codes -> the words and units a clinician reads.

Every table, figure and text of the report names analytes, kinetics measures and parameters,
covariates, endpoints and groupings through one :class:`LabelRegistry`, so ``il6`` prints as
"IL-6 (pg/mL)", ``car_copies_per_ug`` as "CAR transgene, copies/µg DNA" and ``auc0_28`` as
"AUC 0-28 d" everywhere, and no internal code reaches the page.

The defaults cover the cohort schema (patients columns, kinetics measures), the analyte
dictionary of :mod:`cartscope.cohort.units` (with each analyte's canonical unit), the
kinetics parameters, the endpoints and the standard groupings. A study adds or overrides
labels from its protocol (a ``labels:`` mapping, code -> label or {label, unit}) or from a
data dictionary (a table with the columns ``code``, ``label`` and optionally ``unit``; REDCap
dictionaries give ``Variable / Field Name`` and ``Field Label``): :meth:`LabelRegistry.extend`,
:meth:`LabelRegistry.from_data_dictionary`, :func:`registry_for`.

A code the registry does not know is shown humanised (underscores to spaces, first letter
upper case), never raw; :meth:`LabelRegistry.known` says whether a code has a label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Label:
    """A clinical label and its unit ("" when unitless). ``style`` joins them: "paren"
    gives "IL-6 (pg/mL)", "comma" gives "CAR transgene, copies/µg DNA"."""

    text: str
    unit: str = ""
    style: str = "paren"

    def render(self, unit: bool = True) -> str:
        if not unit or not self.unit:
            return self.text
        return f"{self.text}, {self.unit}" if self.style == "comma" else f"{self.text} ({self.unit})"


UNIT_TEXT = {"/uL": "/µL", "copies/ug": "copies/µg DNA", "ug/L": "µg/L", "umol/L": "µmol/L", "ratio": ""}
"""Canonical unit spellings of :mod:`cartscope.cohort.units` as printed."""

_ANALYTE_TEXT = {
    "il6": "IL-6", "il10": "IL-10", "il8": "IL-8", "il2": "IL-2", "il4": "IL-4", "il5": "IL-5",
    "il15": "IL-15", "il18": "IL-18", "il1b": "IL-1\u03b2", "il1ra": "IL-1RA", "il2r": "sIL-2R",
    "ifng": "IFN-\u03b3", "tnfa": "TNF-\u03b1", "gm_csf": "GM-CSF", "mcp1": "MCP-1", "ferritin": "Ferritin",
    "crp": "CRP", "ldh": "LDH", "alt": "ALT", "ast": "AST", "bilirubin": "Bilirubin", "creatinine": "Creatinine",
    "hemoglobin": "Haemoglobin", "fibrinogen": "Fibrinogen", "platelets": "Platelets", "anc": "ANC",
    "alc": "ALC", "wbc": "WBC",
}

_DEFAULTS: dict[str, Label] = {
    # patients table
    "age": Label("Age", "years"), "age_at_cart2": Label("Age at the second CAR-T infusion", "years"), "sex": Label("Sex"), "disease": Label("Disease"),
    "disease_group": Label("Disease group"), "cohort": Label("Cohort"), "cohort_role": Label("Cohort"),
    "prior_lines": Label("Prior lines of therapy"), "disease_status": Label("Disease status"),
    "prior_hsct": Label("Prior HSCT"), "cns_involvement": Label("CNS involvement"),
    "tp53": Label("TP53 alteration"), "ecog": Label("ECOG performance status"), "stage": Label("Ann Arbor stage"),
    "extranodal_sites": Label("Extranodal sites"), "ldh_uln": Label("LDH upper limit of normal", "U/L"),
    "ldh_elevated": Label("LDH above the upper limit of normal"), "bridging": Label("Bridging therapy"),
    "weight": Label("Weight", "kg"), "bm_blasts_pct": Label("Bone-marrow blasts", "%"),
    "blasts_pct": Label("Bone-marrow blasts", "%"), "mrd_pct": Label("MRD", "%"),
    "crs_group": Label("CRS grade"), "disease_burden": Label("Pre-infusion disease burden"),
    "bulky": Label("Bulky disease"), "ipi": Label("IPI"), "car_hematotox": Label("CAR-HEMATOTOX score"),
    "easix": Label("EASIX"), "outcome_class": Label("Outcome class"), "product": Label("CAR-T product"),
    "dose_per_kg": Label("CAR-T dose", "cells/kg"), "lymphodepletion": Label("Lymphodepletion"),
    "infusion_no": Label("Infusion"), "best_response": Label("Best overall response"),
    "bor": Label("Best overall response"),
    # kinetics measures (canonical units of cohort.units.KINETIC_UNITS)
    "car_copies_per_ug": Label("CAR transgene", "copies/\u00b5g DNA", "comma"),
    "car_cells_per_ul": Label("CAR-T cells", "cells/\u00b5L", "comma"),
    "cd19_car_copies": Label("CD19 CAR transgene", "copies/\u00b5g DNA", "comma"),
    "cd22_car_copies": Label("CD22 CAR transgene", "copies/\u00b5g DNA", "comma"),
    "cd4_cd8_ratio": Label("CD4/CD8 ratio"), "b_cells_per_ul": Label("B cells", "cells/\u00b5L", "comma"),
    "b_cells_pct": Label("B cells", "% of lymphocytes", "comma"),
    # kinetics parameters
    "cmax": Label("Cmax"), "tmax": Label("Tmax", "day"), "tmax_day": Label("Tmax", "day"),
    "auc0_28": Label("AUC 0-28 d"), "auc_0_28": Label("AUC 0-28 d"), "persistence_day": Label("Persistence", "day"),
    "persistence": Label("Persistence", "day"), "fold_change": Label("Fold change over baseline"),
    "peak": Label("Peak"), "peak_day": Label("Day of the peak"), "baseline": Label("Baseline"),
    # endpoints
    "os": Label("Overall survival"), "pfs": Label("Progression-free survival"), "efs": Label("Event-free survival"),
    "dfs": Label("Disease-free survival"), "dor": Label("Duration of response"),
    "lfs": Label("Leukaemia-free survival"), "rfs": Label("Relapse-free survival"),
    # time points
    "il6_peak": Label("IL-6 peak", "pg/mL"),
    # toxicities
    "peak_expansion": Label("Peak expansion"), "response_duration_days": Label("Duration of response", "days"),
    "crs": Label("CRS"), "icans": Label("ICANS"), "icaht": Label("ICAHT"), "iec_hs": Label("IEC-HS"),
    "crs_grade": Label("CRS grade"), "icans_grade": Label("ICANS grade"), "mrd": Label("MRD"),
    "crs_onset_day": Label("CRS onset", "day"), "crs_duration_days": Label("CRS duration", "days"),
    "icans_onset_day": Label("ICANS onset", "day"), "icans_duration_days": Label("ICANS duration", "days"),
    "crs_first": Label("CRS grade after the first infusion"),
}

ACRONYMS = frozenset({
    "ae", "alc", "alt", "anc", "ast", "auc", "bm", "bor", "car", "cd19", "cd22", "cd4", "cd8", "cns", "cr", "cri",
    "crp", "crs", "ctcae", "ecog", "efs", "er", "hsct", "icaht", "icans", "ipi", "ivig", "ldh", "mrd", "nr", "nrm",
    "orr", "os", "pd", "pet", "pfs", "pr", "sd", "wbc",
})
"""Words :func:`humanise` prints in capitals ("crs3" -> "CRS3", "mrd_level" -> "MRD level")."""
for _code, _text in _ANALYTE_TEXT.items():
    _DEFAULTS.setdefault(_code, Label(_text))

ENDPOINT_CODES = ("os", "pfs", "efs", "dfs", "dor", "lfs", "rfs")

_ANALYTE_UNITS: dict[str, str] = {}


def _analyte_units() -> dict[str, str]:
    if not _ANALYTE_UNITS:
        from cartscope.cohort.units import ANALYTES

        for name, a in ANALYTES.items():
            _ANALYTE_UNITS[name] = UNIT_TEXT.get(a.unit, a.unit)
    return _ANALYTE_UNITS


def humanise(code: str) -> str:
    """"persistence_day" -> "Persistence day"; codes already written for people stay as given."""
    text = str(code)
    if not re.search(r"[_]|^[a-z0-9]+$", text):
        return text
    words = text.replace("_", " ").split()
    out = []
    for w in words:
        m = re.fullmatch(r"([a-z]+)(\d*)", w)
        out.append(w.upper() if m and m.group(1) in ACRONYMS else w)
    text = " ".join(out)
    return text[:1].upper() + text[1:] if text else text


@dataclass(frozen=True)
class LabelRegistry:
    """Codes -> :class:`Label` (see the module docstring). Immutable: :meth:`extend` returns a
    new registry."""

    labels: Mapping[str, Label] = field(default_factory=dict)
    _index: dict[str, Label] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {_norm(k): v for k, v in self.labels.items()})

    def known(self, code: str) -> bool:
        return str(code) in self.labels or _norm(code) in self._index

    def _normalised(self) -> dict[str, Label]:
        return self._index

    def __repr__(self) -> str:
        return f"<LabelRegistry: {len(self.labels)} labels>"

    def get(self, code: Any) -> Label:
        """The :class:`Label` of ``code`` (a humanised label without unit when unknown)."""
        key = str(code)
        if key in self.labels:
            return self.labels[key]
        hit = self._normalised().get(_norm(key))
        if hit is not None:
            return hit
        head, _, rest = key.partition("_")
        if rest and head in ENDPOINT_CODES:  # a variant endpoint: "efs_hsct_event" -> "EFS (hsct event)"
            return Label(f"{head.upper()} ({rest.replace('_', ' ')})")
        return Label(humanise(key))

    def __call__(self, code: Any, unit: bool = True) -> str:
        """The printed label of ``code``: "IL-6 (pg/mL)" (``unit=False``: "IL-6")."""
        return self.get(code).render(unit)

    def text(self, code: Any) -> str:
        """The label without its unit."""
        return self.get(code).text

    def unit(self, code: Any) -> str:
        return self.get(code).unit

    def value_label(self, code: Any) -> str:
        """A value and its category: "disease_group: B-NHL" style terms -> "Disease group: B-NHL"."""
        return self(code)

    def extend(self, more: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> LabelRegistry:
        """A registry with ``more`` added (code -> label text, :class:`Label`, or a mapping with
        ``label`` and ``unit``); later entries win."""
        items = more.items() if isinstance(more, Mapping) else more
        out = dict(self.labels)
        for code, value in items:
            out[str(code)] = _as_label(value)
        return LabelRegistry(out)

    @classmethod
    def from_data_dictionary(cls, table: pd.DataFrame | str, base: LabelRegistry | None = None) -> LabelRegistry:
        """A registry extended from a data dictionary: a frame (or CSV path) with the columns
        ``code`` (or REDCap's ``Variable / Field Name``), ``label`` (``Field Label``) and
        optionally ``unit``."""
        frame = pd.read_csv(table) if isinstance(table, str) else table
        cols = {c.strip().lower(): c for c in frame.columns}
        code = cols.get("code") or cols.get("variable / field name") or cols.get("variable")
        label = cols.get("label") or cols.get("field label")
        if code is None or label is None:
            raise ValueError("a data dictionary needs the columns 'code' and 'label' (or REDCap's "
                             f"'Variable / Field Name' and 'Field Label'); it has {list(frame.columns)}")
        unit = cols.get("unit") or cols.get("units")
        rows = [(str(r[code]), {"label": str(r[label]), "unit": "" if unit is None or pd.isna(r[unit]) else str(r[unit])})
                for _, r in frame.iterrows() if not pd.isna(r[code]) and not pd.isna(r[label])]
        return (base or default_registry()).extend(rows)


def _norm(code: Any) -> str:
    return re.sub(r"[\s_\-]+", "", str(code).strip().lower())


def _as_label(value: Any) -> Label:
    if isinstance(value, Label):
        return value
    if isinstance(value, Mapping):
        return Label(str(value.get("label", value.get("text", ""))), str(value.get("unit", "") or ""),
                     str(value.get("style", "paren")))
    return Label(str(value))


_DEFAULT: LabelRegistry | None = None


def default_registry() -> LabelRegistry:
    """The built-in labels (schema columns, analytes with their units, kinetics, endpoints)."""
    global _DEFAULT
    if _DEFAULT is None:
        labels = dict(_DEFAULTS)
        for name, unit in _analyte_units().items():
            base = labels.get(name, Label(humanise(name)))
            labels[name] = Label(base.text, base.unit or unit, base.style)
        _DEFAULT = LabelRegistry(labels)
    return _DEFAULT


def data_units(cohort: Any) -> dict[str, str]:
    """Analyte -> the unit its values carry in ``cohort.labs`` (after the load's conversions,
    the cohort's analyte dictionary's unit), for analytes measured in exactly one unit."""
    labs = getattr(cohort, "labs", None)
    if labs is None or not len(labs) or "unit" not in labs or "analyte" not in labs:
        return {}
    pairs = labs[["analyte", "unit"]].dropna().astype(str).drop_duplicates()
    pairs = pairs[pairs["unit"].str.strip() != ""]
    one = pairs.groupby("analyte")["unit"].agg(list)
    return {a: u[0] for a, u in one.items() if len(u) == 1}


_STATISTIC_WORDS = {"peak": ("peak", True), "baseline": ("baseline", True), "peak_day": ("day of the peak", False),
                    "fold_change": ("fold change over baseline", False)}


def derived_label(spec: Any, reg: LabelRegistry | None = None) -> Label | None:
    """The label a plan variable without a ``title`` gets from its derivation, so that a code
    such as ``il6_base`` reads "IL-6 baseline (pg/mL)" and ``crs3`` reads "CRS grade >= 3": the
    analyte's own label (and unit, for a concentration), the grade and its threshold, the
    kinetics parameter. None for derivations whose code is the best name there is."""
    derive = getattr(spec, "derive", None)
    reg = reg or default_registry()  # the study's registry: its data's units
    if derive == "cytokine":
        from cartscope.cohort.units import canonical_analyte

        analyte = str(spec.analyte)
        key = canonical_analyte(analyte) or analyte
        base = reg.get(key) if reg.known(key) else Label(analyte)
        words, keeps_unit = _STATISTIC_WORDS[spec.statistic]
        return Label(f"{base.text} {words}", base.unit if keeps_unit else ("day" if spec.statistic == "peak_day" else ""))
    if derive in ("crs", "icans"):
        grade = f"{derive.upper()} grade"
        return Label(grade if spec.at_least is None else f"{grade} >= {spec.at_least}")
    if derive == "car_kinetics":
        part = reg.get(spec.parameter)
        return Label(f"CAR-T {part.text}", part.unit)
    if derive == "pre_infusion":
        return Label(f"Pre-infusion {reg.get(spec.of).text}", reg.get(spec.of).unit)
    return None


def plan_labels(plan: Any, reg: LabelRegistry | None = None) -> dict[str, Label]:
    """The labels an analysis plan gives: each variable's ``title`` ("crs3" with ``title: CRS
    grade >= 3``), then the plan's ``labels:`` mapping (code -> label, or {label, unit}),
    which wins. Titles keep their words; the first letter is capitalised for row labels."""
    out: dict[str, Label] = {}
    for name, spec in (getattr(plan, "variables", None) or {}).items():
        title = str(getattr(spec, "title", "") or "").strip()
        if title:
            out[str(name)] = Label(title[:1].upper() + title[1:])
        elif str(name) not in (reg or default_registry()).labels:  # a built-in label of the code stays
            derived = derived_label(spec, reg)
            if derived is not None:
                out[str(name)] = derived
    for code, value in (getattr(plan, "labels", None) or {}).items():
        if hasattr(value, "label"):  # the schema's LabelSpec
            out[str(code)] = Label(str(value.label), str(getattr(value, "unit", "") or ""))
        else:
            out[str(code)] = _as_label(value)
    return out


def registry_for(protocol: Any = None, extra: Mapping[str, Any] | None = None, cohort: Any = None,
                 plan: Any = None) -> LabelRegistry:
    """The registry of a study: the defaults with the units of the cohort's data where they
    differ from the built-in ones (an ``analytes`` sheet may keep sIL-2R in U/mL), then the
    protocol's ``labels`` (when it has them), then the plan's variable titles and ``labels:``
    (:func:`plan_labels`), then ``extra``."""
    reg = default_registry()
    if cohort is not None:
        from cartscope.cohort.units import ANALYTES

        units = {a: UNIT_TEXT.get(u, u) for a, u in data_units(cohort).items()
                 if a in ANALYTES and reg.known(a) and ANALYTES[a].unit != u}
        if units:
            reg = reg.extend({a: Label(reg.get(a).text, u, reg.get(a).style) for a, u in units.items()})
    proto_labels = getattr(protocol, "labels", None) if protocol is not None else None
    if isinstance(proto_labels, Mapping) and proto_labels:
        reg = reg.extend(proto_labels)
    given = plan_labels(plan, reg) if plan is not None else {}
    if given:
        reg = reg.extend(given)
    if extra:
        reg = reg.extend(extra)
    return reg


def analyte_label(registry: LabelRegistry, name: Any, unit: bool = True) -> str:
    """An analyte's label; names the registry does not know are kept as written in the data
    ("MIP3a", "IL-9"), which is how the laboratory reports them."""
    key = str(name)
    if registry.known(key) or "_" in key:  # a snake_case name is a code, not a laboratory's name
        return registry(key, unit)
    return key


_CODE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")


def humanise_codes(registry: LabelRegistry, text: str) -> str:
    """``text`` with every snake_case code in it replaced by its label, lower case where it
    sits inside a sentence ("no response_duration_days" -> "no duration of response (days)")."""
    def swap(m: re.Match[str]) -> str:
        label = registry(m.group(0))
        return label if m.start() == 0 else label[:1].lower() + label[1:]

    return _CODE.sub(swap, str(text))


def term_labels(registry: LabelRegistry, covariates: Any, terms: Any) -> dict[str, str]:
    """Readable model terms: "disease_groupB-NHL" -> "Disease group: B-NHL", "age" -> "Age (years)"."""
    out = {}
    for term in terms:
        var = next((c for c in sorted(covariates, key=len, reverse=True) if str(term).startswith(c)), None)
        if var is None:
            out[term] = registry(term)
        elif term == var:
            out[term] = registry(var)
        else:
            out[term] = f"{registry.text(var)}: {str(term)[len(var):]}"
    return out


def analysis_label(registry: LabelRegistry, name: str) -> str:
    """"biomarkers:training" -> "Biomarkers (training)", "outcome_class" -> "Outcome class"."""
    head, _, rest = str(name).partition(":")
    text = registry.text(head) if registry.known(head) else humanise(head)
    text = text[:1].upper() + text[1:]
    return f"{text} ({rest.replace('_', ' ').replace(':', ', ')})" if rest else text


__all__ = ["ACRONYMS", "plan_labels", "analysis_label", "humanise_codes", "term_labels", "Label", "LabelRegistry", "analyte_label", "default_registry", "humanise", "registry_for"]
