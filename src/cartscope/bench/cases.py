"""The benchmark cases: screen, km, cox and study.

Each case makes its seeded data, times cartscope stage by stage, times the peers on the same
data (R through ``Rscript``, Python through scipy / scikit-learn / lifelines), checks that the
numbers agree, and states the performance targets beside the measured ratios.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cartscope.bench import peers_python as py
from cartscope.bench.data import screen_data, survival_data
from cartscope.bench.explanations import explain
from cartscope.bench.peers_r import run_r
from cartscope.bench.results import Agreement, CaseResult, Measurement, Target, max_difference
from cartscope.bench.timing import StagedTiming, StageTiming, peak_memory, time_call, time_stages

Progress = Callable[[str], None]

R_SCREEN = "R loop without coxph (wilcox + pROC DeLong + Youden + survdiff)"
R_SCREEN_COX = "R loop with coxph (wilcox + pROC DeLong + Youden + survdiff + coxph)"
PY_SCREEN = "Python loop (scipy + scikit-learn + lifelines)"
R_KM = "R survival (survfit + survdiff)"
PY_KM = "lifelines (KaplanMeierFitter + multivariate_logrank_test)"
R_COX = "R survival (coxph)"
PY_COX = "lifelines (CoxPHFitter)"


@dataclass(frozen=True)
class Sizes:
    """Problem sizes of a run (the defaults are the full run, :data:`QUICK` the smoke test)."""

    screen_patients: int = 1_000
    screen_markers: int = 2_000
    screen_peer_markers: int = 100
    km_patients: int = 1_000_000
    km_groups: int = 4
    cox_patients: int = 100_000
    cox_covariates: int = 10
    large_patients: int = 3_000
    large_markers: int = 5_000
    large_peer_markers: int = 10
    resample_patients: int = 39
    perm_markers: int = 70
    optimism_boot: int = 200
    youden_boot: int = 2_000
    perm_n: int = 10_000
    perm_peer_n: int = 20
    delong_patients: int = 1_000_000
    study_repeats: int = 3  # interleaved, median: one run of each is too noisy for a ratio
    study_tenfold: bool = True
    study_report: bool = True
    fisher_tables: int = 6
    kernel_first_use: bool = True  # time the compiled kernels' first use in fresh processes


FULL = Sizes()
QUICK = Sizes(
    screen_patients=150,
    screen_markers=40,
    screen_peer_markers=8,
    km_patients=5_000,
    km_groups=4,
    cox_patients=3_000,
    cox_covariates=10,
    large_patients=200,
    large_markers=60,
    large_peer_markers=4,
    resample_patients=39,
    perm_markers=6,
    optimism_boot=40,
    youden_boot=60,
    perm_n=100,
    perm_peer_n=5,
    delong_patients=2_000,
    study_repeats=1,
    study_tenfold=False,
    study_report=False,
    fisher_tables=3,
    kernel_first_use=False,
)
LANDMARKS = (180.0, 365.0, 730.0)


def _measure(
    tool: str, role: str, runs: tuple[float, ...], timed: int, total: int, note: str = ""
) -> Measurement:
    median = float(np.median(runs)) * total / timed if runs else None
    if timed < total and not note:
        note = f"timed on {timed} of {total}, extrapolated linearly"
    return Measurement(tool, role, median, tuple(float(r) for r in runs), timed, total, note)  # type: ignore[arg-type]


def _skipped(tool: str, note: str, total: int) -> Measurement:
    return Measurement(tool, "peer", None, (), 0, total, note)


def _python_peer_available(
    tool: str, packages: tuple[str, ...], total: int, ms: list[Measurement], notes: list[str]
) -> bool:
    """True when the peer's packages import; otherwise record the peer as skipped, with a hint."""
    missing = py.missing_packages(*packages)
    if not missing:
        return True
    note = f"{tool} skipped: {', '.join(missing)} not installed; {py.PYTHON_INSTALL_HINT}"
    ms.append(_skipped(tool, note, total))
    notes.append(note)
    return False


def _peer_seconds(ms: list[Measurement], tool: str) -> float | None:
    return next((m.seconds for m in ms if m.tool == tool), None)


