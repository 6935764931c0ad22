"""Scaling of the Dask path on 1, 2 and 4 local workers (the measured section of docs/scale.md).

``python -m cartscope.bench.scaling --json docs/scale.json --doc docs/scale.md`` times, in
process and then on a ``LocalCluster`` of N worker processes (one thread each, loopback tcp),
the public calls that send work to a cluster -- the panel screen, the permutation p-values of
a panel, the optimism-corrected AUC and the Youden bootstrap -- checks that every run gives the
in-process result byte for byte (pickled), writes the run to JSON and renders it into the
measured section of the page. ``--from-json docs/scale.json --doc docs/scale.md`` renders
again without timing anything (what the test of the page does).

Beside each wall time the run records where the CPU went, so a figure can be read on a
shared machine: the CPU seconds of this process (the client and, for a local cluster, the
scheduler), of its child processes (the Dask nannies and workers), and of every other process
on the machine during the same seconds (``/proc/stat`` busy time minus ours), with the 1-minute
load average when the figure started. Cores used = our CPU seconds / wall seconds; on a
machine of C cores the wall time cannot fall below our CPU seconds / C.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import pickle
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


BEGIN = "<!-- measured: rendered from docs/scale.json by python -m cartscope.bench.scaling; do not edit by hand -->"
END = "<!-- end of the measured section -->"


@dataclass(frozen=True)
class Run:
    """One timed call: wall seconds and CPU seconds (ours here, our children, everyone else)."""

    wall: float
    cpu_here: float
    cpu_children: float
    cpu_others: float
    load1: float

    @property
    def cores(self) -> float:
        return (self.cpu_here + self.cpu_children) / self.wall if self.wall > 0 else float("nan")


@dataclass(frozen=True)
class Row:
    workload: str
    setting: str
    workers: int  # 0 = in process
    identical: bool
    runs: list[Run] = field(default_factory=list)

    def median(self) -> Run:
        """The run of median wall time (the middle one of an odd number of repeats)."""
        return sorted(self.runs, key=lambda r: r.wall)[(len(self.runs) - 1) // 2]


@dataclass(frozen=True)
class Measurement:
    date: str
    cores: int
    repeats: int
    sizes: dict[str, int]
    rows: list[Row]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Measurement:
        rows = [Row(r["workload"], r["setting"], int(r["workers"]), bool(r["identical"]),
                    [Run(**run) for run in r["runs"]]) for r in d["rows"]]
        return cls(str(d["date"]), int(d["cores"]), int(d["repeats"]), dict(d["sizes"]), rows)

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def read_json(cls, path: Path) -> Measurement:
        return cls.from_dict(json.loads(path.read_text()))


# --------------------------------------------------------------------------------------------
# measuring
# --------------------------------------------------------------------------------------------


def _busy_seconds() -> float:
    """CPU seconds every process of the machine has spent busy since boot (``/proc/stat``)."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()[1:]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _children_seconds() -> float:
    import psutil  # a dependency of distributed

    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            t = child.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def _here_seconds() -> float:
    t = os.times()
    return t.user + t.system


def timed_run(fn: Callable[[], Any]) -> tuple[Run, Any]:
    """Time ``fn()`` with the CPU seconds of this process, its children and everyone else."""
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    busy, here, kids = _busy_seconds(), _here_seconds(), _children_seconds()
    start = time.perf_counter()
    out = fn()
    wall = time.perf_counter() - start
    here, kids, busy = _here_seconds() - here, _children_seconds() - kids, _busy_seconds() - busy
    return Run(wall, here, kids, max(0.0, busy - here - kids), load1), out


def workloads(seed: int, n: int, m: int, n_perm: int, panel: int, n_boot: int,
              youden_markers: int, n_youden: int) -> dict[str, Callable[[], Any]]:
    """The public calls that send work to a cluster, each returning what is compared."""
    from cartscope.analysis.biomarkers import optimism_corrected_auc, screen
    from cartscope.analysis.biomarkers.resampling import permutation_test, youden_bootstrap
    from cartscope.bench.data import screen_data

    d = screen_data(n, m, seed)
    xp = d.x[:, : min(m, panel)]
    xy = d.x[:, : min(m, youden_markers)]

    def optimism() -> Any:
        r = optimism_corrected_auc(xp, d.label, n_boot=n_boot, seed=seed)
        return r.replicate_optimism, r.corrected_auc

    def youden() -> Any:
        r = youden_bootstrap(xy, d.label, n_boot=n_youden, seed=seed)
        return r.table, r.replicates

    return {
        f"screen() defaults, {m:,} markers x {n:,} patients":
            lambda: screen(d.x, d.label, time=d.time, event=d.event).table,
        f"permutation_test, {n_perm:,} permutations x {xp.shape[1]} markers":
            lambda: permutation_test(xp, d.label, n_perm=n_perm, seed=seed).table,
        f"optimism_corrected_auc, {n_boot:,} bootstraps x {xp.shape[1]} markers": optimism,
        f"youden_bootstrap, {n_youden:,} resamples x {xy.shape[1]} markers": youden,
    }


