"""Predicted survival from a Cox fit for covariate profiles, as R ``survfit(coxph_fit, newdata)``.

For a profile x with risk r(x) = exp((x - xbar)' beta) and the baseline cumulative hazard
Lambda0 of its stratum (R ``agsurv``, ``stype = 2``):

* increments per death time: Breslow d / S0; for an Efron fit sum_k 1 / (S0 - (k/d) S0_D)
  (R's ``ctype = 2``); the exact method gets the Breslow curve, as in R;
* S(t | x) = exp(-r(x) Lambda0(t)) (R's default ``stype = 2``, the Breslow/Fleming-Harrington
  survival);
* ``std_err`` is the SE of the cumulative hazard (R's ``std.err``):
  Var = r(x)^2 [ sum dLambda0-variance + q(t)' V q(t) ], q(t) = int (x - xbar(s)) dLambda0(s),
  with the Efron-weighted variance increments sum_k 1/den_k^2 and means for an Efron fit,
  and V the fit's variance (the robust one for a robust fit, as R);
* limits as R ``survfit_confint`` with ``conf.type = "log"`` (default), ``"log-log"`` or
  ``"plain"``.

Curves are given at every distinct stop time of the stratum (events and censorings), as R.
A profile without a stratum gets a curve in every stratum (as R does when ``newdata`` lacks
the strata variable).

:func:`adjusted_survival` is direct adjustment (Makuch 1982; Zhang et al. 2007): the average
over the cohort's patients of their predicted curves with the exposure set to each level,
i.e. ``rowMeans(survfit(fit, newdata = data_with_exposure_set)$surv)`` in R. It has no
interval (R offers none either).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cartscope.stats._cox_counting import build_counting_sets, hazard_increments
from cartscope.stats.cox import CoxModelError, CoxResult
from cartscope.stats.km import CONF_TYPES, _confint

__all__ = ["AdjustedSurvival", "PredictedSurvival", "adjusted_survival", "predict_survival"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class PredictedSurvival:
    """Predicted curves: rows are (stratum, time) in stratum order, columns are profiles."""

    time: FloatArray
    stratum: tuple[Any, ...]
    n_risk: NDArray[np.int64]
    n_event: NDArray[np.int64]
    survival: FloatArray
    cumhaz: FloatArray
    std_err: FloatArray
    lower: FloatArray
    upper: FloatArray
    profiles: tuple[str, ...]
    conf_type: str
    level: float

    def to_frame(self) -> pd.DataFrame:
        """Long form: profile, stratum, time, n_risk, n_event, survival, cumhaz, std_err, lower, upper."""
        k, m = self.survival.shape
        return pd.DataFrame({
            "profile": np.repeat(np.asarray(self.profiles, dtype=object), k),
            "stratum": np.tile(np.asarray(self.stratum, dtype=object), m),
            "time": np.tile(self.time, m),
            "n_risk": np.tile(self.n_risk, m),
            "n_event": np.tile(self.n_event, m),
            "survival": self.survival.T.reshape(-1),
            "cumhaz": self.cumhaz.T.reshape(-1),
            "std_err": self.std_err.T.reshape(-1),
            "lower": self.lower.T.reshape(-1),
            "upper": self.upper.T.reshape(-1),
        })

    def __repr__(self) -> str:
        return (f"PredictedSurvival({len(self.profiles)} profile(s), {self.time.shape[0]} times, "
                f"conf_type={self.conf_type!r})")


def _profile_matrix(fit: CoxResult, newdata: ArrayLike | pd.DataFrame) -> FloatArray:
    """The coefficient columns of each profile, coded as the fit coded its covariates."""
    p = len(fit.names)
    if not isinstance(newdata, pd.DataFrame):
        x2 = np.asarray(newdata, dtype=float)
        if x2.ndim == 1:
            x2 = x2[None, :]
        if x2.ndim != 2 or x2.shape[1] != p:
            raise CoxModelError(f"newdata must have {p} columns ({', '.join(fit.names)})")
        return x2
    missing = [label for label, _ in fit.terms if label not in newdata.columns]
    if missing:
        raise CoxModelError(f"newdata lacks the model's covariate(s): {', '.join(missing)}")
    x2 = np.zeros((newdata.shape[0], p))
    for label, cols in fit.terms:
        col = newdata[label]
        if len(cols) == 1 and fit.names[cols[0]] == label:
            x2[:, cols[0]] = pd.to_numeric(col, errors="raise").to_numpy(dtype=float)
            continue
        if pd.api.types.is_bool_dtype(col.dtype):
            x2[:, cols[0]] = col.to_numpy(dtype=float)
            continue
        known = dict(fit.factor_levels).get(label)
        text = col.astype(str).to_numpy()
        if known is not None:
            unknown = sorted(set(text) - set(known))
            if unknown:
                raise CoxModelError(
                    f"newdata column {label!r} has unknown level(s) {unknown}; the fit has {list(known)}"
                )
        for j in cols:
            x2[:, j] = (text == fit.names[j][len(label):]).astype(float)
    if not np.all(np.isfinite(x2)):
        raise CoxModelError("newdata has missing values")
    return x2


def _profile_names(newdata: Any, m: int) -> tuple[str, ...]:
    if isinstance(newdata, pd.DataFrame):
        return tuple(str(i) for i in newdata.index)
    return tuple(str(i + 1) for i in range(m))


def predict_survival(
    fit: CoxResult,
    newdata: ArrayLike | pd.DataFrame,
    strata: ArrayLike | None = None,
    conf_type: str = "log",
    level: float = 0.95,
) -> PredictedSurvival:
    """Survival curves with CI for covariate profiles (R ``survfit(fit, newdata)``).

    Args:
        fit: a :class:`~cartscope.stats.cox.CoxResult` (right-censored or (start, stop]).
        newdata: one row per profile: a DataFrame with the model's input columns (factor
            levels as given to the fit) or an array of the coefficient columns.
        strata: for a stratified fit, one stratum label per profile to restrict each
            profile to its stratum; default: every profile in every stratum.
        conf_type: ``"log"`` (R's default), ``"log-log"`` or ``"plain"``.
        level: confidence level.
    """
    if conf_type not in CONF_TYPES:
        raise CoxModelError(f"conf_type must be one of {', '.join(CONF_TYPES)}, got {conf_type!r}")
    if not 0.0 < level < 1.0:
        raise CoxModelError(f"level must be between 0 and 1, got {level}")
    x2 = _profile_matrix(fit, newdata)
    m = x2.shape[0]
    names = _profile_names(newdata, m)
    n = fit.time.shape[0]
    start = fit.start if fit.start is not None else np.full(n, -np.inf)
    sets = build_counting_sets(start, fit.time, fit.event, fit.strata)
    center = fit.x.mean(axis=0)
    z = fit.x - center
    inc = hazard_increments(z, fit.coef, sets, fit.ties)
    risk2 = np.exp((x2 - center) @ fit.coef)
    codes = np.unique(fit.strata)
    labels = fit.strata_levels if fit.strata_levels else tuple(range(codes.shape[0]))
    keep_code = None
    if strata is not None:
        wanted = np.asarray(strata, dtype=object).reshape(-1)
        if wanted.shape[0] != m:
            raise CoxModelError(f"strata has {wanted.shape[0]} values for {m} profile(s)")
        lookup = {str(lab): c for c, lab in zip(codes, labels)}
        bad = sorted({str(w) for w in wanted if str(w) not in lookup})
        if bad:
            raise CoxModelError(f"unknown stratum/strata {bad}; the fit has {sorted(lookup)}")
        keep_code = np.array([lookup[str(w)] for w in wanted])

    blocks: dict[str, list[Any]] = {k: [] for k in ("time", "stratum", "nr", "ne", "s", "h", "se")}
    for code, label in zip(codes, labels):
        rows = fit.strata == code
        u = np.unique(fit.time[rows])
        groups = np.flatnonzero(sets.group_stratum == code)
        pos = np.searchsorted(u, sets.group_time[groups])
        k = u.shape[0]
        haz = np.zeros(k)
        varhaz = np.zeros(k)
        xbar = np.zeros((k, z.shape[1]))
        haz[pos] = inc.hazard[groups]
        varhaz[pos] = inc.varhaz[groups]
        xbar[pos] = inc.xbar[groups]
        n_event = np.zeros(k, dtype=np.int64)
        n_event[pos] = sets.deaths[groups].astype(np.int64)
        st, sp = start[rows], fit.time[rows]
        n_risk = (np.searchsorted(np.sort(sp), u, side="left") * -1 + sp.shape[0]
                  - (st.shape[0] - np.searchsorted(np.sort(st), u, side="left")))
        cum = np.cumsum(haz)
        cvar = np.cumsum(varhaz)
        cxbar = np.cumsum(xbar, axis=0)
        # q(t) = int (x2 - xbar) dLambda0 for every profile: (k, m, p)
        q = cum[:, None, None] * (x2 - center)[None, :, :] - cxbar[:, None, :]
        quad = np.einsum("kmp,pq,kmq->km", q, fit.var, q)
        h = cum[:, None] * risk2[None, :]
        se = np.sqrt((cvar[:, None] + quad) * risk2[None, :] ** 2)
        blocks["time"].append(u)
        blocks["stratum"].extend([label] * k)
        blocks["nr"].append(n_risk.astype(np.int64))
        blocks["ne"].append(n_event)
        blocks["s"].append(np.exp(-h))
        blocks["h"].append(h)
        blocks["se"].append(se)
    surv = np.vstack(blocks["s"])
    se = np.vstack(blocks["se"])
    if keep_code is not None:
        row_code = np.concatenate([np.full(b.shape[0], c) for b, c in zip(blocks["time"], codes)])
        outside = row_code[:, None] != keep_code[None, :]
        surv = np.where(outside, np.nan, surv)
        se = np.where(outside, np.nan, se)
    lower, upper = _confint(surv, se, conf_type, level)
    cumhaz = np.vstack(blocks["h"])
    if keep_code is not None:
        cumhaz = np.where(outside, np.nan, cumhaz)
    return PredictedSurvival(
        time=np.concatenate(blocks["time"]),
        stratum=tuple(blocks["stratum"]),
        n_risk=np.concatenate(blocks["nr"]),
        n_event=np.concatenate(blocks["ne"]),
        survival=surv,
        cumhaz=cumhaz,
        std_err=se,
        lower=lower,
        upper=upper,
        profiles=names,
        conf_type=conf_type,
        level=level,
    )


@dataclass(frozen=True, eq=False)
class AdjustedSurvival:
    """Direct-adjusted survival curves: one column per exposure level."""

    time: FloatArray
    levels: tuple[Any, ...]
    survival: FloatArray
    exposure: str

    def to_frame(self) -> pd.DataFrame:
        """Long form: level, time, survival."""
        k = self.time.shape[0]
        return pd.DataFrame({
            "level": np.repeat(np.asarray(self.levels, dtype=object), k),
            "time": np.tile(self.time, len(self.levels)),
            "survival": self.survival.T.reshape(-1),
        })

    def survival_at(self, times: ArrayLike) -> FloatArray:
        """S(t) per level (rows: times) as a right-continuous step function."""
        t = np.asarray(times, dtype=float).reshape(-1)
        idx = np.searchsorted(self.time, t, side="right") - 1
        out = np.where(idx[:, None] < 0, 1.0, self.survival[np.maximum(idx, 0)])
        return out

    def __repr__(self) -> str:
        return f"AdjustedSurvival(exposure={self.exposure!r}, levels={list(self.levels)})"


def adjusted_survival(
    fit: CoxResult,
    covariates: pd.DataFrame,
    exposure: str,
    levels: ArrayLike | None = None,
) -> AdjustedSurvival:
    """Average of the cohort's predicted curves with ``exposure`` set to each level.

    ``covariates`` are the rows the average runs over (normally the data the model was
    fitted on, one row per patient); ``levels`` default to the exposure's distinct values.
    Stratified fits are refused: the average would mix the strata's baselines.
    """
    if fit.strata_levels and len(fit.strata_levels) > 1:
        raise CoxModelError("adjusted curves need a fit without strata")
    if exposure not in covariates.columns:
        raise CoxModelError(f"exposure {exposure!r} is not a column of covariates")
    if levels is None:
        col = covariates[exposure]
        levels = (list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype)
                  else sorted(col.dropna().unique()))
    values = list(np.asarray(levels, dtype=object).reshape(-1))
    curves = []
    time = None
    for value in values:
        data = covariates.copy()
        if isinstance(data[exposure].dtype, pd.CategoricalDtype):
            data[exposure] = pd.Categorical([value] * len(data), categories=data[exposure].cat.categories)
        else:
            data[exposure] = value
        pred = predict_survival(fit, data)
        time = pred.time
        curves.append(pred.survival.mean(axis=1))
    assert time is not None
    return AdjustedSurvival(time=time, levels=tuple(values), survival=np.column_stack(curves),
                            exposure=exposure)
