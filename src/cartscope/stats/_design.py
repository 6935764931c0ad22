"""Model matrices as R's ``model.matrix`` builds them, shared by logistic and Firth models.

Numeric columns enter as they are. Categorical columns (a DataFrame's category, string or
object columns, or any column named in ``factors``) become treatment contrasts with the first
level as reference (R's ``contr.treatment``), one 0/1 column per other level, named as R names
them: column name followed by the level (``sexM``). Levels of a pandas Categorical keep their
declared order (unused ones dropped); other columns use their sorted distinct values, as R's
``factor()`` does (strings in code-point order, which is R's order in the C locale; in other
locales R may collate case-insensitively - pass ``reference`` or a Categorical to fix it); ``reference`` moves a chosen level first (R's ``relevel``). A boolean
column is one column named ``<name>TRUE`` (R's coding of a logical). All columns made from one
input column form one *term*, tested jointly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class Design:
    """A model matrix: ``x`` (n x p), coefficient ``names``, and ``terms``.

    ``terms`` maps each input column (or "(Intercept)") to the indices of its columns in ``x``;
    ``levels`` maps each factor term to its levels in coding order (reference first).
    """

    x: NDArray[np.float64]
    names: tuple[str, ...]
    terms: tuple[tuple[str, tuple[int, ...]], ...]
    levels: tuple[tuple[str, tuple[str, ...]], ...]


def _levels(col: pd.Series) -> list[Any]:
    if isinstance(col.dtype, pd.CategoricalDtype):
        present = set(col.dropna().unique())
        return [c for c in col.cat.categories if c in present]
    values = col.dropna().unique().tolist()
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _frame(covariates: ArrayLike | pd.DataFrame | Mapping[str, ArrayLike], names: Sequence[str] | None) -> pd.DataFrame:
    if isinstance(covariates, pd.DataFrame):
        if names is not None:
            raise ValueError("names cannot be given with a DataFrame (its columns name it)")
        return covariates.reset_index(drop=True)
    if isinstance(covariates, Mapping):
        if names is not None:
            raise ValueError("names cannot be given with a mapping (its keys name it)")
        cols = {}
        for k, v in covariates.items():
            arr = np.asarray(v)
            if arr.ndim != 1:
                raise ValueError(f"covariate {k!r} must be one-dimensional, got shape {arr.shape}")
            cols[str(k)] = v if isinstance(v, pd.Series) else arr
        lengths = {len(v) for v in cols.values()}
        if len(lengths) > 1:
            raise ValueError(f"covariates have different lengths: {sorted(lengths)}")
        return pd.DataFrame({k: (v.reset_index(drop=True) if isinstance(v, pd.Series) else v)
                             for k, v in cols.items()})
    try:
        x = np.asarray(covariates, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("covariates must be numeric, a mapping of columns, or a DataFrame") from exc
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"covariates must be 2-D (patients x p), got shape {x.shape}")
    col_names = [f"x{j + 1}" for j in range(x.shape[1])] if names is None else [str(s) for s in names]
    if len(col_names) != x.shape[1]:
        raise ValueError(f"{len(col_names)} names given for {x.shape[1]} covariate columns")
    return pd.DataFrame(x, columns=col_names)


def design_matrix(
    covariates: ArrayLike | pd.DataFrame | Mapping[str, ArrayLike] | None,
    n: int,
    *,
    names: Sequence[str] | None = None,
    intercept: bool = True,
    factors: Sequence[str] = (),
    reference: Mapping[str, Any] | None = None,
) -> Design:
    """Build the model matrix of ``covariates`` for ``n`` patients (R ``model.matrix``).

    Missing values are an error naming the column (drop incomplete patients first: the
    caller decides and reports which), as are unknown names in ``factors`` / ``reference``,
    a factor with fewer than two levels and a reference level that does not occur.
    """
    frame = pd.DataFrame(index=range(n)) if covariates is None else _frame(covariates, names)
    if frame.shape[0] != n:
        raise ValueError(f"covariates have {frame.shape[0]} rows but the outcome has {n} values")
    known = [str(c) for c in frame.columns]
    reference = dict(reference or {})
    for label in [*factors, *reference]:
        if str(label) not in known:
            raise ValueError(f"unknown covariate {label!r} (covariates: {', '.join(known)})")
    columns: list[NDArray[np.float64]] = []
    col_names: list[str] = []
    terms: list[tuple[str, tuple[int, ...]]] = []
    levels_out: list[tuple[str, tuple[str, ...]]] = []
    if intercept:
        columns.append(np.ones(n))
        col_names.append("(Intercept)")
        terms.append(("(Intercept)", (0,)))
    for raw_label in frame.columns:
        label = str(raw_label)
        col = frame[raw_label]
        missing = int(col.isna().sum())
        if missing:
            raise ValueError(f"covariate {label!r} has {missing} missing value(s)")
        start = len(columns)
        is_factor = (
            label in factors or label in reference or isinstance(col.dtype, pd.CategoricalDtype)
            or not (pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype))
        )
        if pd.api.types.is_bool_dtype(col.dtype) and not is_factor:
            columns.append(col.to_numpy(dtype=np.float64))
            col_names.append(f"{label}TRUE")
        elif not is_factor:
            values = col.to_numpy(dtype=np.float64)
            if not np.all(np.isfinite(values)):
                raise ValueError(f"covariate {label!r} has non-finite values")
            columns.append(values)
            col_names.append(label)
        else:
            levels = _levels(col)
            if label in reference:
                ref = reference[label]
                match = [lv for lv in levels if lv == ref or str(lv) == str(ref)]
                if not match:
                    raise ValueError(
                        f"reference level {ref!r} of {label!r} does not occur (levels: "
                        f"{', '.join(map(str, levels))})"
                    )
                levels = [match[0]] + [lv for lv in levels if lv is not match[0] and lv != match[0]]
            if len(levels) < 2:
                raise ValueError(f"covariate {label!r} has fewer than two levels: {levels}")
            values_obj = col.to_numpy(dtype=object)
            for level in levels[1:]:
                columns.append(np.array([v == level for v in values_obj], dtype=np.float64))
                col_names.append(f"{label}{level}")
            levels_out.append((label, tuple(str(lv) for lv in levels)))
        terms.append((label, tuple(range(start, len(columns)))))
    x = np.column_stack(columns) if columns else np.zeros((n, 0))
    return Design(x, tuple(col_names), tuple(terms), tuple(levels_out))


def collinear_columns(x: NDArray[np.float64], tol: float = 1e-7) -> list[int]:
    """Columns that are linear combinations of earlier ones (R's pivoted QR with tol 1e-7)."""
    redundant: list[int] = []
    kept: list[int] = []
    for j in range(x.shape[1]):
        cand = [*kept, j]
        sub = x[:, cand]
        norms = np.linalg.norm(sub, axis=0)
        norms[norms == 0] = 1.0
        r = np.linalg.qr(sub / norms, mode="r")
        if abs(r[-1, -1]) < tol:
            redundant.append(j)
        else:
            kept.append(j)
    return redundant
