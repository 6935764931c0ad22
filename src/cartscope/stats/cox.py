"""Cox proportional hazards regression, matching R survival's ``coxph`` and ``cox.zph``.

The model: h(t | x) = h0_s(t) exp(x' beta), with a separate baseline hazard ``h0_s`` per
stratum ``s``. ``beta`` maximises the log partial likelihood (Cox 1972) with tied event
times handled by Efron's (1977, R's default) or Breslow's (1974) approximation, by
Newton-Raphson from beta = 0 with step halving, stopping when the relative change of the
log likelihood is at most ``tol`` (R's ``coxph.control(eps = 1e-9)``).

Reported as ``summary(coxph(...))`` prints them: coefficients, standard errors from the
inverse information, hazard ratios with Wald confidence limits ``exp(b +- z_(1+level)/2 se)``,
z and two-sided p, the likelihood-ratio, Wald and score (log-rank) tests on p df, and
Harrell's concordance with the infinitesimal-jackknife standard error of survival >= 3.

Categorical covariates (a DataFrame's category, string, object or boolean columns) are
expanded to treatment contrasts with the first level as reference, named as R names them:
column name followed by the level, e.g. ``sexM`` for level ``"M"`` of column ``sex`` and
``flagTRUE`` for a boolean column. Levels of a pandas Categorical keep their declared order
(unused ones are dropped); other columns use their sorted distinct values, as R's
``factor()`` does. All columns made from one DataFrame column form one *term*; ``cox_zph``
tests a term's columns jointly, as R does for a factor.

Deliberate differences from R: missing values are an error (R drops the rows silently), and
so are redundant (collinear) columns (R reports their coefficients as NA) and coefficients
that diverge (R warns "Loglik converged before variable ..."). As in R, times that differ by
rounding error only are merged first (``timefix``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cartscope.stats._cox_concordance import concordance as _concordance
from cartscope.stats._cox_fit import (
    CHOLESKY_TOLERANCE,
    NewtonFit,
    build_risk_sets,
    ldl,
    ldl_solve,
    newton_raphson,
)
from cartscope.stats._cox_zph import TRANSFORMS, zph_statistics
from cartscope.stats._scipy_stats import stats as sps

__all__ = ["CoxModelError", "CoxResult", "CoxTest", "CoxZph", "cox", "cox_zph"]

FloatArray = NDArray[np.float64]


class CoxModelError(ValueError):
    """The Cox model cannot be fitted to these data (the message says why)."""


@dataclass(frozen=True)
class CoxTest:
    """A chi-square test of the whole model: statistic on ``df`` degrees of freedom."""

    statistic: float
    df: int
    p_value: float


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model; arrays have one entry per coefficient, in ``names`` order.

    ``loglik_null`` is the log partial likelihood at beta = 0 and ``loglik`` at the estimate.
    ``terms`` maps each input column to the coefficient columns made from it. The inputs
    (sorted as given) are kept so that :func:`cox_zph` can work from the result alone.
    """

    names: tuple[str, ...]
    coef: FloatArray
    se: FloatArray
    hazard_ratio: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    z: FloatArray
    p_value: FloatArray
    var: FloatArray
    loglik_null: float
    loglik: float
    lr_test: CoxTest
    wald_test: CoxTest
    score_test: CoxTest
    concordance: float
    concordance_se: float
    n: int
    n_events: int
    iterations: int
    ties: str
    level: float
    terms: tuple[tuple[str, tuple[int, ...]], ...]
    time: FloatArray = field(repr=False)
    event: FloatArray = field(repr=False)
    x: FloatArray = field(repr=False)
    strata: NDArray[np.intp] = field(repr=False)
    #: entry times of (start, stop] rows (None: right-censored data, ``time`` is the stop)
    start: FloatArray | None = field(default=None, repr=False)
    #: model-based variance when ``var`` is the robust one (None otherwise)
    naive_var: FloatArray | None = field(default=None, repr=False)
    #: robust score test (R ``rscore``) of a robust fit
    robust_score_test: CoxTest | None = None
    #: cluster code per row of a robust fit with a cluster
    cluster: NDArray[np.intp] | None = field(default=None, repr=False)
    #: the stratum label of each code in ``strata`` (empty without strata)
    strata_levels: tuple[Any, ...] = field(default=(), repr=False)
    #: each categorical input column with its levels as text, reference first
    factor_levels: tuple[tuple[str, tuple[str, ...]], ...] = field(default=(), repr=False)

    @property
    def robust(self) -> bool:
        """True when ``se`` and ``var`` are the robust (sandwich) ones."""
        return self.naive_var is not None

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient: term, coef, hazard ratio with CI, se, z, p."""
        return pd.DataFrame(
            {
                "term": list(self.names),
                "coef": self.coef,
                "hazard_ratio": self.hazard_ratio,
                "se": self.se,
                "z": self.z,
                "p_value": self.p_value,
                "ci_lower": self.ci_lower,
                "ci_upper": self.ci_upper,
            }
        )


@dataclass(frozen=True)
class CoxZph:
    """Proportional-hazards test per term and GLOBAL, as R ``cox.zph(fit)$table``.

    ``y`` holds the scaled Schoenfeld residuals (events x terms, in stratum then time
    order), ``x`` the transformed event times and ``time`` the event times, as R's fields.
    """

    terms: tuple[str, ...]
    chisq: FloatArray
    df: NDArray[np.int64]
    p_value: FloatArray
    transform: str
    x: FloatArray = field(repr=False)
    time: FloatArray = field(repr=False)
    y: FloatArray = field(repr=False)
    var: FloatArray = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per term plus ``GLOBAL``: chisq, df, p."""
        return pd.DataFrame(
            {
                "term": [*self.terms, "GLOBAL"],
                "chisq": self.chisq,
                "df": self.df,
                "p_value": self.p_value,
            }
        )


