"""Study protocols: the old section form of a protocol, kept for migration and for readers of
its fields, and the entry points that read any protocol as an analysis plan.

``load_protocol`` / ``parse_protocol`` return a :class:`cartscope.analysis.plan.Plan` (the
language of docs/protocol.md); a file in the old form below is migrated with a note.
The old form:

A protocol names the index infusion and the endpoint rules (which events count, how HSCT, new
therapy and loss to follow-up are handled, the early-relapse window), the subgroups, the
survival analyses (endpoints, landmark times, KM interval type), the biomarker analysis (time
point, healthy-donor reference, outcome, training and validation cohorts, FDR method and
level), the clinical covariates for Cox models and the report sections to produce.

The endpoint section is validated against the fields of
:class:`cartscope.clinical.endpoints.EndpointRules` and
:class:`~cartscope.clinical.endpoints.TimeToEventRule` themselves (a schema generated from
those dataclasses), so the clinical rules are defined once. Any unknown key or wrong value is
reported as ``file: key.path: message``; nothing is guessed.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from cartscope.clinical.endpoints import EndpointRules, TimeToEventRule

PRESET_PROTOCOLS = ("jin2023", "li2023", "lu2021")

Section = Literal[
    "cohort", "response", "relapse_timing", "survival", "competing_risks", "toxicity",
    "kinetics", "biomarkers", "validation", "cox", "ae_table", "infusion_comparison",
    "correlations", "exclusions",
    "icaht", "iec_hs", "infections", "hypogammaglobulinemia", "prolonged_cytopenia", "toxicity_treatment",
    "landmark", "rmst", "td_roc", "logistic", "compare",
]


class ProtocolError(ValueError):
    """A protocol that does not validate; ``problems`` holds one line per wrong key or value."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


def _strict(name: str, cls: type, overrides: dict[str, Any] | None = None) -> type[BaseModel]:
    """A pydantic model with the fields, types and defaults of the dataclass ``cls``."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        annotation = (overrides or {}).get(f.name, hints[f.name])
        if f.default is not dataclasses.MISSING:
            fields[f.name] = (annotation, f.default)
        elif f.default_factory is not dataclasses.MISSING:
            fields[f.name] = (annotation, Field(default_factory=f.default_factory))
        else:
            fields[f.name] = (annotation, ...)
    return create_model(name, __config__=ConfigDict(extra="forbid", frozen=True), **fields)


TimeToEventSpec = _strict("TimeToEventSpec", TimeToEventRule)
_EndpointFields = _strict(
    "EndpointSpec", EndpointRules, {"endpoints": tuple[TimeToEventSpec, ...] | None}  # type: ignore[valid-type]
)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SurvivalSpec(_Spec):
    """Kaplan-Meier, log-rank and competing-risks analyses."""

    endpoints: tuple[str, ...] = ("os", "pfs")
    by: tuple[str, ...] = ("disease_group",)
    conf_type: Literal["plain", "log", "log-log"] = "log-log"
    level: float = Field(0.95, gt=0.5, lt=1.0)
    landmark_months: tuple[float, ...] = (6.0, 12.0, 24.0)
    competing_risks: bool = True


class BiomarkerSpec(_Spec):
    """The biomarker screen and the validation of its frozen cutoff."""

    timepoint: str = "il6_peak"
    baseline_timepoint: str | None = "baseline"
    analytes: tuple[str, ...] | Literal["all"] = "all"
    reference: Literal["healthy_donor_mean", "healthy_donor_median", "none"] = "healthy_donor_mean"
    outcome: Literal["nr_er"] = "nr_er"
    training: str = "training"
    validation: str | None = "validation"
    subgroups: str | None = "disease_group"
    fdr_method: Literal["bh", "by", "holm", "bonferroni", "hochberg"] = "bh"
    fdr_level: float = Field(0.05, gt=0, lt=1)
    significance: float = Field(0.05, gt=0, lt=1)
    ci_method: Literal["wilson", "wilson-modified", "clopper-pearson", "agresti-coull", "jeffreys", "wald"] = (
        "wilson-modified"
    )
    markers: tuple[str, ...] = ()
    survival_endpoint: str = "pfs"
    n_boot: int = Field(200, ge=10, le=100_000)
    seed: int = 20230304


class CoxSpec(_Spec):
    """A multivariable Cox model of one endpoint on clinical covariates."""

    endpoint: str = "pfs"
    covariates: tuple[str, ...] = ()
    ties: Literal["efron", "breslow"] = "efron"


class Protocol(_Spec):
    """A study protocol (see the module docstring)."""

    name: str
    title: str = ""
    source: str = ""
    endpoints: _EndpointFields = Field(default_factory=_EndpointFields)  # type: ignore[valid-type]
    subgroups: str = "disease_group"
    survival: SurvivalSpec = Field(default_factory=SurvivalSpec)
    biomarkers: BiomarkerSpec | None = None
    cox: tuple[CoxSpec, ...] = ()
    crs_high_grade: int = Field(3, ge=1, le=5)
    kinetics_measure: str = "car_copies_per_ug"
    sections: tuple[Section, ...] = ("cohort", "response", "survival", "exclusions")

    @field_validator("sections")
    @classmethod
    def _unique_sections(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("sections must not repeat")
        return value

    def endpoint_rules(self) -> EndpointRules:
        """The clinical :class:`EndpointRules` this protocol encodes."""
        spec = self.endpoints.model_dump()  # type: ignore[attr-defined]
        rules = spec.pop("endpoints")
        if rules is None:
            return EndpointRules(**spec)
        return EndpointRules(**spec, endpoints=tuple(TimeToEventRule(**r) for r in rules))

    def endpoint_names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.endpoint_rules().endpoints)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json", exclude_defaults=False), sort_keys=False)


def _format(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key"
    if error["type"] == "missing":
        return f"{where}: required key is missing"
    from cartscope.cohort.safe_yaml import excerpt

    return f"{where}: {error['msg']} (got {excerpt(error.get('input'))})"


def parse_section_protocol(data: Any, source: str = "<protocol>") -> Protocol:
    """Validate a mapping in the old section form into a :class:`Protocol`, or raise
    :class:`ProtocolError` (the migration to a plan reads protocols through this)."""
    if not isinstance(data, dict):
        raise ProtocolError(source, ["a protocol must be a mapping of keys to values"])
    try:
        protocol = Protocol.model_validate(data)
        protocol.endpoint_rules()
    except ValidationError as exc:
        raise ProtocolError(source, [_format(e) for e in exc.errors()]) from None
    except (TypeError, ValueError) as exc:
        raise ProtocolError(source, [f"endpoints: {exc}"]) from None
    return protocol


def parse_protocol(data: Any, source: str = "<protocol>"):
    """A mapping or YAML text as an analysis :class:`~cartscope.analysis.plan.Plan` (an old
    section-form protocol is migrated); raises :class:`ProtocolError` (a ``PlanError``) with
    every problem. Names are checked against a cohort by ``plan.check.check_plan``."""
    from cartscope.analysis.plan.check import read_plan

    plan, _ = read_plan(data, source)
    return plan


def load_protocol(spec: str | Path):
    """A built-in preset plan by name (``jin2023``, ``li2023``, ``lu2021``) or a YAML file, as a
    :class:`~cartscope.analysis.plan.Plan`; raises :class:`ProtocolError`."""
    from cartscope.analysis.plan.check import load_plan

    return load_plan(spec)
