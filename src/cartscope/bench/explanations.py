"""Why a missed performance target is missed, and what would close it.

The texts come from profiles of the full cases on the reference machine (2 cores); the numbers
that change with the machine (peer times, the floor, the budget a target leaves cartscope) are
filled in from the run at hand, and the run's own stage breakdown is appended.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from cartscope.bench.timing import StagedTiming

_SCREEN_KERNEL = (
    "Where the time goes (cProfile of screen() with its defaults, 2,000 markers x 1,000 "
    "patients, load average 7 on the 2 cores): the univariable Cox pass is about 60% "
    "(stats._cox_univariable follows R's Newton path: one evaluation of the log likelihood, "
    "score and information at beta = 0 and three more for most markers -- 1,379 of 2,000 "
    "stop at iteration 3, 305 at 4 -- each an exp per patient and marker, about 7 ns as "
    "float64 exp has no SIMD path on this CPU (numpy vectorises it for AVX-512 only), and "
    "the risk-set sums of r, r x and r x^2 as running sums in blocks of sqrt(n) rows: some "
    "ten whole-array passes, about 190 bytes of memory traffic per patient, marker and "
    "evaluation, the part a loaded machine slows most); the shared rank pass (one argsort "
    "and one gather per marker, then the tie-block counts) with the Mann-Whitney and ROC "
    "kernels about 25%, the argsort alone 8%; the log-rank at the cut-off about 8%."
)

EXPLANATIONS: dict[str, str] = {
    "screen_vs_r": (
        "The R loop takes {r_ms:.1f} ms per marker (pROC's curve and DeLong variance and "
        "coxph are compiled code); 100x asks cartscope for {need_ms:.3f} ms per marker, "
        "{need_floor:.1f}x the cost of np.argsort alone ({floor_ms:.3f} ms per marker). "
        + _SCREEN_KERNEL
        + " The blocks of markers already run on a thread per usable core (the measurement's "
        "note says how many) while the R loop runs on one core, so on a loaded machine the "
        "threads gain only what cores are free. What would close it: a compiled kernel that "
        "walks each marker's patients once (exp, running sums and Efron terms in registers "
        "instead of some ten array passes); a Newton start nearer the optimum would save an "
        "evaluation but leave R's iteration path, so the stopping point would differ from "
        "coxph's at the 1e-10 level."
    ),
    "screen_none_vs_r": (
        "Without the Cox pass the screen is the shared rank pass (about 60%: an argsort and "
        "a gather per marker, then the tie-block counts of the Mann-Whitney, DeLong and "
        "Youden kernels), the log-rank at the cut-off (about 20%) and the rest (block copies, "
        "p-values, the result table) about 15%, the blocks on a thread per usable core "
        "against R's one; a miss means those whole-array passes, not per-marker Python, "
        "dominate on this machine."
    ),
    "screen_vs_python": (
        "The Python loop's cost is mostly lifelines' logrank_test (pandas on every call) and "
        "scikit-learn's input checks, so a miss here means cartscope itself is slow. " + _SCREEN_KERNEL
    ),
    "screen_vs_floor": _SCREEN_KERNEL,
    "screen_memory": (
        "The peak is one block of markers (a tenth of the panel, at most 512 markers; with T "
        "threads, T blocks a T-th as wide, whose rank-pass sub-blocks are a T-th as wide too) "
        "and one sub-block of it at a time: the rank pass's (about 131,000 values, some 150 bytes "
        "each) or the Cox pass's (about 65,000 values: its copy in time order and three "
        "planes of risk-set sums, some 40 bytes each); narrower sub-blocks lower the peak at "
        "some cost in speed."
    ),
    "km_vs_r": (
        "cartscope's log-rank is np.unique over the (stratum, time) keys and bincounts, its "
        "Kaplan-Meier one np.unique and cumulative sums; a miss means those sorts dominate, and "
        "sorting the times once and sharing the order between the two would halve them."
    ),
    "cox_vs_r": (
        "The Newton loop's tall-skinny products no longer go through BLAS threads (np.einsum, "
        "and Z' W Z in blocks small enough for OpenBLAS to stay on one thread); a miss means "
        "the concordance or the sorts dominate (see the Cox target against lifelines)."
    ),
    "cox_vs_lifelines": (
        "lifelines' CoxPHFitter.fit does not compute the concordance (lifelines computes it "
        "lazily on first access), while cartscope's cox, like R's coxph, does. 5x asks "
        "cartscope for {need_s:.2f} s. Profile of the 100,000 x 10 fit on the reference machine "
        "(about 0.12 s): the concordance takes about 0.07 s, Newton-Raphson "
        "about 0.04 s (four evaluations of the log likelihood, score and information at about "
        "5 + 4.5 ms each, now formed per death time and off BLAS threads), sorting, the design "
        "matrix and centring about 0.02 s. The concordance needs, for every observation, how "
        "many comparable observations have a lower predictor: a two-dimensional dominance count "
        "(time order x predictor rank). In numpy it is one wavelet matrix over the 17 bit levels "
        "of the ranks (deaths marked, so one structure serves both roles) and two counts per "
        "observation, each level a few gathers over all rows: about 18 ms to build and 16 ms per "
        "count. What would close it: a compiled Fenwick-tree count (one sequential O(n log n) "
        "loop, a few ms; numba would do, at the cost of a compiled dependency and its start-up "
        "time), or computing the concordance on first access as lifelines does, which changes "
        "what a fit costs compared with R's coxph."
    ),
}


_SHARED = {"screen kernel": _SCREEN_KERNEL}


def explain(
    key: str,
    staged: StagedTiming | None,
    facts: Mapping[str, float] | None = None,
    said: set[str] | None = None,
) -> str:
    """The explanation of target ``key`` (its ``{fields}`` filled from ``facts``), followed by
    where this run spent its time. A shared passage already in ``said`` (the explanations of
    the same case so far) is replaced by a pointer to it."""
    text = EXPLANATIONS.get(key, "")
    for name, passage in _SHARED.items():
        if passage in text and said is not None:
            if name in said:
                text = text.replace(passage, "Where the time goes and what would close it: as above.")
            said.add(name)
    if text:
        try:
            text = text.format(**(facts or {}))
        except KeyError:  # a peer was skipped: leave out the sentences that need its numbers
            text = " ".join(s for s in re.split(r"(?<=\.) ", text) if "{" not in s)
    if staged is not None and len(staged.stages) > 1:
        parts = ", ".join(f"{s.stage} {s.seconds:.3g} s ({100 * s.share:.0f}%)" for s in staged.stages)
        text = f"{text} This run: {parts}.".strip()
    return text
