"""What an analysis kind runs over: :class:`RunContext` (one analysis) inside a :class:`StudyRun`.

The study run owns the inputs (cohort, plan, endpoint frame), the per-patient variables
(derived once, cached) and every output. A kind's ``run(rc)`` sees its population's patients,
its options, its groups (``by`` / ``within``), windows relative to any infusion, and writes
tables, ARD rows, objects, exclusions and notes through the run context, which stamps each with
the analysis id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import numpy as np
import pandas as pd

from cartscope.analysis.plan.schema import AnalysisSpec, Plan, WindowSpec

if TYPE_CHECKING:  # pragma: no cover
    from cartscope.analysis.plan.registry import Kind, Options
    from cartscope.cohort.model import Cohort


class AnalysisSkipped(Exception):
    """Raised by :meth:`RunContext.skip`: the analysis stops and the reason is recorded."""


@dataclass(frozen=True)
class Group:
    """One cell of an analysis' grouping: the whole population, a level of ``by``, and (nested
    analyses) a level of ``within``. ``mask`` selects rows of :attr:`RunContext.endpoints`."""

    by: str
    level: str
    within: str
    within_level: str
    mask: np.ndarray

    @property
    def label(self) -> str:
        """``all``, ``<level>``, or ``<level> | <within level>`` (the tables' ``group`` column)."""
        base = self.level if self.by else "all"
        return f"{base} | {self.within_level}" if self.within else base

    @property
    def n(self) -> int:
        return int(self.mask.sum())


@dataclass
class Window:
    """A window resolved per patient: ``day0`` (cohort day of its infusion), ``start``/``end``
    (days after it) and ``stop`` (cohort day of the next infusion when the window ends there)."""

    name: str
    spec: WindowSpec
    day0: pd.Series
    stop: pd.Series

    def rebase(self, table: pd.DataFrame) -> pd.DataFrame:
        """Rows of ``table`` inside the window, ``day`` counted from the window's infusion."""
        t = table.copy()
        t["patient_id"] = t["patient_id"].astype(str)
        day = pd.to_numeric(t["day"], errors="coerce")
        off = t["patient_id"].map(self.day0)
        rel = day - off
        keep = rel.notna() & (rel >= self.spec.start)
        if self.spec.end is not None:
            keep &= rel <= self.spec.end
        stop = t["patient_id"].map(self.stop)
        keep &= stop.isna() | (day < stop)
        t["day"] = rel
        return t[keep.to_numpy()].reset_index(drop=True)

    def shift(self, table: pd.DataFrame) -> pd.DataFrame:
        """All rows of ``table`` with ``day`` counted from the window's infusion (no filter)."""
        t = table.copy()
        t["patient_id"] = t["patient_id"].astype(str)
        t["day"] = pd.to_numeric(t["day"], errors="coerce") - t["patient_id"].map(self.day0)
        return t[t["day"].notna()].reset_index(drop=True)

    @property
    def bounds(self) -> tuple[float, float]:
        return (float(self.spec.start), float(self.spec.end) if self.spec.end is not None else np.inf)

    def text(self) -> str:
        inf = "the index infusion" if self.spec.infusion == "index" else f"infusion {self.spec.infusion}"
        end = f"day {self.spec.end:g}" if self.spec.end is not None else "the end of follow-up"
        out = f"days {self.spec.start:g} to {end} after {inf}" if self.spec.end is not None else \
            f"day {self.spec.start:g} after {inf} to the end of follow-up"
        return out + (", until the next infusion" if self.spec.until_next_infusion else "")


@dataclass
class StudyRun:
    """Inputs, derived variables and outputs of one plan run (frozen into Results at the end)."""

    cohort: "Cohort"
    plan: Plan
    endpoints: pd.DataFrame
    tables: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)
    key_numbers: dict[str, Any] = field(default_factory=dict)
    ard_rows: list[dict] = field(default_factory=list)
    exclusion_rows: list[tuple[str, str, str]] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    cache: dict[Any, Any] = field(default_factory=dict)
    object_owner: dict[str, str] = field(default_factory=dict)
    _vars: dict[str, pd.Series] = field(default_factory=dict)
    _windows: dict[str, Window] = field(default_factory=dict)

    # -- per-patient values ----------------------------------------------------------------
    @property
    def patient_ids(self) -> pd.Index:
        return pd.Index(self.endpoints["patient_id"].astype(str))

    def variable(self, name: str) -> pd.Series:
        """Variable ``name`` per patient (index: patient_id, all patients of the cohort)."""
        if name not in self._vars:
            from cartscope.analysis.plan.variables import derive

            self._vars[name] = derive(self, name)
        return self._vars[name]

    def population_mask(self, name: str | None) -> np.ndarray:
        """Patients with an index infusion in population ``name`` (None: all of them)."""
        has_index = self.endpoints["index_day"].notna().to_numpy()
        if name is None:
            return has_index
        from cartscope.analysis.plan.expr import evaluate

        where = self.plan.populations[name].where
        value = evaluate(where, self.variable, self.patient_ids)
        return has_index & value.fillna(False).astype(bool).to_numpy()

    def window(self, name: str | WindowSpec | None, default: WindowSpec | None = None) -> Window:
        """Window ``name`` of the plan (or an inline spec, or ``default``) resolved per patient."""
        if isinstance(name, str) and name in self._windows:
            return self._windows[name]
        spec = self.plan.windows[name] if isinstance(name, str) else (name or default or WindowSpec())
        ids = self.patient_ids
        if spec.infusion == "index":
            day0 = pd.Series(self.endpoints["index_day"].to_numpy(dtype=float), index=ids)
        else:
            inf = self.cohort.infusions.assign(patient_id=self.cohort.infusions["patient_id"].astype(str))
            inf = inf[pd.to_numeric(inf["infusion_no"], errors="coerce") == spec.infusion]
            day0 = pd.to_numeric(inf.drop_duplicates("patient_id").set_index("patient_id")["day"],
                                 errors="coerce").astype(float).reindex(ids)
        stop = pd.Series(np.nan, index=ids)
        if spec.until_next_infusion:
            inf = self.cohort.infusions.assign(patient_id=self.cohort.infusions["patient_id"].astype(str),
                                               d=lambda f: pd.to_numeric(f["day"], errors="coerce"))
            nxt = {}
            for pid, g in inf.groupby("patient_id"):
                if pid in day0.index and np.isfinite(day0.get(pid, np.nan)):
                    later = g["d"][g["d"] > day0[pid]]
                    nxt[pid] = float(later.min()) if len(later) else np.nan
            stop = pd.Series(nxt, dtype=float).reindex(ids)
        w = Window(name if isinstance(name, str) else "", spec, day0, stop)
        if isinstance(name, str):
            self._windows[name] = w
        return w

    def table(self, name: str, analysis: str | None = None) -> pd.DataFrame | None:
        """Rows written so far to table ``name`` (by ``analysis`` only, when given)."""
        parts = self.tables.get(name)
        if not parts:
            return None
        frame = pd.concat(parts, ignore_index=True)
        if analysis is not None:
            frame = frame[frame["analysis"] == analysis].reset_index(drop=True)
        return frame


