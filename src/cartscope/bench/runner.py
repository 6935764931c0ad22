"""Run the benchmark cases and collect one :class:`~cartscope.bench.report.BenchReport`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cartscope.bench.cases import CASES, DEFAULT_CASES, FULL, QUICK, Sizes
from cartscope.bench.machine import describe_machine
from cartscope.bench.report import BenchReport

DEFAULT_REPEATS = 5
DEFAULT_SEED = 2024


def parse_cases(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """Case names from ``"screen,km"`` or a list; None or ``"all"`` means the default cases, in
    the standard order."""
    if text is None or text == "all":
        return DEFAULT_CASES
    names = [s.strip() for s in (text.split(",") if isinstance(text, str) else text)]
    names = [s for s in names if s]
    unknown = [s for s in names if s not in CASES]
    if unknown:
        raise ValueError(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    if not names:
        raise ValueError(f"no case given; choose from {', '.join(CASES)}")
    return tuple(dict.fromkeys(names))


def run_bench(
    cases: str | Sequence[str] | None = None,
    repeats: int = DEFAULT_REPEATS,
    quick: bool = False,
    seed: int = DEFAULT_SEED,
    sizes: Sizes | None = None,
    progress: Callable[[str], None] | None = None,
    command: str = "cartscope bench",
) -> BenchReport:
    """Time cartscope against its peers on each case; ``quick`` uses tiny sizes (seconds).

    ``sizes`` overrides both the full and the quick sizes. Missing peers (R, its packages,
    lifelines, scikit-learn) are skipped with a note, never an error.
    """
    names = parse_cases(cases)
    if int(repeats) < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    chosen = sizes if sizes is not None else (QUICK if quick else FULL)
    say = progress or (lambda _msg: None)
    machine = describe_machine()
    results = tuple(CASES[name](chosen, int(repeats), seed, say) for name in names)
    return BenchReport(
        machine=machine,
        cases=results,
        repeats=int(repeats),
        quick=quick,
        seed=seed,
        command=command,
    )
