"""Reading and strict checking of analysis plans, before anything runs.

:func:`read_plan` parses YAML (or a mapping) into a :class:`Plan`: every key is checked by the
schema, each analysis' kind is looked up and its own keys are checked by the kind's options
model; an old protocol (no ``version``) is migrated with a note. :func:`check_plan` then
resolves every name in the plan against the language and the cohort - variables, endpoints,
analytes (any loader alias, or a panel), time points, kinetics measures, columns, cohort roles,
populations, windows, panels and analysis ids - and reports each unknown one with its key path
and a did-you-mean. An empty population or a group of fewer than 2 patients is a warning naming
the analysis. The command line, the Python API and the web app all call these two functions.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Literal

from pydantic import ValidationError

from cartscope.analysis.plan import schema as S
from cartscope.analysis.plan.expr import ExpressionError, names as expr_names
from cartscope.analysis.plan.messages import schema_problems, suggest
from cartscope.analysis.plan.registry import kinds
from cartscope.analysis.plan.schema import Plan
from cartscope.analysis.protocol import ProtocolError

if TYPE_CHECKING:  # pragma: no cover
    from cartscope.cohort.model import Cohort

PRESET_PLANS = ("jin2023", "li2023", "lu2021")
Severity = Literal["error", "warning", "note"]


@dataclass(frozen=True)
class PlanProblem:
    """One finding: ``source: path: message`` (``path`` is the key path, e.g. ``analyses[3].covariates[1]``)."""

    source: str
    path: str
    message: str
    severity: Severity = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        where = f"{self.source}: {self.path}" if self.path else self.source
        label = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}: {label}{self.message}"


class PlanError(ProtocolError):
    """A plan that does not read or does not check. ``findings`` holds every
    :class:`PlanProblem`; ``problems`` the error lines without the source (as ProtocolError)."""

    def __init__(self, findings: list[PlanProblem]):
        self.findings = findings
        errors = [p for p in findings if p.is_error] or findings
        source = errors[0].source if errors else "<protocol>"
        super().__init__(source, [str(p)[len(p.source) + 2:] if str(p).startswith(p.source + ": ") else str(p)
                                  for p in errors])


def _problems(exc: ValidationError, source: str, prefix: tuple = (), fields: Iterable[str] = (),
              roles: dict[str, str] | None = None, suffix: str = "") -> list[PlanProblem]:
    """Every schema error of ``exc`` in clinical words (:mod:`cartscope.analysis.plan.messages`)."""
    out = []
    for where, msg in schema_problems(exc, prefix, fields, roles, tags=S.VARIABLE_TYPE):
        out.append(PlanProblem(source, where, msg + (suffix if msg.startswith("unknown key") else "")))
    return out


@cache
def _preset_text(name: str) -> str:
    return resources.files("cartscope.analysis").joinpath("protocols", f"{name}.yaml").read_text("utf-8")


def _refused(source: str, code: str, message: str) -> PlanError:
    """A plan file refused before it is parsed; ``code`` is the input problem's code."""
    error = PlanError([PlanProblem(source, "", message)])
    error.code = code
    return error


def read_text(spec: str | Path) -> tuple[str | bytes, str]:
    """(text or bytes, source name) of a preset name or a plan file.

    A file is read only when it is a regular file and within the YAML size limit
    (:func:`cartscope.cohort.input_limits.read_bounded`: no FIFO, device or link loop)."""
    if isinstance(spec, str) and spec in PRESET_PLANS:
        return _preset_text(spec), f"{spec}.yaml"
    from cartscope.cohort.input_limits import read_bounded
    from cartscope.cohort.safe_yaml import DEFAULT_LIMITS

    path = Path(spec)
    if not path.exists() and not path.is_symlink():
        hint = suggest(str(spec), PRESET_PLANS) if not path.suffix and len(path.parts) == 1 else ""
        raise PlanError([PlanProblem(str(spec), "", "no such protocol file; built-in presets are "
                                     + ", ".join(PRESET_PLANS) + hint)])
    data, refused = read_bounded(path, str(path), DEFAULT_LIMITS.max_bytes)
    if data is None:
        raise _refused(str(path), refused.code, refused.message)
    return data, str(path)


