"""Detection of (quasi-)complete separation in a binary regression (Albert & Anderson 1984).

The maximum-likelihood estimate of a logistic model is infinite exactly when some direction
b != 0 has s_i x_i' b >= 0 for every patient (s_i = +1 for an event, -1 otherwise): moving the
coefficients along b never lowers the likelihood. Following Konis (2007; R
``detectseparation::detect_separation``), linear programs decide whether such a direction
exists (quasi-complete separation), whether one separates strictly (complete separation), and
which coefficients it moves: coefficient j is infinite when some separating direction has
b_j != 0 (each found by maximising and minimising b_j over the directions in the unit box);
its sign is the sign of b_j in the sum of those directions (itself a separating direction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

_TOL = 1e-7


@dataclass(frozen=True)
class Separation:
    """``status``: "none", "quasi-complete" or "complete"; ``direction``: per coefficient
    +1 / -1 for an estimate going to +inf / -inf, 0 for a finite one; ``separated``: patients
    whose fitted probability goes to 0 or 1 along that direction."""

    status: str
    direction: tuple[int, ...]
    separated: tuple[int, ...]

    @property
    def detected(self) -> bool:
        return self.status != "none"


def detect_separation(x: NDArray[np.float64], y: NDArray[np.float64]) -> Separation:
    """Separation status of the design ``x`` (n x p, full column rank) and 0/1 outcome ``y``."""
    n, p = x.shape
    if p == 0:
        return Separation("none", (), ())
    scale = np.max(np.abs(x), axis=0)
    scale[scale == 0] = 1.0
    a = (2.0 * y - 1.0)[:, None] * (x / scale)
    bounds = [(-1.0, 1.0)] * p
    a_ub = -a
    b_ub = np.zeros(n)

    def solve(c: NDArray[np.float64]) -> NDArray[np.float64] | None:
        res = optimize.linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        return res.x if res.status == 0 else None

    total = solve(-a.sum(axis=0))
    if total is None or float(a.sum(axis=0) @ total) <= _TOL:
        return Separation("none", (0,) * p, ())
    directions = [total]
    for j in range(p):
        for sign in (1.0, -1.0):
            c = np.zeros(p)
            c[j] = -sign
            sol = solve(c)
            if sol is not None and sign * sol[j] > _TOL:
                directions.append(sol)
    d = np.sum(directions, axis=0)
    direction = tuple(int(np.sign(v)) if abs(v) > _TOL else 0 for v in d)
    separated = tuple(int(i) for i in np.flatnonzero(a @ d > _TOL))
    # complete separation: some direction with s_i x_i' b >= t > 0 for every patient
    c = np.zeros(p + 1)
    c[-1] = -1.0
    a_ub_t = np.hstack([-a, np.ones((n, 1))])
    res = optimize.linprog(c, A_ub=a_ub_t, b_ub=np.zeros(n), bounds=[*bounds, (0.0, 1.0)],
                           method="highs")
    complete = res.status == 0 and float(res.x[-1]) > _TOL
    return Separation("complete" if complete else "quasi-complete", direction, separated)
