"""Per-patient variables of a plan: the built-in ones and those defined under ``variables``.

Built in (no definition needed): every column of the endpoint frame (``disease_group``,
``disease``, ``cohort_role``, ``bor``, ``responder``, ``outcome_class``, ``crs_grade``,
``crs_group``, ``disease_burden``, ``<endpoint>_time`` / ``_event``, ...) and every column of the
patients table. A defined variable is derived by its ``derive`` rule
(:mod:`cartscope.analysis.plan.schema`); every number comes from :mod:`cartscope.clinical`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cartscope.analysis.plan import schema as S
from cartscope.clinical.kinetics import car_kinetics, cytokine_kinetics
from cartscope.cohort.units import canonical_analyte

if TYPE_CHECKING:  # pragma: no cover
    from cartscope.analysis.plan.context import StudyRun

RESPONSE_WORDS = ("CR", "CRi", "PR", "SD", "PD", "MRD-negative CR")


def analyte_key(name: object) -> str:
    """How analyte names compare: the loader's canonical name (``IL-6`` -> ``il6``, ``sIL2R`` ->
    ``il2r``), else lower case without spaces, ``-`` and ``_``."""
    import re

    canon = canonical_analyte(name)
    return canon if canon else re.sub(r"[\s_\-]+", "", str(name).strip().lower())


def analyte_keys(names: pd.Series) -> pd.Series:
    """:func:`analyte_key` of every value, computed once per distinct name (a labs table has a
    few dozen analytes over up to millions of rows)."""
    if names.empty or names.isna().any():  # None and NaN key differently: the per-value rule
        return names.map(analyte_key)
    distinct = pd.unique(names)
    return names.map(dict(zip(distinct, map(analyte_key, distinct))))


def patient_labs(study: "StudyRun") -> pd.DataFrame:
    """Lab rows of patients (healthy donors left out) with an ``analyte_key`` column (built
    once per cohort, :meth:`Cohort.derived`; each call returns its own copy)."""
    cohort = study.cohort
    return cohort.derived("patient_labs", lambda: _patient_labs(cohort.labs), pd.DataFrame.copy)


def _patient_labs(labs: pd.DataFrame) -> pd.DataFrame:
    if "role" in labs:
        labs = labs[labs["role"].astype(object).fillna("patient") != "healthy_donor"]
    labs = labs.assign(patient_id=labs["patient_id"].astype(str), analyte_key=analyte_keys(labs["analyte"]))
    return labs


def donor_labs(study: "StudyRun") -> pd.DataFrame:
    labs = study.cohort.labs
    if "role" not in labs:
        return labs.iloc[0:0]
    d = labs[labs["role"].astype(object) == "healthy_donor"]
    return d.assign(analyte_key=analyte_keys(d["analyte"]), value=pd.to_numeric(d["value"], errors="coerce"))


def _patients(study: "StudyRun") -> pd.DataFrame:
    p = study.cohort.patients.assign(patient_id=study.cohort.patients["patient_id"].astype(str))
    return p.drop_duplicates("patient_id").set_index("patient_id").reindex(study.patient_ids)


BUILTIN_DERIVED = {"nr_er": S.NrErVar(derive="nr_er")}
"""Derived variables available without a definition (a plan may redefine them)."""


def builtin_names(study: "StudyRun") -> list[str]:
    """Built-in variable names: endpoint-frame columns, derived built-ins, then patients columns."""
    out = [c for c in study.endpoints.columns if c != "patient_id"] + list(BUILTIN_DERIVED)
    out += [c for c in study.cohort.patients.columns if c != "patient_id" and c not in out]
    return out


def variable_type(study: "StudyRun", name: str) -> str:
    """``binary``, ``continuous`` or ``categorical`` (``time`` for an endpoint name)."""
    if name in study.plan.endpoint_names() and name not in study.plan.variables:
        return "time"
    spec = study.plan.variables.get(name, BUILTIN_DERIVED.get(name))
    if spec is not None:
        t = S.VARIABLE_TYPE[spec.derive]
        if spec.derive in ("crs", "icans") and spec.at_least is not None:
            return "binary"
        if spec.derive == "score":
            return "categorical" if spec.score.endswith("_group") else "continuous"
        if t is not None:
            return t
    s = study.variable(name)
    return data_type(s)


def data_type(s: pd.Series) -> str:
    if s.dtype == bool or str(s.dtype) == "boolean":
        return "binary"
    if isinstance(s.dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(s.dtype):
        vals = set(pd.to_numeric(s, errors="coerce").dropna().unique().tolist())
        return "binary" if vals and vals <= {0, 1} else "continuous"
    num = pd.to_numeric(s, errors="coerce")
    if s.notna().sum() and num.notna().sum() == s.notna().sum():
        return "continuous"
    return "categorical"


def derive(study: "StudyRun", name: str) -> pd.Series:
    """Variable ``name`` per patient (index patient_id, every patient of the endpoint frame)."""
    ids = study.patient_ids
    spec = study.plan.variables.get(name, BUILTIN_DERIVED.get(name))
    if spec is None:
        if name in study.endpoints.columns:
            return pd.Series(study.endpoints[name].to_numpy(), index=ids, name=name, dtype=study.endpoints[name].dtype)
        pats = _patients(study)
        if name in pats:
            return pats[name].rename(name)
        raise KeyError(name)
    fn = _DERIVE[spec.derive]
    out = fn(study, spec)
    return out.reindex(ids).rename(name)


def _column(study: "StudyRun", spec: S.ColumnVar) -> pd.Series:
    return derive(study, spec.column) if spec.column not in study.plan.variables else study.variable(spec.column)


def _expression(study: "StudyRun", spec: S.ExpressionVar) -> pd.Series:
    from cartscope.analysis.plan.expr import evaluate, names

    value = evaluate(spec.expr, study.variable, study.patient_ids)
    if value.dtype == bool:
        missing = np.zeros(len(value), dtype=bool)
        for n in names(spec.expr):
            missing |= study.variable(n).isna().to_numpy()
        return value.astype(float).mask(missing)
    return pd.to_numeric(value, errors="coerce").astype(float)


def _nr_er(study: "StudyRun", spec: S.NrErVar) -> pd.Series:
    cls = study.endpoints["outcome_class"].astype(object).to_numpy()
    out = np.where(cls == "NR/ER", 1.0, np.where(cls == "durable", 0.0, np.nan))
    return pd.Series(out, index=study.patient_ids)


def _response(study: "StudyRun", spec: S.ResponseVar) -> pd.Series:
    want = {r.casefold() for r in spec.responses}
    ep = study.endpoints
    ids = study.patient_ids
    if spec.by_day is None:
        bor = ep["bor"].astype(object).to_numpy()
        out = np.array([np.nan if b is None or b is pd.NA or (isinstance(b, float) and np.isnan(b))
                        else float(str(b).casefold() in want) for b in bor])
        return pd.Series(out, index=ids)
    w = study.window(S.WindowSpec(start=0, end=spec.by_day))
    a = w.rebase(study.cohort.assessments)
    a = a[a["response"].notna()] if "response" in a else a.iloc[0:0]
    hit = a.assign(ok=a["response"].astype(str).str.casefold().isin(want)).groupby("patient_id")["ok"].any()
    out = hit.astype(float).reindex(ids)
    return out


def _toxicity(study: "StudyRun", spec: S.ToxicityVar) -> pd.Series:
    from cartscope.analysis.analyses.toxicity import patient_grades

    grades = patient_grades(study, spec.window).set_index("patient_id")
    col = "crs_grade" if spec.derive == "crs" else "icans_grade"
    g = pd.to_numeric(grades[col], errors="coerce").astype(float).reindex(study.patient_ids)
    return (g >= spec.at_least).astype(float).mask(g.isna()) if spec.at_least is not None else g


def index_infusion_no(study: "StudyRun") -> pd.Series:
    """The infusion number of each patient's index infusion."""
    inf = study.cohort.infusions.assign(patient_id=study.cohort.infusions["patient_id"].astype(str),
                                        d=lambda f: pd.to_numeric(f["day"], errors="coerce"),
                                        no=lambda f: pd.to_numeric(f["infusion_no"], errors="coerce"))
    idx = study.endpoints.set_index(study.patient_ids)["index_day"]
    inf = inf[inf["d"].to_numpy() == inf["patient_id"].map(idx).to_numpy()]
    return inf.drop_duplicates("patient_id").set_index("patient_id")["no"].reindex(study.patient_ids)