@dataclass(frozen=True)
class ParsedPlan:
    """A plan read part by part: ``plan`` holds every part that reads (None when nothing does),
    ``problems`` every schema problem, ``notes`` the migration note; ``broken`` the names
    (variables, populations, windows, panels, analysis ids) defined in the file whose
    definition has a problem: they are known names, so nothing that refers to them is reported
    a second time as unknown."""

    plan: Plan | None
    problems: tuple[PlanProblem, ...]
    notes: tuple[PlanProblem, ...]
    broken: frozenset[str]


_COLLECTIONS = {"variables": None, "populations": S.PopulationSpec, "windows": S.WindowSpec, "panels": None}
_CORE_DEFAULTS = {"name": "plan"}


def _entry_model(key: str):
    from pydantic import TypeAdapter

    if key == "variables":
        return TypeAdapter(S.VariableSpec)
    if key == "panels":
        return TypeAdapter(tuple[str, ...])
    return TypeAdapter(_COLLECTIONS[key])


def _load_mapping(data: Any, source: str) -> tuple[dict, list[PlanProblem]]:
    """YAML text or a mapping -> a version-1 mapping (an old protocol is migrated with a note)."""
    notes: list[PlanProblem] = []
    if isinstance(data, (str, bytes)):
        from cartscope.cohort.safe_yaml import YamlError, load_yaml

        try:
            data = load_yaml(data, source)
        except YamlError as exc:
            where = "" if exc.problem.row is None else f"line {exc.problem.row}: "
            raise _refused(source, exc.problem.code, where + exc.problem.message) from None
    if not isinstance(data, dict):
        raise PlanError([PlanProblem(source, "", "a protocol must be a mapping of keys to values")])
    from cartscope.analysis.plan.migrate import MIGRATION_NOTE, is_legacy, migrate

    if is_legacy(data):
        from cartscope.analysis.protocol import parse_section_protocol

        try:
            old = parse_section_protocol(data, source)
        except ProtocolError as exc:
            probs = [PlanProblem(source, "", "no 'version' key: read as an old section-form protocol, which "
                                 "does not validate either (write 'version: 1' and 'analyses:', see docs/protocol.md)")]
            probs += [PlanProblem(source, p.split(":", 1)[0], p.split(":", 1)[1].strip() if ":" in p else p)
                      for p in exc.problems]
            raise PlanError(probs) from None
        data = migrate(old, source)
        notes.append(PlanProblem(source, "", MIGRATION_NOTE, "note"))
    elif "version" in data and data["version"] != S.PLAN_VERSION:
        raise PlanError([PlanProblem(source, "version", f"unknown plan version {data['version']!r}; this "
                                     f"cartscope reads version {S.PLAN_VERSION}")])
    return data, notes


def _parse_collection(key: str, value: Any, source: str, problems: list[PlanProblem], broken: set[str]) -> dict:
    import re

    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(PlanProblem(source, key, f"needs a mapping of names to definitions (name: {{...}}); "
                                    f"got {type(value).__name__}"))
        return {}
    model = _entry_model(key)
    good = {}
    for name, entry in value.items():
        if not re.match(S.NAME_PATTERN, str(name)):
            problems.append(PlanProblem(source, f"{key}.{name}", f"{str(name)!r} is not a valid name (a letter, then "
                                        "letters, digits, _ . -)"))
            continue
        if key == "panels" and isinstance(entry, str):
            problems.append(PlanProblem(source, f"{key}.{name}", f"a panel is a list of analytes: write [{entry}]"))
            broken.add(str(name))
            continue
        try:
            good[name] = model.validate_python(entry)
        except ValidationError as exc:
            fields = ()
            if key == "variables" and isinstance(entry, dict) and entry.get("derive") in S.VARIABLE_CLASSES:
                fields = S.VARIABLE_CLASSES[entry["derive"]].model_fields
            elif key in ("populations", "windows"):
                fields = _COLLECTIONS[key].model_fields
            for p in _problems(exc, source, (key, name), fields):
                if p.message.startswith("needs a 'derive' key"):
                    p = PlanProblem(source, p.path, f"{p.message} (one of {', '.join(S.VARIABLE_TYPE)})")
                problems.append(p)
            broken.add(str(name))
    return good


