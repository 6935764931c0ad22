"""Lab values, qualifiers and units: parse, convert to the canonical unit, record each conversion.

A lab value may carry a comparator (``>5000``, ``>=50000``, ``<5``): the number goes to
``value`` and the comparator to ``qualifier`` (``=`` for an exact value), so an assay limit is
kept as a censored value rather than lost. Units are converted per (analyte, unit) pair with the
factors of :mod:`cartscope.cohort.units`; every conversion applied is returned as a
:class:`~cartscope.cohort.model.UnitConversion`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cartscope.cohort.analytes import BUILTIN, AnalyteDictionary, limit_token
from cartscope.cohort.checks_columns import STR_DTYPE, parse_number, parse_text
from cartscope.cohort.checks_common import MISSING, Table, emit, number_text, parse_codes, parse_unique
from cartscope.cohort.model import UnitConversion
from cartscope.cohort.problems import Problem, Severity
from cartscope.cohort.units import (
    ANALYTES,
    DIMENSIONS,
    KINETIC_UNITS,
    UnitError,
)

_COMPARATOR = re.compile(r"^(>=|<=|=>|=<|≥|≤|>|<|=)?\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$")
QUALIFIER_SPELLINGS = {
    "=": "=", "==": "=", "eq": "=", ">": ">", "gt": ">", ">=": ">=", "=>": ">=", "≥": ">=", "ge": ">=",
    "<": "<", "lt": "<", "<=": "<=", "=<": "<=", "≤": "<=", "le": "<=",
}


_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
"""A cell that is a bare number (no comparator, space or limit word): most lab cells."""


def parse_lab_value(cell: object) -> tuple[object, str | None]:
    """``(qualifier or None, number)`` from a cell such as ``12.5``, ``>5000`` or ``<= 3``."""
    if type(cell) is str and _PLAIN_NUMBER.fullmatch(cell):  # what the rules below give it, sooner
        return (None, float(cell)), None
    if isinstance(cell, int | float | np.integer | np.floating) and not isinstance(cell, bool):
        value, error = parse_number(cell)
        return (None if error else (None, value)), error
    text = str(cell).strip().replace(" ", "")
    token = limit_token(str(cell))
    if token is not None:  # '<LLOQ', 'BLQ', 'ND', '>ULOQ': the analyte's limit, filled in once it is known
        return token, None
    match = _COMPARATOR.match(text)
    if not match:
        _, error = parse_number(cell)
        return None, error or f"{str(cell).strip()!r} is not a number"
    comparator = QUALIFIER_SPELLINGS[match.group(1)] if match.group(1) else None
    return (comparator, float(match.group(2))), None


def parse_qualifier(cell: object) -> tuple[object, str | None]:
    text = parse_text(cell)[0]
    if text is MISSING:
        return MISSING, None
    key = str(text).strip().lower().replace(" ", "")
    if key in QUALIFIER_SPELLINGS:
        return QUALIFIER_SPELLINGS[key], None
    return None, f"unknown qualifier {str(text)!r} (use =, >, >=, < or <=)"


def check_lab_values(table: Table, out: list[Problem]) -> None:
    """Fill ``value`` and ``qualifier`` of labs from the raw cells."""
    f, n = table.frame, len(table.frame)
    numbers = np.full(n, np.nan)
    comparators = np.full(n, None, dtype=object)
    if table.has("value"):
        codes, parsed_u, errors_u, missing_u = parse_codes(table.raw[table.source_columns["value"]], parse_lab_value)
        errors, missing = errors_u[codes], missing_u[codes]
        bad = np.array([e is not None for e in errors_u], dtype=bool)[codes]
        emit(out, table, bad, "value", "not-a-number", errors[bad])
        emit(out, table, missing, "value", "missing-value", "no value (required) in this row")
        # limit, number and comparator once per distinct cell, then spread over the rows
        ok_u = np.array([e is None for e in errors_u], dtype=bool) & ~missing_u
        limit_u = np.full(len(parsed_u), None, dtype=object)
        number_u = np.full(len(parsed_u), np.nan)
        comparator_u = np.full(len(parsed_u), None, dtype=object)
        limit_u[ok_u] = [p[1] if isinstance(p[1], str) else None for p in parsed_u[ok_u]]
        number_u[ok_u] = [np.nan if isinstance(p[1], str) else p[1] for p in parsed_u[ok_u]]
        comparator_u[ok_u] = [p[0] for p in parsed_u[ok_u]]
        limits, numbers, comparators = limit_u[codes], number_u[codes], comparator_u[codes]
        f["_limit"] = pd.Series(limits, dtype=object, index=f.index)
        f["_limit_text"] = table.raw[table.source_columns["value"]].astype(object).to_numpy()
    column_q = np.full(n, None, dtype=object)
    if table.has("qualifier"):
        q, errors, _ = parse_unique(table.raw[table.source_columns["qualifier"]], parse_qualifier)
        bad = np.array([e is not None for e in errors], dtype=bool)
        emit(out, table, bad, "qualifier", "unknown-qualifier", errors[bad])
        column_q = q
    conflict = ((comparators != None) & (column_q != None)  # noqa: E711 (element-wise)
                & (comparators != column_q)).astype(bool)
    emit(out, table, conflict, "qualifier", "qualifier-conflict",
         [f"the value says {a!r} but qualifier says {b!r}" for a, b in zip(comparators[conflict], column_q[conflict])])
    qualifier = np.where(comparators != None, comparators, column_q)  # noqa: E711 (element-wise)
    qualifier = np.where(qualifier == None, "=", qualifier)  # noqa: E711
    f["value"] = numbers
    f["qualifier"] = pd.array(qualifier, dtype=STR_DTYPE)


def _pair_codes(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, list[tuple[object, object]]]:
    """``pd.factorize`` of the (first, second) pairs: a code per row and the distinct pairs in
    order of first appearance. Without a missing value in either array the pairs are coded
    from the codes of each array (no tuple per row is built); otherwise through a MultiIndex."""
    first, second = np.asarray(first, dtype=object), np.asarray(second, dtype=object)
    if pd.isna(first).any() or pd.isna(second).any():
        codes, uniques = pd.factorize(pd.MultiIndex.from_arrays([first, second]))
        return codes, list(uniques)
    code_a, uniq_a = pd.factorize(first)
    code_b, uniq_b = pd.factorize(second)
    width = max(len(uniq_b), 1)
    codes, pairs = pd.factorize(code_a.astype(np.int64) * width + code_b)
    return codes, [(uniq_a[p // width], uniq_b[p % width]) for p in pairs.tolist()]


def _unit_hint(analyte: str, unit: str) -> str:
    if unit == "g/L" and ANALYTES.get(analyte) and ANALYTES[analyte].unit == "/uL":
        return " (giga per litre? write x10^9/L)"
    return ""


def _convert(
    table: Table, subject: pd.Series, units_raw: pd.Series, known_target: dict[str, str],
    unit_required: bool, out: list[Problem], dictionary: AnalyteDictionary = BUILTIN,
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str, str, float, int]]]:
    """Factor per row (NaN where not convertible), target unit per row, conversions applied.

    ``subject`` is the analyte or measure of each row; ``known_target`` gives the canonical unit
    of known subjects. Unknown subjects keep their unit when it is single; several units of one
    dimension are converted to the most used one; several dimensions are an error.
    """
    n = len(subject)
    unit_text, _, unit_missing = parse_unique(units_raw, parse_text)
    units = np.array(unit_text, dtype=object)
    units[pd.isna(units)] = "\0"  # a missing unit (Series.fillna would cut "\0" to "")
    codes, uniques = _pair_codes(subject.astype(object).to_numpy(), units)
    factor_u = np.full(len(uniques), np.nan)
    target_u = np.full(len(uniques), None, dtype=object)
    error_u: list[tuple[str, str] | None] = [None] * len(uniques)
    normalised = [dictionary.unit(s if isinstance(s, str) else None, u) if u != "\0" else None for s, u in uniques]
    counts = np.bincount(codes, minlength=len(uniques))
    # choose a target for subjects without a canonical unit
    free_target: dict[str, str] = {}
    free_units: dict[str, dict[str, int]] = {}
    for (subj, _), norm, count in zip(uniques, normalised, counts):
        if subj is None or subj is np.nan or subj in known_target or norm is None:
            continue
        free_units.setdefault(subj, {})
        free_units[subj][norm] = free_units[subj].get(norm, 0) + int(count)
    for subj, used in free_units.items():
        best = sorted(used.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        free_target[subj] = best
    for i, ((subj, raw_unit), norm) in enumerate(zip(uniques, normalised)):
        if not isinstance(subj, str) or raw_unit == "\0":
            continue
        if norm is None:
            known = f"; {subj} is measured in {known_target[subj]}" if subj in known_target else ""
            error_u[i] = ("unknown-unit", f"unknown unit {raw_unit!r} for {subj}{known}")
            continue
        target = known_target.get(subj) or free_target[subj]
        try:
            factor_u[i] = dictionary.factor(norm, target, subj)
            target_u[i] = target
        except UnitError as exc:
            if subj in known_target:
                error_u[i] = ("incompatible-unit",
                              f"{raw_unit!r} is not a unit for {subj} ({exc}){_unit_hint(subj, norm)}")
            else:
                error_u[i] = ("mixed-units", f"{subj} is given in {norm} here but mostly in {target}, "
                                             "which cannot be converted; use one unit per analyte")
    row_err = np.array([error_u[c] for c in codes] if n else [], dtype=object)
    for code in ("unknown-unit", "incompatible-unit", "mixed-units"):
        sel = np.array([e is not None and e[0] == code for e in row_err], dtype=bool)
        emit(out, table, sel, "unit", code, [e[1] for e in row_err[sel]])
    factor = factor_u[codes] if n else np.zeros(0)
    target = target_u[codes] if n else np.zeros(0, dtype=object)
    if unit_required:
        emit(out, table, unit_missing & subject.notna().to_numpy(), "unit", "unit-missing",
             "no unit in this row (a lab value needs its unit)")
    else:  # no unit given: the canonical unit of the measure is meant
        fill = unit_missing & subject.isin(list(known_target)).to_numpy()
        factor = np.where(fill, 1.0, factor)
        target = np.where(fill, subject.map(known_target).to_numpy(dtype=object), target)
    applied: list[tuple[str, str, str, float, int]] = []
    for i, ((subj, _), norm) in enumerate(zip(uniques, normalised)):
        if target_u[i] is not None and norm != target_u[i]:
            applied.append((subj, norm, target_u[i], float(factor_u[i]), int(counts[i])))
    return factor, target, applied


def _merge_conversions(table: str, label: str, applied: list[tuple[str, str, str, float, int]]) -> list[UnitConversion]:
    merged: dict[tuple[str, str, str, float], int] = {}
    for subj, src, dst, factor, rows in applied:
        key = (subj, src, dst, factor)
        merged[key] = merged.get(key, 0) + rows
    return [UnitConversion(table, f"{label}[{subj}]", src, dst, factor, rows)
            for (subj, src, dst, factor), rows in sorted(merged.items())]


def normalise_lab_units(
    table: Table, out: list[Problem], dictionary: AnalyteDictionary = BUILTIN
) -> list[UnitConversion]:
    """Canonical analyte names and units for labs, assay limits and allowed ranges from the
    analyte ``dictionary`` (:mod:`cartscope.cohort.analytes`); returns the conversions applied."""
    f = table.frame
    if not table.has("analyte") or not table.has("unit"):
        _check_range(table, out, dictionary)
        return []
    names = f["analyte"].astype(object)
    distinct = {a: dictionary.canonical(a) for a in pd.unique(names.dropna())}  # one lookup per spelling
    canonical = names.map(distinct)
    subject = canonical.where(canonical.notna(), names)
    targets = dictionary.targets()
    factor, target, applied = _convert(table, subject, table.raw[table.source_columns["unit"]], targets,
                                       True, out, dictionary)
    f["analyte"] = pd.array(subject.to_numpy(dtype=object), dtype=STR_DTYPE)
    f["value"] = f["value"].to_numpy() * factor
    f["unit"] = pd.array(target, dtype=STR_DTYPE)
    _fill_limits(table, out, dictionary)
    _check_range(table, out, dictionary)
    _plausibility(table, out, dictionary)
    return _merge_conversions("labs", "value", applied)


def _fill_limits(table: Table, out: list[Problem], dictionary: AnalyteDictionary) -> None:
    """``<LLOQ``-style cells take the analyte's limit (canonical unit); a limit the dictionary
    lacks is an error; an exact value below the LLOQ or above the ULOQ is a warning."""
    f = table.frame
    if "_limit" not in f:
        return
    limits = f["_limit"].to_numpy(dtype=object)
    values = f["value"].to_numpy(dtype=float).copy()
    analytes = f["analyte"].astype(object).to_numpy()
    rows = np.flatnonzero(np.array([isinstance(lim, str) for lim in limits], dtype=bool))
    lacking = np.zeros(len(f), dtype=bool)
    messages = []
    for i in rows:
        info = dictionary.get(analytes[i]) if isinstance(analytes[i], str) else None
        limit = getattr(info, limits[i]) if info is not None else None
        if limit is None:
            lacking[i] = True
            messages.append(f"{str(f['_limit_text'].iloc[i]).strip()!r} needs the {limits[i].upper()} of "
                            f"{analytes[i]} (give it in cohort.yaml analytes: or an analytes sheet)")
        else:
            values[i] = limit
    emit(out, table, lacking, "value", "assay-limit-unknown", messages)
    f["value"] = values
    exact = (f["qualifier"].astype(object).to_numpy() == "=")
    info = {a: dictionary.get(a) for a in pd.unique(f["analyte"].dropna())}
    lo = f["analyte"].map({a: (i.lloq if i and i.lloq is not None else np.nan) for a, i in info.items()})
    hi = f["analyte"].map({a: (i.uloq if i and i.uloq is not None else np.nan) for a, i in info.items()})
    lo = pd.to_numeric(lo, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    hi = pd.to_numeric(hi, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    below = exact & ~np.isnan(lo) & (values < lo)
    above = exact & ~np.isnan(hi) & (values > hi)
    emit(out, table, below, "value", "below-lloq",
         [f"{a} {number_text(v)} is below the LLOQ {number_text(q)}; the value is kept as given"
          for a, v, q in zip(analytes[below], values[below], lo[below])], Severity.WARNING)
    emit(out, table, above, "value", "above-uloq",
         [f"{a} {number_text(v)} is above the ULOQ {number_text(q)}; the value is kept as given"
          for a, v, q in zip(analytes[above], values[above], hi[above])], Severity.WARNING)
    table.frame = f.drop(columns=["_limit", "_limit_text"])


def _check_range(table: Table, out: list[Problem], dictionary: AnalyteDictionary) -> None:
    """Values outside the analyte's allowed range (measurements are at least 0, scores may be negative)."""
    f = table.frame
    values = f["value"].to_numpy(dtype=float)
    analytes = f["analyte"].astype(object).to_numpy() if "analyte" in f else np.full(len(f), None, dtype=object)
    units = f["unit"].astype(object).to_numpy() if "unit" in f else np.full(len(f), None, dtype=object)
    if not len(values):
        return
    # a missing analyte or unit is coded as "" (the dictionary's bounds are the same for both)
    codes, uniques = _pair_codes(pd.Series(analytes, dtype=object).fillna("").to_numpy(dtype=object),
                                 pd.Series(units, dtype=object).fillna("").to_numpy(dtype=object))
    low_u, high_u = np.full(len(uniques), -np.inf), np.full(len(uniques), np.inf)
    for i, (a, u) in enumerate(uniques):  # bounds once per (analyte, unit) pair
        lo, hi = dictionary.minimum(a, u), dictionary.maximum(a, u)
        low_u[i] = -np.inf if lo is None else lo
        high_u[i] = np.inf if hi is None else hi
    low, high = low_u[codes], high_u[codes]
    under = ~np.isnan(values) & (values < low)
    over = ~np.isnan(values) & (values > high)
    emit(out, table, under, "value", "out-of-range",
         ["value {} is impossible: a measurement is at least 0".format(number_text(v)) if lo == 0 else
          f"value {number_text(v)} is impossible for {a}: must be at least {number_text(lo)}"
          for v, lo, a in zip(values[under], low[under], analytes[under])])
    emit(out, table, over, "value", "out-of-range",
         [f"value {number_text(v)} {u} is impossible for {a}: must be at most {number_text(hi)}"
          for v, hi, a, u in zip(values[over], high[over], analytes[over], units[over])])


