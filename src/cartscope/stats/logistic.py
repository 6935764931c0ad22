"""Logistic regression, maximum likelihood (R ``glm``) or Firth-penalised (R ``brglm2``/``logistf``).

The model: logit P(y = 1 | x) = x' beta. :func:`logistic` reports what a response-predictor
table needs, as R computes it:

* coefficients with standard errors from the inverse Fisher information, odds ratios, Wald z
  and two-sided p (``summary(glm)``), Wald limits b +- z_(1+level)/2 se (``confint.default``);
* profile-likelihood limits (``confint(glm)``, MASS's method: the inverted likelihood-ratio
  test, found here by root finding instead of MASS's interpolated grid);
* likelihood-ratio tests per coefficient and per term (``drop1(fit, test = "Chisq")``), Wald
  chi-squared tests per term (a factor's columns jointly), and the global likelihood-ratio test
  against the intercept-only model (null minus residual deviance);
* deviance, null deviance, log likelihood and AIC.

Categorical covariates use R's treatment contrasts, reference = first level (see
:mod:`cartscope.stats._design`). The fit is R's IRLS (:func:`glm_fit`) polished to machine
precision by Newton steps.

Separation (an outcome perfectly predicted by a covariate combination, common in cohorts of
20-100 patients: every TP53-mutated patient a non-responder) makes the maximum-likelihood
estimate infinite. It is detected by linear programming (:mod:`cartscope.stats._separation`,
as R ``detectseparation``) and reported in ``separation`` and ``warnings``; under separation
the ML fit is R's (stopped by its convergence rule, huge estimates) and its profile limits and
likelihood-ratio tests are not given (NaN), because the MLE they start from does not exist.
``firth=True`` fits Firth's penalised likelihood instead (finite under separation, R
``brglm2::brglmFit(type = "AS_mean")`` = ``logistf``), with ``logistf``'s penalised
likelihood-ratio limits and tests; ``firth="auto"`` does so only when separation is detected
or the ML fit does not converge.

Deliberate differences from R: missing values and collinear columns are errors (R drops rows
silently and reports NA coefficients).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cartscope.stats._design import Design, collinear_columns, design_matrix
from cartscope.stats._logistic_fit import deviance, fisher_information, glm_fit, newton
from cartscope.stats._profile import profile_limit
from cartscope.stats._scipy_stats import stats as sps
from cartscope.stats._separation import Separation, detect_separation
from cartscope.stats._validation import check_level
from cartscope.stats.firth_logistic import firth_fit

__all__ = ["LogisticModelError", "LogisticResult", "LogisticTermTest", "logistic"]

FloatArray = NDArray[np.float64]


class LogisticModelError(ValueError):
    """The logistic model cannot be fitted to these data (the message says why)."""


@dataclass(frozen=True)
class LogisticTermTest:
    """Tests of one term (all its columns = 0): likelihood-ratio (penalised for Firth) and Wald."""

    term: str
    df: int
    lr_statistic: float
    lr_p_value: float
    wald_statistic: float
    wald_p_value: float


@dataclass(frozen=True)
class LogisticResult:
    """A fitted logistic model; arrays have one entry per coefficient, in ``names`` order.

    ``method`` is "ml" or "firth". ``estimate`` are log odds ratios; ``ci_lower``/``ci_upper``
    the profile (penalised) likelihood limits and ``wald_lower``/``wald_upper`` the Wald limits,
    both on the log-odds scale. ``p_value`` is the Wald p (R ``summary.glm``); ``lr_p_value``
    the likelihood-ratio p of beta_j = 0 (for Firth the penalised one, as ``logistf`` prints).
    ``lr_test`` is the global test of every coefficient but the intercept.
    """

    method: str
    names: tuple[str, ...]
    estimate: FloatArray
    se: FloatArray
    z: FloatArray
    p_value: FloatArray
    wald_lower: FloatArray
    wald_upper: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    lr_statistic: FloatArray
    lr_p_value: FloatArray
    var: FloatArray
    term_tests: tuple[LogisticTermTest, ...]
    lr_test: LogisticTermTest | None
    deviance: float
    null_deviance: float
    loglik: float
    penalized_loglik: float
    aic: float
    n: int
    n_events: int
    converged: bool
    iterations: int
    separation: Separation
    level: float
    terms: tuple[tuple[str, tuple[int, ...]], ...]
    levels: tuple[tuple[str, tuple[str, ...]], ...]
    warnings: tuple[str, ...] = ()
    firth_reason: str = ""
    x: FloatArray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)

    @property
    def odds_ratio(self) -> FloatArray:
        return np.exp(self.estimate)

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient: estimate, OR with profile and Wald CI, se, z, p, LR p."""
        with np.errstate(over="ignore"):
            return pd.DataFrame(
                {
                    "term": list(self.names),
                    "estimate": self.estimate,
                    "se": self.se,
                    "odds_ratio": np.exp(self.estimate),
                    "ci_lower": np.exp(self.ci_lower),
                    "ci_upper": np.exp(self.ci_upper),
                    "wald_ci_lower": np.exp(self.wald_lower),
                    "wald_ci_upper": np.exp(self.wald_upper),
                    "z": self.z,
                    "p_value": self.p_value,
                    "lr_p_value": self.lr_p_value,
                    "method": self.method,
                }
            )

    def terms_frame(self) -> pd.DataFrame:
        """One row per term (and the global test): df, likelihood-ratio and Wald chi-squared, p."""
        rows = [*self.term_tests, *([self.lr_test] if self.lr_test is not None else [])]
        return pd.DataFrame(
            {
                "term": [t.term for t in rows], "df": [t.df for t in rows],
                "lr_statistic": [t.lr_statistic for t in rows], "lr_p_value": [t.lr_p_value for t in rows],
                "wald_statistic": [t.wald_statistic for t in rows],
                "wald_p_value": [t.wald_p_value for t in rows],
            }
        )

    def __repr__(self) -> str:
        head = "Firth-penalised logistic regression" if self.method == "firth" else "Logistic regression"
        lines = [f"{head} (n = {self.n}, events = {self.n_events})"]
        width = max(len(nm) for nm in self.names) if self.names else 4
        lines.append(f"{'':{width}}  {'coef':>9} {'se':>9} {'OR':>9} {'lower':>9} {'upper':>9} {'p':>9}")
        with np.errstate(over="ignore"):
            for j, nm in enumerate(self.names):
                lines.append(
                    f"{nm:{width}}  {self.estimate[j]:9.4g} {self.se[j]:9.4g} {np.exp(self.estimate[j]):9.4g}"
                    f" {np.exp(self.ci_lower[j]):9.4g} {np.exp(self.ci_upper[j]):9.4g} {self.p_value[j]:9.4g}"
                )
        if self.lr_test is not None:
            lines.append(
                f"likelihood-ratio test {self.lr_test.lr_statistic:.4g} on {self.lr_test.df} df,"
                f" p = {self.lr_test.lr_p_value:.4g}"
            )
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