def _parse_analyses(value: Any, source: str, problems: list[PlanProblem], broken: set[str]) -> list[S.AnalysisSpec]:
    reg = kinds()
    if not isinstance(value, (list, tuple)):
        problems.append(PlanProblem(source, "analyses", "needs a list of analyses (- {id: ..., kind: ...})"
                                    if value is not None else "required key is missing"))
        return []
    good: list[S.AnalysisSpec] = []
    seen: set[str] = set()
    for i, entry in enumerate(value):
        base = f"analyses[{i}]"
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            if entry["id"] in seen:
                problems.append(PlanProblem(source, f"{base}.id", f"analysis id {entry['id']!r} is used twice"))
                continue
            seen.add(entry["id"])
        try:
            a = S.AnalysisSpec.model_validate(entry)
        except ValidationError as exc:
            problems += _problems(exc, source, ("analyses", i), S.COMMON_KEYS)
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                broken.add(entry["id"])
            continue
        if a.kind not in reg:
            problems.append(PlanProblem(source, f"{base}.kind", f"unknown analysis kind {a.kind!r}"
                                        f"{suggest(a.kind, reg)}; kinds are " + ", ".join(reg)))
            broken.add(a.id)
            continue
        kind = reg[a.kind]
        try:
            kind.options.model_validate(a.options)
        except ValidationError as exc:
            known = list(kind.options.model_fields) + list(S.COMMON_KEYS)
            roles = {k: ROLE_WORDS.get(r, r) for k, r in kind.names.items()}
            problems += _problems(exc, source, ("analyses", i), known, roles, suffix=f" for kind {a.kind}")
        good.append(a)
    return good


def parse_plan(data: Any, source: str = "<protocol>") -> ParsedPlan:
    """Read a plan part by part so that every schema problem is found in one pass: each variable,
    population, window, panel and analysis is checked on its own, and what reads is kept (for
    :func:`check_plan` to resolve its names). Raises :class:`PlanError` only when the text is no
    plan at all (not YAML, not a mapping, another version)."""
    data, notes = _load_mapping(data, source)
    problems: list[PlanProblem] = []
    broken: set[str] = set()
    for key in data:
        if key not in Plan.model_fields:
            problems.append(PlanProblem(source, str(key), "unknown key" + suggest(str(key), Plan.model_fields)))
    parts = {k: _parse_collection(k, data.get(k), source, problems, broken) for k in _COLLECTIONS}
    analyses = _parse_analyses(data.get("analyses"), source, problems, broken)
    core = {k: v for k, v in data.items() if k in Plan.model_fields and k not in (*_COLLECTIONS, "analyses")}
    for _ in range(len(core) + 1):
        try:
            plan = Plan.model_validate({**_CORE_DEFAULTS, **core, "analyses": []})
            plan.endpoint_rules()
            break
        except ValidationError as exc:
            found = _problems(exc, source, (), Plan.model_fields)
            problems += found
            bad = {e["loc"][0] for e in exc.errors() if e["loc"]}
            core = {k: v for k, v in core.items() if k not in bad}
        except (TypeError, ValueError) as exc:
            problems.append(PlanProblem(source, "endpoints", str(exc)))
            core.pop("endpoints", None)
    else:  # pragma: no cover - every round removes a failing key
        return ParsedPlan(None, tuple(problems), tuple(notes), frozenset(broken))
    if "name" not in data:
        problems.append(PlanProblem(source, "name", "required key is missing"))
    if "version" not in data:
        problems.append(PlanProblem(source, "version", "required key is missing"))
    plan = plan.model_copy(update={**parts, "analyses": tuple(analyses)})
    return ParsedPlan(plan, tuple(problems), tuple(notes), frozenset(broken))


def read_plan(data: Any, source: str = "<protocol>") -> tuple[Plan, list[PlanProblem]]:
    """Parse a mapping (or YAML text) into a plan and check every key and option value's type.

    Returns the plan and its notes (e.g. the migration note); raises :class:`PlanError` with
    every problem when anything is wrong."""
    parsed = parse_plan(data, source)
    if parsed.problems or parsed.plan is None:
        raise PlanError(list(parsed.problems))
    return parsed.plan, list(parsed.notes)


def load_plan(spec: str | Path) -> Plan:
    """A preset by name (``jin2023``, ``li2023``, ``lu2021``) or a plan file; raises :class:`PlanError`."""
    text, source = read_text(spec)
    plan, _ = read_plan(text, source)
    return plan


# --- names against the plan and the cohort ------------------------------------------------------

ROLE_WORDS = {"variable": "variable", "binary": "binary variable", "continuous": "continuous variable",
              "categorical": "categorical variable", "endpoint": "endpoint", "analyte": "analyte",
              "timepoint": "timepoint", "measure": "kinetics measure", "column": "patients column",
              "cohort_role": "cohort role", "population": "population", "window": "window", "panel": "panel",
              "analysis": "analysis id"}


