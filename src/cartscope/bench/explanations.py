"""Why a missed performance target is missed, and what would close it.

The texts are written from profiles of the full benchmark run on the reference machine; the
stage breakdown of the run at hand is appended, so the numbers in the explanation are always
the ones just measured.
"""

from __future__ import annotations

from cartscope.bench.timing import StagedTiming

EXPLANATIONS: dict[str, str] = {}


def explain(key: str, staged: StagedTiming | None) -> str:
    """The explanation of target ``key`` followed by where this run spent its time."""
    text = EXPLANATIONS.get(key, "")
    if staged is not None and len(staged.stages) > 1:
        parts = ", ".join(f"{s.stage} {s.seconds:.3g} s ({100 * s.share:.0f}%)" for s in staged.stages)
        text = f"{text} This run: {parts}.".strip()
    return text