FULL = dict(n=1_000, m=2_000, n_perm=100_000, panel=200, n_boot=400, youden_markers=50, n_youden=1_000)
QUICK = dict(n=200, m=100, n_perm=1_000, panel=20, n_boot=50, youden_markers=5, n_youden=50)


def measure(workers: Sequence[int] = (1, 2, 4), seed: int = 2024, repeats: int = 3,
            sizes: dict[str, int] | None = None, log: Callable[[str], None] = print) -> Measurement:
    """Every workload in process and on a LocalCluster of each number of workers.

    All the clusters are started first and stay up; after one warm-up run of every workload
    on every setting (imports, scattered data), the timed runs are interleaved -- repeat by
    repeat, workload by workload, setting by setting -- so a burst of other work on a shared
    machine falls on every setting alike instead of on one.
    """
    import contextlib

    from cartscope.analysis.distributed import cluster, sending_to

    sizes = dict(FULL if sizes is None else sizes)
    loads = workloads(seed, **sizes)
    settings = [(0, "in process")] + [(w, f"LocalCluster, {w} worker{'s' if w > 1 else ''}") for w in workers]
    runs: dict[tuple[str, int], list[Run]] = {(name, w): [] for name in loads for w, _ in settings}
    same: dict[tuple[str, int], bool] = {key: True for key in runs}
    reference: dict[str, bytes] = {}
    with contextlib.ExitStack() as stack:
        clients = {0: None, **{w: stack.enter_context(cluster(workers=w)) for w in workers}}
        for name, fn in loads.items():
            for w, _ in settings:
                with sending_to(clients[w]):
                    data = pickle.dumps(fn())
                same[name, w] = reference.setdefault(name, data) == data
        for _ in range(repeats):
            for name, fn in loads.items():
                for w, setting in settings:
                    with sending_to(clients[w]):
                        run, out = timed_run(fn)
                    runs[name, w].append(run)
                    same[name, w] = same[name, w] and reference[name] == pickle.dumps(out)
                    log(f"{name} | {setting} | {run.wall:.3f} s | cores {run.cores:.2f} | "
                        f"others {run.cpu_others:.2f} CPU s | load {run.load1:.2f}")
    rows = [Row(name, setting, w, same[name, w], runs[name, w]) for name in loads for w, setting in settings]
    date = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return Measurement(date, os.cpu_count() or 0, repeats, sizes, rows)


# --------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "-"


