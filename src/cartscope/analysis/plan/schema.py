"""The analysis-plan schema (version 1): variables, populations, windows, panels, analyses.

Every model forbids unknown keys (``extra="forbid"``) so that a misspelt key is an error with its
path, never a silent default. The kind-specific keys of an analysis (its *options*) are checked
against the options model the kind registers (:mod:`cartscope.analysis.plan.registry`); names
inside values (variables, endpoints, analytes, ...) are resolved by
:func:`cartscope.analysis.plan.check.check_plan` against the plan and the cohort.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cartscope.analysis.protocol import _EndpointFields

PLAN_VERSION = 1
"""The plan-language version this module reads (the ``version`` key)."""

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.\-]*$"


class Strict(BaseModel):
    """Base of every plan model: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --- variables ---------------------------------------------------------------------------------


class _Var(Strict):
    title: str = ""


class ColumnVar(_Var):
    """Any per-patient column of ``patients`` or of the endpoint frame, under a new name."""

    derive: Literal["column"]
    column: str


class ExpressionVar(_Var):
    """An expression over other variables, e.g. ``"ldh > 250"`` (binary) or ``"ang2 / ang1"``."""

    derive: Literal["expression"]
    expr: str


class NrErVar(_Var):
    """1 = no response or relapse within ``endpoints.early_relapse_days``, 0 = durable, NA = not evaluable."""

    derive: Literal["nr_er"]


class ResponseVar(_Var):
    """1 when the patient reached one of ``responses`` (by ``by_day`` when given), 0 otherwise."""

    derive: Literal["response"]
    responses: tuple[str, ...] = ("CR", "CRi", "MRD-negative CR")
    by_day: float | None = Field(None, ge=0)


class ToxicityVar(_Var):
    """ASTCT CRS or ICANS grade (0-5) in a window; binary ``grade >= at_least`` when given."""

    derive: Literal["crs", "icans"]
    window: str | None = None
    at_least: int | None = Field(None, ge=1, le=5)


class CarKineticsVar(_Var):
    """A non-compartmental CAR-T kinetics parameter of one measure after one infusion."""

    derive: Literal["car_kinetics"]
    parameter: Literal["cmax", "tmax", "auc0_28", "persistence_day", "expansion_fold"] = "cmax"
    measure: str = "car_copies_per_ug"
    infusion: int | Literal["index"] = "index"


class CytokineVar(_Var):
    """Baseline, peak, day of peak or fold change (peak / baseline) of an analyte in a window."""

    derive: Literal["cytokine"]
    analyte: str
    statistic: Literal["peak", "peak_day", "fold_change", "baseline"] = "peak"
    window: str | None = None


class LabVar(_Var):
    """The value of an analyte at a named ``timepoint`` or on a ``day`` (+- ``tolerance_days``,
    nearest sample) after the index infusion, raw or as fold change over healthy donors."""

    derive: Literal["lab"]
    analyte: str
    timepoint: str | None = None
    day: float | None = None
    tolerance_days: float = Field(0.0, ge=0)
    reference: Literal["none", "healthy_donor_mean", "healthy_donor_median"] = "none"

    @model_validator(mode="after")
    def _one_of(self) -> "LabVar":
        if (self.timepoint is None) == (self.day is None):
            raise ValueError("give exactly one of timepoint or day")
        return self


class PreInfusionVar(_Var):
    """The last assessment value on or before the index day (``mrd_pct`` or ``blasts_pct``)."""

    derive: Literal["pre_infusion"]
    of: Literal["mrd_pct", "blasts_pct"] = "mrd_pct"


class InfusionVar(_Var):
    """A column of the ``infusions`` table (e.g. ``dose_cd19_per_kg``) at one infusion, times ``scale``."""

    derive: Literal["infusion"]
    column: str
    infusion: int | Literal["index"] = "index"
    scale: float = Field(1.0, gt=0)


class ResponseDurationVar(_Var):
    """Days from first response to relapse, else to last contact (responders only)."""

    derive: Literal["response_duration"]


class RatioVar(_Var):
    """``numerator / denominator`` of two continuous variables (NA when the denominator is 0)."""

    derive: Literal["ratio"]
    numerator: str
    denominator: str


class TransformVar(_Var):
    """``fn(of / per)``: per-unit scaling (``per: 100`` = per 100 U/L) then ``log``/``log2``/``log10``."""

    derive: Literal["transform"]
    of: str
    per: float = Field(1.0, gt=0)
    fn: Literal["none", "log", "log2", "log10"] = "none"