def nca_table(study: "StudyRun", measure: str | tuple[str, ...]) -> pd.DataFrame:
    from cartscope.analysis.analyses._context import float_days

    key = ("nca", measure)
    cache = study.cache
    if key not in cache:
        if "kinetics" not in study.cohort.present or study.cohort.kinetics.empty:
            cache[key] = pd.DataFrame(columns=["patient_id", "infusion_no", "measure"])
        else:
            cache[key] = car_kinetics(study.cohort.kinetics, measure=measure,
                                      infusions=float_days(study.cohort.infusions))
    return cache[key]


def _car(study: "StudyRun", spec: S.CarKineticsVar) -> pd.Series:
    per = nca_table(study, spec.measure)
    if per.empty:
        return pd.Series(np.nan, index=study.patient_ids)
    per = per[per["measure"] == spec.measure].assign(patient_id=lambda f: f["patient_id"].astype(str))
    if spec.infusion == "index":
        no = index_infusion_no(study)
        per = per[per["infusion_no"].to_numpy(dtype=float) == per["patient_id"].map(no).to_numpy(dtype=float)]
    else:
        per = per[per["infusion_no"] == spec.infusion]
    return pd.to_numeric(per.drop_duplicates("patient_id").set_index("patient_id")[spec.parameter],
                         errors="coerce").astype(float)


