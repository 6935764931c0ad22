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
        "On 2 cores the report's work fits in one more analyze's time with little to spare, "
        "and this machine's speed moves by up to 40% within minutes. Per-process CPU of one "
        "analyze --report of jin2023 (two runs, at the end of the session that met this "
        "target): all processes 20.3-21.0 CPU-s, of which the figure workers with their fork "
        "server 10.6-10.7 (the server's start-up, matplotlib, pandas and the figure modules, "
        "3.0-3.4), Chromium 2.0-2.3 and the main process 7.2-7.3. What is done: each figure "
        "is drawn once, its PDF from the same walk of the figure as its SVG "
        "(report.figures.tee); the patient course is drawn while the analyses run; text "
        "metrics and layouts are worked out once per process (export.shared_text_metrics); "
        "the fork server freezes what it preloaded out of the garbage collector's sight, and "
        "a worker draws each figure with the collector off; "
        "Chromium starts without its address-bar drop-down (a WebUI page it preloads even "
        "headless, half its start-up); a worker writes the table files once it has no figure "
        "left; the report PDF is the page printed with a placeholder in each figure's box "
        "and the figure PDFs placed into them (report.pdf_figures). On a miss, measure the "
        "per-process CPU of the runs against the figures above before naming a cause: the "
        "figures are about half of the work."
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