class _Resolver:
    def __init__(self, plan: Plan, cohort: "Cohort", source: str, defined: Iterable[str] = ()):
        import pandas as pd

        from cartscope.analysis.plan.context import StudyRun
        from cartscope.analysis.plan.variables import analyte_key, builtin_names, patient_labs
        from cartscope.analysis.study import study_endpoints

        self.plan, self.cohort, self.source = plan, cohort, source
        self.problems: list[PlanProblem] = []
        self.study = StudyRun(cohort=cohort, plan=plan, endpoints=study_endpoints(cohort, plan))
        self.variables = set(builtin_names(self.study)) | set(plan.variables)
        self.endpoints = set(plan.endpoint_names())
        labs = patient_labs(self.study) if "labs" in cohort.present else None
        self.analytes: dict[str, str] = {}
        if labs is not None:  # each key's name in its first row (rows of repeated keys are not visited)
            first = ~labs["analyte_key"].duplicated().to_numpy()
            for name, key in zip(labs["analyte"].astype(str)[first], labs["analyte_key"][first]):
                self.analytes.setdefault(key, name)
        self.analyte_key = analyte_key
        self.timepoints = sorted({str(t) for t in pd.unique(cohort.labs["timepoint"].dropna())}) \
            if "labs" in cohort.present and "timepoint" in cohort.labs else []
        self.measures = sorted({str(m) for m in pd.unique(cohort.kinetics["measure"].dropna())}) \
            if "kinetics" in cohort.present else []
        self.columns = [c for c in cohort.patients.columns if c != "patient_id"]
        self.roles = sorted({str(r) for r in cohort.patients["cohort"].dropna()}) if "cohort" in cohort.patients else []
        self.broken: set[str] = set()
        self.defined = set(defined)
        """Names the file defines whose definition did not read (already reported)."""

    def error(self, path: str, msg: str, severity: Severity = "error") -> None:
        self.problems.append(PlanProblem(self.source, path, msg, severity))

    def vtype(self, name: str) -> str | None:
        from cartscope.analysis.plan.variables import variable_type

        if name in self.broken:
            return None
        try:
            return variable_type(self.study, name)
        except Exception as exc:  # noqa: BLE001 - a derivation that fails on this cohort is reported
            self.broken.add(name)
            self.error(f"variables.{name}", f"cannot be derived on this cohort: {exc}")
            return None

    def name(self, path: str, value: str, role: str, earlier: Iterable[str] = ()) -> bool:
        word = ROLE_WORDS.get(role, role)
        if value in self.defined and role in ("variable", "binary", "continuous", "categorical", "population",
                                              "window", "panel", "analysis", "analyte"):
            return False  # its definition's problem is reported where it is defined
        if role in ("variable", "binary", "continuous", "categorical"):
            if value in self.endpoints and value not in self.variables:
                self.error(path, f"{value!r} is an endpoint, not a {word}; use {value}_time / {value}_event "
                           "or a km / cox analysis")
                return False
            if value not in self.variables:
                self.error(path, f"unknown variable {value!r}{suggest(value, sorted(self.variables))}")
                return False
            if role != "variable":
                t = self.vtype(value)
                if t is None:
                    return False
                ok = (t == role) or (role == "continuous" and t == "binary") or role == "categorical"
                if not ok:
                    self.error(path, f"{value!r} is a {t} variable; this key needs a {word}")
                    return False
            return True
        if role == "endpoint":
            if value not in self.endpoints:
                self.error(path, f"unknown endpoint {value!r}{suggest(value, sorted(self.endpoints))}; the plan's "
                           f"endpoints are {', '.join(sorted(self.endpoints)) or 'none'}")
                return False
            return True
        if role == "analyte":
            if value in self.plan.panels:
                return all(self.name(f"panels.{value}[{j}]", a, "analyte") for j, a in
                           enumerate(self.plan.panels[value]))
            if self.analyte_key(value) not in self.analytes:
                shown = sorted(self.analytes.values())
                self.error(path, f"unknown analyte {value!r}: not measured in this cohort"
                           f"{suggest(value, shown + list(self.plan.panels))}")
                return False
            return True
        table = {"timepoint": self.timepoints, "measure": self.measures, "column": self.columns,
                 "cohort_role": self.roles, "population": list(self.plan.populations),
                 "window": list(self.plan.windows), "panel": list(self.plan.panels), "analysis": list(earlier)}[role]
        if value not in table:
            known = f"; known: {', '.join(table)}" if table and len(table) <= 12 else ""
            self.error(path, f"unknown {word} {value!r}{suggest(value, table)}{known}")
            return False
        return True

    def names(self, path: str, value: Any, role: str, earlier: Iterable[str] = ()) -> None:
        if value is None or value == "all" and role == "analyte":
            return
        if isinstance(value, str):
            self.name(path, value, role, earlier)
        elif isinstance(value, (list, tuple)):
            for j, v in enumerate(value):
                if isinstance(v, str):
                    self.name(f"{path}[{j}]", v, role, earlier)


