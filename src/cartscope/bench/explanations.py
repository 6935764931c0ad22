"""Why a missed performance target is missed, and what would close it.

The texts are written from profiles of the full benchmark run on the reference machine; the
stage breakdown of the run at hand is appended, so the numbers in the explanation are always
the ones just measured.
"""

from __future__ import annotations

from cartscope.bench.timing import StagedTiming

_SCREEN_KERNEL = (
    "Where the time goes (profile of the full screen, 2,000 markers x 1,000 patients): every "
    "marker is ranked twice, once by mann_whitney and once by roc, each through "
    "ranktests.rank_blocks. Per pass the argsort itself is small (about 0.06 s); the cost is "
    "in the five take_along_axis gathers along the patients axis of a C-ordered chunk (the "
    "sorted values and the four below/up-to counts: about 0.3 s over both passes, the largest "
    "single item), the element-wise block bookkeeping (about 0.2 s) and float64 cumulative "
    "sums of the group indicators (about 0.17 s); the ROC placements and Youden criterion add "
    "about 0.13 s and the log-rank at the cut-off about 0.1 s. What would close it: one shared "
    "rank pass for Mann-Whitney and ROC (W = AUC n1 n0 for direction '<', and the tie term, "
    "come from the same blocks); ranking the transposed (markers x patients) copy so that "
    "each marker is a contiguous row for the sort, the gather and the cumulative sums; the "
    "below/up-to counts by forward and backward fill (maximum/minimum.accumulate over block "
    "starts and ends) instead of gathers; int32 counts. A prototype of that rank pass gives "
    "the same U to the last bit in 0.20 s against 0.46-0.66 s for rank_blocks on this matrix."
)

EXPLANATIONS: dict[str, str] = {
    "screen_vs_r": (
        "pROC's curve and DeLong variance are compiled code, so the R loop costs about 13 ms per "
        "marker at 1,000 patients; 100x asks cartscope for about 0.13 ms per marker, under 4x "
        "the cost of np.argsort alone (0.034 ms per marker). "
        + _SCREEN_KERNEL
        + " With one such pass the screen would take about 0.5 s (about 50x R, within 10x of "
        "the floor); reaching 100x also needs the log-rank at the cut-off on the same "
        "transposed, time-sorted layout with int32 cumulative counts."
    ),
    "screen_vs_python": (
        "The Python loop's cost is dominated by lifelines' logrank_test (pandas per call) and "
        "scikit-learn's input validation, so a miss here means cartscope itself is slow. " + _SCREEN_KERNEL
    ),
    "screen_vs_floor": _SCREEN_KERNEL,
    "screen_memory": (
        "The peak is the chunked rank kernel's temporaries (about a dozen patients x chunk "
        "arrays, a chunk being a sixth of the markers) plus the copies mann_whitney makes of "
        "the case and control rows and their vstack; sharing one rank pass with roc and taking "
        "the groups from the label instead of copying rows would lower it."
    ),
    "km_vs_r": (
        "On the reference machine cartscope took 0.7 s against R's 7.3 s: the log-rank is "
        "np.unique over the (stratum, time) keys and bincounts; the Kaplan-Meier one np.unique "
        "and cumulative sums. A miss means the sorts in np.unique dominate; sorting the times "
        "once and sharing the order between the two would halve that."
    ),
    "cox_vs_r": (
        "On the reference machine cartscope took 1.3 s against R's 1.8 s. Newton-Raphson is "
        "about half of cartscope's time (see cox_vs_lifelines for the breakdown and the fix)."
    ),
    "cox_vs_lifelines": (
        "lifelines' CoxPHFitter.fit does not compute the concordance (lifelines computes it "
        "lazily on first access), while cartscope's cox, like R's coxph, does. Profile of the "
        "100,000 x 10 fit (1.26 s): Newton-Raphson 0.67 s (about five likelihood evaluations "
        "at 0.10 s each: exp, three np.add.reduceat passes over n x p arrays for all rows, "
        "deaths and censorings, and two n x p temporaries; the information matrix 0.024 s per "
        "iteration), the concordance 0.34 s (a wavelet-matrix count over 17 bit levels, each a "
        "fancy-indexed pass), input checks, timefix and summaries about 0.2 s. Without the "
        "concordance cartscope is about 2x faster than lifelines. To reach 5x (about 0.38 s): "
        "get the censored sums as all minus deaths and reduce the death sums over the death "
        "rows only (one n x p reduceat instead of three, no n x p temporaries), reuse the "
        "risk-weighted matrix for the information, compute the concordance with one merge-sort "
        "inversion count over the time-ordered predictor ranks, and let callers that need only "
        "the coefficients skip the concordance."
    ),
}


def explain(key: str, staged: StagedTiming | None) -> str:
    """The explanation of target ``key`` followed by where this run spent its time."""
    text = EXPLANATIONS.get(key, "")
    if staged is not None and len(staged.stages) > 1:
        parts = ", ".join(f"{s.stage} {s.seconds:.3g} s ({100 * s.share:.0f}%)" for s in staged.stages)
        text = f"{text} This run: {parts}.".strip()
    return text
