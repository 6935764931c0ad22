"""Firth's penalised-likelihood logistic regression (Firth 1993; Heinze & Schemper 2002).

The estimate maximises the penalised log likelihood

    l*(beta) = l(beta) + 1/2 log det I(beta),   I(beta) = X' W X,  W = diag(p_i (1 - p_i)),

whose score is the modified score U*(beta) = X' (y - p + h (1/2 - p)) with h the diagonal of
the hat matrix W^(1/2) X I^(-1) X' W^(1/2). The estimate is finite even under (quasi-)complete
separation, and removes the O(1/n) bias of the MLE; it is R ``brglm2::brglmFit(type =
"AS_mean")`` (= ``logistf``) for the logit link. Confidence limits and tests are the
penalised-likelihood-ratio ones of ``logistf`` (Heinze & Schemper 2002): for coefficient j the
profile of l* with beta_j fixed, and a fixed coefficient's penalty still taken from the full
model's information matrix.

The public entry point is :func:`cartscope.stats.logistic.logistic` with ``firth=True``
(or :func:`firth_logistic`, the same call); this module holds the fitting kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from scipy import linalg, special

if TYPE_CHECKING:
    from cartscope.stats.logistic import LogisticResult

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class FirthFit:
    """Penalised estimate, its penalised log likelihood, convergence flag and iterations."""

    beta: FloatArray
    loglik: float
    penalized_loglik: float
    converged: bool
    iterations: int


def _pieces(x: FloatArray, y: FloatArray, beta: FloatArray) -> tuple[FloatArray, FloatArray, float, float]:
    """Fitted p, weights w, log likelihood l and penalised l* at ``beta``."""
    eta = x @ beta
    prob = special.expit(eta)
    w = prob * (1.0 - prob)
    loglik = -float(np.sum(np.where(y > 0.5, np.logaddexp(0.0, -eta), np.logaddexp(0.0, eta))))
    info = (x * w[:, None]).T @ x
    sign, logdet = np.linalg.slogdet(info)
    pen = loglik + 0.5 * logdet if sign > 0 else -np.inf
    return prob, w, loglik, float(pen)


def penalized_loglik(x: FloatArray, y: FloatArray, beta: FloatArray) -> float:
    """l(beta) + 1/2 log det(X' W X)."""
    return _pieces(x, y, beta)[3]


def firth_fit(
    x: FloatArray,
    y: FloatArray,
    start: FloatArray | None = None,
    fixed: NDArray[np.bool_] | None = None,
    max_iter: int = 200,
    max_step: float = 5.0,
) -> FirthFit:
    """Maximise l* over the coefficients not ``fixed`` (those keep their ``start`` value).

    Newton-type steps delta_f = I_ff^(-1) U*_f as ``logistf`` takes them (at most
    ``max_step`` per coefficient, halved until l* does not fall), until the step is below
    1e-11 relative to 1 + |beta| and the modified score below 1e-9.
    """
    n, p = x.shape
    beta = np.zeros(p) if start is None else start.astype(np.float64).copy()
    free = np.ones(p, dtype=bool) if fixed is None else ~fixed
    prob, w, loglik, pen = _pieces(x, y, beta)
    if not free.any():
        return FirthFit(beta, loglik, pen, True, 0)
    for it in range(1, max_iter + 1):
        info = (x * w[:, None]).T @ x
        try:
            chol = linalg.cho_factor(info, check_finite=False)
        except (linalg.LinAlgError, ValueError):
            return FirthFit(beta, loglik, pen, False, it)
        inv = linalg.cho_solve(chol, np.eye(p), check_finite=False)  # I^-1 (p x p)
        h = w * np.einsum("ij,ij->i", x @ inv, x)  # diag of W^1/2 X I^-1 X' W^1/2
        score = x.T @ (y - prob + h * (0.5 - prob))
        step = np.zeros(p)
        sub = info[np.ix_(free, free)]
        try:
            step[free] = linalg.solve(sub, score[free], assume_a="pos", check_finite=False)
        except (linalg.LinAlgError, ValueError):
            return FirthFit(beta, loglik, pen, False, it)
        biggest = float(np.max(np.abs(step)))
        if biggest > max_step:
            step *= max_step / biggest
        new = beta + step
        prob_n, w_n, ll_n, pen_n = _pieces(x, y, new)
        halvings = 0
        while not pen_n >= pen - 1e-12 * (1.0 + abs(pen)) and halvings < 40:
            step /= 2.0
            new = beta + step
            prob_n, w_n, ll_n, pen_n = _pieces(x, y, new)
            halvings += 1
        small = float(np.max(np.abs(step))) <= 1e-11 * (1.0 + float(np.max(np.abs(new))))
        beta, prob, w, loglik, pen = new, prob_n, w_n, ll_n, pen_n
        if small and float(np.max(np.abs(score[free]))) <= 1e-9 * max(1.0, n):
            return FirthFit(beta, loglik, pen, True, it)
        if small and halvings >= 40:
            break
    return FirthFit(beta, loglik, pen, False, max_iter)


def firth_logistic(outcome: Any, covariates: Any = None, **kwargs: Any) -> LogisticResult:
    """Firth-penalised logistic regression: :func:`cartscope.stats.logistic.logistic` with firth=True."""
    from cartscope.stats.logistic import logistic

    return logistic(outcome, covariates, firth=True, **kwargs)