def _check_variables(r: _Resolver) -> None:
    from cartscope.analysis.plan.variables import referenced

    plan = r.plan
    for name, spec in plan.variables.items():
        base = f"variables.{name}"
        try:
            refs = referenced(spec)
        except ExpressionError as exc:
            r.error(f"{base}.expr", str(exc))
            r.broken.add(name)
            continue
        for key, ref in refs:
            if ref == name:
                r.error(f"{base}.{key}", f"variable {name!r} refers to itself")
                r.broken.add(name)
            elif not r.name(f"{base}.{key}", ref, "variable"):
                r.broken.add(name)
        if isinstance(spec, (S.CytokineVar, S.LabVar)) and not r.name(f"{base}.analyte", spec.analyte, "analyte"):
            r.broken.add(name)
        if isinstance(spec, S.LabVar) and spec.timepoint is not None and \
                not r.name(f"{base}.timepoint", spec.timepoint, "timepoint"):
            r.broken.add(name)
        if isinstance(spec, (S.ToxicityVar, S.CytokineVar)) and spec.window is not None and \
                not r.name(f"{base}.window", spec.window, "window"):
            r.broken.add(name)
        if isinstance(spec, S.CarKineticsVar) and not r.name(f"{base}.measure", spec.measure, "measure"):
            r.broken.add(name)
        if isinstance(spec, S.InfusionVar) and spec.column not in r.cohort.infusions.columns:
            cols = [c for c in r.cohort.infusions.columns if c not in ("patient_id",)]
            r.error(f"{base}.column", f"unknown infusions column {spec.column!r}{suggest(spec.column, cols)}")
            r.broken.add(name)
    # cycles through references
    graph = {n: [ref for _, ref in referenced(s)] for n, s in plan.variables.items() if n not in r.broken}
    state: dict[str, int] = {}

    def visit(n: str, trail: list[str]) -> None:
        if state.get(n) == 2 or n not in graph:
            return
        if state.get(n) == 1:
            cycle = trail[trail.index(n):] + [n]
            r.error(f"variables.{n}", "circular definition: " + " -> ".join(cycle))
            r.broken.update(cycle)
            return
        state[n] = 1
        for m in graph[n]:
            visit(m, trail + [n])
        state[n] = 2

    for n in graph:
        visit(n, [])


def check_plan(plan: Plan | dict | str | bytes, cohort: "Cohort", source: str = "<protocol>") -> list[PlanProblem]:
    """Every problem of ``plan`` on ``cohort`` (errors and warnings), in one pass; nothing is run.

    ``plan`` is a :class:`Plan` or, to find the schema problems (keys, value types, allowed
    values) together with the names, the mapping or YAML text of one: each part that reads is
    then resolved, so a misspelt key and an unknown variable elsewhere are both reported."""
    if isinstance(plan, Plan):
        return list(dict.fromkeys(_check_names(plan, cohort, source)))
    return _parse_and_check(plan, cohort, source)[1]


def _parse_and_check(data: dict | str | bytes, cohort: "Cohort", source: str) -> tuple[ParsedPlan, list[PlanProblem]]:
    """The parsed plan and :func:`check_plan`'s findings on it (the text is parsed once)."""
    parsed = parse_plan(data, source)
    found = list(parsed.problems)
    if parsed.plan is not None:
        found += _check_names(parsed.plan, cohort, source, parsed.broken)
    return parsed, list(parsed.notes) + sorted(dict.fromkeys(found), key=_file_order)


_SECTION_ORDER = ("version", "name", "title", "source", "endpoints", "crs_high_grade", "variables", "populations",
                  "windows", "panels", "analyses")