# --- inputs --------------------------------------------------------------------------------


def _outcome(values: ArrayLike) -> FloatArray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise LogisticModelError(f"outcome must be one-dimensional, got shape {arr.shape}")
    if arr.dtype == np.bool_:
        return arr.astype(np.float64)
    try:
        y = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise LogisticModelError("outcome must be 0/1 or True/False") from None
    missing = int(np.isnan(y).sum())
    if missing:
        raise LogisticModelError(
            f"outcome has {missing} missing value(s) (first at position {int(np.flatnonzero(np.isnan(y))[0])}); "
            "drop those patients before the analysis"
        )
    bad = ~((y == 0) | (y == 1))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise LogisticModelError(f"outcome must be 0/1 or True/False, got {arr[first]!r} at position {first}")
    return y


def _chisq_p(stat: float, df: int) -> float:
    return float(sps.chi2.sf(stat, df)) if np.isfinite(stat) else float("nan")


# --- the model -----------------------------------------------------------------------------


class _Model:
    """Constrained maxima of the (penalised) log likelihood with warm starts."""

    def __init__(self, x: FloatArray, y: FloatArray, firth: bool, beta_hat: FloatArray) -> None:
        self.x, self.y, self.firth, self.beta_hat = x, y, firth, beta_hat

    def constrained(self, fixed_idx: Sequence[int], values: Sequence[float], start: FloatArray | None = None) -> tuple[float, FloatArray]:
        """Max objective (log likelihood or penalised) with coefficients ``fixed_idx`` = ``values``."""
        p = self.x.shape[1]
        beta0 = (self.beta_hat if start is None else start).copy()
        beta0[list(fixed_idx)] = values
        mask = np.zeros(p, dtype=bool)
        mask[list(fixed_idx)] = True
        if self.firth:
            fit = firth_fit(self.x, self.y, start=beta0, fixed=mask)
            return fit.penalized_loglik, fit.beta
        offset = self.x[:, mask] @ beta0[mask]
        free = ~mask
        res = newton(self.x[:, free], self.y, beta0[free], offset=offset)
        beta = beta0.copy()
        beta[free] = res.beta
        return -0.5 * res.deviance, beta

    def profile(self, j: int, objective_max: float, se: float, cutoff: float) -> tuple[float, float]:
        state = {"beta": self.beta_hat.copy()}

        def at(v: float) -> float:
            obj, beta = self.constrained([j], [v], start=state["beta"])
            state["beta"] = beta
            return obj

        lower = profile_limit(float(self.beta_hat[j]), se, objective_max, at, cutoff, -1)
        state["beta"] = self.beta_hat.copy()
        upper = profile_limit(float(self.beta_hat[j]), se, objective_max, at, cutoff, +1)
        return lower, upper


