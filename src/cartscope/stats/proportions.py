"""Confidence intervals for a binomial proportion x/n (response rates, sensitivity, specificity).

Methods (Brown, Cai & DasGupta, Stat Sci 2001;16:101-133), with z = Phi^-1(1 - alpha/2),
alpha = 1 - level, p = x/n:

- ``wilson``: score interval, centre (x + z^2/2)/(n + z^2), half-width
  z sqrt(n)/(n + z^2) sqrt(p(1-p) + z^2/(4n)); equals R ``prop.test(x, n, correct=FALSE)``.
- ``wilson-cc``: Wilson with continuity correction, R ``prop.test(x, n)`` (its default
  ``correct = TRUE``): with c = min(1/2, |x - n/2|) (R's Yates term against the default null
  p = 1/2) and p+- = p +- c/n, the upper limit is
  (p+ + z^2/(2n) + z sqrt(p+ (1-p+)/n + z^2/(4n^2))) / (1 + z^2/n), 1 when p+ >= 1, and the
  lower limit the same with p- and -z, 0 when p- <= 0.
- ``wilson-modified``: Wilson, except near the edges where the score interval is known to
  under-cover: for x in {1, 2} (n <= 50) or x in {1, 2, 3} (51 <= n <= 100) the lower limit is
  qchisq(alpha, 2x)/(2n); symmetrically for n - x, the upper limit is 1 - qchisq(alpha, 2(n-x))/(2n).
  Identical to Wilson for n > 100. This reproduces the jin2023 sensitivity/specificity CIs
  (e.g. 12/13 -> 66.69-99.61 %).
- ``clopper-pearson``: exact interval from beta quantiles; equals R ``binom.test``.
- ``agresti-coull``: Wald interval around p~ = (x + z^2/2)/(n + z^2) with n~ = n + z^2,
  clipped to [0, 1].
- ``jeffreys``: equal-tailed Beta(x + 1/2, n - x + 1/2) interval, with the lower limit set to 0
  when x = 0 and the upper limit to 1 when x = n (as recommended by Brown et al.).
- ``wald``: p +- z sqrt(p(1-p)/n), clipped to [0, 1] (shown for comparison only; it
  under-covers badly for small n or p near 0 or 1).

The point estimate is always x/n (for Agresti-Coull too: only the interval is re-centred).
Vectorised: x and n may be arrays of the same shape (or one of them a scalar).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cartscope.stats._scipy_stats import stats as sps
from cartscope.stats._validation import check_level

ProportionMethod = Literal[
    "wilson", "wilson-cc", "wilson-modified", "clopper-pearson", "agresti-coull", "jeffreys", "wald"
]
METHODS: tuple[str, ...] = (
    "wilson",
    "wilson-cc",
    "wilson-modified",
    "clopper-pearson",
    "agresti-coull",
    "jeffreys",
    "wald",
)


@dataclass(frozen=True, eq=False)
class ProportionCI:
    """Estimate x/n with its confidence interval; array fields share the broadcast shape of x, n.

    A scalar input gives 0-dimensional arrays; ``float(ci.lower)`` reads them.
    """

    x: NDArray[np.int64]
    n: NDArray[np.int64]
    estimate: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    method: str
    level: float

    def to_frame(self) -> pd.DataFrame:
        """One row per proportion: x, n, estimate, lower, upper, method, level."""
        return pd.DataFrame(
            {
                "x": np.ravel(self.x),
                "n": np.ravel(self.n),
                "estimate": np.ravel(self.estimate),
                "lower": np.ravel(self.lower),
                "upper": np.ravel(self.upper),
                "method": self.method,
                "level": self.level,
            }
        )


def _as_counts(values: ArrayLike, name: str) -> NDArray[np.int64]:
    arr = np.asarray(values)
    if arr.dtype == np.bool_ or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty count (integer), got {values!r}")
    try:
        as_float = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer count, got {values!r}") from None
    if not np.isfinite(as_float).all() or (as_float != np.round(as_float)).any():
        raise ValueError(f"{name} must be a whole number, got {values!r}")
    return as_float.astype(np.int64)


def _wilson(
    x: NDArray[np.float64], n: NDArray[np.float64], z: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    p = x / n
    z2 = z * z
    centre = (x + z2 / 2.0) / (n + z2)
    half = z * np.sqrt(n) / (n + z2) * np.sqrt(p * (1.0 - p) + z2 / (4.0 * n))
    # At x = 0 (x = n) the limit is exactly 0 (1); rounding would otherwise leave ~1e-18.
    lower = np.where(x == 0, 0.0, np.maximum(centre - half, 0.0))
    upper = np.where(x == n, 1.0, np.minimum(centre + half, 1.0))
    return lower, upper


def _wilson_cc(
    x: NDArray[np.float64], n: NDArray[np.float64], z: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """R ``prop.test(x, n)``'s continuity-corrected score interval (null p = 1/2)."""
    p = x / n
    yates = np.minimum(0.5, np.abs(x - n * 0.5))
    z22n = z * z / (2.0 * n)
    with np.errstate(invalid="ignore"):
        pc = p + yates / n
        up = (pc + z22n + z * np.sqrt(pc * (1.0 - pc) / n + z22n / (2.0 * n))) / (1.0 + 2.0 * z22n)
        upper = np.where(pc >= 1.0, 1.0, up)
        pc = p - yates / n
        lo = (pc + z22n - z * np.sqrt(pc * (1.0 - pc) / n + z22n / (2.0 * n))) / (1.0 + 2.0 * z22n)
        lower = np.where(pc <= 0.0, 0.0, lo)
    return np.maximum(lower, 0.0), np.minimum(upper, 1.0)


