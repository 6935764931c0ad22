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
    "Where the time goes (cProfile of the full screen, 2,000 markers x 1,000 patients): "
    "mann_whitney and roc each rank every marker once through the shared rank pass "
    "(stats._ranks.rank_pass: one argsort and one sort of each marker's contiguous row on a "
    "markers x patients layout, int32 running counts, then sums over tie blocks). The two "
    "argsorts and two sorts are about 40% of the time (each argsort alone costs as much as the "
    "floor, which is one argsort), the rank pass's tie-block bookkeeping about 17%, the ROC "
    "kernel (DeLong sums and Youden choice per block) about 8%, and the log-rank at the "
    "cut-off (int32 at-risk counts per event time) about 20%. Every marker is still ranked "
    "twice because the benchmark calls the two public functions separately, as a user does; "
    "a result that remembered the ranks between calls would be hidden state."
)

EXPLANATIONS: dict[str, str] = {
    "screen_vs_r": (
        "The R loop takes {r_ms:.1f} ms per marker (pROC's curve and DeLong variance are "
        "compiled code); 100x asks cartscope for {need_ms:.3f} ms per marker, {need_floor:.1f}x "
        "the cost of np.argsort alone ({floor_ms:.3f} ms per marker). "
        + _SCREEN_KERNEL
        + " What would close it: one rank pass shared by the Mann-Whitney test and the ROC (the "
        "rank pass already gives both W and the DeLong sums; an entry point returning both "
        "would save one argsort and one sort per marker, about a third of the time), then "
        "the log-rank's at-risk counts taken from the same sorted layout."
    ),
    "screen_vs_python": (
        "The Python loop's cost is mostly lifelines' logrank_test (pandas on every call) and "
        "scikit-learn's input checks, so a miss here means cartscope itself is slow. " + _SCREEN_KERNEL
    ),
    "screen_vs_floor": _SCREEN_KERNEL,
    "screen_memory": (
        "The peak is the chunked rank pass's per-block arrays (some 150 bytes per element of a "
        "chunk, chunks of about 65,000 elements) plus the case and control copies the caller "
        "passes to mann_whitney; smaller chunks would lower it at some cost in speed."
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