def logistic(
    outcome: ArrayLike,
    covariates: ArrayLike | pd.DataFrame | Mapping[str, ArrayLike] | None = None,
    *,
    firth: bool | Literal["auto"] = False,
    level: float = 0.95,
    names: Sequence[str] | None = None,
    factors: Sequence[str] = (),
    reference: Mapping[str, Any] | None = None,
    intercept: bool = True,
    profile: bool = True,
) -> LogisticResult:
    """Fit a logistic regression, as R ``glm(y ~ ..., family = binomial)`` or Firth's.

    Args:
        outcome: 0/1 (or boolean) per patient, 1 = the event modelled (e.g. complete response).
        covariates: patients x p numbers, a mapping name -> column or a DataFrame (categorical
            columns become treatment contrasts, reference = first level); None for the
            intercept-only model.
        firth: False (maximum likelihood), True (Firth's penalised likelihood) or "auto"
            (Firth when the ML estimate does not exist: separation, or no convergence).
        level: confidence level of the intervals.
        names: coefficient names for an array input (default ``x1..xp``).
        factors: numeric columns to code as factors (R ``factor(x)``).
        reference: reference level per factor (R ``relevel``).
        intercept: include the intercept (R ``- 1`` removes it).
        profile: compute the profile-likelihood limits and likelihood-ratio tests.

    Raises:
        LogisticModelError: bad outcome, missing values, unknown names, collinear columns.
    """
    if firth not in (True, False, "auto"):
        raise LogisticModelError(f"firth must be True, False or 'auto'; got {firth!r}")
    try:
        lvl = check_level(level)
    except ValueError as exc:
        raise LogisticModelError(str(exc)) from None
    y = _outcome(outcome)
    n = y.shape[0]
    if n == 0:
        raise LogisticModelError("no observations")
    try:
        design = design_matrix(covariates, n, names=names, intercept=intercept, factors=factors,
                               reference=reference)
    except ValueError as exc:
        raise LogisticModelError(str(exc)) from None
    x = design.x
    if x.shape[1] == 0:
        raise LogisticModelError("the model has no coefficients (no intercept and no covariates)")
    redundant = collinear_columns(x)
    if redundant:
        raise LogisticModelError(
            "covariates are collinear: " + ", ".join(repr(design.names[j]) for j in redundant)
            + " is a linear combination of earlier columns (R would report NA for it)"
        )
    separation = detect_separation(x, y)
    ml = glm_fit(x, y)
    warnings: list[str] = []
    use_firth = bool(firth is True)
    reason = "requested" if use_firth else ""
    if firth == "auto" and (separation.detected or not ml.converged):
        use_firth = True
        reason = (f"{separation.status} separation" if separation.detected
                  else "the maximum-likelihood fit did not converge")
    if separation.detected:
        infinite = [f"{design.names[j]} ({'+' if d > 0 else '-'}inf)"
                    for j, d in enumerate(separation.direction) if d]
        warnings.append(
            f"{separation.status} separation: the maximum-likelihood estimate of "
            + ", ".join(infinite) + f" is infinite ({len(separation.separated)} patient(s) perfectly predicted)"
            + ("; Firth's penalised likelihood used" if use_firth else "; use firth")
        )
    return _finish(x, y, design, ml, separation, use_firth, reason, lvl, profile, warnings)