def _file_order(p: PlanProblem) -> tuple[int, int]:
    """Problems in the order of the plan's sections, analyses by their position (stable within)."""
    import re

    head = re.split(r"[.\[]", p.path, maxsplit=1)[0]
    rank = _SECTION_ORDER.index(head) if head in _SECTION_ORDER else -1
    index = re.match(r"analyses\[(\d+)\]", p.path)
    return rank, int(index.group(1)) if index else -1


def _check_names(plan: Plan, cohort: "Cohort", source: str, defined: Iterable[str] = ()) -> list[PlanProblem]:
    r = _Resolver(plan, cohort, source, defined)
    _check_variables(r)
    from cartscope.analysis.plan.labels import label_problems  # the labels: codes

    for path, message in label_problems(plan, cohort):
        r.error(path, message)
    pops_ok = {}
    for name, pop in plan.populations.items():
        try:
            used = expr_names(pop.where)
        except ExpressionError as exc:
            r.error(f"populations.{name}.where", str(exc))
            pops_ok[name] = False
            continue
        pops_ok[name] = all(r.name(f"populations.{name}.where", n, "variable") for n in used)
    for pname, entries in plan.panels.items():
        for j, a in enumerate(entries):
            r.name(f"panels.{pname}[{j}]", a, "analyte")
    reg = kinds()
    earlier: list[str] = []
    for i, a in enumerate(plan.analyses):
        base = f"analyses[{i}]"
        kind = reg[a.kind]
        fine = a.id not in r.defined
        if a.population is not None:
            fine &= r.name(f"{base}.population", a.population, "population")
        for j, b in enumerate(a.by):
            fine &= r.name(f"{base}.by[{j}]", b, "variable")
        if a.within is not None:
            fine &= r.name(f"{base}.within", a.within, "variable")
        if a.window is not None:
            fine &= r.name(f"{base}.window", a.window, "window")
        if a.variables and kind.variables is None:
            r.error(f"{base}.variables", f"kind {a.kind} takes no variables")
            fine = False
        for j, v in enumerate(a.variables):
            if kind.variables is not None:
                fine &= r.name(f"{base}.variables[{j}]", v, kind.variables)
        for key, role in kind.names.items():
            if key in a.options:
                before = len(r.problems)
                r.names(f"{base}.{key}", a.options[key], role, earlier)
                fine &= len(r.problems) == before
        earlier.append(a.id)
        if fine and (a.population is None or pops_ok.get(a.population, False)):
            _warn_groups(r, i, a)
    return r.problems


def _warn_groups(r: _Resolver, i: int, a: S.AnalysisSpec) -> None:
    mask = r.study.population_mask(a.population)
    if a.population is not None and not mask.any():
        r.error(f"analyses[{i}].population", f"population {a.population!r} of analysis {a.id!r} has no patients",
                "warning")
        return
    for j, b in enumerate([*a.by, *([a.within] if a.within else [])]):
        if b in r.broken:
            continue
        v = r.study.variable(b)[mask]
        lab = v.astype(object).where(v.notna(), None)
        counts = lab.dropna().astype(str).value_counts()
        key = f"by[{j}]" if j < len(a.by) else "within"
        if counts.empty:
            r.error(f"analyses[{i}].{key}", f"{b!r} has no value in the population of analysis {a.id!r}", "warning")
        for lv, n in sorted(counts.items()):
            if n < 2:
                r.error(f"analyses[{i}].{key}", f"group {b} = {lv!r} of analysis {a.id!r} has {int(n)} patient "
                        "(fewer than 2)", "warning")


def load_and_check(spec: str | Path | dict, cohort: "Cohort", source: str | None = None
                   ) -> tuple[Plan, list[PlanProblem]]:
    """Read a plan (preset, file or mapping) and check it on ``cohort``: the plan and every
    finding; raises :class:`PlanError` when any finding is an error."""
    if isinstance(spec, dict):
        data, src = spec, source or "<protocol>"
    else:
        data, src = read_text(spec)
        src = source or src
    parsed, problems = _parse_and_check(data, cohort, src)
    if any(p.is_error for p in problems):
        raise PlanError(problems)
    return parsed.plan, problems


__all__ = ["PRESET_PLANS", "ParsedPlan", "PlanError", "PlanProblem", "check_plan", "parse_plan", "load_and_check", "load_plan", "read_plan",
           "read_text", "suggest"]
