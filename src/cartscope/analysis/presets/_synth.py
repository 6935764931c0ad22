"""Building blocks shared by the synthetic cohort generators.

Every function takes an explicit ``numpy.random.Generator``; nothing here keeps state. The
pieces are:

- :func:`pinned_sample` - values with an exact published median and range;
- :func:`crs_rows` - daily toxicity rows whose ASTCT grade (domain-reference §1.3) is a chosen
  CRS grade;
- :func:`arrange_labels` - an ordering of two classes with an exact Mann-Whitney U (so an exact
  AUC) and, optionally, the Youden-optimal split at a chosen place (domain-reference §7.5);
- :func:`exact_u_pvalue` - the exact two-sided Mann-Whitney p-value of a U statistic, used to
  pick the U that reproduces a published p-value;
- :func:`expansion_curve` - a CAR transgene course (exponential expansion, bi-exponential
  decline; the shape of the tisagenlecleucel models quoted in domain-reference §5.2);
- :func:`frame` - a table with exactly the schema's columns and stable dtypes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from cartscope.cohort.schema import TABLES

MONTH_DAYS = 30.4375
"""Days per month (365.25 / 12): every month figure of the presets is converted with it."""

FEVER_C = 38.0
"""ASTCT fever threshold (domain-reference §1.1); 38.0 exactly is fever."""

_INT_KINDS = ("int", "day")


# --- tables ----------------------------------------------------------------------------


def frame(table: str, rows: Iterable[Mapping[str, Any]], extra: Sequence[str] = ()) -> pd.DataFrame:
    """A DataFrame with every column of schema ``table`` (in schema order), plus ``extra``.

    Integer and day columns become nullable ``Int64``, booleans nullable ``boolean``, floats
    ``float64`` and everything else ``object`` strings, so that the same rows always give the
    same frame (and the same CSV bytes).
    """
    schema = TABLES[table]
    data = pd.DataFrame(list(rows))
    columns = list(schema.names) + [c for c in extra if c not in schema.names]
    out = pd.DataFrame(index=range(len(data)))
    for name in columns:
        if name in data.columns:
            raw = data[name].to_numpy(dtype=object)
        else:
            raw = np.full(len(data), None, dtype=object)
        kind = schema.column(name).kind if name in schema.names else None
        missing = np.array([_missing(v) for v in raw], dtype=bool)
        if kind in _INT_KINDS:
            nums = np.where(missing, np.nan, raw).astype(float)
            out[name] = pd.array(np.round(nums), dtype="Float64").astype("Int64")
        elif kind == "bool":
            out[name] = pd.array(np.where(missing, None, raw), dtype="boolean")
        elif kind == "float":
            out[name] = np.where(missing, np.nan, raw).astype("float64")
        elif kind is None:
            out[name] = raw
        else:
            out[name] = pd.Series(np.where(missing, None, raw.astype(str)), dtype=object)
    return out


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA


# --- pinned samples ----------------------------------------------------------------------


def pinned_sample(
    rng: np.random.Generator,
    n: int,
    median: float,
    lo: float,
    hi: float,
    *,
    log: bool = True,
    decimals: int | None = None,
    n_at_hi: int = 1,
    n_at_lo: int = 1,
) -> np.ndarray:
    """``n`` sorted values with minimum ``lo``, maximum ``hi`` and sample median ``median``.

    Values between the pinned ones are drawn uniformly (on the log scale when ``log``) inside
    the gaps, so the published median and range hold exactly; ``n_at_hi`` values sit at ``hi``
    (e.g. results at an assay's upper limit). For an even ``n`` the two middle values are
    ``median -/+ d`` with a small ``d`` (after rounding to ``decimals`` their mean is still the
    median).
    """
    if n < 3 or not lo <= median <= hi:
        raise ValueError(f"cannot pin median {median} in [{lo}, {hi}] with n = {n}")
    tf = np.log if log else (lambda x: np.asarray(x, dtype=float))
    itf = np.exp if log else (lambda x: np.asarray(x, dtype=float))
    out = np.empty(n)
    out[:n_at_lo] = lo
    out[n - n_at_hi:] = hi
    if n % 2:
        mids = [n // 2]
        out[n // 2] = median
        lo_mid, hi_mid = median, median
    else:
        step = 10.0 ** -(decimals if decimals is not None else 3)
        d = step * max(1, round(0.002 * median / step)) if median > 0 else step
        d = min(d, (median - lo) / 4, (hi - median) / 4) if decimals is None else d
        mids = [n // 2 - 1, n // 2]
        out[n // 2 - 1], out[n // 2] = median - d, median + d
        lo_mid, hi_mid = median - d, median + d
    low_idx = np.arange(n_at_lo, min(mids))
    high_idx = np.arange(max(mids) + 1, n - n_at_hi)
    if len(low_idx):
        out[low_idx] = np.sort(itf(rng.uniform(tf(lo), tf(lo_mid), len(low_idx))))
    if len(high_idx):
        out[high_idx] = np.sort(itf(rng.uniform(tf(hi_mid), tf(hi), len(high_idx))))
    if decimals is not None:
        out = np.round(out, decimals)
        out[:n_at_lo] = round(lo, decimals)
        out[n - n_at_hi:] = round(hi, decimals)
    return np.sort(out)


def pinned_integers(rng: np.random.Generator, n: int, median: int, lo: int, hi: int) -> np.ndarray:
    """``n`` sorted integers with exact minimum, maximum and median (odd or even ``n``)."""
    out = np.empty(n, dtype=int)
    half = n // 2
    out[0], out[-1] = lo, hi
    if n % 2:
        out[half] = median
        lower, upper = range(1, half), range(half + 1, n - 1)
    else:
        out[half - 1] = out[half] = median
        lower, upper = range(1, half - 1), range(half + 1, n - 1)
    out[list(lower)] = rng.integers(lo, median + 1, len(lower))
    out[list(upper)] = rng.integers(median, hi + 1, len(upper))
    return np.sort(out)


def assign_by_score(values: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Give the sorted ``values`` to units in the order of ``score`` (lowest score, lowest value)."""
    out = np.empty(len(values))
    out[np.argsort(score, kind="stable")] = np.sort(values)
    return out


# --- CRS daily rows ----------------------------------------------------------------------


def crs_rows(
    rng: np.random.Generator,
    patient_id: str,
    grade: int,
    *,
    onset: int,
    duration: int,
    first_day: int = 0,
    last_day: int = 21,
    child: bool = False,
    tocilizumab: bool | None = None,
    steroids: bool | None = None,
    feature: str | None = None,
) -> list[dict[str, Any]]:
    """Daily toxicity rows from ``first_day`` to ``last_day`` whose ASTCT CRS grade is ``grade``.

    CRS runs from ``onset`` for ``duration`` days with fever (T >= 38.0 C) every CRS day except,
    for grade >= 2, possibly the last one, which is then carried by hypotension or hypoxia
    under fever masking (tocilizumab was given on an earlier CRS day; domain-reference §1.2
    rule 2). The severe feature of grades 2-4 (``feature`` = "hypotension" or "hypoxia",
    random when None) is present on 1-3 days in the middle of the episode:

    - grade 2: hypotension without vasopressor, or low-flow oxygen (<= 6 L/min);
    - grade 3: one vasopressor, or high-flow oxygen (> 6 L/min);
    - grade 4: two vasopressors, or positive-pressure ventilation.

    Outside the episode temperatures are < 38.0 C and there is neither hypotension nor oxygen,
    so the episode resolves cleanly. Neurological fields are normal (no ICANS): ICE 10 for
    patients aged 12 or more, CAPD 0 for children (``child``).
    """
    if grade < 0 or grade > 4:
        raise ValueError(f"CRS grade must be 0-4, got {grade}")
    days = np.arange(first_day, last_day + 1)
    crs_days = set(range(onset, onset + duration)) if grade > 0 else set()
    if feature is None:
        feature = "hypotension" if rng.random() < 0.5 else "hypoxia"
    severe: list[int] = []
    masked_last = False
    if grade >= 2:
        n_severe = int(rng.integers(1, 4))
        start = onset + min(1, duration - 1) if duration > 1 else onset
        severe = [d for d in range(start, start + n_severe) if d in crs_days]
        # the last severe day may fall after defervescence, once tocilizumab was given
        masked_last = duration >= 3 and severe[-1] == onset + duration - 1 and len(severe) >= 2
    give_toci = (grade >= 2) if tocilizumab is None else tocilizumab
    give_steroids = (grade >= 3) if steroids is None else steroids
    rows = []
    for day in days:
        in_crs = int(day) in crs_days
        is_severe = int(day) in severe
        febrile = in_crs and not (masked_last and day == onset + duration - 1)
        temp = rng.uniform(38.2, 39.8 if grade >= 2 else 39.2) if febrile else rng.uniform(36.2, 37.6)
        row: dict[str, Any] = {
            "patient_id": patient_id,
            "day": int(day),
            "temperature_c": round(float(temp), 1),
            "hypotension": False,
            "vasopressors": 0,
            "vasopressin": False,
            "oxygen": "none",
            "oxygen_l_min": None,
            "consciousness": "alert",
            "seizure": "none",
            "motor_weakness": False,
            "cerebral_edema": "none",
            "tocilizumab": bool(give_toci and severe and day == severe[0]),
            "steroids": bool(give_steroids and severe and day == severe[0]),
            "antipyretics": bool(febrile),
        }
        if child:
            row["capd_score"] = 0
        else:
            row["ice_score"] = 10
        if is_severe:
            if feature == "hypotension":
                row["hypotension"] = True
                row["vasopressors"] = {2: 0, 3: 1, 4: 2}[grade]
                row["vasopressin"] = bool(grade == 4 and rng.random() < 0.5)
            else:
                row["oxygen"] = {2: "low-flow", 3: "high-flow", 4: "positive-pressure"}[grade]
                row["oxygen_l_min"] = {2: float(rng.integers(1, 6)), 3: float(rng.integers(8, 40)), 4: None}[grade]
        rows.append(row)
    return rows


# --- ordering of two classes -------------------------------------------------------------


def _u_statistic(seq: np.ndarray) -> int:
    """Pairs (negative, positive) with the negative later (higher) in ``seq`` (1 = positive)."""
    neg_after = np.cumsum((seq == 0)[::-1])[::-1]
    return int(neg_after[seq == 1].sum())


def _youden_violations(seq: np.ndarray, cut: int | None, n_pos: int, n_neg: int) -> int:
    """Places other than ``cut`` whose Youden J (positives low) reaches J at ``cut``."""
    if cut is None:
        return 0
    p = np.concatenate([[0], np.cumsum(seq == 1)])
    q = np.concatenate([[0], np.cumsum(seq == 0)])
    j = p * n_neg - q * n_pos  # J scaled by n_pos * n_neg
    others = np.delete(j, cut)
    return int((others >= j[cut]).sum())


def arrange_labels(
    rng: np.random.Generator,
    below: tuple[int, int],
    above: tuple[int, int],
    target_u: int,
    *,
    youden_at_split: bool = True,
    max_steps: int = 200_000,
) -> np.ndarray:
    """An ascending order of labels (1 = positive, 0 = negative) with an exact U.

    ``below`` / ``above`` = (positives, negatives) on each side of a cutoff; positives are the
    class expected *low*. ``target_u`` counts (positive, negative) pairs with the negative
    higher (so AUC = U / (n_pos n_neg)). With ``youden_at_split`` the split between the two
    sides is the unique maximum of Youden's J over all cutoffs. Found by random adjacent swaps
    inside each side (a deterministic walk for a given ``rng``).
    """
    n_pos, n_neg = below[0] + above[0], below[1] + above[1]
    n_lo = sum(below)
    lo = np.array([1] * below[0] + [0] * below[1])
    hi = np.array([1] * above[0] + [0] * above[1])
    rng.shuffle(lo)
    rng.shuffle(hi)
    seq = np.concatenate([lo, hi])
    cut = n_lo if youden_at_split else None

    def cost(s: np.ndarray) -> int:
        return abs(_u_statistic(s) - target_u) + 3 * _youden_violations(s, cut, n_pos, n_neg)

    current = cost(seq)
    for _ in range(max_steps):
        if current == 0:
            return seq
        side = rng.integers(0, 2)
        start, stop = (0, n_lo) if side == 0 else (n_lo, len(seq))
        if stop - start < 2:
            continue
        i = int(rng.integers(start, stop - 1))
        if seq[i] == seq[i + 1]:
            continue
        seq[i], seq[i + 1] = seq[i + 1], seq[i]
        new = cost(seq)
        if new <= current or rng.random() < 0.02:
            current = new
        else:
            seq[i], seq[i + 1] = seq[i + 1], seq[i]
    raise RuntimeError(f"no ordering with U = {target_u} for {below} / {above} was found")


@lru_cache(maxsize=64)
def _u_null_counts(m: int, n: int) -> tuple[int, ...]:
    """Number of orderings of m positives and n negatives giving each U (0..m n)."""
    table = [[np.zeros(1, dtype=object)] * (n + 1) for _ in range(m + 1)]
    for i in range(m + 1):
        for j in range(n + 1):
            if i == 0 or j == 0:
                table[i][j] = np.ones(1, dtype=object)
                continue
            a = np.zeros(i * j + 1, dtype=object)
            prev_i = table[i - 1][j]  # last element a positive with j negatives above it
            a[j:j + len(prev_i)] += prev_i
            prev_j = table[i][j - 1]
            a[:len(prev_j)] += prev_j
            table[i][j] = a
    return tuple(int(c) for c in table[m][n])


def exact_u_pvalue(u: int, m: int, n: int) -> float:
    """Exact two-sided Mann-Whitney p-value of U for samples of sizes m and n (no ties).

    Two-sided as R ``wilcox.test(exact = TRUE)``: twice the smaller tail, capped at 1.
    """
    lower_tail, upper_tail = _u_tails(m, n)
    return float(min(1.0, 2 * min(lower_tail[u], upper_tail[u])))


@lru_cache(maxsize=64)
def _u_tails(m: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """P(U <= u) and P(U >= u) under the null, for u = 0..m n."""
    counts = np.array(_u_null_counts(m, n), dtype=float)
    total = counts.sum()
    return np.cumsum(counts) / total, np.cumsum(counts[::-1])[::-1] / total


def u_for_pvalue(p: float, m: int, n: int, *, high: bool = True) -> int:
    """The U (above the null mean when ``high``) whose exact two-sided p is closest to ``p``."""
    mean = m * n / 2
    candidates = range(int(np.ceil(mean)), m * n + 1) if high else range(0, int(np.floor(mean)) + 1)
    return min(candidates, key=lambda u: abs(np.log(exact_u_pvalue(u, m, n)) - np.log(p)))


def u_of(values: np.ndarray, labels: np.ndarray) -> int:
    """U for sample values: pairs (positive, negative) with the negative value higher."""
    pos = values[labels == 1]
    neg = values[labels == 0]
    return int((neg[None, :] > pos[:, None]).sum())


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of two equal-length vectors."""
    xc = x - x.mean()
    yc = y - y.mean()
    return float((xc * yc).sum() / np.sqrt((xc * xc).sum() * (yc * yc).sum()))


def with_correlation(rng: np.random.Generator, x: np.ndarray, r: float) -> np.ndarray:
    """A standardised vector whose Pearson correlation with ``x`` is exactly ``r``."""
    xs = (x - x.mean()) / x.std()
    e = rng.standard_normal(len(x))
    e = e - e.mean()
    e = e - (e @ xs) / (xs @ xs) * xs
    e = e / e.std()
    return r * xs + np.sqrt(1 - r * r) * e


# --- kinetics ----------------------------------------------------------------------------


def expansion_curve(
    days: np.ndarray,
    *,
    peak: float,
    tmax: float,
    start: float = 50.0,
    fast_half_life: float = 5.0,
    slow_half_life: float = 120.0,
    slow_fraction: float = 0.05,
    lloq: float = 10.0,
) -> np.ndarray:
    """CAR transgene level at ``days`` after an infusion: exponential rise from ``start`` at
    day 0 to ``peak`` at ``tmax``, then a bi-exponential decline (fast and slow phase). Values
    under ``lloq`` are reported as 0."""
    d = np.asarray(days, dtype=float)
    rise = start * (peak / start) ** np.clip(d / tmax, 0, 1)
    t = np.clip(d - tmax, 0, None)
    fall = peak * ((1 - slow_fraction) * 0.5 ** (t / fast_half_life) + slow_fraction * 0.5 ** (t / slow_half_life))
    level = np.where(d <= tmax, rise, fall)
    return np.where(level < lloq, 0.0, np.round(level, 1))


def cytokine_course(
    days: np.ndarray, *, baseline: float, peak: float, peak_day: int, width: float = 2.5
) -> np.ndarray:
    """A cytokine course peaking at ``peak_day`` (log-scale Gaussian bump over ``baseline``);
    the value on ``peak_day`` is exactly ``peak`` and every other day is lower."""
    d = np.asarray(days, dtype=float)
    bump = np.exp(-0.5 * ((d - peak_day) / width) ** 2)
    level = np.exp(np.log(baseline) + (np.log(peak) - np.log(baseline)) * bump)
    level = np.where(d == peak_day, peak, np.minimum(level, peak * 0.98))
    return level
