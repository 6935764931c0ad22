"""Short, R-like printed forms of result objects, and their HTML for Jupyter.

A result prints as R prints its counterpart (``print(survfit)``, ``print(coxph)``): a
header line naming the result, the few numbers a reader looks at first, and at most a few
rows of its table. Arrays are summarised, never dumped, so ``repr`` stays a few hundred
characters whatever the data size. ``_repr_html_`` gives the same content as a small HTML
table for notebooks; every value is HTML-escaped.

:func:`install` gives these methods to every result class of a module namespace that still
has the dataclass-generated ``__repr__`` (classes with a hand-written one keep it).
"""

from __future__ import annotations

import dataclasses
import html
import math
from typing import Any

import numpy as np

MAX_ROWS = 6
MAX_COLS = 8
MAX_WIDTH = 100


def _fmt(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "NA"
        if math.isinf(v):
            return "Inf" if v > 0 else "-Inf"
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e6):
            return f"{v:.3g}"
        return f"{v:.4g}"
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return _fmt(value.item())
        return f"<{value.size} values>" if value.size > 4 else "[" + ", ".join(_fmt(v) for v in value.ravel()) + "]"
    if isinstance(value, (tuple, list)):
        return f"<{len(value)} items>" if len(value) > 4 else "(" + ", ".join(_fmt(v) for v in value) + ")"
    if dataclasses.is_dataclass(value):
        return f"<{type(value).__name__}>"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _scalars(obj: Any) -> list[tuple[str, str]]:
    """(name, value) of the fields and cheap properties that are single values."""
    out: list[tuple[str, str]] = []
    fields = [f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else []
    for name in fields:
        if name.startswith("_"):
            continue
        v = getattr(obj, name)
        if isinstance(v, np.ndarray) and v.ndim > 0 and v.size != 1:
            continue
        if isinstance(v, (dict, list, tuple)) and len(v) > 4 or dataclasses.is_dataclass(v):
            continue
        if hasattr(v, "shape") and not isinstance(v, np.ndarray):  # frames
            continue
        out.append((name, _fmt(v.item() if isinstance(v, np.ndarray) else v)))
    return out


def _frame(obj: Any) -> Any:
    to_frame = getattr(obj, "to_frame", None)
    if to_frame is None:
        return None
    try:
        return to_frame()
    except Exception:  # a result whose table needs arguments or fails prints without it
        return None


def _table_text(frame: Any) -> list[str]:
    if frame is None or not hasattr(frame, "iloc") or frame.empty:
        return []
    cols = list(frame.columns)[:MAX_COLS]
    head = frame[cols].head(MAX_ROWS)
    cells = [[str(c) for c in cols]] + [[_fmt(v) for v in row] for row in head.itertuples(index=False)]
    widths = [max(len(r[j]) for r in cells) for j in range(len(cols))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths))[:MAX_WIDTH] for r in cells]
    more = []
    if len(frame) > MAX_ROWS:
        more.append(f"... {len(frame) - MAX_ROWS} more rows")
    if len(frame.columns) > MAX_COLS:
        more.append(f"{len(frame.columns) - MAX_COLS} more columns")
    if more:
        lines.append("(" + ", ".join(more) + "; .to_frame() has all)")
    return lines


def short_repr(obj: Any, headline: str | None = None, table: bool = True) -> str:
    """The printed form of a result (see the module docstring)."""
    name = type(obj).__name__
    scal = _scalars(obj)
    head = headline or ", ".join(f"{k} = {v}" for k, v in scal[:8])
    lines = [f"<{name}>" + (f" {head}" if head else "")]
    if table:
        lines += ["  " + line for line in _table_text(_frame(obj))]
    return "\n".join(lines)


