"""Firth-penalised Cox regression (Heinze & Schemper, Biometrics 2001; R package ``coxphf``).

When a covariate (or a combination) has, at every event time, the highest (or lowest) value
among those at risk - a CAR-T product arm without any relapse - the partial likelihood is
monotone and the Cox estimate is infinite (R ``coxph`` warns "Loglik converged before
variable ..."; :func:`cartscope.stats.cox` raises ``CoxModelError``). Firth's penalised
partial likelihood

    l*(beta) = l(beta) + 1/2 log det I(beta)

stays finite. Its score is U_r(beta) + 1/2 trace(I^(-1) dI/dbeta_r); for the Breslow and the
Efron likelihood every term is a log-sum over a weighted risk set (Efron's weights for the
tied deaths at a time are 1 - l/d, l = 0..d-1), the information is the sum of the weighted
covariances of x over those sets and its derivative the sum of their third central moments.
The maximum is found by Newton-type steps delta = I^(-1) U* with step halving on l* (as
coxphf). Confidence limits are profile penalised-likelihood limits (Heinze & Schemper's
recommendation, coxphf's default): coefficient j fixed, the others re-maximised, the limit
where 2 (l*(beta^) - l*_profile) reaches the chi-squared(1) quantile; the per-coefficient
p-value is the penalised-likelihood-ratio test of beta_j = 0, and ``lr_test`` the one of
beta = 0 (penalty still from the full model, as coxphf's ``coxphftest``). Standard errors
are from I(beta^)^(-1) at the penalised estimate, as coxphf reports them.

No R package for this is in Debian; the tests check against a direct numerical maximisation
of the penalised likelihood built from R survival's own log likelihood and information.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import linalg

from cartscope.stats._design import collinear_columns, design_matrix
from cartscope.stats._profile import profile_limit
from cartscope.stats._scipy_stats import stats as sps
from cartscope.stats._timefix import merge_near_ties

__all__ = ["FirthCoxResult", "cox_or_firth", "firth_cox"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class FirthCoxTest:
    """A penalised-likelihood-ratio chi-square test on ``df`` degrees of freedom."""

    statistic: float
    df: int
    p_value: float


@dataclass(frozen=True)
class FirthCoxResult:
    """A Firth-penalised Cox fit, shaped as :class:`cartscope.stats.cox.CoxResult`.

    ``ci_lower``/``ci_upper`` are profile penalised-likelihood limits of the hazard ratio,
    ``wald_lower``/``wald_upper`` the Wald limits; ``p_value`` is the penalised LR p of
    beta_j = 0 (coxphf's), ``wald_p_value`` the Wald one. ``loglik`` is the unpenalised log
    partial likelihood at the estimate, ``penalized_loglik`` l*.
    """

    names: tuple[str, ...]
    coef: FloatArray
    se: FloatArray
    hazard_ratio: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    wald_lower: FloatArray
    wald_upper: FloatArray
    z: FloatArray
    p_value: FloatArray
    wald_p_value: FloatArray
    lr_statistic: FloatArray
    var: FloatArray
    loglik_null: float
    loglik: float
    penalized_loglik: float
    lr_test: FirthCoxTest
    n: int
    n_events: int
    iterations: int
    converged: bool
    ties: str
    level: float
    terms: tuple[tuple[str, tuple[int, ...]], ...]
    method: str = "firth"
    x: FloatArray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient: term, coef, hazard ratio with PL CI, se, z, p (PL), Wald p."""
        return pd.DataFrame(
            {
                "term": list(self.names), "coef": self.coef, "hazard_ratio": self.hazard_ratio,
                "se": self.se, "z": self.z, "p_value": self.p_value, "ci_lower": self.ci_lower,
                "ci_upper": self.ci_upper, "wald_p_value": self.wald_p_value, "method": self.method,
            }
        )

    def __repr__(self) -> str:
        width = max(len(nm) for nm in self.names)
        lines = [f"Firth-penalised Cox regression (n = {self.n}, events = {self.n_events}, ties = {self.ties})",
                 f"{'':{width}}  {'coef':>9} {'HR':>9} {'se':>9} {'lower':>9} {'upper':>9} {'p':>9}"]
        for j, nm in enumerate(self.names):
            lines.append(
                f"{nm:{width}}  {self.coef[j]:9.4g} {self.hazard_ratio[j]:9.4g} {self.se[j]:9.4g}"
                f" {self.ci_lower[j]:9.4g} {self.ci_upper[j]:9.4g} {self.p_value[j]:9.4g}"
            )
        lines.append(
            f"penalised likelihood-ratio test {self.lr_test.statistic:.4g} on {self.lr_test.df} df,"
            f" p = {self.lr_test.p_value:.4g}"
        )
        return "\n".join(lines)


# --- the penalised partial likelihood ------------------------------------------------------


class _RiskSets:
    """Sorted data and the (risk set, tied deaths, Efron fraction) terms of the likelihood."""

    def __init__(self, time: FloatArray, event: FloatArray, strata: NDArray[np.intp], x: FloatArray, ties: str) -> None:
        order = np.lexsort((-event, -time, strata))  # stratum, time descending, deaths first
        self.x = x[order]
        t, e, s = time[order], event[order], strata[order]
        n = t.shape[0]
        self.stratum_start = np.zeros(n, dtype=np.intp)
        starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
        for a, b in zip(starts, [*starts[1:], n]):
            self.stratum_start[a:b] = a
        # tie blocks of equal (stratum, time): the risk set at that time ends at the block's end
        block_start = np.flatnonzero(np.r_[True, (s[1:] != s[:-1]) | (t[1:] != t[:-1])])
        block_end = np.r_[block_start[1:], n] - 1
        self.death_pos = np.flatnonzero(e > 0.5)
        groups_end, groups_first, groups_d, group_of_death = [], [], [], []
        for g, (a, b) in enumerate(zip(block_start, block_end)):
            d = int(e[a : b + 1].sum())
            if d:
                groups_end.append(b)
                groups_first.append(self.stratum_start[a])
                groups_d.append(d)
                group_of_death.extend([len(groups_end) - 1] * d)
        self.group_end = np.array(groups_end, dtype=np.intp)
        self.group_first = np.array(groups_first, dtype=np.intp)
        self.group_of_death = np.array(group_of_death, dtype=np.intp)
        d_arr = np.array(groups_d, dtype=np.intp)
        if ties == "efron":
            self.term_group = np.repeat(np.arange(d_arr.shape[0]), d_arr)
            self.term_frac = np.concatenate([np.arange(d) / d for d in d_arr]) if d_arr.size else np.zeros(0)
            self.term_mult = np.ones(self.term_group.shape[0])
        else:
            self.term_group = np.arange(d_arr.shape[0])
            self.term_frac = np.zeros(d_arr.shape[0])
            self.term_mult = d_arr.astype(np.float64)
        self.n_groups = d_arr.shape[0]

    def evaluate(self, beta: FloatArray, third: bool = True) -> tuple[float, FloatArray, FloatArray, FloatArray | None]:
        """Log partial likelihood, score, information and (optionally) dI/dbeta (p x p x p)."""
        x = self.x
        p = x.shape[1]
        eta = x @ beta
        shift = float(eta.max())
        w = np.exp(eta - shift)
        wx = w[:, None] * x
        wxx = wx[:, :, None] * x[:, None, :]
        moments = [w[:, None], wx, wxx.reshape(-1, p * p)]
        if third:
            moments.append((wxx[:, :, :, None] * x[:, None, None, :]).reshape(-1, p * p * p))
        sums = []
        for m in moments:
            c = np.cumsum(m, axis=0)
            c0 = np.vstack([np.zeros((1, m.shape[1])), c])
            risk = c0[self.group_end + 1] - c0[self.group_first]
            death = np.zeros((self.n_groups, m.shape[1]))
            np.add.at(death, self.group_of_death, m[self.death_pos])
            g, f = self.term_group, self.term_frac[:, None]
            sums.append(risk[g] - f * death[g])
        mult = self.term_mult
        s0 = sums[0][:, 0]
        mu = sums[1] / s0[:, None]
        e2 = (sums[2] / s0[:, None]).reshape(-1, p, p)
        loglik = float(eta[self.death_pos].sum() - np.sum(mult * (np.log(s0) + shift)))
        score = x[self.death_pos].sum(axis=0) - mult @ mu
        cov = e2 - mu[:, :, None] * mu[:, None, :]
        info = np.einsum("k,kab->ab", mult, cov)
        dinfo = None
        if third:
            e3 = (sums[3] / s0[:, None]).reshape(-1, p, p, p)
            c3 = (
                e3
                - mu[:, :, None, None] * e2[:, None, :, :]
                - mu[:, None, :, None] * e2[:, :, None, :]
                - mu[:, None, None, :] * e2[:, :, :, None]
                + 2.0 * mu[:, :, None, None] * mu[:, None, :, None] * mu[:, None, None, :]
            )
            dinfo = np.einsum("k,kabr->rab", mult, c3)
        return loglik, score, info, dinfo


def _penalized(rs: _RiskSets, beta: FloatArray, gradient: bool = True) -> tuple[float, FloatArray | None, FloatArray, float]:
    loglik, score, info, dinfo = rs.evaluate(beta, third=gradient)
    sign, logdet = np.linalg.slogdet(info)
    pen = loglik + 0.5 * logdet if sign > 0 else -np.inf
    grad = None
    if gradient and sign > 0 and dinfo is not None:
        inv = np.linalg.inv(info)
        grad = score + 0.5 * np.einsum("ab,rba->r", inv, dinfo)
    return float(pen), grad, info, loglik


def _fit(rs: _RiskSets, start: FloatArray, fixed: NDArray[np.bool_] | None = None,
         max_iter: int = 200, max_step: float = 5.0) -> tuple[FloatArray, float, float, bool, int]:
    """Maximise l* over the free coefficients; returns (beta, l*, l, converged, iterations)."""
    p = start.shape[0]
    free = np.ones(p, dtype=bool) if fixed is None else ~fixed
    beta = start.astype(np.float64).copy()
    pen, grad, info, loglik = _penalized(rs, beta)
    if not free.any():
        return beta, pen, loglik, True, 0
    for it in range(1, max_iter + 1):
        if grad is None:
            return beta, pen, loglik, False, it
        step = np.zeros(p)
        try:
            step[free] = linalg.solve(info[np.ix_(free, free)], grad[free], assume_a="pos", check_finite=False)
        except (linalg.LinAlgError, ValueError):
            return beta, pen, loglik, False, it
        biggest = float(np.max(np.abs(step)))
        if biggest > max_step:
            step *= max_step / biggest
        halvings = 0
        while True:
            new = beta + step
            pen_n, grad_n, info_n, ll_n = _penalized(rs, new)
            if pen_n >= pen - 1e-12 * (1.0 + abs(pen)) or halvings >= 40:
                break
            step /= 2.0
            halvings += 1
        small = float(np.max(np.abs(step))) <= 1e-11 * (1.0 + float(np.max(np.abs(new))))
        beta, pen, grad, info, loglik = new, pen_n, grad_n, info_n, ll_n
        if small:
            ok = grad is not None and float(np.max(np.abs(grad[free]))) <= 1e-8 * max(1.0, rs.x.shape[0])
            return beta, pen, loglik, ok, it
    return beta, pen, loglik, False, max_iter


# --- public API ----------------------------------------------------------------------------


def firth_cox(
    time: ArrayLike,
    event: ArrayLike,
    covariates: ArrayLike | pd.DataFrame | Mapping[str, ArrayLike],
    ties: str = "breslow",
    strata: ArrayLike | None = None,
    names: Sequence[str] | None = None,
    level: float = 0.95,
    profile: bool = True,
    max_iter: int = 200,
) -> FirthCoxResult:
    """Firth-penalised Cox model, as R ``coxphf(Surv(time, event) ~ x)`` (Heinze & Schemper 2001).

    Args:
        time, event: follow-up time and 1/0 event indicator per patient.
        covariates: patients x p numbers, a mapping or a DataFrame (categorical columns become
            treatment contrasts, first level as reference, named as R names them).
        ties: ``"breslow"`` (coxphf's, the default here) or ``"efron"`` (R coxph's default).
        strata: optional stratum per patient (separate baseline hazards).
        names: coefficient names for an array input.
        level: confidence level.
        profile: compute profile penalised-likelihood limits and tests (else NaN).
        max_iter: iterations allowed for each maximisation.

    Raises:
        ValueError: mismatched lengths, missing values, no events, collinear covariates.
    """
    from cartscope.stats._validation import as_time_event, check_level

    if ties not in ("breslow", "efron"):
        raise ValueError(f"ties must be 'breslow' or 'efron', got {ties!r}")
    lvl = check_level(level)
    t, ev_bool = as_time_event(time, event)
    t = merge_near_ties(t)
    ev = ev_bool.astype(np.float64)
    n = t.shape[0]
    if ev.sum() == 0:
        raise ValueError("no events: the Cox model needs at least one event")
    design = design_matrix(covariates, n, names=names, intercept=False)
    x = design.x
    if x.shape[1] == 0:
        raise ValueError("no covariates given")
    redundant = collinear_columns(np.column_stack([np.ones(n), x]))
    if redundant:
        raise ValueError(
            "covariates are collinear: "
            + ", ".join(repr(design.names[j - 1]) if j > 0 else "the constant" for j in redundant)
            + " is constant or a linear combination of earlier columns"
        )
    if strata is None:
        codes = np.zeros(n, dtype=np.intp)
    else:
        s = np.asarray(strata, dtype=object)
        if s.shape[0] != n:
            raise ValueError(f"strata has {s.shape[0]} values but time has {n}")
        codes = pd.factorize(pd.Series(s), sort=True)[0].astype(np.intp)
        if (codes < 0).any():
            raise ValueError("strata has missing values")
    xc = x - x.mean(axis=0)
    rs = _RiskSets(t, ev, codes, xc, ties)
    p = x.shape[1]
    beta, pen, loglik, converged, iterations = _fit(rs, np.zeros(p), max_iter=max_iter)
    _, _, info, _ = _penalized(rs, beta, gradient=False)
    var = np.linalg.inv(info)
    se = np.sqrt(np.diag(var))
    z = beta / se
    wald_p = 2.0 * sps.norm.sf(np.abs(z))
    q = float(sps.norm.ppf((1.0 + lvl) / 2.0))
    cutoff = float(sps.chi2.ppf(lvl, 1))
    ci_lo = np.full(p, np.nan)
    ci_hi = np.full(p, np.nan)
    lr_stat = np.full(p, np.nan)
    if profile and converged:
        for j in range(p):
            state = {"beta": beta.copy()}
            mask = np.zeros(p, dtype=bool)
            mask[j] = True

            def at(v: float, j: int = j, mask: NDArray[np.bool_] = mask, state: dict[str, FloatArray] = state) -> float:
                b0 = state["beta"].copy()
                b0[j] = v
                b, obj, *_ = _fit(rs, b0, fixed=mask, max_iter=max_iter)
                state["beta"] = b
                return obj

            ci_lo[j] = profile_limit(float(beta[j]), float(se[j]), pen, at, cutoff, -1)
            state["beta"] = beta.copy()
            ci_hi[j] = profile_limit(float(beta[j]), float(se[j]), pen, at, cutoff, +1)
            state["beta"] = beta.copy()
            lr_stat[j] = max(0.0, 2.0 * (pen - at(0.0)))
    pl_p = np.array([float(sps.chi2.sf(s, 1)) if np.isfinite(s) else np.nan for s in lr_stat])
    pen0, _, _, loglik0 = _penalized(rs, np.zeros(p), gradient=False)
    global_stat = max(0.0, 2.0 * (pen - pen0))
    return FirthCoxResult(
        names=design.names, coef=beta, se=se, hazard_ratio=np.exp(beta), ci_lower=np.exp(ci_lo),
        ci_upper=np.exp(ci_hi), wald_lower=np.exp(beta - q * se), wald_upper=np.exp(beta + q * se),
        z=z, p_value=pl_p, wald_p_value=wald_p, lr_statistic=lr_stat, var=var, loglik_null=loglik0,
        loglik=loglik, penalized_loglik=pen,
        lr_test=FirthCoxTest(global_stat, p, float(sps.chi2.sf(global_stat, p))),
        n=n, n_events=int(ev.sum()), iterations=iterations, converged=bool(converged), ties=ties,
        level=lvl, terms=design.terms, x=x,
    )


def cox_or_firth(
    time: ArrayLike,
    event: ArrayLike,
    covariates: ArrayLike | pd.DataFrame | Mapping[str, ArrayLike],
    ties: str = "efron",
    level: float = 0.95,
    **kwargs: Any,
) -> tuple[Any, str]:
    """The ordinary Cox fit (:func:`cartscope.stats.cox`), or Firth's when it has monotone likelihood.

    Returns ``(result, reason)``: a ``CoxResult`` and "" when the ordinary fit converges to
    finite estimates, else a :class:`FirthCoxResult` (same ties) and the ordinary fit's message
    (a coefficient diverging: monotone likelihood). Other errors (collinearity, no events, bad
    input) are raised as they are.
    """
    from cartscope.stats.cox import CoxModelError, cox

    try:
        return cox(time, event, covariates, ties=ties, level=level, **kwargs), ""
    except CoxModelError as exc:
        message = str(exc)
        if "monotone likelihood" not in message:
            raise
    strata = kwargs.get("strata")
    names = kwargs.get("names")
    return firth_cox(time, event, covariates, ties=ties, strata=strata, names=names, level=level), message


def penalized_partial_loglik(
    time: ArrayLike, event: ArrayLike, x: ArrayLike, beta: ArrayLike, ties: str = "breslow"
) -> tuple[float, float]:
    """(l(beta), l*(beta)) for numeric covariates ``x`` (patients x p): for checks and plots."""
    t = merge_near_ties(np.asarray(time, dtype=np.float64))
    xm = np.asarray(x, dtype=np.float64)
    if xm.ndim == 1:
        xm = xm[:, None]
    rs = _RiskSets(t, np.asarray(event, dtype=np.float64), np.zeros(t.shape[0], dtype=np.intp),
                   xm - xm.mean(axis=0), ties)
    pen, _, _, loglik = _penalized(rs, np.asarray(beta, dtype=np.float64), gradient=False)
    return loglik, pen