def _plausibility(table: Table, out: list[Problem], dictionary: AnalyteDictionary = BUILTIN) -> None:
    f = table.frame
    limits = {name: a.plausible_max for name, a in dictionary.analytes.items() if a.plausible_max}
    high = f["analyte"].map(limits).to_numpy(dtype="float64", na_value=np.nan)
    values = f["value"].to_numpy()
    flag = ~np.isnan(high) & (values > high)
    if flag.any():
        emit(out, table, flag, "value", "implausible-value",
             [f"{a} {number_text(v)} {u} is implausibly high (above {number_text(h)}); check the unit"
              for a, v, u, h in zip(f["analyte"][flag], values[flag], f["unit"][flag], high[flag])],
             Severity.WARNING)


def normalise_kinetic_units(table: Table, out: list[Problem]) -> list[UnitConversion]:
    """Express kinetics values in the unit their measure names (a blank unit means that unit)."""
    f = table.frame
    measure = f["measure"].astype(object)
    if not table.has("unit"):
        f["unit"] = pd.array(measure.map(KINETIC_UNITS).to_numpy(dtype=object), dtype=STR_DTYPE)
        return []
    factor, target, applied = _convert(table, measure, table.raw[table.source_columns["unit"]], KINETIC_UNITS,
                                       False, out)
    f["value"] = f["value"].to_numpy() * factor
    f["unit"] = pd.array(target, dtype=STR_DTYPE)
    return _merge_conversions("kinetics", "value", applied)


__all__ = ["DIMENSIONS", "check_lab_values", "normalise_kinetic_units", "normalise_lab_units", "parse_lab_value"]