def _finish(
    x: FloatArray, y: FloatArray, design: Design, ml: Any, separation: Separation, use_firth: bool,
    reason: str, level: float, profile: bool, warnings: list[str],
) -> LogisticResult:
    n, p = x.shape
    ybar = float(y.mean())
    has_intercept = "(Intercept)" in design.names
    if has_intercept:
        null_dev = deviance(np.full(n, np.log(ybar / (1.0 - ybar))), y) if 0.0 < ybar < 1.0 else 0.0
    else:
        null_dev = deviance(np.zeros(n), y)
    exists = not separation.detected
    if use_firth:
        ff = firth_fit(x, y)
        beta, converged, iterations = ff.beta, ff.converged, ff.iterations
        objective = ff.penalized_loglik
        if not converged:
            warnings.append("the penalised-likelihood fit did not converge")
    else:
        beta, converged, iterations = ml.beta, ml.converged, ml.iterations
        if exists and ml.converged:
            polished = newton(x, y, ml.beta)
            if polished.converged:
                beta = polished.beta
        if not ml.converged:
            warnings.append(f"the maximum-likelihood fit did not converge in {ml.iterations} iterations")
        objective = -0.5 * deviance(x @ beta, y)
    info = fisher_information(x, beta)
    try:
        var = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        var = np.full((p, p), np.nan)
    se = np.sqrt(np.diag(var))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = beta / se
    pval = 2.0 * sps.norm.sf(np.abs(z))
    q = float(sps.norm.ppf((1.0 + level) / 2.0))
    cutoff = float(sps.chi2.ppf(level, 1))
    dev = deviance(x @ beta, y)
    model = _Model(x, y, use_firth, beta)
    inference = profile and (use_firth or exists) and converged
    ci_lo = np.full(p, np.nan)
    ci_hi = np.full(p, np.nan)
    lr_stat = np.full(p, np.nan)
    if inference:
        for j in range(p):
            ci_lo[j], ci_hi[j] = model.profile(j, objective, float(se[j]), cutoff)
            obj0, _ = model.constrained([j], [0.0])
            lr_stat[j] = max(0.0, 2.0 * (objective - obj0))
        unreached = [f"{'lower' if np.isinf(lim) and lim < 0 else 'upper'} limit of {design.names[j]!r}"
                     for j in range(p) for lim in (ci_lo[j], ci_hi[j]) if np.isinf(lim)]
        if unreached:
            warnings.append(
                "profile-likelihood " + ", ".join(unreached) + " is infinite: the "
                + ("penalised " if use_firth else "") + "likelihood does not fall to the chi-squared"
                " cutoff however far the coefficient goes"
            )
    lr_p = np.array([_chisq_p(s, 1) for s in lr_stat])
    tests = []
    for term, cols in design.terms:
        if term == "(Intercept)":
            continue
        tests.append(_term_test(term, cols, beta, var, model, objective, inference))
    slopes = tuple(j for j, nm in enumerate(design.names) if nm != "(Intercept)")
    global_test = _term_test("model", slopes, beta, var, model, objective, inference) if slopes else None
    if not use_firth and exists and global_test is not None and has_intercept:
        # the global LR statistic is null minus residual deviance (R's anova of the two fits)
        stat = null_dev - dev
        global_test = LogisticTermTest("model", len(slopes), stat, _chisq_p(stat, len(slopes)),
                                       global_test.wald_statistic, global_test.wald_p_value)
    loglik = -0.5 * dev
    return LogisticResult(
        method="firth" if use_firth else "ml", names=design.names, estimate=beta, se=se, z=z,
        p_value=pval, wald_lower=beta - q * se, wald_upper=beta + q * se, ci_lower=ci_lo,
        ci_upper=ci_hi, lr_statistic=lr_stat, lr_p_value=lr_p, var=var, term_tests=tuple(tests),
        lr_test=global_test, deviance=dev, null_deviance=float(null_dev), loglik=loglik,
        penalized_loglik=float(objective) if use_firth else float("nan"),
        aic=float("nan") if use_firth else dev + 2.0 * p, n=n, n_events=int(y.sum()),
        converged=bool(converged), iterations=int(iterations), separation=separation, level=level,
        terms=design.terms, levels=design.levels, warnings=tuple(warnings), firth_reason=reason, x=x,
    )


def _term_test(
    term: str, cols: Sequence[int], beta: FloatArray, var: FloatArray, model: _Model,
    objective: float, inference: bool,
) -> LogisticTermTest:
    idx = list(cols)
    b = beta[idx]
    try:
        wald = float(b @ np.linalg.solve(var[np.ix_(idx, idx)], b))
    except np.linalg.LinAlgError:
        wald = float("nan")
    lr = float("nan")
    if inference:
        obj0, _ = model.constrained(idx, [0.0] * len(idx))
        lr = max(0.0, 2.0 * (objective - obj0))
    df = len(idx)
    return LogisticTermTest(term, df, lr, _chisq_p(lr, df), wald, _chisq_p(wald, df))