class CutVar(_Var):
    """Categories of a continuous variable at ``breaks`` (or at its median); intervals are
    ``[lower, upper)`` unless ``right: true``."""

    derive: Literal["cut"]
    of: str
    breaks: tuple[float, ...] | Literal["median"]
    labels: tuple[str, ...] | None = None
    right: bool = False

    @model_validator(mode="after")
    def _labels(self) -> "CutVar":
        n = 2 if self.breaks == "median" else len(self.breaks) + 1
        if self.labels is not None and len(self.labels) != n:
            raise ValueError(f"labels needs {n} entries for these breaks, got {len(self.labels)}")
        if self.breaks != "median" and list(self.breaks) != sorted(set(self.breaks)):
            raise ValueError("breaks must be increasing")
        return self


class ScoreVar(_Var):
    """A prognostic or risk score from :mod:`cartscope.clinical.scores` (IPI/aaIPI over the
    patients table; CAR-HEMATOTOX and the EASIX family from the last lab value in days
    ``start_day``..``end_day`` from the index infusion, default before lymphodepletion)."""

    derive: Literal["score"]
    score: Literal["ipi", "ipi_group", "aaipi", "aaipi_group", "hematotox", "hematotox_group", "easix",
                   "log2_easix", "m_easix", "log2_m_easix", "s_easix", "log2_s_easix"]
    start_day: float = -30.0
    end_day: float = -3.0


class ExpanderVar(_Var):
    """Strong vs weak expander (:func:`cartscope.clinical.scores.expander`): ``of`` >= threshold."""

    derive: Literal["expander"]
    of: str
    threshold: float | Literal["median"] = "median"


VariableSpec = Annotated[
    Union[ColumnVar, ExpressionVar, NrErVar, ResponseVar, ToxicityVar, CarKineticsVar, CytokineVar, LabVar,
          PreInfusionVar, InfusionVar, ResponseDurationVar, RatioVar, TransformVar, CutVar, ScoreVar, ExpanderVar],
    Field(discriminator="derive"),
]

VARIABLE_TYPE = {
    "column": None, "expression": None, "nr_er": "binary", "response": "binary", "crs": "continuous",
    "icans": "continuous", "car_kinetics": "continuous", "cytokine": "continuous", "lab": "continuous",
    "pre_infusion": "continuous", "infusion": None, "response_duration": "continuous", "ratio": "continuous",
    "transform": "continuous", "cut": "categorical", "score": None, "expander": "categorical",
}
"""The type of the variable each ``derive`` gives (None: from the data or the expression)."""

VARIABLE_CLASSES = {derive: cls for cls in VariableSpec.__origin__.__args__  # type: ignore[attr-defined]
                    for derive in cls.model_fields["derive"].annotation.__args__}
"""The model of each ``derive`` rule (for the allowed keys of a variable)."""


# --- populations, windows, panels --------------------------------------------------------------


class PopulationSpec(Strict):
    """Patients for whom ``where`` (an expression over variables) is true."""

    where: str
    title: str = ""


class WindowSpec(Strict):
    """Days ``start``..``end`` (inclusive) after infusion ``infusion`` (a number, or ``index``);
    ``until_next_infusion`` also stops the window the day before the next infusion."""

    infusion: int | Literal["index"] = "index"
    start: float = 0.0
    end: float | None = None
    until_next_infusion: bool = False
    title: str = ""

    @model_validator(mode="after")
    def _order(self) -> "WindowSpec":
        if self.end is not None and self.end < self.start:
            raise ValueError("end must not be before start")
        return self


# --- analyses -----------------------------------------------------------------------------------

COMMON_KEYS = ("id", "kind", "title", "population", "by", "within", "variables", "window", "options")
"""Keys every analysis may have; any other key is an option of its kind."""