def html_repr(obj: Any, headline: str | None = None) -> str:
    """``short_repr`` as HTML: the header and up to :data:`MAX_ROWS` rows of ``to_frame()``."""
    name = html.escape(type(obj).__name__)
    scal = _scalars(obj)
    head = html.escape(headline or ", ".join(f"{k} = {v}" for k, v in scal[:8]))
    parts = [f"<div><strong>{name}</strong> {head}"]
    frame = _frame(obj)
    if frame is not None and hasattr(frame, "iloc") and not frame.empty:
        cols = list(frame.columns)[:MAX_COLS]
        parts.append("<table><thead><tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in cols) + "</tr></thead><tbody>")
        for row in frame[cols].head(MAX_ROWS).itertuples(index=False):
            parts.append("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>")
        parts.append("</tbody></table>")
        if len(frame) > MAX_ROWS:
            parts.append(f"<small>{len(frame) - MAX_ROWS} more rows; .to_frame() has all</small>")
    parts.append("</div>")
    return "".join(parts)


def _is_generated(cls: type) -> bool:
    rep = cls.__dict__.get("__repr__")
    code = getattr(rep, "__code__", None)
    return rep is not None and code is not None and code.co_filename.endswith("dataclasses.py")


def install(namespace: dict[str, Any] | Any) -> list[type]:
    """Give :func:`short_repr` / :func:`html_repr` to the result dataclasses of
    ``namespace`` (a module or its ``globals()``) whose ``__repr__`` is the generated one;
    returns the classes changed."""
    items = namespace.items() if isinstance(namespace, dict) else vars(namespace).items()
    done = []
    for _, cls in list(items):
        if not isinstance(cls, type) or not dataclasses.is_dataclass(cls):
            continue
        if _is_generated(cls):
            cls.__repr__ = lambda self: short_repr(self)  # type: ignore[method-assign]
            done.append(cls)
        if "_repr_html_" not in cls.__dict__:
            cls._repr_html_ = lambda self: html_repr(self)  # type: ignore[attr-defined]
    return done


__all__ = ["html_repr", "install", "short_repr"]


def install_package(prefix: str = "cartscope.stats.") -> list[type]:
    """:func:`install` over every imported module under ``prefix``."""
    import sys

    done: list[type] = []
    for name, module in list(sys.modules.items()):
        if name.startswith(prefix) and module is not None and name != __name__:
            done += install(module)
    return done


def cohort_repr(cohort: Any) -> str:
    """"<Cohort> 119 patients from <source>" and one line of rows per table."""
    present = getattr(cohort, "present", ())
    n = len(cohort.patients)
    rows = ", ".join(f"{name} {len(getattr(cohort, name))}" for name in
                     ("patients", "infusions", "assessments", "events", "labs", "kinetics", "toxicity_daily")
                     if name in present)
    src = getattr(cohort, "source", "") or "memory"
    conv = len(getattr(cohort, "conversions", ()))
    return (f"<Cohort> {n} patients from {_fmt(src)}\n  rows: {rows}"
            + (f"\n  {conv} unit conversion(s) applied on load" if conv else ""))


def cohort_repr_html(cohort: Any) -> str:
    return "<pre>" + html.escape(cohort_repr(cohort)) + "</pre>"


def results_repr(results: Any) -> str:
    """"<Results> protocol jin2023, 119 patients" with the sections, tables and objects counted."""
    proto = getattr(results.protocol, "name", "?")
    lines = [f"<Results> protocol {proto}, {len(results.endpoints)} patients, data {str(results.data_hash)[:12]}"]
    lines.append(f"  sections run: {', '.join(results.sections) or 'none'}")
    if results.skipped:
        lines.append(f"  skipped: {len(results.skipped)} ({', '.join(list(results.skipped)[:4])}"
                     + (", ..." if len(results.skipped) > 4 else "") + ")")
    lines.append(f"  {len(results.tables)} tables, {len(results.objects)} result objects, "
                 f"{len(results.exclusions)} exclusions")
    ard = getattr(results, "ard", None)
    if ard is not None and hasattr(ard, "__len__") and len(ard):
        lines.append(f"  analysis-results dataset: {len(ard)} rows")
    return "\n".join(lines)


def results_repr_html(results: Any) -> str:
    return "<pre>" + html.escape(results_repr(results)) + "</pre>"
