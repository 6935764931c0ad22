"""Maximum-likelihood fitting of the logistic model: R's ``glm.fit`` and a tight Newton polish.

:func:`glm_fit` is R's iteratively reweighted least squares for ``binomial(link = "logit")``
step for step (start mu = (y + 1/2)/2, R's clamping of the inverse link at |eta| > 30,
convergence when |dev - dev_old| / (|dev| + 0.1) < epsilon, at most ``maxit`` iterations), so
that a fit R stops early - as it does under separation - is the fit R reports.
:func:`newton` then iterates to machine precision (the MLE itself, which R's 1e-8 criterion
only approaches) and serves the constrained fits of the profile likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import linalg, special

FloatArray = NDArray[np.float64]

_EPS = float(np.finfo(float).eps)
_THRESH = 30.0


@dataclass(frozen=True)
class MLFit:
    """Coefficients, deviance, convergence flag and iteration count of one logistic fit."""

    beta: FloatArray
    deviance: float
    converged: bool
    iterations: int


def deviance(eta: FloatArray, y: FloatArray) -> float:
    """Binomial deviance -2 sum(y log p + (1 - y) log(1 - p)) at linear predictor ``eta``."""
    # log p = -log(1 + e^-eta), log(1 - p) = -log(1 + e^eta)
    return float(2.0 * np.sum(np.where(y > 0.5, np.logaddexp(0.0, -eta), np.logaddexp(0.0, eta))))


def _r_linkinv(eta: FloatArray) -> FloatArray:
    """R's ``binomial()$linkinv``: exp(eta) clamped to [eps, 1/eps] before exp/(1 + exp)."""
    e = np.exp(np.clip(eta, -_THRESH, _THRESH))
    e = np.where(eta < -_THRESH, _EPS, np.where(eta > _THRESH, 1.0 / _EPS, e))
    return e / (1.0 + e)


def _r_mu_eta(eta: FloatArray) -> FloatArray:
    """R's ``binomial()$mu.eta``: e^eta / (1 + e^eta)^2, eps beyond |eta| > 30."""
    e = np.exp(np.clip(eta, -_THRESH, _THRESH))
    return np.where(np.abs(eta) > _THRESH, _EPS, e / (1.0 + e) ** 2)


def _r_deviance(mu: FloatArray, y: FloatArray) -> float:
    return float(2.0 * np.sum(np.where(y > 0.5, -np.log(mu), -np.log1p(-mu))))


def glm_fit(
    x: FloatArray,
    y: FloatArray,
    offset: FloatArray | None = None,
    epsilon: float = 1e-8,
    maxit: int = 25,
) -> MLFit:
    """IRLS as R ``glm.fit(x, y, family = binomial(), control = glm.control(epsilon, maxit))``."""
    n, p = x.shape
    off = np.zeros(n) if offset is None else offset
    mu = (y + 0.5) / 2.0
    eta = np.log(mu / (1.0 - mu))
    dev_old = _r_deviance(mu, y)
    beta = np.zeros(p)
    converged = False
    it = 0
    for it in range(1, maxit + 1):
        mu_eta = _r_mu_eta(eta)
        z = eta - off + (y - mu) / mu_eta
        w = np.sqrt(mu_eta**2 / (mu * (1.0 - mu)))
        new, *_ = linalg.lstsq(x * w[:, None], z * w, lapack_driver="gelsy", check_finite=False)
        eta_new = x @ new + off
        mu_new = _r_linkinv(eta_new)
        dev = _r_deviance(mu_new, y)
        halvings = 0
        while not np.isfinite(dev) and halvings < maxit:
            new = (new + beta) / 2.0
            eta_new = x @ new + off
            mu_new = _r_linkinv(eta_new)
            dev = _r_deviance(mu_new, y)
            halvings += 1
        beta, eta, mu = new, eta_new, mu_new
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            converged = True
            break
        dev_old = dev
    return MLFit(beta, _r_deviance(mu, y), converged, it)


def newton(
    x: FloatArray,
    y: FloatArray,
    start: FloatArray,
    offset: FloatArray | None = None,
    max_iter: int = 100,
) -> MLFit:
    """Newton-Raphson (= Fisher scoring for the logit link) from ``start`` with step halving.

    Stops when the step is below 1e-11 (relative to 1 + |beta|) and the deviance no longer
    falls. Used to polish :func:`glm_fit` to the MLE and for the constrained fits of the profile
    likelihood (``offset`` carries the fixed coefficients).
    """
    n, p = x.shape
    off = np.zeros(n) if offset is None else offset
    beta = start.astype(np.float64).copy()
    if p == 0:
        return MLFit(beta, deviance(off, y), True, 0)
    eta = x @ beta + off
    dev = deviance(eta, y)
    for it in range(1, max_iter + 1):
        prob = special.expit(eta)
        w = prob * (1.0 - prob)
        score = x.T @ (y - prob)
        info = (x * w[:, None]).T @ x
        try:
            step = linalg.solve(info, score, assume_a="pos", check_finite=False)
        except (linalg.LinAlgError, ValueError):
            return MLFit(beta, dev, False, it)
        new = beta + step
        eta_new = x @ new + off
        dev_new = deviance(eta_new, y)
        halvings = 0
        while not dev_new <= dev + 1e-12 * (1.0 + abs(dev)) and halvings < 40:
            step = step / 2.0
            new = beta + step
            eta_new = x @ new + off
            dev_new = deviance(eta_new, y)
            halvings += 1
        small = float(np.max(np.abs(step))) <= 1e-11 * (1.0 + float(np.max(np.abs(new))))
        beta, eta, dev = new, eta_new, dev_new
        if small:
            return MLFit(beta, dev, True, it)
    return MLFit(beta, dev, False, max_iter)


def fisher_information(x: FloatArray, beta: FloatArray) -> FloatArray:
    """X' W X with W = diag(p (1 - p)) at ``beta``."""
    prob = special.expit(x @ beta)
    w = prob * (1.0 - prob)
    return (x * w[:, None]).T @ x
