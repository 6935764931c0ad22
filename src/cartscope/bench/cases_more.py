"""More benchmark cases, each timing what a user runs beside its R peer in the same run:

* ``screen_large``: the public screen at 5,000 markers x 3,000 patients in a fresh process
  (time and peak resident memory), the R loop extrapolated from a few markers;
* ``fisher``: ``fisher_exact`` on Table 1 shapes against R ``fisher.test``;
* ``resampling``: optimism-corrected AUC, the Youden cut-off bootstrap and panel permutation
  p-values against R loops doing the same;
* ``delong``: the paired DeLong test against pROC ``roc.test``;
* ``study``: ``cartscope analyze`` and ``analyze --report`` end to end (separate processes, as
  a user runs them) on jin2023 and on a ten-fold jin2023 cohort.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cartscope.bench.data import screen_data
from cartscope.bench.explanations import explain
from cartscope.bench.peers_r import run_r
from cartscope.bench.results import Agreement, CaseResult, Measurement, Target, max_difference
from cartscope.bench.timing import time_call

Progress = Callable[[str], None]


def _measure(tool: str, role: str, runs: Any, timed: int, total: int, note: str = "") -> Measurement:
    runs = tuple(float(r) for r in np.atleast_1d(runs))
    median = float(np.median(runs)) * total / timed if runs else None
    if timed < total and not note:
        note = f"timed on {timed} of {total}, extrapolated linearly"
    return Measurement(tool, role, median, runs, timed, total, note)


def _skipped(tool: str, note: str, total: int = 1) -> Measurement:
    return Measurement(tool, "peer", None, (), 0, total, note)


def _over(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b <= 0:
        return None
    return a / b


def _seconds(ms: list[Measurement], tool: str) -> float | None:
    return next((m.seconds for m in ms if m.tool == tool), None)


# --------------------------------------------------------------------------------------------
# screen at 5,000 x 3,000
# --------------------------------------------------------------------------------------------

_LARGE_SCRIPT = """
import gc, json, resource, sys, time
import numpy as np
from cartscope.bench.data import screen_data
from cartscope.analysis.biomarkers import screen

def status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return None