# --- input handling --------------------------------------------------------------------


def _vector(values: ArrayLike, name: str, n: int | None = None) -> FloatArray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise CoxModelError(f"{name} must be numeric") from exc
    if arr.ndim != 1:
        raise CoxModelError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise CoxModelError(f"{name} has {arr.shape[0]} values but time has {n}")
    bad = int(np.sum(~np.isfinite(arr)))
    if bad:
        raise CoxModelError(f"{name} has {bad} missing or non-finite value(s)")
    return arr


def _levels(col: pd.Series) -> list[Any]:
    if isinstance(col.dtype, pd.CategoricalDtype):
        present = set(col.dropna().unique())
        return [c for c in col.cat.categories if c in present]
    return sorted(col.dropna().unique())


def _design(
    covariates: ArrayLike | pd.DataFrame, names: Sequence[str] | None, n: int
) -> tuple[FloatArray, tuple[str, ...], tuple[tuple[str, tuple[int, ...]], ...]]:
    """Numeric design matrix, coefficient names and terms (input column -> its columns)."""
    if isinstance(covariates, pd.DataFrame):
        if covariates.shape[0] != n:
            raise CoxModelError(
                f"covariates have {covariates.shape[0]} rows but time has {n} values"
            )
        columns: list[FloatArray] = []
        col_names: list[str] = []
        terms: list[tuple[str, tuple[int, ...]]] = []
        for label in covariates.columns:
            col = covariates[label]
            label = str(label)
            missing = int(col.isna().sum())
            if missing:
                raise CoxModelError(f"covariate {label!r} has {missing} missing value(s)")
            start = len(columns)
            if pd.api.types.is_bool_dtype(col.dtype):
                columns.append(col.to_numpy(dtype=float))
                col_names.append(f"{label}TRUE")
            elif pd.api.types.is_numeric_dtype(col.dtype) and not isinstance(
                col.dtype, pd.CategoricalDtype
            ):
                values = col.to_numpy(dtype=float)
                if not np.all(np.isfinite(values)):
                    raise CoxModelError(f"covariate {label!r} has non-finite values")
                columns.append(values)
                col_names.append(label)
            else:
                levels = _levels(col)
                if len(levels) < 2:
                    raise CoxModelError(
                        f"covariate {label!r} has fewer than two levels: {levels}"
                    )
                values_obj = col.to_numpy(dtype=object)
                for level in levels[1:]:
                    columns.append((values_obj == level).astype(float))
                    col_names.append(f"{label}{level}")
            terms.append((label, tuple(range(start, len(columns)))))
        x = np.column_stack(columns) if columns else np.zeros((n, 0))
        if names is not None:
            raise CoxModelError("names cannot be given with a DataFrame (its columns name it)")
        return x, tuple(col_names), tuple(terms)

    try:
        x = np.asarray(covariates, dtype=float)
    except (TypeError, ValueError) as exc:
        raise CoxModelError("covariates must be numeric (or a DataFrame)") from exc
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise CoxModelError(f"covariates must be 2-D (patients x p), got shape {x.shape}")
    if x.shape[0] != n:
        raise CoxModelError(f"covariates have {x.shape[0]} rows but time has {n} values")
    p = x.shape[1]
    if names is None:
        col_names = [f"x{j + 1}" for j in range(p)]
    else:
        col_names = [str(s) for s in names]
        if len(col_names) != p:
            raise CoxModelError(f"{len(col_names)} names given for {p} covariate columns")
    bad = ~np.isfinite(x)
    if bad.any():
        cols = ", ".join(
            f"{col_names[j]} ({int(bad[:, j].sum())})" for j in np.flatnonzero(bad.any(0))
        )
        raise CoxModelError(f"covariates have missing or non-finite values: {cols}")
    return x, tuple(col_names), tuple((nm, (j,)) for j, nm in enumerate(col_names))


