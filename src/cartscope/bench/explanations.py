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
    "Where the time goes (cProfile of the full screen, 2,000 markers x 1,000 patients): every "
    "marker is ranked twice, once by mann_whitney and once by roc, each through "
    "ranktests.rank_blocks. The sort itself is about a tenth of the time. The largest item "
    "(about 30%) is the five take_along_axis gathers along the patients axis of C-ordered "
    "chunks (the sorted values and the four below/up-to counts), then rank_blocks' "
    "element-wise block bookkeeping (about 15%), float64 cumulative sums of the group "
    "indicators (about 13%), the log-rank at the cut-off (about 12%) and the ROC placements "
    "and Youden criterion (about 10%). What would close it: one shared rank pass for "
    "Mann-Whitney and ROC (W = AUC n1 n0 for direction '<', and the tie term, come from the "
    "same blocks); ranking the transposed (markers x patients) copy, so that each marker is a "
    "contiguous row for the sort, the gather and the cumulative sums; the below/up-to counts "
    "by forward and backward fill (maximum/minimum.accumulate over block starts and ends) "
    "instead of gathers; int32 counts. A prototype of that rank pass gives the same U to the "
    "last bit in 35-40% of rank_blocks' time on this matrix (0.07-0.10 s against 0.21-0.24 s), "
    "which would roughly halve the screen."
)

EXPLANATIONS: dict[str, str] = {
    "screen_vs_r": (
        "The R loop takes {r_ms:.1f} ms per marker (pROC's curve and DeLong variance are "
        "compiled code); 100x asks cartscope for {need_ms:.3f} ms per marker, {need_floor:.1f}x "
        "the cost of np.argsort alone ({floor_ms:.3f} ms per marker). "
        + _SCREEN_KERNEL
        + " That brings the floor target within reach; 100x against R also needs the ROC "
        "placements and the log-rank at the cut-off fused on the same layout."
    ),
    "screen_vs_python": (
        "The Python loop's cost is mostly lifelines' logrank_test (pandas on every call) and "
        "scikit-learn's input checks, so a miss here means cartscope itself is slow. " + _SCREEN_KERNEL
    ),
    "screen_vs_floor": _SCREEN_KERNEL,
    "screen_memory": (
        "The peak is the chunked rank kernel's temporaries plus the copies mann_whitney makes "
        "of the case and control rows and their vstack; sharing one rank pass with roc and "
        "taking the groups from the label instead of copying rows would lower it."
    ),
    "km_vs_r": (
        "cartscope's log-rank is np.unique over the (stratum, time) keys and bincounts, its "
        "Kaplan-Meier one np.unique and cumulative sums; a miss means those sorts dominate, and "
        "sorting the times once and sharing the order between the two would halve them."
    ),
    "cox_vs_r": (
        "Check the BLAS threads first: on a busy 2-core machine OpenBLAS's default threads make "
        "every n x p matrix-vector product of the Newton loop cost milliseconds (see the Cox "
        "target against lifelines for the numbers and the fix)."
    ),
    "cox_vs_lifelines": (
        "lifelines' CoxPHFitter.fit does not compute the concordance (lifelines computes it "
        "lazily on first access), while cartscope's cox, like R's coxph, does. 5x asks "
        "cartscope for {need_s:.2f} s. Profile of the 100,000 x 10 fit on the reference machine: "
        "the concordance alone takes about 0.23 s (a wavelet-matrix count over 17 bit levels, "
        "each a fancy-indexed pass over all rows), more than that budget. Newton-Raphson takes "
        "0.09 s with OpenBLAS on one thread (OPENBLAS_NUM_THREADS=1) but 0.35 s with OpenBLAS's "
        "default threads while the machine is busy: each n x 10 matrix-vector product (z @ beta, "
        "the score, the information) then costs about 8 ms instead of 0.2 ms, waking the "
        "threads costing more than the product. What would close it: a cheaper concordance "
        "(one merge-sort inversion count over the time-ordered predictor ranks) or a way to skip "
        "it when only the coefficients are needed, and the tall-skinny products of the Newton "
        "loop kept off BLAS threads (np.einsum, or a one-thread limit around the loop). Without "
        "the concordance and with single-threaded products the fit takes about 0.13 s."
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