def proportion_ci(
    x: ArrayLike,
    n: ArrayLike,
    method: ProportionMethod | str = "wilson",
    level: float = 0.95,
) -> ProportionCI:
    """Confidence interval for the proportion x/n (see the module docstring for each method).

    Raises ``ValueError`` for n < 1, x outside [0, n], non-integer counts, an unknown method
    or a level outside (0, 1).
    """
    level = check_level(level)
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    xi = _as_counts(x, "x")
    ni = _as_counts(n, "n")
    try:
        xi, ni = np.broadcast_arrays(xi, ni)
    except ValueError:
        raise ValueError(f"x and n must have the same shape, got {xi.shape} and {ni.shape}") from None
    if (ni < 1).any():
        raise ValueError(f"n must be >= 1, got {ni[ni < 1].ravel()[0]}")
    if ((xi < 0) | (xi > ni)).any():
        bad = (xi < 0) | (xi > ni)
        raise ValueError(
            f"x must be between 0 and n, got x={xi[bad].ravel()[0]}, n={ni[bad].ravel()[0]}"
        )
    xf = xi.astype(np.float64)
    nf = ni.astype(np.float64)
    alpha = 1.0 - level
    z = float(sps.norm.ppf(1.0 - alpha / 2.0))
    p = xf / nf

    if method == "wilson":
        lower, upper = _wilson(xf, nf, z)
    elif method == "wilson-cc":
        lower, upper = _wilson_cc(xf, nf, z)
    elif method == "wilson-modified":
        lower, upper = _wilson(xf, nf, z)
        small = nf <= 50
        mid = (nf >= 51) & (nf <= 100)
        low_edge = (small & ((xi == 1) | (xi == 2))) | (mid & (xi >= 1) & (xi <= 3))
        k = ni - xi
        high_edge = (small & ((k == 1) | (k == 2))) | (mid & (k >= 1) & (k <= 3))
        # qchisq(alpha, 0) is undefined; the masks never select x = 0 (or n - x = 0). The
        # quantiles are evaluated at the edge counts only (a panel has thousands of counts).
        lower = np.array(lower, dtype=np.float64, ndmin=1)
        upper = np.array(upper, dtype=np.float64, ndmin=1)
        low_edge, high_edge = np.atleast_1d(low_edge), np.atleast_1d(high_edge)
        xe, ne = np.atleast_1d(xf), np.atleast_1d(nf)
        lower[low_edge] = 0.5 * sps.chi2.ppf(alpha, 2.0 * xe[low_edge]) / ne[low_edge]
        upper[high_edge] = 1.0 - 0.5 * sps.chi2.ppf(alpha, 2.0 * (ne[high_edge] - xe[high_edge])) / ne[high_edge]
        lower, upper = lower.reshape(np.shape(xf)), upper.reshape(np.shape(xf))
    elif method == "clopper-pearson":
        lower = np.where(xi == 0, 0.0, sps.beta.ppf(alpha / 2.0, np.maximum(xf, 1.0), nf - xf + 1.0))
        upper = np.where(
            xi == ni, 1.0, sps.beta.ppf(1.0 - alpha / 2.0, xf + 1.0, np.maximum(nf - xf, 1.0))
        )
    elif method == "agresti-coull":
        n_t = nf + z * z
        p_t = (xf + z * z / 2.0) / n_t
        half = z * np.sqrt(p_t * (1.0 - p_t) / n_t)
        lower, upper = np.maximum(p_t - half, 0.0), np.minimum(p_t + half, 1.0)
    elif method == "jeffreys":
        lower = np.where(xi == 0, 0.0, sps.beta.ppf(alpha / 2.0, xf + 0.5, nf - xf + 0.5))
        upper = np.where(xi == ni, 1.0, sps.beta.ppf(1.0 - alpha / 2.0, xf + 0.5, nf - xf + 0.5))
    else:  # wald
        half = z * np.sqrt(p * (1.0 - p) / nf)
        lower, upper = np.maximum(p - half, 0.0), np.minimum(p + half, 1.0)

    return ProportionCI(
        x=xi,
        n=ni,
        estimate=p,
        lower=np.asarray(lower, dtype=np.float64),
        upper=np.asarray(upper, dtype=np.float64),
        method=str(method),
        level=level,
    )
