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
    "Where the time goes (cProfile of screen() with its defaults on one thread, 2,000 markers x "
    "1,000 patients): the compiled univariable Cox scan about 60% (stats._cox_univariable_kernel "
    "follows R's Newton path: an evaluation at beta = 0 and three or four more per marker, each "
    "an exp per patient, about 7 ns in glibc, and Efron's terms per death time); the two class "
    "sorts per block and the compiled rank scan (Mann-Whitney, AUC, DeLong, Youden) about 25%; "
    "the compiled log-rank scan at the cut-off about 8%; the block copies, p-values and the "
    "result table the rest."
)

EXPLANATIONS: dict[str, str] = {
    "screen_vs_r": (
        "The R loop takes {r_ms:.1f} ms per marker (pROC's curve and DeLong variance and "
        "coxph are compiled code); 100x asks cartscope for {need_ms:.3f} ms per marker, "
        "{need_floor:.1f}x the cost of np.argsort alone ({floor_ms:.3f} ms per marker). "
        + _SCREEN_KERNEL
        + " The blocks of markers run on a thread per usable core (the measurement's note says "
        "how many) while the R loop runs on one core, so on a loaded machine the threads gain "
        "only what cores are free; the exp of the Cox scan is the floor of the rest (no SIMD "
        "exp for float64 without AVX-512 on this CPU), and a Newton start nearer the optimum "
        "would save an evaluation but leave R's iteration path."
    ),
    "screen_none_vs_r": (
        "Without the Cox scan the screen is the two class sorts per block with the compiled rank "
        "scan (about two thirds), the compiled log-rank scan at the cut-off (about a fifth) and "
        "the block copies, p-values and result table, the blocks on a thread per usable core "
        "against R's one; a miss on a loaded machine means the threads found no free core."
    ),
    "screen_vs_python": (
        "The Python loop's cost is mostly lifelines' logrank_test (pandas on every call) and "
        "scikit-learn's input checks, so a miss here means cartscope itself is slow. " + _SCREEN_KERNEL
    ),
    "screen_vs_floor": _SCREEN_KERNEL,
    "screen_memory": (
        "The peak is one block of markers (a tenth of the panel, at most 512 markers; with T "
        "threads, T blocks a T-th as wide) and one sub-block of it at a time: the class-sorted "
        "copies of the rank scan (about 131,000 values) or the Cox scan's copy in time order "
        "(about 65,000 values); narrower sub-blocks lower the peak at some cost in speed."
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
        "cartscope for {need_s:.2f} s. Profile of the 100,000 x 10 fit: Newton-Raphson about "
        "half (four evaluations of the log likelihood, score and information, formed per death "
        "time, off BLAS threads), sorting, the design matrix and centring about a quarter, and "
        "the concordance (a compiled Fenwick-tree count over the predictor ranks in time order, "
        "stats._concordance_kernel) about a tenth; computing the concordance on first access, "
        "as lifelines does, would change what a fit costs compared with R's coxph."
    ),
    "report_vs_analyze": (
        "On 2 cores the report's work barely fits in one more analyze's time. Machine-wide CPU "
        "(/proc/stat) of one analyze --report of jin2023: 26.4-26.7 CPU-s against 6.6-6.7 for "
        "analyze alone (two interleaved pairs), so with both cores busy from the first second "
        "to the last it would end at about 2.0x. What is done: each figure is drawn once, and "
        "its PDF comes from the same walk of the figure as its SVG (report.figures.tee); the "
        "patient course (the swimmer plots) is drawn while the analyses run, from the "
        "endpoints alone; the report PDF is the page printed with a placeholder in each "
        "figure's box and the figure PDFs placed into them (report.pdf_figures); texts are "
        "measured once per process (export.shared_text_metrics); the workers' fork server no "
        "longer imports SciPy's stats. Where the time goes, sampled per process: the figure "
        "workers with their fork server about 13.6 CPU-s (of which the server's start-up, "
        "matplotlib, the figure modules and cartscope.stats, about 3.5); Chromium about 3.7 "
        "(2.8 to start, in 1.5-2 s over several processes, its browser and GPU processes "
        "renicing themselves to -8 when run as root, then about 1 to print); the main process "
        "about 9.2, of which the document, the page and the table files about 2.5. The start "
        "of Chromium is what costs: the analyses end 1-2 s later beside it than without a "
        "browser (two runs each). Tried and not kept: Chromium started at nice +10 without "
        "the capability to renice itself, back to 0 to print (the analyses no longer wait, "
        "but the report was slower in five of five interleaved pairs: the browser's start then "
        "shares the second core with the fork server and the early figures); a per-process "
        "cache of font lookups (no measurable change); leaner Chromium flags (a single "
        "renderer, in-process GPU, no background services: within 0.2 CPU-s). Closing the "
        "rest needs the figures of each section drawn as soon as its analyses finish and a "
        "fork server that does not import cartscope.stats (figure recipes of plain arrays)."
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
