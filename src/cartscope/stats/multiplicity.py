"""Multiple-testing adjustment of p-values, as R ``p.adjust``."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

AdjustMethod = Literal["bh", "by", "holm", "bonferroni", "hochberg", "hommel"]
_ALIASES = {"fdr": "bh", "BH": "bh", "BY": "by"}
_METHODS = ("bh", "by", "holm", "bonferroni", "hochberg", "hommel")


def adjust_pvalues(p: ArrayLike, method: AdjustMethod | str = "bh", n: int | None = None) -> NDArray[np.float64]:
    """Adjusted p-values (any shape), as R ``p.adjust(p, method, n)``.

    Missing values (NaN) are passed through and not counted: with m non-missing p-values and
    p_(1) <= ... <= p_(m) (``n`` defaults to m),

    * bonferroni: min(1, n p_i)
    * holm: min(1, cummax_{k <= i} (n - k + 1) p_(k))
    * hochberg: min(1, cummin_{k >= i} (n - k + 1) p_(k))
    * bh (Benjamini-Hochberg, "fdr"): min(1, cummin_{k >= i} n / k p_(k))
    * by (Benjamini-Yekutieli): as bh multiplied by sum_{j=1..n} 1/j.
    * hommel (Hommel 1988, R's algorithm of Wright 1992): starting from
      min_i n p_(i) / i, for m = n-1 .. 2 the values q_i = min(m p_(i), c_m) for
      i <= n - m + 1 (c_m = min_{k=2..m} m p_(n-m+k) / k) and q_(n-m+1) beyond, taking the
      running maximum over m, finally at least p itself. With n = 2 it is hochberg (as R).

    ``n`` larger than m treats the missing tests as having p = 1 (Bonferroni, Holm, BH, BY,
    Hommel), as R documents.
    """
    method = _ALIASES.get(method, method)
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}")
    try:
        arr = np.asarray(p, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("p must be numeric") from exc
    flat = arr.ravel()
    ok = ~np.isnan(flat)
    if ((flat[ok] < 0) | (flat[ok] > 1)).any():
        raise ValueError("p-values must lie in [0, 1]")
    pv = flat[ok]
    m = pv.size
    nn = m if n is None else int(n)
    if nn < m:
        raise ValueError(f"n ({nn}) must be at least the number of non-missing p-values ({m})")
    out = np.full(flat.shape, np.nan)
    if m == 0:
        return out.reshape(arr.shape)
    if nn <= 1:
        out[ok] = pv
        return out.reshape(arr.shape)
    if method == "hommel" and nn == 2:
        method = "hochberg"
    if method == "hommel":
        adj = _hommel(pv, nn)
    elif method == "bonferroni":
        adj = np.minimum(1.0, nn * pv)
    elif method == "holm":
        i = np.arange(1, m + 1, dtype=np.float64)
        o = np.argsort(pv, kind="stable")
        adj = np.empty(m)
        adj[o] = np.minimum(1.0, np.maximum.accumulate((nn - i + 1.0) * pv[o]))
    elif method == "hochberg":
        i = np.arange(m, 0, -1, dtype=np.float64)
        o = np.argsort(-pv, kind="stable")
        adj = np.empty(m)
        adj[o] = np.minimum(1.0, np.minimum.accumulate((nn - i + 1.0) * pv[o]))
    else:
        i = np.arange(m, 0, -1, dtype=np.float64)
        o = np.argsort(-pv, kind="stable")
        q = float(np.sum(1.0 / np.arange(1, nn + 1))) if method == "by" else 1.0
        adj = np.empty(m)
        adj[o] = np.minimum(1.0, np.minimum.accumulate(q * nn / i * pv[o]))
    out[ok] = adj
    return out.reshape(arr.shape)


def _hommel(pv: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """Hommel-adjusted p-values of the m = len(pv) tests among n (R ``p.adjust``'s loop)."""
    m_obs = pv.size
    p = np.concatenate([pv, np.ones(n - m_obs)]) if n > m_obs else pv.copy()
    o = np.argsort(p, kind="stable")
    ps = p[o]
    i = np.arange(1, n + 1, dtype=np.float64)
    q = np.full(n, float(np.min(n * ps / i)))
    pa = q.copy()
    for m in range(n - 1, 1, -1):
        i1 = slice(0, n - m + 1)
        i2 = slice(n - m + 1, n)
        q1 = float(np.min(m * ps[i2] / np.arange(2, m + 1, dtype=np.float64)))
        q[i1] = np.minimum(m * ps[i1], q1)
        q[i2] = q[n - m]
        pa = np.maximum(pa, q)
    out_sorted = np.maximum(pa, ps)
    back = np.empty(n)
    back[o] = out_sorted
    return back[:m_obs]
