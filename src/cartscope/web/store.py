"""The web application's handle on the DuckDB study store.

DuckDB lets one process hold a file either read-write or read-only, not both at once, so
every access from the request and analysis threads goes through one lock. Snapshots never
change once stored, so the last few loaded cohorts are kept in memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import pandas as pd

from cartscope.cohort.model import Cohort
from cartscope.cohort.store import ImportReport, list_snapshots, load_snapshot, store_cohort


class StudyStore:
    def __init__(self, path: Path, cache_size: int = 4):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, int], Cohort] = OrderedDict()
        self._cache_size = cache_size

    def save(self, cohort: Cohort, study: str, source: str) -> ImportReport:
        with self._lock:
            return store_cohort(cohort, self.path, study=study, source=source)

    def snapshots(self, study: str) -> pd.DataFrame:
        with self._lock:
            if not self.path.exists():
                return pd.DataFrame(columns=["study", "snapshot", "data_hash", "imported_at", "source", "n_patients"])
            table = list_snapshots(self.path)
        return table[table["study"] == study].sort_values("snapshot", ascending=False).reset_index(drop=True)

    def latest(self, study: str) -> int | None:
        snaps = self.snapshots(study)
        return None if snaps.empty else int(snaps["snapshot"].max())

    def load(self, study: str, snapshot: int) -> Cohort:
        key = (study, int(snapshot))
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            cohort = load_snapshot(self.path, study, int(snapshot))
            self._cache[key] = cohort
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return cohort