def cytokine_frame(study: "StudyRun", window: str | S.WindowSpec | None, analytes: list[str] | None = None
                   ) -> pd.DataFrame:
    """:func:`cytokine_kinetics` per patient x analyte in a window (default days 0-30 after the
    index infusion); baseline = last value on or before the window's infusion day."""
    w = study.window(window, S.WindowSpec(start=0, end=30))
    labs = patient_labs(study)
    if analytes is not None:
        keys = {analyte_key(a) for a in analytes}
        labs = labs[labs["analyte_key"].isin(keys)]
    shifted = w.shift(labs)
    stop = shifted["patient_id"].map(w.stop)
    shifted = shifted[(stop.isna() | (shifted["day"] + shifted["patient_id"].map(w.day0) < stop)).to_numpy()]
    lo, hi = w.bounds
    out = cytokine_kinetics(shifted.assign(analyte=shifted["analyte_key"]), window=(lo, hi if np.isfinite(hi) else 1e9))
    return out


def _cytokine(study: "StudyRun", spec: S.CytokineVar) -> pd.Series:
    c = cytokine_frame(study, spec.window, [spec.analyte])
    return pd.to_numeric(c.set_index("patient_id")[spec.statistic], errors="coerce").astype(float)


def _lab(study: "StudyRun", spec: S.LabVar) -> pd.Series:
    key = analyte_key(spec.analyte)
    labs = patient_labs(study)
    labs = labs[labs["analyte_key"] == key]
    labs = labs.assign(value=pd.to_numeric(labs["value"], errors="coerce"))
    if spec.timepoint is not None:
        rows = labs[labs["timepoint"].astype(object) == spec.timepoint] if "timepoint" in labs else labs.iloc[0:0]
        val = rows.groupby("patient_id")["value"].mean()
    else:
        w = study.window(None)
        rows = w.shift(labs)
        rows = rows.assign(dist=(rows["day"] - spec.day).abs())
        rows = rows[rows["dist"] <= spec.tolerance_days].sort_values(["patient_id", "dist", "day"], kind="mergesort")
        val = rows.drop_duplicates("patient_id").set_index("patient_id")["value"]
    if spec.reference != "none":
        d = donor_labs(study)
        d = d[d["analyte_key"] == key]["value"]
        ref = d.mean() if spec.reference == "healthy_donor_mean" else d.median()
        val = val / ref if np.isfinite(ref) and ref > 0 else val * np.nan
    return val.astype(float)


def _pre_infusion(study: "StudyRun", spec: S.PreInfusionVar) -> pd.Series:
    from cartscope.analysis.analyses._context import rebase

    a = rebase(study.cohort.assessments, study.endpoints.set_index(study.patient_ids)["index_day"])
    if spec.of not in a:
        return pd.Series(np.nan, index=study.patient_ids)
    a = a.assign(v=pd.to_numeric(a[spec.of], errors="coerce"))
    a = a[(a["day"] <= 0) & a["v"].notna()].sort_values(["patient_id", "day"], kind="mergesort")
    return a.groupby("patient_id")["v"].last().astype(float)