n, m, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
d = screen_data(n, m, seed)
# the compiled kernels loaded first (numba and its cache), as R's packages are before its loop
screen(d.x[:, :4], d.label, time=d.time, event=d.event)
gc.collect()
try:  # reset the peak-RSS mark (Linux), so the peak below is the screen's alone
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    before = status("VmRSS")
except OSError:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
t = time.perf_counter()
screen(d.x, d.label, time=d.time, event=d.event)
secs = time.perf_counter() - t
peak = status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": secs, "rss_before": before, "rss_peak": peak, "input": int(d.x.nbytes)}))
"""


def screen_large_case(sizes: Any, repeats: int, seed: int, progress: Progress) -> CaseResult:
    """screen() with its defaults on 5,000 markers x 3,000 patients, in a fresh process."""
    n, m = sizes.large_patients, sizes.large_markers
    k = min(sizes.large_peer_markers, m)
    progress(f"screen_large: cartscope on {m} markers x {n} patients (fresh process)")
    runs = []
    out: dict[str, Any] = {}
    for _ in range(max(1, min(repeats, 2))):
        proc = subprocess.run([sys.executable, "-c", _LARGE_SCRIPT, str(n), str(m), str(seed)],
                              capture_output=True, text=True, check=True)
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        runs.append(out["seconds"])
    extra = out["rss_peak"] - out["rss_before"]
    ms = [_measure("cartscope screen() (defaults)", "cartscope", runs, m, m,
                   f"peak RSS {out['rss_peak'] / 2**20:,.0f} MiB during the call, {extra / 2**20:,.0f} MiB "
                   f"above the resident size with the data made ({out['input'] / 2**20:,.0f} MiB input; "
                   "peak mark reset before the call)")]
    notes: list[str] = []
    d = screen_data(n, k, seed)
    progress(f"screen_large: R loop with coxph on {k} markers")
    r = run_r("screen", {"x": d.x, "label": d.label, "time": d.time, "event": d.event},
              {"n_patients": n, "n_markers": k, "repeats": 1})
    from cartscope.bench.cases import R_SCREEN_COX

    if r.ok:
        ms.append(_measure(R_SCREEN_COX, "peer", r.output["seconds_cox"], k, m))
    else:
        ms.append(_skipped(R_SCREEN_COX, r.note, m))
        notes.append(r.note)
    targets = [
        Target("screen_large_vs_r", "R loop with coxph / screen() >= 100x", _over(_seconds(ms, R_SCREEN_COX), ms[0].seconds),
               100.0, True),
        Target("screen_large_rss", "peak RSS above the data / input matrix <= 1.5x", extra / out["input"], 1.5, False),
    ]
    return CaseResult(
        name="screen_large",
        title="screen() with its defaults at 5,000 markers x 3,000 patients, peak resident memory",
        available=True,
        sizes=(("patients", n), ("markers", m), ("peer markers", k)),
        measurements=tuple(ms),
        targets=tuple(targets),
        notes=tuple(notes) + ("cartscope ran in a fresh process (ru_maxrss), its compiled kernels loaded by a "
                              "screen of 4 markers before the peak mark and the timed call, as R's packages are "
                              "loaded before its loop (the kernels' one-time load is in the screen case's notes); "
                              f"the R loop on the first {k} markers, extrapolated linearly",),
    )


# --------------------------------------------------------------------------------------------
# Fisher
# --------------------------------------------------------------------------------------------

TABLE_ONE_SHAPES: dict[str, list[list[int]]] = {
    "8x2 (disease subtype by response)": [[12, 9], [15, 11], [8, 10], [20, 6], [5, 9], [7, 3], [4, 8], [2, 2]],
    "4x2 (ECOG by response)": [[30, 22], [25, 18], [9, 8], [3, 4]],
    "5x2 (prior lines)": [[14, 10], [22, 15], [18, 9], [6, 8], [5, 12]],
    "3x3 (product by centre)": [[12, 7, 9], [8, 14, 6], [5, 9, 13]],
    "4x3 (stage by group)": [[20, 15, 10], [12, 18, 9], [7, 11, 17], [5, 9, 6]],
    "3x5 (grade by group)": [[8, 5, 3, 1, 0], [4, 6, 5, 3, 2], [1, 2, 4, 6, 7]],
}


def fisher_case(sizes: Any, repeats: int, seed: int, progress: Progress) -> CaseResult:
    """fisher_exact on Table 1 shapes vs R fisher.test (per table, R times a loop of calls)."""
    from cartscope.stats.contingency import fisher_exact

    del seed
    names = sorted(TABLE_ONE_SHAPES, key=lambda k: np.array(TABLE_ONE_SHAPES[k]).size)[: sizes.fisher_tables]
    names = [k for k in TABLE_ONE_SHAPES if k in names]
    ms: list[Measurement] = []
    ours_p = []
    for name in names:
        progress(f"fisher: cartscope {name}")
        tab = np.array(TABLE_ONE_SHAPES[name], dtype=float)
        timing, res = time_call(lambda tab=tab: fisher_exact(tab), repeats)
        ours_p.append(res.p_value)
        ms.append(_measure(f"cartscope fisher_exact {name}", "cartscope" if not ms else "cartscope-variant",
                           timing.seconds, 1, 1))
    progress("fisher: R fisher.test")
    flat = np.concatenate([np.array(TABLE_ONE_SHAPES[n], dtype=float).T.ravel() for n in names])
    shapes = [list(np.array(TABLE_ONE_SHAPES[n]).shape) for n in names]
    r = run_r("fisher", {"cells": flat}, {"shapes": shapes, "repeats": repeats})
    agreements: list[Agreement] = []
    targets: list[Target] = []
    notes: list[str] = []
    if r.ok:
        r_secs = np.atleast_1d(r.output["seconds"])
        for i, name in enumerate(names):
            ms.append(_measure(f"R fisher.test {name}", "peer", [r_secs[i]], 1, 1))
            ratio = _over(ms[i].seconds, float(r_secs[i]))
            targets.append(Target(f"fisher_{i}", f"cartscope / R <= 10x, {name}", ratio, 10.0, False))
        diff, cnt = max_difference(np.array(ours_p), np.atleast_1d(r.output["p"]), "relative")
        agreements.append(Agreement("p-value", "R", cnt, diff, "relative", 1e-10))
    else:
        notes.append(r.note)
    return CaseResult(
        name="fisher",
        title="Fisher's exact test on Table 1 shapes (network algorithm) vs R fisher.test (FEXACT)",
        available=True,
        sizes=(("tables", len(names)),),
        measurements=tuple(ms),
        targets=tuple(targets),
        agreements=tuple(agreements),
        notes=tuple(notes) + ("each R time is the median of a loop of fisher.test calls on that table",),
    )


# --------------------------------------------------------------------------------------------
# resampling
# --------------------------------------------------------------------------------------------


def resampling_case(sizes: Any, repeats: int, seed: int, progress: Progress) -> CaseResult:
    """Optimism-corrected AUC, Youden cut-off bootstrap and panel permutation p-values."""
    from cartscope.analysis.biomarkers import optimism_corrected_auc
    from cartscope.analysis.biomarkers.resampling import permutation_test, youden_bootstrap

    rng = np.random.default_rng(seed)
    n = sizes.resample_patients
    y = (rng.random(n) < 0.4).astype(float)
    x1 = np.round(np.exp(rng.normal(size=n) + 0.8 * y), 2)
    panel = np.round(np.exp(rng.normal(size=(n, sizes.perm_markers)) + 0.5 * y[:, None] * (np.arange(sizes.perm_markers) % 5 == 0)), 2)
    b_opt, b_youden, b_perm = sizes.optimism_boot, sizes.youden_boot, sizes.perm_n
    progress(f"resampling: cartscope on {n} patients")
    t_opt, opt = time_call(lambda: optimism_corrected_auc(x1, y, n_boot=b_opt, seed=seed), repeats)
    t_you, you = time_call(lambda: youden_bootstrap(x1, y, n_boot=b_youden, seed=seed), repeats)
    t_perm, perm = time_call(lambda: permutation_test(panel, y, n_perm=b_perm, seed=seed), repeats)
    ms = [
        _measure(f"cartscope optimism_corrected_auc ({b_opt} bootstraps)", "cartscope", t_opt.seconds, 1, 1),
        _measure(f"cartscope youden_bootstrap ({b_youden} resamples)", "cartscope-variant", t_you.seconds, 1, 1),
        _measure(f"cartscope permutation_test ({b_perm} permutations x {panel.shape[1]} markers)",
                 "cartscope-variant", t_perm.seconds, 1, 1),
    ]
    k_perm = min(b_perm, sizes.perm_peer_n)
    progress("resampling: R loops")
    r = run_r("resampling", {"x1": x1, "y": y, "panel": panel},
              {"n": n, "m": panel.shape[1], "b_opt": b_opt, "b_youden": b_youden, "b_perm": k_perm,
               "repeats": 1})
    notes: list[str] = []
    agreements: list[Agreement] = []
    targets: list[Target] = []
    if r.ok:
        r_opt = _measure("R loop: pROC roc on each bootstrap resample and on the original data", "peer",
                         r.output["seconds_opt"], 1, 1)
        r_you = _measure("R pROC ci.coords(best: threshold, sensitivity, specificity)", "peer",
                         r.output["seconds_youden"], 1, 1)
        r_perm = _measure("R loop: wilcox.test per permutation and marker", "peer", r.output["seconds_perm"],
                          k_perm, b_perm)
        ms += [r_opt, r_you, r_perm]
        targets = [
            Target("optimism_vs_r", "R loop / optimism_corrected_auc >= 20x", _over(r_opt.seconds, ms[0].seconds), 20.0, True),
            Target("youden_boot_vs_r", "R ci.coords / youden_bootstrap >= 20x", _over(r_you.seconds, ms[1].seconds), 20.0, True),
            Target("perm_vs_r", "R loop / permutation_test >= 20x", _over(r_perm.seconds, ms[2].seconds), 20.0, True),
        ]
        diff, cnt = max_difference(np.array([opt.apparent_auc]), np.atleast_1d(r.output["apparent_auc"]), "relative")
        agreements.append(Agreement("apparent AUC", "R", cnt, diff, "relative", 1e-8))
        diff, cnt = max_difference(you.table["threshold"].to_numpy(), np.atleast_1d(r.output["youden_threshold"]),
                                   "relative")
        agreements.append(Agreement("Youden cut-off (original data)", "R", cnt, diff, "relative", 1e-8))
        diff, cnt = max_difference(perm.table["mw_statistic"].to_numpy(), np.atleast_1d(r.output["w"]), "relative")
        agreements.append(Agreement("observed W per marker", "R", cnt, diff, "relative", 1e-8))
        notes.append("the resamples are numpy's, not R's: the replicate statistics are compared with loops "
                     "over the same resamples in the test suite, not here")
    else:
        notes.append(r.note)
    return CaseResult(
        name="resampling",
        title="Resampling as vectorised passes: optimism, Youden cut-off bootstrap, permutation p-values",
        available=True,
        sizes=(("patients", n), ("panel markers", panel.shape[1])),
        measurements=tuple(ms),
        targets=tuple(targets),
        agreements=tuple(agreements),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------
# DeLong
# --------------------------------------------------------------------------------------------


def delong_case(sizes: Any, repeats: int, seed: int, progress: Progress) -> CaseResult:
    """Paired DeLong test of two markers on the same patients vs pROC roc + roc.test."""
    from cartscope.stats.roc import delong_test

    n = sizes.delong_patients
    rng = np.random.default_rng(seed)
    label = rng.random(n) < 0.4
    a = np.round(rng.normal(size=n) + 0.8 * label, 3)
    b = np.round(0.6 * a + rng.normal(size=n) + 0.3 * label, 3)
    progress(f"delong: cartscope on {n:,} patients")
    timing, res = time_call(lambda: delong_test(a, b, label), repeats)
    ms = [_measure("cartscope delong_test", "cartscope", timing.seconds, 1, 1)]
    r = run_r("delong", {"a": a, "b": b, "label": label.astype(float)}, {"n": n, "repeats": repeats})
    agreements: list[Agreement] = []
    targets: list[Target] = []
    notes: list[str] = []
    if r.ok:
        ms.append(_measure("R pROC roc x 2 + roc.test(paired, delong)", "peer", r.output["seconds"], 1, 1))
        targets.append(Target("delong_vs_r", "R / cartscope >= 1x (no slower than pROC)", _over(ms[1].seconds, ms[0].seconds),
                              1.0, True))
        for q, ours, theirs in (("Z", res.statistic, r.output["z"]), ("p", res.p_value, r.output["p"]),
                                ("AUC a", res.auc_a, r.output["auc_a"]), ("AUC b", res.auc_b, r.output["auc_b"])):
            diff, cnt = max_difference(np.array([ours]), np.atleast_1d(theirs), "relative")
            agreements.append(Agreement(q, "R", cnt, diff, "relative", 1e-8))
    else:
        notes.append(r.note)
    return CaseResult(name="delong", title="Paired DeLong test of two AUCs", available=True,
                      sizes=(("patients", n),), measurements=tuple(ms), targets=tuple(targets),
                      agreements=tuple(agreements), notes=tuple(notes))


# --------------------------------------------------------------------------------------------
# study end to end
# --------------------------------------------------------------------------------------------


def tenfold_cohort(preset: str, seed: int, times: int = 10) -> Any:
    """``times`` synthetic cohorts of ``preset`` (seeds seed..seed+times-1) as one cohort, the
    patient identifiers prefixed by the copy (a cohort ``times`` as large, same design)."""
    from cartscope.analysis.presets import synthesize

    parts = [synthesize(preset, seed=seed + i) for i in range(times)]
    tables = {}
    for name, first in parts[0].tables().items():
        frames = []
        for i, c in enumerate(parts):
            t = c.tables()[name].copy()
            if "patient_id" in t.columns and len(t):
                t["patient_id"] = f"C{i}-" + t["patient_id"].astype(str)
            frames.append(t)
        tables[name] = pd.concat(frames, ignore_index=True) if frames else first
    return dataclasses.replace(parts[0], **tables)


def _user_env() -> dict[str, str]:
    """The environment of a user's shell: compiled bytecode is used and written, as for an
    installed package (``PYTHONDONTWRITEBYTECODE``, set on some build machines, would make every
    run recompile cartscope's modules: about 1.3 s of start-up no user pays)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "COLUMNS": "200"}


_KERNEL_SCRIPT = """
import sys, time
import numpy as np
from cartscope.bench.data import screen_data, survival_data
from cartscope.analysis.biomarkers import screen
from cartscope.stats.cox import cox
d = screen_data(60, 4, 1)
s = survival_data(60, 2, 1, 1)
t = time.perf_counter()
screen(d.x, d.label, time=d.time, event=d.event)
cox(s.time, s.event, s.x)
print(time.perf_counter() - t)
"""


def kernel_first_use() -> tuple[float, float]:
    """Seconds of the first screen and Cox fit in a fresh process: with an empty kernel cache
    (what the first run after installing pays: numba compiles the kernels and caches them on
    disk), and with the cache filled (every later run: numba's import and the cache load).
    The empty cache is a temporary ``NUMBA_CACHE_DIR``; the run with the real cache fills it
    for the timed runs that follow."""
    def child(extra: dict[str, str]) -> float:
        proc = subprocess.run([sys.executable, "-c", _KERNEL_SCRIPT], capture_output=True, text=True,
                              env={**_user_env(), **extra}, check=True)
        return float(proc.stdout.strip().splitlines()[-1])

    with tempfile.TemporaryDirectory(prefix="cartscope-bench-numba-") as cache:
        cold = child({"NUMBA_CACHE_DIR": cache})
    child({})  # fills the real cache
    return cold, child({})


def _compile_package() -> None:
    """Byte-compile cartscope once before the timed runs (what ``pip install`` does)."""
    import cartscope

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(cartscope.__file__).parent)],
                   capture_output=True, env=_user_env(), check=False)


