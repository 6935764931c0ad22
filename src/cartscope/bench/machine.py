"""The machine a benchmark ran on: CPU, cores, memory, Python, numpy and R versions, date."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from cartscope.bench.peers_python import package_versions
from cartscope.bench.peers_r import r_versions


@dataclass(frozen=True)
class Machine:
    """What timings depend on; ``versions`` maps software to its version."""

    cpu: str
    cores: int
    memory_gib: float | None
    platform: str
    date: str
    load_average: float | None
    versions: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["versions"] = dict(self.versions)
        return out


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def _memory_gib() -> float | None:
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    return None


def _load_average() -> float | None:
    """One-minute load average: other work on the machine slows every tool alike."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _blas() -> str | None:
    """numpy's BLAS library and its thread count (threads change the Cox timings a lot)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return f"{pool.get('internal_api')} {pool.get('version')}, {pool.get('num_threads')} threads"
    return None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def describe_machine() -> Machine:
    """The current machine and software versions (R's only if Rscript is installed)."""
    versions: dict[str, str] = {"python": sys.version.split()[0]}
    for dist in ("cartscope", "numpy", "pandas"):
        v = _version(dist)
        if v:
            versions[dist] = v
    versions.update(package_versions())
    blas = _blas()
    if blas:
        versions["BLAS (numpy)"] = blas
    for name, v in r_versions().items():
        versions["R" if name == "R" else f"R {name}"] = v
    return Machine(
        cpu=_cpu_model(),
        cores=os.cpu_count() or 1,
        memory_gib=_memory_gib(),
        platform=platform.platform(),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        load_average=_load_average(),
        versions=tuple(versions.items()),
    )
