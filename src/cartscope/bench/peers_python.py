"""Python peers: what an analyst writes with scipy, scikit-learn and lifelines.

The screen peer is a per-marker loop (scipy ``mannwhitneyu``, scikit-learn ``roc_auc_score`` and
``roc_curve`` with the Youden optimum read off the curve, lifelines ``logrank_test`` at that
cut-off). Neither scipy nor scikit-learn offers a DeLong interval, so this peer computes no AUC
interval: its time is, if anything, an underestimate of the same work. A missing package is
not an error: :func:`missing_packages` lets the caller skip the peer with a note.
"""

from __future__ import annotations

import importlib.util
import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

PYTHON_INSTALL_HINT = (
    "run `make bench`, or pip install scikit-learn autograd autograd-gamma formulaic and then "
    "pip install --no-deps lifelines (lifelines pins pandas<3; it runs on pandas 3)"
)

_IMPORT_NAMES = {"lifelines": "lifelines", "scikit-learn": "sklearn", "scipy": "scipy"}


def missing_packages(*names: str) -> list[str]:
    """Which of the named peer packages (distribution names) cannot be imported."""
    return [name for name in names if importlib.util.find_spec(_IMPORT_NAMES.get(name, name)) is None]


def package_versions() -> dict[str, str]:
    """Installed versions of the Python peer packages (absent ones are left out)."""
    from importlib import metadata

    out: dict[str, str] = {}
    for name in ("scipy", "scikit-learn", "lifelines"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def preload(*names: str) -> None:
    """Import the peer modules up front so that no timed run pays for the first import."""
    modules = {
        "scipy": ("scipy.stats",),
        "scikit-learn": ("sklearn.metrics",),
        "lifelines": ("lifelines", "lifelines.statistics"),
    }
    for name in names:
        for module in modules.get(name, ()):
            importlib.import_module(module)


def screen_loop(
    x: NDArray[np.float64], label: NDArray[np.bool_], time: NDArray[np.float64], event: NDArray[np.bool_]
) -> dict[str, NDArray[np.float64]]:
    """Per-marker Mann-Whitney p, AUC, Youden cut-off with sensitivity/specificity, log-rank p."""
    from lifelines.statistics import logrank_test
    from scipy.stats import mannwhitneyu
    from sklearn.metrics import roc_auc_score, roc_curve

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _screen_loop(x, label, time, event, logrank_test, mannwhitneyu, roc_auc_score, roc_curve)


def _screen_loop(
    x: NDArray[np.float64],
    label: NDArray[np.bool_],
    time: NDArray[np.float64],
    event: NDArray[np.bool_],
    logrank_test: Any,
    mannwhitneyu: Any,
    roc_auc_score: Any,
    roc_curve: Any,
) -> dict[str, NDArray[np.float64]]:
    k = x.shape[1]
    out = {
        key: np.full(k, np.nan)
        for key in ("mw_p", "auc", "threshold", "sensitivity", "specificity", "logrank_p")
    }
    y = label.astype(int)
    for j in range(k):
        v = x[:, j]
        out["mw_p"][j] = mannwhitneyu(v[label], v[~label], alternative="two-sided").pvalue
        out["auc"][j] = roc_auc_score(y, v)
        fpr, tpr, thr = roc_curve(y, v)
        best = int(np.argmax(tpr - fpr))
        out["threshold"][j] = thr[best]
        out["sensitivity"][j] = tpr[best]
        out["specificity"][j] = 1.0 - fpr[best]
        high = v >= thr[best]
        if high.any() and not high.all():
            out["logrank_p"][j] = logrank_test(time[high], time[~high], event[high], event[~high]).p_value
    return out


def km_lifelines(time: NDArray[np.float64], event: NDArray[np.bool_]) -> Any:
    """lifelines ``KaplanMeierFitter`` (exponential Greenwood, i.e. log-log, limits)."""
    from lifelines import KaplanMeierFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return KaplanMeierFitter().fit(time, event)


def logrank_lifelines(time: NDArray[np.float64], event: NDArray[np.bool_], group: NDArray[np.int64]) -> Any:
    """lifelines ``multivariate_logrank_test`` over all groups."""
    from lifelines.statistics import multivariate_logrank_test

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return multivariate_logrank_test(time, group, event)


def cox_frame(time: NDArray[np.float64], event: NDArray[np.bool_], x: NDArray[np.float64]) -> Any:
    """The DataFrame lifelines expects (built outside the timed fit, as R's data are)."""
    import pandas as pd

    frame = pd.DataFrame(x, columns=[f"x{j + 1}" for j in range(x.shape[1])])
    frame["time"] = time
    frame["event"] = event.astype(np.int64)
    return frame


def cox_lifelines(frame: Any) -> NDArray[np.float64]:
    """lifelines ``CoxPHFitter`` (Efron ties); the coefficients in column order."""
    from lifelines import CoxPHFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = CoxPHFitter().fit(frame, duration_col="time", event_col="event")
    names = [c for c in frame.columns if c not in ("time", "event")]
    return np.asarray(fit.params_[names], dtype=np.float64)