def _infusion(study: "StudyRun", spec: S.InfusionVar) -> pd.Series:
    inf = study.cohort.infusions.assign(patient_id=study.cohort.infusions["patient_id"].astype(str),
                                        no=lambda f: pd.to_numeric(f["infusion_no"], errors="coerce"))
    if spec.column not in inf:
        return pd.Series(np.nan, index=study.patient_ids)
    if spec.infusion == "index":
        no = index_infusion_no(study)
        inf = inf[inf["no"].to_numpy(dtype=float) == inf["patient_id"].map(no).to_numpy(dtype=float)]
    else:
        inf = inf[inf["no"] == spec.infusion]
    s = inf.drop_duplicates("patient_id").set_index("patient_id")[spec.column]
    num = pd.to_numeric(s, errors="coerce")
    if num.notna().sum() == s.notna().sum():
        return num.astype(float) * spec.scale
    return s.astype(object)


def _response_duration(study: "StudyRun", spec: S.ResponseDurationVar) -> pd.Series:
    ep = study.endpoints.set_index(study.patient_ids)
    end = ep["relapse_day"].fillna(ep["last_contact_day"])
    return (end - ep["response_day"]).where(ep["responder"].fillna(False).astype(bool)).astype(float)


def _num(study: "StudyRun", name: str) -> pd.Series:
    return pd.to_numeric(study.variable(name), errors="coerce").astype(float)


def _ratio(study: "StudyRun", spec: S.RatioVar) -> pd.Series:
    den = _num(study, spec.denominator)
    return _num(study, spec.numerator) / den.where(den != 0)


def _transform(study: "StudyRun", spec: S.TransformVar) -> pd.Series:
    x = _num(study, spec.of) / spec.per
    fn = {"none": lambda v: v, "log": np.log, "log2": np.log2, "log10": np.log10}[spec.fn]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = fn(x.where(x > 0) if spec.fn != "none" else x)
    return out.astype(float)


def cut_labels(breaks: tuple[float, ...], right: bool) -> list[str]:
    b = [f"{x:g}" for x in breaks]
    if right:
        return [f"<={b[0]}"] + [f"{lo}-{hi}" for lo, hi in zip(b, b[1:])] + [f">{b[-1]}"]
    return [f"<{b[0]}"] + [f"{lo}-<{hi}" for lo, hi in zip(b, b[1:])] + [f">={b[-1]}"]


def _cut(study: "StudyRun", spec: S.CutVar) -> pd.Series:
    x = _num(study, spec.of)
    breaks = (float(np.nanmedian(x)),) if spec.breaks == "median" else tuple(spec.breaks)
    labels = list(spec.labels) if spec.labels else cut_labels(breaks, spec.right)
    edges = [-np.inf, *breaks, np.inf]
    out = pd.cut(x, bins=edges, labels=labels, right=spec.right)
    return pd.Series(pd.Categorical(out, categories=labels, ordered=True), index=x.index)


def _score(study: "StudyRun", spec: S.ScoreVar) -> pd.Series:
    from cartscope.analysis.analyses._riskscores import derive_score

    return derive_score(study, spec)


def _expander(study: "StudyRun", spec: S.ExpanderVar) -> pd.Series:
    from cartscope.clinical.scores import expander

    x = _num(study, spec.of)
    if not np.isfinite(x.to_numpy()).any():
        return pd.Series(pd.Categorical([None] * len(x), categories=["weak", "strong"]), index=x.index)
    out = expander(x, spec.threshold)
    return pd.Series(out["expander"].to_numpy(), index=x.index)


_DERIVE = {
    "column": _column, "expression": _expression, "nr_er": _nr_er, "response": _response, "crs": _toxicity,
    "icans": _toxicity, "car_kinetics": _car, "cytokine": _cytokine, "lab": _lab, "pre_infusion": _pre_infusion, "infusion": _infusion,
    "response_duration": _response_duration, "ratio": _ratio, "transform": _transform, "cut": _cut,
    "score": _score, "expander": _expander,
}


def referenced(spec) -> list[tuple[str, str]]:
    """(key, name) pairs of other variables a definition uses (for checking and ordering)."""
    from cartscope.analysis.plan.expr import names

    if isinstance(spec, S.ExpressionVar):
        return [("expr", n) for n in names(spec.expr)]
    if isinstance(spec, S.ColumnVar):
        return [("column", spec.column)]
    if isinstance(spec, S.RatioVar):
        return [("numerator", spec.numerator), ("denominator", spec.denominator)]
    if isinstance(spec, (S.TransformVar, S.CutVar, S.ExpanderVar)):
        return [("of", spec.of)]
    return []


__all__ = ["analyte_key", "builtin_names", "cytokine_frame", "data_type", "derive", "index_infusion_no",
           "nca_table", "patient_labs", "referenced", "variable_type"]