def _strata_codes(strata: ArrayLike | None, n: int) -> NDArray[np.intp]:
    if strata is None:
        return np.zeros(n, dtype=np.intp)
    s = pd.Series(np.asarray(strata, dtype=object) if not isinstance(strata, pd.Series)
                  else strata.to_numpy(dtype=object))
    if s.shape[0] != n:
        raise CoxModelError(f"strata has {s.shape[0]} values but time has {n}")
    if s.isna().any():
        raise CoxModelError(f"strata has {int(s.isna().sum())} missing value(s)")
    try:
        _, codes = np.unique(s.to_numpy(), return_inverse=True)
    except TypeError:
        codes = pd.factorize(s, sort=False)[0]
    return codes.reshape(-1).astype(np.intp)


def _factor_levels(covariates: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The levels (as text, reference first) of each categorical column of a DataFrame."""
    if not isinstance(covariates, pd.DataFrame):
        return ()
    out = []
    for label in covariates.columns:
        col = covariates[label]
        if pd.api.types.is_bool_dtype(col.dtype):
            out.append((str(label), ("False", "True")))
        elif isinstance(col.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(col.dtype):
            out.append((str(label), tuple(str(v) for v in _levels(col))))
    return tuple(out)


def _strata_levels(strata: ArrayLike | None, codes: NDArray[np.intp]) -> tuple[Any, ...]:
    """The label of each stratum code (the first row's value with that code)."""
    if strata is None:
        return ()
    values = np.asarray(strata, dtype=object).reshape(-1)
    first = np.unique(codes, return_index=True)[1]
    return tuple(values[first])


def _merge_near_ties(time: FloatArray, tolerance: float = float(np.sqrt(np.finfo(float).eps))) -> FloatArray:
    """Times that differ by rounding error only become one time, as R's ``aeqSurv``.

    Sorted distinct times closer than ``tolerance`` (absolutely, or relative to the mean
    absolute time) are merged into the smaller one, so that e.g. 1/3 computed two ways is
    one tied time, exactly as ``coxph`` sees it (``coxph.control(timefix = TRUE)``).
    """
    unique_t = np.unique(time)
    if unique_t.shape[0] < 2:
        return time
    gaps = np.diff(unique_t)
    tied = (gaps <= tolerance) | (gaps / np.mean(np.abs(unique_t)) <= tolerance)
    if not tied.any():
        return time
    cuts = unique_t[np.concatenate([[True], ~tied])]
    return cuts[np.searchsorted(cuts, time, side="right") - 1]


def _collinear_message(x: FloatArray, names: Sequence[str], redundant: NDArray[np.intp]) -> str:
    parts = []
    xc = x - x.mean(axis=0)
    for j in redundant:
        if np.ptp(x[:, j]) == 0:
            parts.append(f"{names[j]!r} is constant")
            continue
        keep = [k for k in range(x.shape[1]) if k < j and k not in set(redundant.tolist())]
        if keep:
            coef, *_ = np.linalg.lstsq(xc[:, keep], xc[:, j], rcond=None)
            scale = np.abs(coef) * np.std(xc[:, keep], axis=0)
            involved = [names[keep[i]] for i in np.flatnonzero(scale > 1e-6 * scale.max())]
        else:
            involved = []
        if involved:
            parts.append(f"{names[j]!r} is a linear combination of {', '.join(map(repr, involved))}")
        else:
            parts.append(f"{names[j]!r} is redundant")
    return "covariates are collinear (singular information matrix): " + "; ".join(parts)


def _chisq_test(statistic: float, df: int) -> CoxTest:
    return CoxTest(float(statistic), int(df), float(sps.chi2.sf(statistic, df)))


# --- shared by cox() and cox_counting() ----------------------------------------------------


def _check_options(level: float, max_iter: int) -> None:
    if not 0.0 < level < 1.0:
        raise CoxModelError(f"level must be between 0 and 1, got {level}")
    if max_iter < 1:
        raise CoxModelError(f"max_iter must be at least 1, got {max_iter}")


def _model_inputs(
    event: ArrayLike, covariates: ArrayLike | pd.DataFrame, names: Sequence[str] | None,
    strata: ArrayLike | None, n: int,
) -> tuple[FloatArray, FloatArray, tuple[str, ...], tuple[tuple[str, tuple[int, ...]], ...], NDArray[np.intp]]:
    """The checked event indicator, design matrix, coefficient names, terms and stratum codes."""
    ev = _vector(event, "event", n)
    if not np.all((ev == 0) | (ev == 1)):
        raise CoxModelError("event must be 0/1 (or boolean)")
    x, col_names, terms = _design(covariates, names, n)
    if x.shape[1] == 0:
        raise CoxModelError("no covariates given")
    return ev, x, col_names, terms, _strata_codes(strata, n)


def _count_events(ev: FloatArray) -> int:
    n_events = int(ev.sum())
    if n_events == 0:
        raise CoxModelError("no events: the Cox model needs at least one event")
    return n_events


def _estimate(
    fit: NewtonFit, x: FloatArray, col_names: tuple[str, ...], scale: FloatArray, max_iter: int, tol: float,
    linear_predictor: Callable[[FloatArray], FloatArray],
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Coefficients, model-based variance and linear predictor of a Newton fit of the
    centred and scaled covariates, or the error R would warn about: a redundant column, no
    convergence, or a coefficient whose likelihood converged before it did (R's "Loglik
    converged before variable": an infinite estimate)."""
    if fit.redundant_initial.size or fit.redundant_final.size:
        redundant = fit.redundant_initial if fit.redundant_initial.size else fit.redundant_final
        raise CoxModelError(_collinear_message(x, col_names, redundant))
    coef = fit.beta * scale
    var = fit.var * np.outer(scale, scale)
    u = fit.score / scale
    with np.errstate(all="ignore"):
        infs = np.abs(u @ var)
        lp = linear_predictor(coef)
        max_lp = float(np.max(lp))
    if not fit.converged:
        hint = (
            "; a coefficient may be infinite (monotone likelihood)"
            if not max_lp <= 500 or not np.all(np.isfinite(infs))
            else ""
        )
        raise CoxModelError(
            f"Newton-Raphson did not converge in {max_iter} iterations{hint}"
        )
    diverging = ~np.isfinite(u) | ((infs > tol) & (infs > np.sqrt(tol) * np.abs(coef)))
    if np.any(diverging):
        which = ", ".join(repr(col_names[j]) for j in np.flatnonzero(diverging))
        raise CoxModelError(
            f"the log likelihood converged before coefficient(s) {which}: the estimate may "
            "be infinite (monotone likelihood, e.g. a group with no events or complete "
            "separation)"
        )
    return coef, var, lp


def _result(
    fit: NewtonFit, coef: FloatArray, var: FloatArray, *, level: float, ties: str,
    col_names: tuple[str, ...], terms: tuple[tuple[str, tuple[int, ...]], ...], time: FloatArray,
    event: FloatArray, x: FloatArray, codes: NDArray[np.intp], strata: ArrayLike | None, covariates: Any,
    concordance: float, concordance_se: float, n_events: int, **extra: Any,
) -> CoxResult:
    """The :class:`CoxResult` of coefficients ``coef`` with variance ``var`` (model-based or
    robust): Wald intervals and z tests, the likelihood-ratio, Wald and score tests."""
    se = np.sqrt(np.diag(var))
    zval = coef / se
    pval = 2.0 * sps.norm.sf(np.abs(zval))
    q = sps.norm.ppf((1.0 + level) / 2.0)
    p = coef.shape[0]
    factor, _ = ldl(var, CHOLESKY_TOLERANCE)
    wald = float(coef @ ldl_solve(factor, coef))
    lr = 2.0 * (fit.loglik - fit.loglik_null)
    return CoxResult(
        names=col_names,
        coef=coef,
        se=se,
        hazard_ratio=np.exp(coef),
        ci_lower=np.exp(coef - q * se),
        ci_upper=np.exp(coef + q * se),
        z=zval,
        p_value=pval,
        var=var,
        loglik_null=fit.loglik_null,
        loglik=fit.loglik,
        lr_test=_chisq_test(lr, p),
        wald_test=_chisq_test(wald, p),
        score_test=_chisq_test(fit.score_test, p),
        concordance=concordance,
        concordance_se=concordance_se,
        n=time.shape[0],
        n_events=n_events,
        iterations=fit.iterations,
        ties=ties,
        level=level,
        terms=terms,
        time=time,
        event=event,
        x=x,
        strata=codes,
        strata_levels=_strata_levels(strata, codes),
        factor_levels=_factor_levels(covariates),
        **extra,
    )


# --- public API ----------------------------------------------------------------------------


def cox(
    time: ArrayLike,
    event: ArrayLike,
    covariates: ArrayLike | pd.DataFrame,
    ties: str = "efron",
    strata: ArrayLike | None = None,
    names: Sequence[str] | None = None,
    level: float = 0.95,
    max_iter: int = 30,
    tol: float = 1e-9,
    start: ArrayLike | None = None,
    cluster: ArrayLike | None = None,
    robust: bool | None = None,
) -> CoxResult:
    """Fit a Cox proportional hazards model, as R ``coxph(Surv(time, event) ~ x + strata(s))``.

    With ``start`` (rows are (start, time] intervals), ``cluster``/``robust`` (sandwich
    variance) or ``ties="exact"`` the fit is :func:`cartscope.stats.cox_counting.cox_counting`.

    Args:
        time: follow-up time per patient.
        event: 1 (or True) for an event, 0 for censoring.
        covariates: patients x p numbers, or a DataFrame (categorical columns become
            treatment-coded dummies, see the module docstring for the naming).
        ties: ``"efron"`` (R's default), ``"breslow"`` or ``"exact"``.
        strata: optional stratum label per patient; each stratum has its own baseline hazard.
        names: coefficient names for an array input (default ``x1..xp``).
        level: confidence level of the hazard-ratio intervals.
        max_iter: Newton-Raphson iterations allowed.
        tol: convergence criterion on the relative change of the log partial likelihood.
        start: entry time per row for (start, time] counting-process data.
        cluster: cluster per row (e.g. patient id) for the robust variance.
        robust: robust (sandwich) variance; default True when ``cluster`` is given.

    Raises:
        CoxModelError: mismatched lengths, missing values, no events, collinear covariates,
            a diverging coefficient (monotone likelihood) or no convergence.
    """
    if start is not None or cluster is not None or robust or ties == "exact":
        from cartscope.stats.cox_counting import cox_counting

        return cox_counting(
            start, time, event, covariates, ties=ties, strata=strata, cluster=cluster,
            robust=robust, names=names, level=level, max_iter=max_iter, tol=tol,
        )
    if ties not in ("efron", "breslow"):
        raise CoxModelError(f"ties must be 'efron', 'breslow' or 'exact', got {ties!r}")
    _check_options(level, max_iter)
    t = _merge_near_ties(_vector(time, "time"))
    n = t.shape[0]
    ev, x, col_names, terms, codes = _model_inputs(event, covariates, names, strata, n)
    n_events = _count_events(ev)

    means = x.mean(axis=0)
    xc = x - means
    abs_dev = np.abs(xc).sum(axis=0)
    scale = np.where(abs_dev > 0, n / np.where(abs_dev > 0, abs_dev, 1.0), 1.0)
    sets = build_risk_sets(t, ev, codes, ties)
    z = np.take(xc * scale, sets.order, axis=0)  # rows in time order: np.take, several times faster than x[order]
    fit = newton_raphson(z, sets, max_iter=max_iter, eps=tol)
    # the linear predictor of a tall-skinny design is kept off BLAS threads
    coef, var, lp = _estimate(fit, x, col_names, scale, max_iter, tol, lambda b: np.einsum("ij,j->i", xc, b))
    conc = _concordance(t, ev, lp, codes)
    return _result(
        fit, coef, var, level=level, ties=ties, col_names=col_names, terms=terms, time=t, event=ev, x=x,
        codes=codes, strata=strata, covariates=covariates, concordance=conc.concordance,
        concordance_se=conc.std_err, n_events=n_events,
    )


def cox_zph(
    fit: CoxResult | ArrayLike, *args: Any, transform: str = "km", **kwargs: Any
) -> CoxZph:
    """Score test of proportional hazards for each term and globally, as R ``cox.zph(fit)``.

    ``fit`` is a :class:`CoxResult`, or the arguments of :func:`cox` (``time, event,
    covariates, ...``) to fit first. ``transform`` is the function of time the effects may
    drift along: ``"km"`` (R's default, one minus the pooled Kaplan-Meier), ``"rank"`` or
    ``"identity"``.
    """
    if transform not in TRANSFORMS:
        raise CoxModelError(f"transform must be one of {TRANSFORMS}, got {transform!r}")
    if not isinstance(fit, CoxResult):
        fit = cox(fit, *args, **kwargs)
    elif args or kwargs:
        raise CoxModelError("give either a fitted CoxResult or the arguments of cox(), not both")
    if fit.start is not None or fit.ties == "exact":
        raise CoxModelError(
            "cox_zph tests right-censored fits with ties 'efron' or 'breslow' only"
        )
    out = zph_statistics(
        fit.time, fit.event, fit.x, fit.strata, fit.coef, fit.ties,
        [cols for _, cols in fit.terms], transform,
    )
    return CoxZph(
        terms=tuple(name for name, _ in fit.terms),
        chisq=out["chisq"],
        df=out["df"].astype(np.int64),
        p_value=out["p_value"],
        transform=transform,
        x=out["x"],
        time=out["time"],
        y=out["y"],
        var=out["var"],
    )
