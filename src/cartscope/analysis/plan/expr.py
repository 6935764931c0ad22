"""Safe expressions over per-patient variables (populations' ``where``, ``derive: expression``).

Python syntax, restricted to: names of variables, numbers, strings, ``True``/``False``/``None``,
lists, comparisons (``== != < <= > >= in not in``), ``and or not``, ``+ - * / **``, and the
functions ``log log2 log10 abs isna notna``. Nothing else is evaluated (no attributes, no
subscripts, no other calls), so a plan file cannot run code.
"""

from __future__ import annotations

import ast
from typing import Callable, Mapping

import numpy as np
import pandas as pd

FUNCTIONS: dict[str, Callable] = {
    "log": np.log, "log2": np.log2, "log10": np.log10, "abs": np.abs,
    "isna": lambda s: pd.Series(s).isna(), "notna": lambda s: pd.Series(s).notna(),
}

_CMP = {ast.Eq: "__eq__", ast.NotEq: "__ne__", ast.Lt: "__lt__", ast.LtE: "__le__", ast.Gt: "__gt__",
        ast.GtE: "__ge__"}
_BIN = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide, ast.Pow: np.power}


class ExpressionError(ValueError):
    """An expression that does not parse or uses something outside the allowed subset."""


def parse(text: str) -> ast.Expression:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"not a valid expression: {exc.msg}") from None
    for node in ast.walk(tree):
        ok = isinstance(node, (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub,
                               ast.UAdd, ast.Compare, ast.BinOp, ast.Name, ast.Load, ast.Constant, ast.List,
                               ast.Tuple, ast.Call, ast.In, ast.NotIn, *(_CMP), *(_BIN)))
        if not ok:
            raise ExpressionError(f"{type(node).__name__} is not allowed in an expression")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
                raise ExpressionError(f"only the functions {', '.join(FUNCTIONS)} may be called")
    return tree


def names(text: str) -> list[str]:
    """The variable names ``text`` refers to, in order of appearance (functions left out)."""
    tree = parse(text)
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in calls and node.id not in out:
            out.append(node.id)
    return out


def evaluate(text: str, lookup: Callable[[str], pd.Series], index: pd.Index) -> pd.Series:
    """The value of ``text`` per patient; ``lookup(name)`` gives a variable aligned to ``index``."""
    tree = parse(text)

    def ev(node: ast.AST):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            return [ev(e) for e in node.elts]
        if isinstance(node, ast.Name):
            return lookup(node.id)
        if isinstance(node, ast.Call):
            return FUNCTIONS[node.func.id](*[_num(ev(a)) for a in node.args])  # type: ignore[attr-defined]
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            if isinstance(node.op, ast.Not):
                return ~_bool(v)
            return -_num(v) if isinstance(node.op, ast.USub) else _num(v)
        if isinstance(node, ast.BoolOp):
            vals = [_bool(ev(v)) for v in node.values]
            out = vals[0]
            for v in vals[1:]:
                out = (out & v) if isinstance(node.op, ast.And) else (out | v)
            return out
        if isinstance(node, ast.BinOp):
            return _BIN[type(node.op)](_num(ev(node.left)), _num(ev(node.right)))
        if isinstance(node, ast.Compare):
            left = ev(node.left)
            out = None
            for op, comp in zip(node.ops, node.comparators):
                right = ev(comp)
                res = _compare(left, op, right, index)
                out = res if out is None else (out & res)
                left = right
            return out
        raise ExpressionError(f"{type(node).__name__} is not allowed")  # pragma: no cover - parse() refused

    value = ev(tree)
    if not isinstance(value, pd.Series):
        value = pd.Series([value] * len(index), index=index)
    return value.reindex(index) if not value.index.equals(index) else value


def _num(v):
    if isinstance(v, pd.Series):
        if v.dtype == bool:
            return v.astype(float)
        return pd.to_numeric(v, errors="coerce").astype(float)
    return v


def _bool(v) -> pd.Series:
    if isinstance(v, pd.Series):
        if v.dtype == bool:
            return v
        num = pd.to_numeric(v, errors="coerce")
        return (num.fillna(0) != 0) if num.notna().any() or v.isna().all() else v.notna()
    return pd.Series(bool(v))


def _compare(left, op: ast.cmpop, right, index: pd.Index) -> pd.Series:
    if isinstance(op, (ast.In, ast.NotIn)):
        if not isinstance(left, pd.Series):
            raise ExpressionError("the left side of 'in' must be a variable")
        values = right if isinstance(right, list) else [right]
        s = left.astype(object)
        hit = s.map(lambda x: any(_same(x, v) for v in values)).astype(bool)
        return hit if isinstance(op, ast.In) else (~hit & s.notna())
    a, b = left, right
    numeric = any(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
    if numeric:
        a, b = _num(a), _num(b)
        res = getattr(a if isinstance(a, pd.Series) else pd.Series(a, index=index), _CMP[type(op)])(b)
        return res.fillna(False).astype(bool)
    sa = a.astype(object) if isinstance(a, pd.Series) else pd.Series([a] * len(index), index=index, dtype=object)
    if isinstance(op, ast.Eq):
        return sa.map(lambda x: _same(x, b) if not isinstance(b, pd.Series) else False).astype(bool) \
            if not isinstance(b, pd.Series) else (sa == b.astype(object)).fillna(False).astype(bool)
    if isinstance(op, ast.NotEq):
        return ~_compare(left, ast.Eq(), right, index) & sa.notna()
    return getattr(sa, _CMP[type(op)])(b).fillna(False).astype(bool)


def _same(x, v) -> bool:
    if x is None or (isinstance(x, float) and np.isnan(x)) or x is pd.NA:
        return v is None
    if isinstance(v, bool) or isinstance(x, (bool, np.bool_)):
        return bool(x) == bool(v) if isinstance(x, (bool, np.bool_, int, float)) else False
    if isinstance(v, (int, float)):
        try:
            return float(x) == float(v)
        except (TypeError, ValueError):
            return False
    return str(x) == str(v)


def check_names(text: str, known: Mapping[str, object]) -> list[str]:
    """Names in ``text`` that are not in ``known``."""
    return [n for n in names(text) if n not in known and n not in ("True", "False", "None")]


__all__ = ["FUNCTIONS", "ExpressionError", "check_names", "evaluate", "names", "parse"]