def _cli(args: list[str]) -> float:
    exe = Path(sys.executable).with_name("cartscope")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "cartscope.cli"]
    start = time.perf_counter()
    proc = subprocess.run(cmd + args, capture_output=True, text=True, env=_user_env())
    secs = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"cartscope {' '.join(args)} failed: {proc.stderr[-2000:]}")
    return secs


def study_e2e_case(sizes: Any, repeats: int, seed: int, progress: Progress) -> CaseResult:
    """``cartscope analyze`` and ``analyze --report`` of jin2023 and of a ten-fold cohort."""
    from cartscope.analysis.presets import synthesize
    from cartscope.cohort.write import write_cohort

    ms: list[Measurement] = []
    runs = max(1, min(repeats, sizes.study_repeats))
    times: dict[str, float] = {}
    _compile_package()
    with tempfile.TemporaryDirectory(prefix="cartscope-bench-e2e-") as tmp:
        folder = Path(tmp)
        cohorts = {"jin2023": synthesize("jin2023", seed=seed)}
        if sizes.study_tenfold:
            cohorts["jin2023 x10"] = tenfold_cohort("jin2023", seed)
        for label, cohort in cohorts.items():
            cdir = folder / label.replace(" ", "_")
            write_cohort(cohort, cdir, fmt="csv")
            n_pat = len(cohort.patients)
            variants = (False, True) if sizes.study_report else (False,)
            whats = {r: f"analyze{' --report' if r else ''}, {label} ({n_pat:,} patients)" for r in variants}
            secs: dict[bool, list[float]] = {r: [] for r in variants}
            for i in range(runs):  # interleaved, so that a change of machine load hits both alike
                for report in variants:
                    progress(f"study: cartscope {whats[report]} ({i + 1}/{runs})")
                    out = folder / f"out-{label.replace(' ', '_')}-{int(report)}-{i}"
                    args = ["analyze", str(cdir), "--protocol", "jin2023", "--out", str(out)]
                    secs[report].append(_cli(args + (["--report"] if report else [])))
            for report in variants:
                times[whats[report]] = float(np.median(secs[report]))
                ms.append(_measure(f"cartscope {whats[report]}", "cartscope" if not ms else "cartscope-variant",
                                   secs[report], 1, 1,
                                   "CLI in a fresh process, end to end (start-up with compiled bytecode, load, validate, analyse, write)"))
    keys = list(times)
    targets = []
    if len(keys) >= 2 and sizes.study_report:
        ratio = _over(times[keys[1]], times[keys[0]])
        targets.append(Target("report_vs_analyze", "analyze --report / analyze, jin2023 <= 2x", ratio, 2.0, False,
                              explain("report_vs_analyze", None) if ratio is not None and ratio > 2.0 else ""))
    if len(keys) >= 4 and sizes.study_report:
        targets.append(Target("tenfold_report", "analyze --report, 10x cohort / jin2023 <= 3x",
                              _over(times[keys[3]], times[keys[1]]), 3.0, False))
        targets.append(Target("tenfold_analyze", "analyze, 10x cohort / jin2023 <= 3x",
                              _over(times[keys[2]], times[keys[0]]), 3.0, False))
    return CaseResult(
        name="study",
        title="cartscope analyze and analyze --report end to end (CLI), jin2023 and a ten-fold cohort",
        available=True,
        sizes=(("jin2023 patients", 119),) + ((("ten-fold patients", 1190),) if sizes.study_tenfold else ()),
        measurements=tuple(ms),
        targets=tuple(targets),
        notes=("no peer: the same study in R is a set of scripts, not one call; the report's "
               "rendering is the report layer's (each figure drawn once, in parallel, saved as SVG and "
               "PDF, the defaults; analyze and analyze --report runs interleaved)",),
    )
