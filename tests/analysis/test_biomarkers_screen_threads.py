"""The screen's blocks on a thread pool: byte-identical results for any number of threads,
the blocks really run on the pool's threads, the peak memory stays within 1.5x the input,
and the ``threads`` setting is checked (function argument and plan option)."""

from __future__ import annotations

import os
import threading

import numpy as np
import pandas as pd
import pytest

from cartscope.analysis.analyses.biomarkers import ScreenOptions
from cartscope.analysis.biomarkers import _screen_chunk, screen
from cartscope.bench.data import screen_data
from cartscope.bench.timing import peak_memory


def _panel(n: int = 90, m: int = 100, seed: int = 11) -> dict[str, object]:
    """Markers with missing values and heavy ties (rounded values, a constant marker, a marker
    missing for all but a few patients), outcome with unknowns, survival with ties and gaps."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(float)
    y[rng.choice(n, 6, replace=False)] = np.nan
    x = rng.lognormal(0.0, 1.0, (n, m)) * (1.0 + 0.8 * np.nan_to_num(y, nan=0.0))[:, None]
    x[:, 3:] = np.round(x[:, 3:], 1)  # ties (the first three stay tie-free: exact p)
    x[:, ::3] = np.round(x[:, ::3], 0)  # many ties, zeros among them (log2 Cox: NaN)
    x[:, 5] = 2.0  # constant
    x[rng.random((n, m)) < 0.1] = np.nan
    x[4:, 7] = np.nan  # almost all missing
    t = np.round(rng.exponential(300.0, n), -1) + 10.0  # tied times
    e = (rng.random(n) < 0.6).astype(float)
    t[[0, 9]] = np.nan
    sub = np.array(["B-ALL", "B-NHL"], dtype=object)[rng.integers(0, 2, n)]
    ref = pd.Series(rng.uniform(0.5, 2.0, m), index=[f"m{j}" for j in range(m)])
    return {"x": pd.DataFrame(x, columns=ref.index), "y": y, "t": t, "e": e, "sub": sub, "ref": ref}


def _frames(res) -> list[pd.DataFrame]:  # type: ignore[no-untyped-def]
    return [res.table, res.subgroups, res.overlap]


def _same_bytes(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert a.index.equals(b.index)
    for col in a.columns:
        u, v = a[col].to_numpy(), b[col].to_numpy()
        assert u.dtype == v.dtype, col
        if u.dtype == object:
            assert list(u) == list(v), col
        else:
            assert u.tobytes() == v.tobytes(), col


@pytest.mark.parametrize("cox_per", ["unit", "log2"])
def test_any_number_of_threads_gives_the_same_bytes(cox_per: str, monkeypatch: pytest.MonkeyPatch) -> None:
    d = _panel()
    seen: dict[int, set[str]] = {}
    real = _screen_chunk.run_block

    def recording(plan, xb, cols, share=1):  # type: ignore[no-untyped-def]
        seen.setdefault(current, set()).add(threading.current_thread().name)
        return real(plan, xb, cols, share)

    monkeypatch.setattr(_screen_chunk, "run_block", recording)
    runs = {}
    for current in (1, 2, 3):
        runs[current] = screen(d["x"], d["y"], time=d["t"], event=d["e"], subgroups=d["sub"],
                               reference=d["ref"], cox_per=cox_per, threads=current)  # type: ignore[arg-type]
    one = runs[1]
    assert one.table["auc"].iloc[5] == 0.5 and one.table["n_positive"].iloc[7] < 4
    assert set(one.table["mw_method"]) == {"exact", "normal"}
    assert np.isfinite(one.table["cox_hr"]).sum() > 30 and len(one.subgroups) == 200
    for k in (2, 3):
        for a, b in zip(_frames(one), _frames(runs[k]), strict=True):
            _same_bytes(a, b)
    assert seen[1] == {threading.current_thread().name}
    for k in (2, 3):  # the blocks ran on the pool: k threads, none of them this one
        assert len(seen[k]) == k and threading.current_thread().name not in seen[k]


def test_threads_narrow_the_blocks() -> None:
    slices = {k: _screen_chunk.chunk_slices(500, 1000, k) for k in (1, 2, 3)}
    assert [s.stop - s.start for s in slices[1][:2]] == [100, 100]
    assert slices[2][0].stop == 50 and slices[3][0].stop == 33
    for s in slices.values():  # every marker once, in order
        assert np.array_equal(np.concatenate([np.arange(c.start, c.stop) for c in s]), np.arange(1000))


@pytest.mark.slow
def test_the_peak_stays_within_1_5x_the_input_on_any_number_of_threads() -> None:
    """On the bench's kind of panel (missing values, survival), 700 x 1,400 (11 MB)."""
    d = screen_data(700, 1400, 1)
    for k in (1, 2, 3):
        peak = peak_memory(lambda: screen(d.x, d.label, time=d.time, event=d.event, threads=k))  # noqa: B023
        assert 0.3 * d.x.nbytes < peak <= 1.5 * d.x.nbytes, (k, peak / d.x.nbytes)


def test_threads_setting_is_checked() -> None:
    d = _panel(n=40, m=8)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="threads must be an integer"):
            screen(d["x"], d["y"], threads=bad)  # type: ignore[arg-type]
    assert _screen_chunk.default_threads() == min(_screen_chunk.MAX_THREADS, len(os.sched_getaffinity(0)))
    assert _screen_chunk.resolve_threads(None) == _screen_chunk.default_threads()
    assert ScreenOptions.model_validate({"timepoint": "day7"}).threads is None
    assert ScreenOptions.model_validate({"timepoint": "day7", "threads": 2}).threads == 2
    with pytest.raises(ValueError):
        ScreenOptions.model_validate({"timepoint": "day7", "threads": 0})
