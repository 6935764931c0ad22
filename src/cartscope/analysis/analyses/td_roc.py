"""Time-dependent ROC of markers for a time-to-event endpoint (kind ``td_roc``).

For each continuous marker in ``variables`` and each horizon in ``times`` (days): the
cumulative/dynamic AUC(t) with Kaplan-Meier IPCW and its influence-function 95% CI
(:func:`cartscope.stats.td_roc.td_auc`, as riskRegression ``Score``). ``direction``:
``higher`` when higher values mean earlier events, ``lower`` otherwise.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext
from cartscope.stats.td_roc import td_auc


class TdRocOptions(Options):
    endpoint: str = "os"
    times: tuple[float, ...] = (182.625, 365.25)
    direction: Literal["higher", "lower"] = "higher"


def needs(rc: RunContext) -> str:
    e = rc.options.endpoint
    return "" if f"{e}_time" in rc.endpoints else f"endpoint {e!r} is not defined under endpoints.endpoints"


def run(rc: RunContext) -> None:
    o: TdRocOptions = rc.options
    if not rc.spec.variables:
        rc.skip("no markers: list them under variables")
    ep = rc.endpoints
    time = ep[f"{o.endpoint}_time"].to_numpy(float)
    event = ep[f"{o.endpoint}_event"].to_numpy(float)
    ok = np.isfinite(time) & np.isfinite(event)
    rc.exclude(rc.ids(~ok), f"not in {o.endpoint}")
    method = "time-dependent AUC, cumulative cases / dynamic controls, KM IPCW (Uno/Blanche)"
    frames = []
    for name in rc.spec.variables:
        x = pd.to_numeric(rc.variable(name), errors="coerce").to_numpy(float)
        m = ok & np.isfinite(x)
        rc.exclude(rc.ids(ok & ~np.isfinite(x)), f"{name} missing", part=name)
        for g in rc.groups():
            mm = m & g.mask
            if mm.sum() < 2:
                continue
            fit = td_auc(time[mm], event[mm].astype(int), x[mm], o.times, direction=o.direction)
            f = fit.to_frame()
            f.insert(0, "marker", name)
            f.insert(1, "group", g.label)
            f.insert(2, "endpoint", o.endpoint)
            frames.append(f)
            for t, a, lo, hi in zip(fit.times, fit.auc, fit.lower, fit.upper):
                rc.stats({"auc": a, "lower": lo, "upper": hi}, group=g, variable=name,
                         variable_level=f"day {t:g}", method=method)
    if frames:
        rc.add_table("td_roc", pd.concat(frames, ignore_index=True))


def describe(spec: AnalysisSpec, o: TdRocOptions) -> str:
    return (f"Time-dependent AUC of {', '.join(spec.variables)} for {o.endpoint} at days "
            f"{', '.join(f'{t:g}' for t in o.times)} (IPCW, 95% CI).")


KINDS = (Kind("td_roc", TdRocOptions, run, describe, needs, names={"endpoint": "endpoint"},
              variables="continuous", section="td_roc",
              summary="time-dependent ROC / AUC(t) of markers for an endpoint"),)