class AnalysisSpec(Strict):
    """One analysis: ``kind`` computed over ``population``, split by ``by`` (each variable
    separately) and, only when asked, repeated within each level of ``within``."""

    id: str = Field(pattern=NAME_PATTERN)
    kind: str
    title: str = ""
    population: str | None = None
    by: tuple[str, ...] = ()
    within: str | None = None
    variables: tuple[str, ...] = ()
    window: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _collect_options(cls, data: Any) -> Any:
        """Kind-specific keys may sit beside ``id``/``kind`` or under ``options:``."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        options = dict(data.pop("options", None) or {})
        for key in [k for k in data if k not in COMMON_KEYS]:
            if key in options:
                raise ValueError(f"option {key!r} given twice (beside kind and under options)")
            options[key] = data.pop(key)
        if isinstance(data.get("by"), str):
            data["by"] = (data["by"],)
        if isinstance(data.get("variables"), str):
            data["variables"] = (data["variables"],)
        data["options"] = options
        return data


class LabelSpec(Strict):
    """One entry of the plan's ``labels:`` (code -> label): the printed words and an optional
    unit ("IL-6", "pg/mL" prints "IL-6 (pg/mL)"); the codes are checked by
    :mod:`cartscope.analysis.plan.labels`."""

    label: str = Field(min_length=1)
    unit: str = ""


class Plan(Strict):
    """A versioned analysis plan (see :mod:`cartscope.analysis.plan`)."""

    version: Literal[1]
    name: str
    title: str = ""
    source: str = ""
    endpoints: _EndpointFields = Field(default_factory=_EndpointFields)  # type: ignore[valid-type]
    crs_high_grade: int = Field(3, ge=1, le=5)
    variables: dict[str, VariableSpec] = Field(default_factory=dict)
    populations: dict[str, PopulationSpec] = Field(default_factory=dict)
    windows: dict[str, WindowSpec] = Field(default_factory=dict)
    panels: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    labels: dict[str, LabelSpec] = Field(default_factory=dict)
    analyses: tuple[AnalysisSpec, ...]

    @field_validator("labels", mode="before")
    @classmethod
    def _label_texts(cls, value: Any) -> Any:
        """``code: "IL-6"`` is short for ``code: {label: "IL-6"}``."""
        if isinstance(value, dict):
            return {k: {"label": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("variables", "populations", "windows", "panels")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        import re

        for name in value:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(f"{name!r} is not a valid name (a letter, then letters, digits, _ . -)")
        return value

    @field_validator("analyses")
    @classmethod
    def _unique_ids(cls, value: tuple[AnalysisSpec, ...]) -> tuple[AnalysisSpec, ...]:
        seen: set[str] = set()
        for a in value:
            if a.id in seen:
                raise ValueError(f"analysis id {a.id!r} is used twice")
            seen.add(a.id)
        return value

    def endpoint_rules(self):
        """The clinical :class:`~cartscope.clinical.endpoints.EndpointRules` of this plan."""
        from cartscope.clinical.endpoints import EndpointRules, TimeToEventRule

        spec = self.endpoints.model_dump()  # type: ignore[attr-defined]
        rules = spec.pop("endpoints")
        if rules is None:
            return EndpointRules(**spec)
        return EndpointRules(**spec, endpoints=tuple(TimeToEventRule(**r) for r in rules))

    def endpoint_names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.endpoint_rules().endpoints)

    def analysis(self, analysis_id: str) -> AnalysisSpec:
        for a in self.analyses:
            if a.id == analysis_id:
                return a
        raise KeyError(analysis_id)

    # -- the section-form view read by the report (see cartscope.analysis.plan.legacy) --
    @property
    def legacy(self):
        """The plan as an old section-form :class:`~cartscope.analysis.protocol.Protocol`."""
        from cartscope.analysis.plan.legacy import legacy_view

        return legacy_view(self)

    @property
    def subgroups(self) -> str:
        return self.legacy.subgroups

    @property
    def survival(self):
        return self.legacy.survival

    @property
    def biomarkers(self):
        return self.legacy.biomarkers

    @property
    def cox(self):
        return self.legacy.cox

    @property
    def kinetics_measure(self) -> str:
        return self.legacy.kinetics_measure

    @property
    def sections(self) -> tuple[str, ...]:
        return self.legacy.sections

    def to_yaml(self) -> str:
        import yaml

        doc = self.model_dump(mode="json", exclude_defaults=True)
        doc = {"version": self.version, **{k: v for k, v in doc.items() if k != "version"}}
        analyses = []
        for a in doc.get("analyses", []):
            opts = a.pop("options", {}) or {}
            analyses.append({**a, **opts})
        doc["analyses"] = analyses
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


__all__ = [
    "COMMON_KEYS", "LabelSpec", "NAME_PATTERN", "PLAN_VERSION", "VARIABLE_CLASSES", "VARIABLE_TYPE", "AnalysisSpec", "Plan", "PopulationSpec",
    "Strict", "VariableSpec", "WindowSpec",
]
