"""Follow-up analyses of the top markers of a screen: pairwise correlation, multivariable model.

jin2023 reports that its two best markers correlate (MIP3a and Eotaxin, r = 0.430, p = 0.004);
``correlation_matrix`` gives r and p for every pair through R's ``cor.test`` semantics
(:func:`cartscope.stats.correlation`). ``multivariable`` fits the markers together with clinical
covariates in a Cox model (:func:`cartscope.stats.cox`) for a time-to-event outcome, or in a
logistic regression (:func:`cartscope.stats.logistic`, Firth's penalised likelihood when the
outcome is separated) for a binary one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from cartscope.stats.correlation import correlation
from cartscope.stats.cox import CoxResult, cox
from cartscope.stats.logistic import LogisticModelError, LogisticResult, logistic


@dataclass(frozen=True, eq=False)
class CorrelationMatrix:
    """Pairwise correlations of markers: square ``r`` and ``p`` frames and a long ``pairs`` frame.

    Pairs use the patients with both values present (``n`` per pair).
    """

    method: str
    r: pd.DataFrame
    p: pd.DataFrame
    n: pd.DataFrame
    pairs: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """One row per unordered pair: marker_a, marker_b, r, p, n, CI (Pearson only)."""
        return self.pairs.copy()


def correlation_matrix(
    values: pd.DataFrame,
    markers: Sequence[str] | None = None,
    method: Literal["pearson", "spearman", "kendall"] = "pearson",
    level: float = 0.95,
) -> CorrelationMatrix:
    """Correlation r and test p for every pair of ``markers`` (default: all columns).

    Each pair is R ``cor.test(x, y, method = method)`` on the patients with both values.
    Meant for a handful of top markers (one test per pair).
    """
    if not isinstance(values, pd.DataFrame):
        raise ValueError("values must be a DataFrame with one column per marker")
    names = [str(c) for c in values.columns] if markers is None else [str(m) for m in markers]
    missing = [m for m in names if m not in values.columns]
    if missing:
        raise ValueError(f"unknown marker(s) {missing[:5]}")
    if len(names) < 2:
        raise ValueError("need at least two markers")
    k = len(names)
    r = np.eye(k)
    p = np.zeros((k, k))
    n = np.zeros((k, k), dtype=np.int64)
    rows = []
    cols = {m: values[m].to_numpy(dtype=np.float64, na_value=np.nan) for m in names}
    for i in range(k):
        n[i, i] = int((~np.isnan(cols[names[i]])).sum())
        for j in range(i + 1, k):
            res = correlation(cols[names[i]], cols[names[j]], method=method, level=level)
            r[i, j] = r[j, i] = res.estimate
            p[i, j] = p[j, i] = res.p_value
            n[i, j] = n[j, i] = res.n
            rows.append({"marker_a": names[i], "marker_b": names[j], "r": res.estimate,
                         "p_value": res.p_value, "n": res.n, "ci_lower": res.ci_lower,
                         "ci_upper": res.ci_upper, "method": method})
    return CorrelationMatrix(
        method=method,
        r=pd.DataFrame(r, index=names, columns=names),
        p=pd.DataFrame(p, index=names, columns=names),
        n=pd.DataFrame(n, index=names, columns=names),
        pairs=pd.DataFrame(rows),
    )


@dataclass(frozen=True, eq=False)
class MultivariableResult:
    """A multivariable model of markers and covariates; ``fit`` is the core result.

    ``dropped`` lists the row labels left out for a missing value (complete-case analysis).
    ``fit`` is a :class:`CoxResult` (``model="cox"``) or a :class:`LogisticResult`.
    """

    model: str
    table: pd.DataFrame
    n: int
    n_events: int
    dropped: tuple[Any, ...]
    fit: CoxResult | LogisticResult

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def multivariable(
    marker_values: pd.DataFrame,
    outcome_or_time_event: tuple[ArrayLike, ArrayLike] | pd.DataFrame | ArrayLike,
    covariates: pd.DataFrame | None = None,
    model: Literal["cox", "logistic"] = "cox",
    level: float = 0.95,
    firth: bool | Literal["auto"] = "auto",
) -> MultivariableResult:
    """Multivariable model of the markers plus clinical covariates (complete cases).

    ``model="cox"``: ``outcome_or_time_event`` is ``(time, event)`` or a DataFrame with columns
    ``time`` and ``event``. ``model="logistic"``: it is the 0/1 outcome per row (a sequence, or
    a DataFrame with a column ``outcome``); the model is R ``glm(..., family = binomial)``, or
    Firth's penalised likelihood per ``firth`` ("auto": when the outcome is separated). Rows are
    aligned with ``marker_values`` (and ``covariates``, whose categorical columns become
    treatment-coded dummies as in R). Rows with any missing value are dropped and listed in
    ``dropped``.
    """
    if model not in ("cox", "logistic"):
        raise ValueError(f"model must be 'cox' or 'logistic'; got {model!r}")
    if not isinstance(marker_values, pd.DataFrame):
        raise ValueError("marker_values must be a DataFrame with one column per marker")
    if model == "logistic":
        return _multivariable_logistic(marker_values, outcome_or_time_event, covariates, level, firth)
    if isinstance(outcome_or_time_event, pd.DataFrame):
        if not {"time", "event"} <= set(outcome_or_time_event.columns):
            raise ValueError("the outcome frame needs columns 'time' and 'event'")
        te = outcome_or_time_event[["time", "event"]].reset_index(drop=True)
    else:
        try:
            time, event = outcome_or_time_event
        except (TypeError, ValueError):
            raise ValueError("give (time, event) or a DataFrame with columns time and event") from None
        te = pd.DataFrame({"time": np.asarray(time, dtype=np.float64),
                           "event": np.asarray(event, dtype=np.float64)})
    n = len(marker_values)
    if len(te) != n:
        raise ValueError(f"time/event have {len(te)} rows but marker_values has {n}")
    parts = [marker_values.reset_index(drop=True)]
    if covariates is not None:
        if len(covariates) != n:
            raise ValueError(f"covariates have {len(covariates)} rows but marker_values has {n}")
        clash = set(covariates.columns) & set(marker_values.columns)
        if clash:
            raise ValueError(f"columns in both marker_values and covariates: {sorted(clash)}")
        parts.append(covariates.reset_index(drop=True))
    design = pd.concat(parts, axis=1)
    complete = design.notna().all(axis=1) & te.notna().all(axis=1)
    labels = marker_values.index
    dropped = tuple(labels[~complete.to_numpy()])
    keep = complete.to_numpy()
    fit = cox(te["time"].to_numpy()[keep], te["event"].to_numpy()[keep],
              design.loc[keep].reset_index(drop=True), level=level)
    return MultivariableResult(
        model="cox", table=fit.to_frame(), n=fit.n, n_events=fit.n_events, dropped=dropped, fit=fit
    )


def _design_frame(marker_values: pd.DataFrame, covariates: pd.DataFrame | None, n: int) -> pd.DataFrame:
    parts = [marker_values.reset_index(drop=True)]
    if covariates is not None:
        if len(covariates) != n:
            raise ValueError(f"covariates have {len(covariates)} rows but marker_values has {n}")
        clash = set(covariates.columns) & set(marker_values.columns)
        if clash:
            raise ValueError(f"columns in both marker_values and covariates: {sorted(clash)}")
        parts.append(covariates.reset_index(drop=True))
    return pd.concat(parts, axis=1)


def _multivariable_logistic(
    marker_values: pd.DataFrame, outcome: Any, covariates: pd.DataFrame | None, level: float,
    firth: bool | Literal["auto"],
) -> MultivariableResult:
    if isinstance(outcome, pd.DataFrame):
        if "outcome" not in outcome.columns:
            raise ValueError("the outcome frame needs a column 'outcome'")
        y = pd.to_numeric(outcome["outcome"].reset_index(drop=True), errors="coerce")
    else:
        y = pd.Series(np.asarray(outcome, dtype=np.float64))
    n = len(marker_values)
    if len(y) != n:
        raise ValueError(f"the outcome has {len(y)} rows but marker_values has {n}")
    design = _design_frame(marker_values, covariates, n)
    keep = (design.notna().all(axis=1) & y.notna()).to_numpy()
    dropped = tuple(marker_values.index[~keep])
    try:
        fit = logistic(y.to_numpy()[keep], design.loc[keep].reset_index(drop=True), level=level, firth=firth)
    except LogisticModelError as exc:
        raise ValueError(str(exc)) from None
    return MultivariableResult(model="logistic", table=fit.to_frame(), n=fit.n, n_events=fit.n_events,
                               dropped=dropped, fit=fit)