def _over(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b <= 0:
        return None
    return a / b


def _target(
    key: str,
    text: str,
    value: float | None,
    bound: float,
    at_least: bool,
    staged: StagedTiming | None,
    facts: dict[str, float] | None = None,
    said: set[str] | None = None,
) -> Target:
    target = Target(key, text, value, bound, at_least)
    if target.met is False:
        return Target(key, text, value, bound, at_least, explain(key, staged, facts, said))
    return target


# --------------------------------------------------------------------------------------------
# screen
# --------------------------------------------------------------------------------------------


def screen_case(sizes: Sizes, repeats: int, seed: int, progress: Progress) -> CaseResult:
    """The public ``screen`` as a user calls it: defaults (Mann-Whitney, AUC + DeLong CI,
    Youden cut-off, log-rank at it, univariable Cox) and with ``cox_per="none"``."""
    from cartscope.analysis.biomarkers import screen
    from cartscope.analysis.biomarkers._screen_chunk import default_threads

    n, m = sizes.screen_patients, sizes.screen_markers
    threads = default_threads()
    on_threads = f"blocks of markers on {threads} thread{'s' if threads != 1 else ''} (the usable cores)"
    k = min(sizes.screen_peer_markers, m)
    d = screen_data(n, m, seed)
    state: dict[str, Any] = {}

    def default() -> None:
        state["res"] = screen(d.x, d.label, time=d.time, event=d.event)

    def no_cox() -> None:
        state["none"] = screen(d.x, d.label, time=d.time, event=d.event, cox_per="none")

    notes: list[str] = []
    if sizes.kernel_first_use:
        progress("screen: the compiled kernels' first use (empty cache, then filled)")
        cold, warm = cases_more.kernel_first_use()
        notes.append(f"compiled kernels (numba, cached on disk): the first screen and Cox fit after installing "
                     f"take {cold:.1f} s in a fresh process, compiling them once; with the cache filled, "
                     f"{warm:.2f} s (numba's import and the cache load); every timing here is with the cache filled")
    progress(f"screen: cartscope on {m} markers x {n} patients (defaults, then cox_per='none')")
    staged = time_stages([("screen() with its defaults", default)], repeats)
    none_t, _ = time_call(no_cox, repeats)
    peak = peak_memory(default)
    floor, _ = time_call(lambda: np.argsort(d.x, axis=0), repeats)
    ms = [
        _measure("cartscope screen() (defaults)", "cartscope", staged.total.seconds, m, m,
                 f"{on_threads}; peak memory (tracemalloc) measured on a separate run"),
        _measure("cartscope screen(cox_per='none')", "cartscope-variant", none_t.seconds, m, m, on_threads),
        _measure("floor: np.argsort along patients", "floor", floor.seconds, m, m),
    ]
    agreements: list[Agreement] = []
    table = state["res"].table

    progress(f"screen: R loop on {k} markers (without, then with coxph)")
    arrays = {"x": d.x[:, :k], "label": d.label, "time": d.time, "event": d.event}
    r = run_r("screen", arrays, {"n_patients": n, "n_markers": k, "repeats": repeats})
    if r.ok:
        one_core = f"timed on {k} of {m}, extrapolated linearly; one core (R runs the loop sequentially)"
        ms.append(_measure(R_SCREEN_COX, "peer", tuple(np.atleast_1d(r.output["seconds_cox"])), k, m, one_core))
        ms.append(_measure(R_SCREEN, "peer-variant", tuple(np.atleast_1d(r.output["seconds"])), k, m, one_core))
        ours = {
            "AUC": table["auc"].to_numpy()[:k],
            "AUC CI lower": table["auc_lower"].to_numpy()[:k],
            "AUC CI upper": table["auc_upper"].to_numpy()[:k],
            "Mann-Whitney p": table["p_value"].to_numpy()[:k],
            "Youden threshold": table["youden_cutoff"].to_numpy()[:k],
            "log-rank p at cut-off": table["logrank_p"].to_numpy()[:k],
            "Cox coefficient": np.log(table["cox_hr"].to_numpy()[:k]),
            "Cox Wald p": table["cox_p"].to_numpy()[:k],
        }
        theirs = {
            "AUC": r.output["auc"],
            "AUC CI lower": r.output["auc_lower"],
            "AUC CI upper": r.output["auc_upper"],
            "Mann-Whitney p": r.output["mw_p"],
            "Youden threshold": r.output["threshold"],
            "log-rank p at cut-off": r.output["logrank_p"],
            "Cox coefficient": r.output["cox_coef"],
            "Cox Wald p": r.output["cox_p"],
        }
        for q, ours_q in ours.items():
            diff, cnt = max_difference(ours_q, np.atleast_1d(theirs[q]), "relative")
            agreements.append(Agreement(q, "R", cnt, diff, "relative", 1e-8))
    else:
        ms.append(_skipped(R_SCREEN_COX, r.note, m))
        notes.append(r.note)

    if _python_peer_available(PY_SCREEN, ("scipy", "scikit-learn", "lifelines"), m, ms, notes):
        progress(f"screen: Python loop on {k} markers")
        py.preload("scipy", "scikit-learn", "lifelines")
        sub = d.x[:, :k]
        timing, out = time_call(lambda: py.screen_loop(sub, d.label, d.time, d.event), repeats)
        ms.append(
            _measure(
                PY_SCREEN,
                "peer-variant",
                timing.seconds,
                k,
                m,
                f"timed on {k} of {m} markers, extrapolated linearly; no AUC CI (none in scipy or "
                "scikit-learn) and no Cox model: the peer of cox_per='none'",
            )
        )
        diff, cnt = max_difference(table["p_value"].to_numpy()[:k], out["mw_p"], "relative")
        agreements.append(Agreement("Mann-Whitney p", "scipy", cnt, diff, "relative", 1e-8))
        lt = table["direction"].to_numpy()[:k] == "<"
        auc = table["auc"].to_numpy()[:k]
        diff, cnt = max_difference(np.where(lt, auc, 1.0 - auc), out["auc"], "relative")
        agreements.append(Agreement("AUC (direction <)", "scikit-learn", cnt, diff, "relative", 1e-8))
    if any(x.role.startswith("peer") and x.seconds is not None and x.extrapolated for x in ms):
        notes.append(
            f"the loop peers ran on the first {k} of {m} markers; "
            f"their times are extrapolated linearly to {m}"
        )

    ours_s = ms[0].seconds
    none_s = ms[1].seconds
    r_cox = _peer_seconds(ms, R_SCREEN_COX)
    r_s = _peer_seconds(ms, R_SCREEN)
    facts: dict[str, float] = {}
    if r_cox is not None and ms[2].seconds:
        facts = {
            "r_ms": 1000.0 * r_cox / m,
            "need_ms": 10.0 * r_cox / m,
            "floor_ms": 1000.0 * ms[2].seconds / m,
            "need_floor": r_cox / 100.0 / ms[2].seconds,
        }
    said: set[str] = set()
    targets = [
        _target("screen_vs_r", "R loop with coxph / screen() defaults >= 100x", _over(r_cox, ours_s), 100.0,
                True, staged, facts, said),
        _target("screen_none_vs_r", "R loop without coxph / screen(cox_per='none') >= 150x",
                _over(r_s, none_s), 150.0, True, None),
        _target("screen_vs_python", "Python loop / screen(cox_per='none') >= 100x",
                _over(_peer_seconds(ms, PY_SCREEN), none_s), 100.0, True, staged, facts, said),
        _target("screen_vs_floor", "screen() defaults / argsort floor <= 10x", _over(ours_s, ms[2].seconds),
                10.0, False, staged, facts, said),
        _target("screen_memory", "screen() peak memory / input matrix <= 1.5x", peak / d.x.nbytes, 1.5,
                False, staged),
    ]
    return CaseResult(
        name="screen",
        title="Biomarker screen as called: screen(values, outcome, time=, event=), defaults and cox_per='none'",
        available=True,
        sizes=(("patients", n), ("markers", m), ("peer markers", k)),
        measurements=tuple(ms),
        targets=tuple(targets),
        agreements=tuple(agreements),
        breakdown=(),
        peak_bytes=peak,
        input_bytes=int(d.x.nbytes),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------
# km
# --------------------------------------------------------------------------------------------


def km_case(sizes: Sizes, repeats: int, seed: int, progress: Progress) -> CaseResult:
    """Kaplan-Meier (log-log limits) and a k-group log-rank test on one large cohort."""
    from cartscope.stats.km import kaplan_meier
    from cartscope.stats.survival import logrank

    n, k = sizes.km_patients, sizes.km_groups
    d = survival_data(n, 0, k, seed)
    state: dict[str, Any] = {}

    def km() -> None:
        state["km"] = kaplan_meier(d.time, d.event, conf_type="log-log")

    def lr() -> None:
        state["lr"] = logrank(d.time, d.event, d.group)

    stages = [("Kaplan-Meier", km), (f"log-rank, {k} groups", lr)]
    progress(f"km: cartscope on {n:,} patients")
    staged = time_stages(stages, repeats)
    peak = peak_memory(lambda: (km(), lr()))
    ms = [_measure("cartscope", "cartscope", staged.total.seconds, n, n)]
    agreements: list[Agreement] = []
    notes: list[str] = []
    at = state["km"].survival_at(np.asarray(LANDMARKS))

    progress("km: R survfit + survdiff")
    r = run_r(
        "km",
        {"time": d.time, "event": d.event, "group": d.group},
        {"n_patients": n, "repeats": repeats, "landmarks": list(LANDMARKS)},
    )
    if r.ok:
        ms.append(_measure(R_KM, "peer", tuple(np.atleast_1d(r.output["seconds"])), n, n))
        for q, ours_q, key in (
            ("S(t) at landmarks", at.survival, "survival"),
            ("log-log CI lower", at.lower, "lower"),
            ("log-log CI upper", at.upper, "upper"),
        ):
            diff, cnt = max_difference(ours_q, np.atleast_1d(r.output[key]), "relative")
            agreements.append(Agreement(q, "R", cnt, diff, "relative", 1e-8))
        diff, cnt = max_difference(state["lr"].statistic, r.output["chisq"], "relative")
        agreements.append(Agreement("log-rank chi-square", "R", cnt, diff, "relative", 1e-8))
    else:
        ms.append(_skipped(R_KM, r.note, n))
        notes.append(r.note)

    if _python_peer_available(PY_KM, ("lifelines",), n, ms, notes):
        progress("km: lifelines KaplanMeierFitter + multivariate_logrank_test")
        py.preload("lifelines")
        pstate: dict[str, Any] = {}

        def ll_km() -> None:
            pstate["km"] = py.km_lifelines(d.time, d.event)

        def ll_lr() -> None:
            pstate["lr"] = py.logrank_lifelines(d.time, d.event, d.group)

        ll = time_stages([("km", ll_km), ("logrank", ll_lr)], repeats)
        ms.append(_measure(PY_KM, "peer", ll.total.seconds, n, n))
        surv = np.asarray(pstate["km"].survival_function_at_times(list(LANDMARKS)), dtype=np.float64)
        diff, cnt = max_difference(at.survival, surv, "relative")
        agreements.append(Agreement("S(t) at landmarks", "lifelines", cnt, diff, "relative", 1e-8))
        diff, cnt = max_difference(state["lr"].statistic, pstate["lr"].test_statistic, "relative")
        agreements.append(Agreement("log-rank chi-square", "lifelines", cnt, diff, "relative", 1e-8))

    targets = [
        _target(
            "km_vs_r",
            "cartscope / R <= 1x (no slower than R)",
            _over(ms[0].seconds, _peer_seconds(ms, R_KM)),
            1.0,
            False,
            staged,
        )
    ]
    return CaseResult(
        name="km",
        title=f"Kaplan-Meier and a {k}-group log-rank test",
        available=True,
        sizes=(("patients", n), ("groups", k)),
        measurements=tuple(ms),
        targets=tuple(targets),
        agreements=tuple(agreements),
        breakdown=staged.stages,
        peak_bytes=peak,
        input_bytes=int(d.time.nbytes + d.event.nbytes + d.group.nbytes),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------
# cox
# --------------------------------------------------------------------------------------------


def cox_case(sizes: Sizes, repeats: int, seed: int, progress: Progress) -> CaseResult:
    """Cox proportional hazards with Efron ties on p numeric covariates."""
    from cartscope.stats.cox import cox

    n, p = sizes.cox_patients, sizes.cox_covariates
    d = survival_data(n, p, 1, seed)
    state: dict[str, Any] = {}

    def fit() -> None:
        state["fit"] = cox(d.time, d.event, d.x, ties="efron")

    progress(f"cox: cartscope on {n:,} patients x {p} covariates")
    staged = time_stages([("Cox fit (Efron) + concordance", fit)], repeats)
    peak = peak_memory(fit)
    coef = state["fit"].coef
    ms = [_measure("cartscope", "cartscope", staged.total.seconds, n, n)]
    agreements: list[Agreement] = []
    notes: list[str] = []

    progress("cox: R coxph")
    r = run_r(
        "cox",
        {"x": d.x, "time": d.time, "event": d.event},
        {"n_patients": n, "n_covariates": p, "repeats": repeats},
    )
    if r.ok:
        ms.append(_measure(R_COX, "peer", tuple(np.atleast_1d(r.output["seconds"])), n, n))
        diff, cnt = max_difference(coef, np.atleast_1d(r.output["coef"]), "absolute")
        agreements.append(Agreement("coefficients", "R", cnt, diff, "absolute", 1e-6))
        diff, cnt = max_difference(state["fit"].loglik, r.output["loglik"], "relative")
        agreements.append(Agreement("log partial likelihood", "R", cnt, diff, "relative", 1e-8))
    else:
        ms.append(_skipped(R_COX, r.note, n))
        notes.append(r.note)

    if _python_peer_available(PY_COX, ("lifelines",), n, ms, notes):
        progress("cox: lifelines CoxPHFitter")
        py.preload("lifelines")
        frame = py.cox_frame(d.time, d.event, d.x)
        timing, ll_coef = time_call(lambda: py.cox_lifelines(frame), repeats)
        ms.append(_measure(PY_COX, "peer", timing.seconds, n, n))
        diff, cnt = max_difference(coef, ll_coef, "absolute")
        agreements.append(Agreement("coefficients", "lifelines", cnt, diff, "absolute", 1e-6))

    ours = ms[0].seconds
    targets = [
        _target(
            "cox_vs_r", "cartscope / R <= 1.5x", _over(ours, _peer_seconds(ms, R_COX)), 1.5, False, staged
        ),
        _target(
            "cox_vs_lifelines",
            "lifelines / cartscope >= 5x",
            _over(_peer_seconds(ms, PY_COX), ours),
            5.0,
            True,
            staged,
            {"need_s": (_peer_seconds(ms, PY_COX) or 0.0) / 5.0},
        ),
    ]
    return CaseResult(
        name="cox",
        title=f"Cox model, Efron ties, {p} covariates",
        available=True,
        sizes=(("patients", n), ("covariates", p), ("events", int(d.event.sum()))),
        measurements=tuple(ms),
        targets=tuple(targets),
        agreements=tuple(agreements),
        breakdown=staged.stages,
        peak_bytes=peak,
        input_bytes=int(d.x.nbytes + d.time.nbytes + d.event.nbytes),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------
# study
# --------------------------------------------------------------------------------------------

STUDY_PRESET = "jin2023"

StudyRunner = Callable[..., Any]
"""``runner(cohort, preset, progress=None) -> results``; ``progress(label, fraction)`` is called
before each section of the analysis (and with fraction 1.0 at the end)."""


def find_study_runner() -> StudyRunner | None:
    """The study runner of ``cartscope.analysis`` (``study.run_study`` with the preset's
    protocol), or None while that layer does not provide one."""
    try:
        from cartscope.analysis.protocol import load_protocol
        from cartscope.analysis.study import run_study
    except ImportError:
        return None

    def runner(cohort: Any, preset: str, progress: Callable[[str, float], None] | None = None) -> Any:
        return run_study(cohort, load_protocol(preset), progress=progress)

    return runner


def _write_results(results: Any, folder: Path) -> None:
    try:
        from cartscope.analysis.results import write_results
    except ImportError:
        return
    write_results(results, folder)


class _SectionClock:
    """Collects, per run, the time between successive ``progress(label, fraction)`` calls."""

    def __init__(self) -> None:
        self.runs: list[dict[str, float]] = []
        self._label: str | None = None
        self._since = 0.0

    def start(self) -> None:
        self.runs.append({})
        self._label = None

    def __call__(self, label: str, fraction: float) -> None:
        now = time.perf_counter()
        self.stop(now)
        self._label = None if fraction >= 1.0 else label
        self._since = now

    def stop(self, now: float | None = None) -> None:
        now = time.perf_counter() if now is None else now
        if self._label is not None and self.runs:
            run = self.runs[-1]
            run[self._label] = run.get(self._label, 0.0) + now - self._since
        self._label = None

    def medians(self, total: float) -> tuple[StageTiming, ...]:
        labels = list(dict.fromkeys(label for run in self.runs for label in run))
        out = []
        for label in labels:
            med = float(np.median([run.get(label, 0.0) for run in self.runs]))
            out.append(StageTiming(label, med, med / total if total > 0 else float("nan")))
        return tuple(out)


def study_stages(
    preset: str, seed: int, folder: Path, runner: StudyRunner, sections: _SectionClock | None = None
) -> list[tuple[str, Callable[[], Any]]]:
    """The stages of ``cartscope analyze`` on a preset, end to end, as timeable callables:
    synthesize the cohort, write it as CSV, load and validate it, run the study analysis
    (its sections timed through the runner's progress calls), write the results."""
    from cartscope.analysis.presets import synthesize
    from cartscope.cohort.load import load_cohort
    from cartscope.cohort.write import write_cohort

    state: dict[str, Any] = {}
    cohort_dir = folder / "cohort"
    clock = sections if sections is not None else _SectionClock()

    def synth() -> None:
        state["cohort"] = synthesize(preset, seed=seed)

    def write() -> None:
        write_cohort(state["cohort"], cohort_dir, fmt="csv")

    def load() -> None:
        state["loaded"] = load_cohort(cohort_dir)

    def analyze() -> None:
        clock.start()
        state["results"] = runner(state["loaded"], preset, progress=clock)
        clock.stop()

    def write_out() -> None:
        _write_results(state["results"], folder / "results")

    return [
        ("synthesize", synth),
        ("write CSV", write),
        ("load + validate", load),
        ("analyze", analyze),
        ("write results", write_out),
    ]


def study_case(sizes: Sizes, repeats: int, seed: int, progress: Progress) -> CaseResult:
    """``cartscope analyze`` of the jin2023 preset end to end, broken down by stage and by
    section of the analysis."""
    del sizes  # the preset fixes the size
    title = f"cartscope analyze of the {STUDY_PRESET} preset end to end, by stage"
    runner = find_study_runner()
    if runner is None:
        note = (
            "not available: no study runner in cartscope.analysis yet; the case runs as soon as "
            "cartscope.analysis.study.run_study(cohort, protocol, progress=...) exists"
        )
        return CaseResult(name="study_stages", title=title, available=False, notes=(note,))
    progress(f"study: {STUDY_PRESET} end to end")
    from cartscope.analysis.presets import synthesize

    n_patients = len(synthesize(STUDY_PRESET, seed=seed).patients)
    clock = _SectionClock()
    with tempfile.TemporaryDirectory(prefix="cartscope-bench-study-") as tmp:
        staged = time_stages(study_stages(STUDY_PRESET, seed, Path(tmp), runner, clock), repeats)
    ms = [_measure("cartscope", "cartscope", staged.total.seconds, 1, 1)]
    return CaseResult(
        name="study_stages",
        title=title,
        available=True,
        sizes=(("patients", n_patients),),
        measurements=tuple(ms),
        breakdown=staged.stages,
        detail=clock.medians(staged.total.median),
        notes=("no peer: the same analysis in R is a set of scripts, not one call",),
    )


from cartscope.bench import cases_more  # noqa: E402  (it imports names defined above)

CASES: dict[str, Callable[[Sizes, int, int, Progress], CaseResult]] = {
    "screen": screen_case,
    "screen_large": cases_more.screen_large_case,
    "fisher": cases_more.fisher_case,
    "resampling": cases_more.resampling_case,
    "delong": cases_more.delong_case,
    "km": km_case,
    "cox": cox_case,
    "study": cases_more.study_e2e_case,
    "study_stages": study_case,
}
"""Case name -> case function ``(sizes, repeats, seed, progress) -> CaseResult``."""

DEFAULT_CASES = tuple(name for name in CASES if name != "study_stages")
"""What ``cartscope bench`` runs by default (``study_stages``, the in-process breakdown of the
study by stage and section, on request)."""