def render(m: Measurement) -> str:
    """The measured section of docs/scale.md (between :data:`BEGIN` and :data:`END`)."""
    loads = [r.load1 for row in m.rows for r in row.runs]
    out = [
        BEGIN,
        "",
        f"`python -m cartscope.bench.scaling --json docs/scale.json --doc docs/scale.md` on the "
        f"{m.cores}-core development machine, {m.date}; median of {m.repeats} runs after one warm-up "
        f"run per setting, the runs of all settings interleaved. The 1-minute load average at the start of the figures ranged "
        f"{min(loads):.2f}-{max(loads):.2f} (it includes this run's own processes).",
        "",
        "Columns: *wall* is the median run; *CPU s* are the CPU seconds of that run in this "
        "process (client and local scheduler) plus its child processes (Dask nannies and "
        "workers); *cores used* = CPU s / wall; *floor* = CPU s / "
        f"{m.cores} cores, the shortest wall time this much CPU work can take here; *others* "
        "are the CPU seconds every other process of the machine used during the same run "
        "(another engineer's tests); *vs 1 worker* is the 1-worker wall time over this one.",
        "",
        "| workload | where | wall s | CPU s | cores used | floor s | others CPU s | load avg | "
        "vs 1 worker | identical to in process |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    one = {row.workload: row.median().wall for row in m.rows if row.workers == 1}
    for row in m.rows:
        r = row.median()
        cpu = r.cpu_here + r.cpu_children
        vs = _ratio(one[row.workload], r.wall) if row.workers >= 1 and row.workload in one else "-"
        out.append(f"| {row.workload} | {row.setting} | {r.wall:.2f} | {cpu:.2f} | {r.cores:.2f} | "
                   f"{cpu / m.cores:.2f} | {r.cpu_others:.2f} | {r.load1:.2f} | {vs} | "
                   f"{'yes' if row.identical else 'NO'} |")
    out += ["", *_reading(m), "", END]
    return "\n".join(out) + "\n"


def _reading(m: Measurement) -> list[str]:
    """What the table shows, in numbers taken from it."""
    by = {(row.workload, row.workers): row.median() for row in m.rows}
    names = list(dict.fromkeys(row.workload for row in m.rows))
    lines = ["What the numbers show:", ""]
    same = all(row.identical for row in m.rows)
    lines.append(f"* Every run gave the in-process result byte for byte: {'yes' if same else 'NO'}.")
    for name in names:
        if (name, 1) not in by:
            continue
        parts = []
        r0, r1 = by.get((name, 0)), by[(name, 1)]
        if r0 is not None:
            parts.append(f"in process {r0.wall:.2f} s ({r0.cores:.2f} cores), 1 worker {r1.wall:.2f} s")
        for w in (2, 4):
            rw = by.get((name, w))
            if rw is not None:
                cpu = rw.cpu_here + rw.cpu_children
                parts.append(f"{w} workers {rw.wall:.2f} s ({_ratio(r1.wall, rw.wall)} of 1 worker, "
                             f"{rw.cores:.2f} cores busy, {cpu:.2f} CPU s, floor {cpu / m.cores:.2f} s)")
        lines.append(f"* {name}: " + "; ".join(parts) + ".")
    meds = [row.median() for row in m.rows]
    wall = sum(r.wall for r in meds)
    others = sum(r.cpu_others for r in meds) / wall if wall > 0 else float("nan")
    best = max(r.cores for r in meds)
    lines += [
        "",
        f"Contention in this run: other processes kept {others:.2f} of the {m.cores} cores busy on "
        f"average during these figures, and this run's processes never got more than {best:.2f} "
        f"cores. Where that is well below {m.cores}, the wall times show the machine's load, not "
        f"the scaling; the CPU seconds do not depend on it as much: the work's cost on N workers "
        f"(CPU s) and the shortest time it could take on {m.cores} free cores (floor) are the "
        f"figures to compare.",
    ]
    lines += [
        "",
        f"The ceiling: this machine has {m.cores} cores, so at most {m.cores} CPU seconds are "
        f"spent per wall second, and the wall time of a run cannot fall below its CPU seconds / "
        f"{m.cores} (the *floor* column). Two workers can keep both cores busy; four workers "
        f"share the same {m.cores} cores, so each runs at most half the time and the wall time "
        f"stays at the floor, which itself rises with every worker's serialisation, "
        f"scheduling and heartbeats. A speed-up beyond {m.cores}x needs a cluster with more cores, "
        f"not more workers on the same ones. Where *others* is not small, other processes took "
        f"cores from this run and its figure is slower than the machine allows.",
    ]
    return lines


def write_doc(m: Measurement, doc: Path) -> None:
    """Replace the measured section of ``doc`` by the rendering of ``m``."""
    text = doc.read_text()
    if BEGIN not in text or END not in text:
        raise ValueError(f"{doc}: no measured section ({BEGIN!r} ... {END!r})")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(head + render(m).rstrip("\n") + tail)


def measured_section(doc: Path) -> str:
    """The measured section as it stands in ``doc`` (from :data:`BEGIN` to :data:`END`)."""
    text = doc.read_text()
    return BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m cartscope.bench.scaling", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one run (to check the machinery)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--json", type=Path, help="write the run here")
    ap.add_argument("--from-json", type=Path, help="render this run instead of timing anything")
    ap.add_argument("--doc", type=Path, help="replace the measured section of this page")
    args = ap.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.from_json is not None:
        m = Measurement.read_json(args.from_json)
    else:
        m = measure(args.workers, repeats=1 if args.quick else args.repeats, sizes=QUICK if args.quick else None)
        if args.json is not None:
            m.write_json(args.json)
    if args.doc is not None:
        write_doc(m, args.doc)
    print(render(m))
    return 0 if all(row.identical for row in m.rows) else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
