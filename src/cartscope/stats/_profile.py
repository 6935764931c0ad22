"""Profile-likelihood confidence limits of one coefficient, shared by the likelihood models.

For coefficient j with estimate b and objective L (log likelihood, or a penalised one), the
limits are the two values v with 2 (L(b) - max_{other coefficients} L | beta_j = v) = q, q the
``level`` quantile of chi-squared on 1 df (the inversion of the likelihood-ratio test; R
``MASS::confint.glm`` finds the same points by interpolating a profile grid, logistf and coxphf
by root finding as here). The profile is bracketed by stepping out from b in doubling multiples
of the standard error; a profile that levels off below q (an infinite estimate, separation,
monotone likelihood) gives an infinite limit, as R reports a bound that is not reached
(``MASS::confint.glm`` NA with a warning, ``logistf`` the last point with "nonconvergence in
confidence limit"); the caller states it in the result's warnings.

The profile is evaluated once per point: each value is kept, so the bracket handed to the
root finder has the signs that were seen while stepping out. A constrained fit warm-started
along the path can land on a different local maximum when the (penalised) likelihood is not
concave (Firth's penalty under separation); re-evaluating an end point could then flip its
sign and the root finder would fail.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize


def profile_limit(
    estimate: float,
    se: float,
    objective_max: float,
    constrained: Callable[[float], float],
    cutoff: float,
    side: int,
    max_doublings: int = 40,
) -> float:
    """The limit on ``side`` (-1 lower, +1 upper) where the deviance drop reaches ``cutoff``.

    ``constrained(v)`` returns max L with the coefficient fixed at v. Returns +-inf when the
    deviance drop stays below ``cutoff`` however far the coefficient goes.
    """
    scale = se if np.isfinite(se) and se > 0 else 1.0

    seen: dict[float, float] = {}

    def g(v: float) -> float:
        if v not in seen:
            seen[v] = 2.0 * (objective_max - constrained(v)) - cutoff
        return seen[v]

    seen[estimate] = -cutoff

    prev_v, prev_g = estimate, -cutoff
    step = scale
    for _ in range(max_doublings):
        v = estimate + side * step
        gv = g(v)
        if gv >= 0:
            lo, hi = sorted((prev_v, v))
            return float(
                optimize.brentq(g, lo, hi, xtol=1e-12 * (1.0 + abs(v)), rtol=4 * np.finfo(float).eps,
                                maxiter=200)
            )
        if np.isfinite(prev_g) and gv - prev_g <= 1e-9 * cutoff and step > 64 * scale:
            break  # the profile has levelled off below the cutoff
        prev_v, prev_g = v, gv
        step *= 2.0
    return float(side * np.inf)
