"""A benchmark run as JSON, as Markdown (``docs/benchmarks.md``) and as display tables."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cartscope.bench.machine import Machine
from cartscope.bench.results import Agreement, CaseResult, Measurement, Target
from cartscope.bench.timing import StageTiming

Table = tuple[str, list[str], list[list[str]]]


def _secs(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}x" if value >= 100 else f"{value:.3g}x"


def _diff(value: float) -> str:
    return "-" if value != value else f"{value:.1e}"


@dataclass(frozen=True)
class BenchReport:
    """One run of ``cartscope bench``: the machine, the settings and each case's result."""

    machine: Machine
    cases: tuple[CaseResult, ...]
    repeats: int
    quick: bool
    seed: int
    command: str

    def to_frame(self) -> pd.DataFrame:
        """One row per (case, tool) with seconds and ratio to cartscope."""
        frames = [c.to_frame() for c in self.cases if c.measurements]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    # --- JSON -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        def measurement(case: CaseResult, m: Measurement) -> dict[str, Any]:
            return {
                "tool": m.tool,
                "role": m.role,
                "seconds": m.seconds,
                "ratio_to_cartscope": case.ratio(m),
                "runs": list(m.runs),
                "units_timed": m.units_timed,
                "units_total": m.units_total,
                "extrapolated": m.extrapolated,
                "note": m.note,
            }

        cases = []
        for c in self.cases:
            cases.append(
                {
                    "name": c.name,
                    "title": c.title,
                    "available": c.available,
                    "sizes": dict(c.sizes),
                    "measurements": [measurement(c, m) for m in c.measurements],
                    "breakdown": [
                        {"stage": s.stage, "seconds": s.seconds, "share": s.share} for s in c.breakdown
                    ],
                    "detail": [{"stage": s.stage, "seconds": s.seconds, "share": s.share} for s in c.detail],
                    "peak_memory_bytes": c.peak_bytes,
                    "input_bytes": c.input_bytes,
                    "peak_memory_over_input": c.memory_ratio,
                    "agreements": [
                        {
                            "quantity": a.quantity,
                            "peer": a.peer,
                            "n": a.n,
                            "max_diff": None if a.max_diff != a.max_diff else a.max_diff,
                            "kind": a.kind,
                            "tolerance": a.tolerance,
                            "ok": a.ok,
                        }
                        for a in c.agreements
                    ],
                    "targets": [
                        {
                            "key": t.key,
                            "text": t.text,
                            "value": t.value,
                            "bound": t.bound,
                            "at_least": t.at_least,
                            "met": t.met,
                            "explanation": t.explanation,
                        }
                        for t in c.targets
                    ],
                    "notes": list(c.notes),
                }
            )
        return {
            "command": self.command,
            "repeats": self.repeats,
            "quick": self.quick,
            "seed": self.seed,
            "machine": self.machine.to_dict(),
            "timing": "wall clock, median of repeats",
            "peak_memory": "tracemalloc peak above the level at the start of the call",
            "cases": cases,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchReport:
        """The run back from :meth:`to_dict` (``docs/benchmarks.json``): the Markdown is
        regenerated from it, so the published page can be checked against its raw numbers."""
        m = data["machine"]
        machine = Machine(
            cpu=m["cpu"], cores=m["cores"], memory_gib=m["memory_gib"], platform=m["platform"],
            date=m["date"], load_average=m["load_average"], versions=tuple(m["versions"].items()),
        )

        def stages(rows: list[dict[str, Any]]) -> tuple[StageTiming, ...]:
            return tuple(StageTiming(r["stage"], r["seconds"], r["share"]) for r in rows)

        cases = tuple(
            CaseResult(
                name=c["name"],
                title=c["title"],
                available=c["available"],
                sizes=tuple(c["sizes"].items()),
                measurements=tuple(
                    Measurement(
                        tool=r["tool"], role=r["role"], seconds=r["seconds"], runs=tuple(r["runs"]),
                        units_timed=r["units_timed"], units_total=r["units_total"], note=r["note"],
                    )
                    for r in c["measurements"]
                ),
                targets=tuple(
                    Target(
                        key=t["key"], text=t["text"], value=t["value"], bound=t["bound"],
                        at_least=t["at_least"], explanation=t["explanation"],
                    )
                    for t in c["targets"]
                ),
                agreements=tuple(
                    Agreement(
                        quantity=a["quantity"], peer=a["peer"], n=a["n"],
                        max_diff=float("nan") if a["max_diff"] is None else a["max_diff"],
                        kind=a["kind"], tolerance=a["tolerance"],
                    )
                    for a in c["agreements"]
                ),
                breakdown=stages(c["breakdown"]),
                detail=stages(c["detail"]),
                peak_bytes=c["peak_memory_bytes"],
                input_bytes=c["input_bytes"],
                notes=tuple(c["notes"]),
            )
            for c in data["cases"]
        )
        return cls(
            machine=machine, cases=cases, repeats=data["repeats"], quick=data["quick"],
            seed=data["seed"], command=data["command"],
        )

    @classmethod
    def read_json(cls, path: Path) -> BenchReport:
        return cls.from_dict(json.loads(Path(path).read_text()))

    def write_json(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    # --- display tables (the command line prints these) --------------------------------------

    def tables(self) -> list[Table]:
        """Title, header and string rows of each table to show: timings, targets, agreement."""
        timing_rows: list[list[str]] = []
        for c in self.cases:
            if not c.available:
                timing_rows.append([c.name, "-", "-", "-", c.notes[0] if c.notes else "not available"])
                continue
            for m in c.measurements:
                timing_rows.append(
                    [
                        c.name,
                        m.tool,
                        _secs(m.seconds),
                        _ratio(c.ratio(m)) if m.role != "cartscope" else "1x",
                        m.note,
                    ]
                )
            if c.memory_ratio is not None:
                timing_rows.append(
                    [
                        c.name,
                        "cartscope peak memory",
                        f"{c.peak_bytes / 2**20:,.1f} MiB",
                        f"{c.memory_ratio:.2f}x input",
                        "tracemalloc",
                    ]
                )
        target_rows = [
            [c.name, t.text, "-" if t.value is None else f"{t.value:,.3g}", t.status]
            for c in self.cases
            for t in c.targets
        ]
        agreement_rows = [
            [
                c.name,
                a.quantity,
                a.peer,
                str(a.n),
                f"{_diff(a.max_diff)} ({a.kind})",
                "ok" if a.ok else "DIFFERS",
            ]
            for c in self.cases
            for a in c.agreements
        ]
        return [
            (
                "Median wall-clock seconds (ratio = tool / cartscope)",
                ["case", "tool", "seconds", "ratio", "note"],
                timing_rows,
            ),
            ("Targets", ["case", "target", "measured", "status"], target_rows),
            (
                "Agreement with the peers",
                ["case", "quantity", "peer", "n", "max difference", ""],
                agreement_rows,
            ),
        ]

    # --- Markdown ---------------------------------------------------------------------------

    def to_markdown(self) -> str:
        m = self.machine
        lines = [
            "# Benchmarks",
            "",
            f"Generated by `{self.command}` on {m.date}; "
            "rerun `make bench` to refresh it (do not edit by hand).",
            "",
            "## Machine",
            "",
            "| | |",
            "|---|---|",
            f"| CPU | {m.cpu} |",
            f"| cores | {m.cores} |",
            f"| memory | {m.memory_gib} GiB |" if m.memory_gib is not None else "| memory | unknown |",
            f"| platform | {m.platform} |",
            f"| load average (1 min) at the start | {m.load_average} (on {m.cores} cores) |",
        ]
        lines += [f"| {name} | {version} |" for name, version in m.versions]
        lines += [
            "",
            "## How it is measured",
            "",
            f"- Every time is the median of {self.repeats} wall-clock runs, in seconds. The data are "
            f"synthetic and seeded (seed {self.seed}) and made in the same run.",
            "- cartscope and the Python peers are timed with `time.perf_counter` around the call; the R "
            "peers are timed inside R (`proc.time()` elapsed) around the loop or call only, so R's "
            "start-up and reading the data (passed as binary files) are not counted.",
            "- Peak memory is cartscope's, measured with `tracemalloc` on a separate run: the highest "
            "amount allocated above the level at the start of the call (numpy array buffers included).",
            "- ratio = tool's seconds / cartscope's seconds: a peer at 250x is 250 times slower than "
            "cartscope; the argsort floor at 0.1x means cartscope takes 10 times the floor.",
            "- Threads: numpy's BLAS may use every core for matrix products (the Cox information "
            "matrix); cartscope's screen runs its blocks of markers on a thread per usable core "
            "(its notes say how many); everything else here, R's survival and pROC code "
            "included, runs on one core.",
            "- A peer timed on a subset (the per-marker loops) is extrapolated linearly to the full "
            "size; its note says so.",
            "- What is timed is the public call a user makes (`screen(...)` with its defaults, "
            "`fisher_exact(table)`, `optimism_corrected_auc(...)`, ...); `screen_large` and `study` "
            "run in fresh processes (`study` is the `cartscope analyze` command line end to end, "
            "start-up included), so their peak resident memory and start-up are what a user sees.",
            "- The machine is shared: the load average at the start is printed above; on a loaded "
            "machine every time, R's included, is longer, and the ratios of one run are comparable "
            "because every tool ran under the same load.",
            "",
            "## Summary",
            "",
            "| case | target | measured | status |",
            "|---|---|---|---|",
        ]
        for c in self.cases:
            if not c.available:
                lines.append(f"| {c.name} | - | - | {c.notes[0] if c.notes else 'not available'} |")
            for t in c.targets:
                value = "-" if t.value is None else f"{t.value:,.3g}"
                lines.append(f"| {c.name} | {t.text} | {value} | {t.status} |")
        for c in self.cases:
            lines += ["", f"## {c.name}: {c.title}", ""]
            if not c.available:
                lines += [f"Skipped: {note}" for note in c.notes] or ["Skipped."]
                continue
            lines.append("Size: " + ", ".join(f"{v:,} {k}" for k, v in c.sizes) + ".")
            lines += ["", "| tool | median seconds | ratio | note |", "|---|---|---|---|"]
            for meas in c.measurements:
                ratio = "1x" if meas.role == "cartscope" else _ratio(c.ratio(meas))
                lines.append(f"| {meas.tool} | {_secs(meas.seconds)} | {ratio} | {meas.note} |")
            if c.breakdown:
                lines += [
                    "",
                    "cartscope by stage:",
                    "",
                    "| stage | median seconds | share |",
                    "|---|---|---|",
                ]
                lines += [f"| {s.stage} | {_secs(s.seconds)} | {100 * s.share:.0f}% |" for s in c.breakdown]
            if c.detail:
                lines += [
                    "",
                    "The analyze stage by section:",
                    "",
                    "| step | median seconds | share of total |",
                    "|---|---|---|",
                ]
                lines += [f"| {s.stage} | {_secs(s.seconds)} | {100 * s.share:.0f}% |" for s in c.detail]
            if c.memory_ratio is not None and c.peak_bytes is not None and c.input_bytes:
                lines += [
                    "",
                    f"Peak memory (tracemalloc): {c.peak_bytes / 2**20:,.1f} MiB, "
                    f"{c.memory_ratio:.2f}x the input ({c.input_bytes / 2**20:,.1f} MiB).",
                ]
            if c.agreements:
                lines += [
                    "",
                    "Agreement (values both computed):",
                    "",
                    "| quantity | peer | n | max difference | tolerance | |",
                    "|---|---|---|---|---|---|",
                ]
                for a in c.agreements:
                    verdict = "ok" if a.ok else "DIFFERS"
                    lines.append(
                        f"| {a.quantity} | {a.peer} | {a.n} | {_diff(a.max_diff)} ({a.kind}) "
                        f"| {a.tolerance:.0e} | {verdict} |"
                    )
            if c.targets:
                lines += ["", "Targets:", ""]
                for t in c.targets:
                    value = "-" if t.value is None else f"{t.value:,.3g}"
                    lines.append(
                        f"- {t.text}: measured {value}, **{t.status}**."
                        + (f" {t.explanation}" if t.explanation else "")
                    )
            if c.notes:
                lines += ["", "Notes:", ""]
                lines += [f"- {note}" for note in c.notes]
        return "\n".join(lines) + "\n"

    def write_markdown(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_markdown())
        return path