class RunContext:
    """The view one analysis has of the run (see the module docstring)."""

    def __init__(self, study: StudyRun, spec: AnalysisSpec, kind: "Kind", options: "Options"):
        self.study = study
        self.spec = spec
        self.kind = kind
        self.options = options
        self.cohort = study.cohort
        self.plan = study.plan
        self.id = spec.id
        self._mask = study.population_mask(spec.population)
        self.endpoints = study.endpoints[self._mask].reset_index(drop=True)
        self.population = spec.population or ""

    # -- inputs ------------------------------------------------------------------------------
    def has(self, table: str) -> bool:
        """The cohort has ``table`` with rows."""
        return table in self.cohort.present and not self.cohort.table(table).empty

    def variable(self, name: str) -> pd.Series:
        """Variable ``name`` aligned to :attr:`endpoints` (one value per population patient)."""
        s = self.study.variable(name)
        return pd.Series(s.reindex(self.endpoints["patient_id"].astype(str)).to_numpy(), index=self.endpoints.index,
                         name=name, dtype=s.dtype)

    def column(self, name: str) -> pd.Series:
        """Alias of :meth:`variable` (a column of the endpoint frame or of patients)."""
        return self.variable(name)

    def ids(self, mask: np.ndarray | pd.Series) -> list[str]:
        return self.endpoints.loc[np.asarray(mask, dtype=bool), "patient_id"].astype(str).tolist()

    def window(self, name: str | None = None, default: WindowSpec | None = None) -> Window:
        """The analysis' window (``name``, else its ``window:`` key, else ``default``)."""
        return self.study.window(name if name is not None else self.spec.window, default)

    def groups(self, include_all: bool = True, mask: np.ndarray | None = None) -> list[Group]:
        """The groups of the analysis: the whole population (``include_all``) and each level of
        each ``by`` variable; with ``within``, all of it once per level of ``within``. Levels
        sort in their natural order; patients without a value are excluded from that split."""
        base = np.ones(len(self.endpoints), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        outer: list[tuple[str, np.ndarray]] = [("", base)]
        if self.spec.within:
            w = self.variable(self.spec.within)
            outer = [(lv, base & (_labels(w) == lv)) for lv in _levels(w[base])]
        out: list[Group] = []
        for wl, wmask in outer:
            wname = self.spec.within or ""
            if include_all:
                out.append(Group("", "all", wname, wl, wmask))
            for by in self.spec.by:
                v = self.variable(by)
                lab = _labels(v)
                for lv in _levels(v[wmask]):
                    out.append(Group(by, lv, wname, wl, wmask & (lab == lv)))
        return out

    def group_labels(self, by: str) -> np.ndarray:
        """String level of ``by`` per row of :attr:`endpoints` (None when missing)."""
        return _labels(self.variable(by))

    # -- outputs -----------------------------------------------------------------------------
    def add_table(self, name: str, frame: pd.DataFrame) -> None:
        """Append ``frame`` to result table ``name`` (an ``analysis`` column is added first)."""
        f = frame.reset_index(drop=True).copy()
        if "analysis" in f:
            f = f.drop(columns="analysis")
        f.insert(0, "analysis", self.id)
        self.study.tables.setdefault(name, []).append(f)

    def table(self, name: str, analysis: str | None = None) -> pd.DataFrame | None:
        return self.study.table(name, analysis)

    def add_object(self, key: str, obj: Any) -> None:
        """A stats result object under ``key`` (e.g. ``km/os/all``). The first analysis that
        writes a key keeps it; another analysis writing the same key stores ``<id>:<key>``."""
        owner = self.study.object_owner.setdefault(key, self.id)
        self.study.objects[key if owner == self.id else f"{self.id}:{key}"] = obj

    @property
    def objects(self) -> dict[str, Any]:
        return self.study.objects

    def stat(self, stat_name: str, value: Any, *, group: Group | None = None, variable: str = "",
             variable_level: Any = "", method: str = "") -> None:
        """One ARD row of this analysis (numbers in ``stat``, anything else in ``stat_text``)."""
        num = np.nan
        text = ""
        if isinstance(value, (bool, np.bool_)):
            num = float(value)
        elif isinstance(value, (int, float, np.integer, np.floating)) and value is not None:
            num = float(value)
        elif value is None or value is pd.NA:
            num = np.nan
        else:
            text = str(value)
        self.study.ard_rows.append({
            "analysis": self.id, "kind": self.kind.name, "population": self.population,
            "group1": group.by if group else "", "group1_level": (group.level if group and group.by else ""),
            "group2": group.within if group else "", "group2_level": group.within_level if group else "",
            "variable": variable, "variable_level": _fmt_level(variable_level), "stat_name": stat_name,
            "stat": num, "stat_text": text, "method": method,
        })

    def stats(self, values: dict[str, Any], **kw: Any) -> None:
        """Several ARD rows sharing group/variable/method (``{stat_name: value}``)."""
        for k, v in values.items():
            self.stat(k, v, **kw)

    def exclude(self, ids: Iterable[str], reason: str | Iterable[str], part: str = "") -> None:
        """Record that ``ids`` were left out of this analysis (one reason, or one per id)."""
        ids = list(ids)
        reasons = [reason] * len(ids) if isinstance(reason, str) else list(reason)
        where = f"{self.id}:{part}" if part else self.id
        for pid, why in zip(ids, reasons):
            self.study.exclusion_rows.append((where, str(pid), str(why) if why else "not stated"))

    def note(self, part: str, text: str) -> None:
        """A part of the analysis that did not run (shown with the analysis in the report)."""
        self.study.notes[f"{self.id}:{part}"] = text

    def skip(self, reason: str) -> None:
        """Stop this analysis: it is recorded as skipped with ``reason``."""
        raise AnalysisSkipped(reason)

    def key(self, name: str, value: Any) -> None:
        """A flat key number (kept for the reproduction record and the command line)."""
        self.study.key_numbers[name] = value


def _labels(s: pd.Series) -> np.ndarray:
    out = np.empty(len(s), dtype=object)
    for i, v in enumerate(s.to_numpy(dtype=object)):
        out[i] = None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else _fmt_level(v)
    return out


def _levels(s: pd.Series) -> list[str]:
    """Sorted string levels of ``s`` (categories in their order; numbers numerically)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = set(_labels(s)) - {None}
        return [_fmt_level(c) for c in s.cat.categories if _fmt_level(c) in present]
    vals = [v for v in s.to_numpy(dtype=object) if not (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)))]
    try:
        ordered = sorted(set(vals), key=lambda x: float(x))
    except (TypeError, ValueError):
        ordered = sorted(set(vals), key=str)
    return [_fmt_level(v) for v in ordered]


def _fmt_level(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v)).lower()
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return "" if v is None else str(v)


def iter_groups(rc: RunContext, include_all: bool = True) -> Iterator[Group]:
    yield from rc.groups(include_all)


__all__ = ["AnalysisSkipped", "Group", "RunContext", "StudyRun", "Window", "iter_groups"]
