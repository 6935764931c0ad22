"""Shared pieces of the CRS and ICANS graders: input coercion and onset/resolution episodes.

ASTCT (Lee et al., Biol Blood Marrow Transplant 2019;25:625-638) grades severity only; it gives
no rule for when a CRS or ICANS episode starts or resolves. The EBMT registry asks for onset
date, resolution date and highest grade. cartscope therefore uses the project convention of
``domain-reference.md`` section 1.4 (a protocol may override it):

- **onset** = first observed day with grade >= 1;
- **resolution** = the first observed day after the episode's last graded day (grade 0 from
  then on within the episode);
- **duration** = resolution - onset, in days;
- a **new episode** needs at least ``min_gap_days`` consecutive observed grade-0 days between
  graded days (default 1); with ``merge=True`` re-escalations are merged into one episode.

Days that were not observed are not evidence of resolution: two graded days with no observed
grade-0 day between them belong to the same episode however far apart they are.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

EPISODE_COLUMNS = (
    "patient_id", "episode", "onset_day", "last_graded_day", "resolution_day",
    "duration_days", "max_grade",
)


def require_columns(frame: pd.DataFrame, columns: Iterable[str], table: str) -> None:
    """Raise a clear ``ValueError`` when ``frame`` lacks any of ``columns``."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{table} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{table} lacks required column(s) {', '.join(missing)}; "
            f"it has {', '.join(map(str, frame.columns))}"
        )


def flag(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A boolean column as a numpy bool array; missing column or missing value -> False."""
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    try:
        values = frame[column].astype("boolean")
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"column {column!r} must hold true/false values; got e.g. "
            f"{frame[column].dropna().head(3).tolist()}"
        ) from exc
    return values.fillna(False).to_numpy(dtype=bool)


def known_flag(frame: pd.DataFrame, column: str) -> np.ndarray:
    """True where a boolean column has a recorded (non-missing) value."""
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].notna().to_numpy()


def number(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A numeric column as float64 (missing column -> all NaN), with a clear error on text."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    try:
        return pd.to_numeric(frame[column], errors="raise").astype("float64").to_numpy()
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"column {column!r} must be numeric; got e.g. {frame[column].dropna().head(3).tolist()}"
        ) from exc


def category_grade(
    frame: pd.DataFrame, column: str, grades: dict[str, int]
) -> np.ndarray:
    """Map a category column to integer grades via ``grades``; missing -> 0, unknown -> error."""
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=np.int64)
    raw = frame[column]
    labels = raw.astype("string").str.strip().str.lower()
    lookup = {k.lower(): v for k, v in grades.items()}
    unknown = sorted(set(labels.dropna().unique()) - set(lookup))
    if unknown:
        raise ValueError(
            f"column {column!r} has unknown categories {unknown}; allowed: {sorted(grades)}"
        )
    return labels.map(lookup).fillna(0).to_numpy(dtype=np.int64)


def sorted_days(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Validate ``patient_id``/``day``, cast the id to string and sort by patient then day."""
    require_columns(frame, ("patient_id", "day"), table)
    out = frame.copy()
    out["patient_id"] = out["patient_id"].astype("string").astype(object)
    out["day"] = pd.to_numeric(out["day"], errors="coerce")
    if out["day"].isna().any():
        rows = out.index[out["day"].isna()].tolist()[:5]
        raise ValueError(f"{table} has missing or non-numeric day at row(s) {rows}")
    dup = out.duplicated(["patient_id", "day"], keep=False)
    if dup.any():
        pairs = out.loc[dup, ["patient_id", "day"]].drop_duplicates().head(3)
        listed = ", ".join(f"{p} day {d:g}" for p, d in pairs.itertuples(index=False))
        raise ValueError(f"{table} has more than one row per patient-day ({listed})")
    return out.sort_values(["patient_id", "day"], kind="mergesort").reset_index(drop=True)


def check_episode_rules(window: tuple[float | None, float | None], min_gap_days: int) -> None:
    """The episode settings every toxicity rule set shares: an ordered window, a gap of >= 1 day."""
    start, end = window
    if start is not None and end is not None and start > end:
        raise ValueError(f"window start {start} is after its end {end}")
    if min_gap_days < 1:
        raise ValueError("min_gap_days must be >= 1")


def in_window(day: pd.Series, window: tuple[float | None, float | None]) -> np.ndarray:
    """Boolean mask of days inside the closed interval ``window`` (None = unbounded)."""
    start, end = window
    mask = np.ones(len(day), dtype=bool)
    values = day.to_numpy(dtype=float)
    if start is not None:
        mask &= values >= start
    if end is not None:
        mask &= values <= end
    return mask


def episodes(
    daily: pd.DataFrame, grade: str, *, min_gap_days: int = 1, merge: bool = False
) -> pd.DataFrame:
    """One row per episode of ``grade >= 1`` (see the module docstring for the convention).

    ``daily`` must be sorted by patient and day with one row per patient-day. Returns the
    columns of :data:`EPISODE_COLUMNS`; ``resolution_day``/``duration_days`` are NaN when the
    episode has not resolved by the patient's last observed day.
    """
    if min_gap_days < 1:
        raise ValueError(f"min_gap_days must be >= 1, got {min_gap_days}")
    if daily.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in EPISODE_COLUMNS}).astype(
            {"patient_id": object}
        )
    pid = daily["patient_id"]
    g = daily[grade].to_numpy(dtype=float)
    pos = np.nan_to_num(g, nan=0.0) >= 1
    pos_s = pd.Series(pos, index=daily.index)
    blk = pos_s.groupby(pid, sort=False).cumsum()
    zeros_since = (~pos_s).astype(int).groupby([pid, blk], sort=False).cumsum()
    gap_before = zeros_since.groupby(pid, sort=False).shift(1).fillna(0).to_numpy()
    first_pos = pos & (blk.to_numpy() == 1)
    start = first_pos | (pos & ~merge & (gap_before >= min_gap_days))
    ep_no = pd.Series(start.astype(int), index=daily.index).groupby(pid, sort=False).cumsum()
    next_day = daily["day"].groupby(pid, sort=False).shift(-1)
    rows = pd.DataFrame({
        "patient_id": pid[pos].to_numpy(),
        "episode": ep_no[pos].to_numpy(),
        "day": daily["day"][pos].to_numpy(dtype=float),
        "next_day": next_day[pos].to_numpy(dtype=float),
        "grade": g[pos],
    })
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in EPISODE_COLUMNS}).astype(
            {"patient_id": object}
        )
    grouped = rows.groupby(["patient_id", "episode"], sort=True)
    out = grouped.agg(
        onset_day=("day", "min"),
        last_graded_day=("day", "max"),
        max_grade=("grade", "max"),
    )
    out["resolution_day"] = grouped["next_day"].last(skipna=False)
    out = out.reset_index()
    out["duration_days"] = out["resolution_day"] - out["onset_day"]
    out["episode"] = out["episode"].astype(int)
    return out[list(EPISODE_COLUMNS)]


def summarise_episodes(
    eps: pd.DataFrame, patient_ids: pd.Index
) -> pd.DataFrame:
    """Patient-level onset (first episode), resolution (last episode), summed duration, count.

    ``duration_days`` is the sum of the episodes' durations (equal to resolution - onset when
    there is one episode) and NaN when any episode is unresolved.
    """
    if eps.empty:
        out = pd.DataFrame(index=patient_ids)
        for c in ("onset_day", "resolution_day", "duration_days"):
            out[c] = np.nan
        out["episodes"] = 0
        out["unresolved"] = False
        return out
    grouped = eps.groupby("patient_id", sort=False)
    out = pd.DataFrame({
        "onset_day": grouped["onset_day"].min(),
        "resolution_day": grouped["resolution_day"].last(skipna=False),
        "duration_days": grouped["duration_days"].sum(min_count=1),
        "episodes": grouped.size(),
        "unresolved": eps["resolution_day"].isna().groupby(eps["patient_id"], sort=False).any(),
    })
    out.loc[out["unresolved"], ["resolution_day", "duration_days"]] = np.nan
    out = out.reindex(patient_ids)
    out["episodes"] = out["episodes"].fillna(0).astype(int)
    out["unresolved"] = out["unresolved"].astype("boolean").fillna(False).astype(bool)
    return out


def patient_ids(tox_ids: pd.Series, patients: pd.DataFrame | None) -> pd.Index:
    """Patients to report: those listed in ``patients`` (in order), then any others seen."""
    seen = pd.Index(pd.unique(tox_ids.astype(str)))
    if patients is None:
        return seen.sort_values()
    require_columns(patients, ("patient_id",), "patients")
    listed = pd.Index(pd.unique(patients["patient_id"].astype(str)))
    extra = seen.difference(listed).sort_values()
    return listed.append(extra)


def deaths_from(
    events: pd.DataFrame | None, cause: str
) -> pd.Series:
    """Day of the first death with ``cause`` per patient (empty when no events table)."""
    if events is None or events.empty:
        return pd.Series(dtype=float)
    require_columns(events, ("patient_id", "type"), "events")
    if "cause" not in events.columns:
        return pd.Series(dtype=float)
    kind = events["type"].astype("string").str.strip().str.lower()
    why = events["cause"].astype("string").str.strip().str.lower()
    hit = (kind == "death") & (why == cause.lower())
    hit = hit.fillna(False).to_numpy(dtype=bool)
    if not hit.any():
        return pd.Series(dtype=float)
    days = (
        pd.to_numeric(events["day"], errors="coerce")
        if "day" in events.columns else pd.Series(np.nan, index=events.index)
    )
    frame = pd.DataFrame({"patient_id": events["patient_id"].astype(str), "day": days})[hit]
    return frame.groupby("patient_id")["day"].min()


def window_text(window: tuple[float | None, float | None]) -> str:
    """``window`` as text, e.g. ``[0, +inf]``."""
    start, end = window
    left = "-inf" if start is None else f"{start:g}"
    right = "+inf" if end is None else f"{end:g}"
    return f"[{left}, {right}]"


def window_rows(
    daily: pd.DataFrame, toxicity_daily: pd.DataFrame, window: tuple[float | None, float | None]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The graded days and the raw observations inside ``window``, row-aligned.

    ``daily`` is the per-day grading of ``toxicity_daily`` (same patient-day order once the raw
    table is sorted by :func:`sorted_days`).
    """
    raw = sorted_days(toxicity_daily, "toxicity_daily")
    w = in_window(daily["day"], window)
    return daily[w].reset_index(drop=True), raw[w].reset_index(drop=True)


def summary_columns(summary: pd.DataFrame, grade: str) -> dict[str, object]:
    """The columns every patient-level toxicity summary shares, from :func:`grade_summary`."""
    return {
        grade: summary["grade"].array,
        "onset_day": summary["onset_day"].to_numpy(dtype=float),
        "resolution_day": summary["resolution_day"].to_numpy(dtype=float),
        "duration_days": summary["duration_days"].to_numpy(dtype=float),
        "episodes": summary["episodes"].to_numpy(dtype=np.int64),
        "reason": summary["reason"].array,
    }


def grade_summary(
    daily: pd.DataFrame,
    grade: str,
    ids: pd.Index,
    *,
    window: tuple[float | None, float | None],
    min_gap_days: int,
    merge: bool,
    events: pd.DataFrame | None,
    death_cause: str,
    label: str,
) -> pd.DataFrame:
    """Per patient (index ``ids``): max grade in ``window``, episodes summary and reason.

    Grade 5 replaces the observed grade when ``events`` records a death with ``death_cause``.
    Columns: ``grade`` (Int64; NA = not gradable), ``onset_day``, ``resolution_day``,
    ``duration_days``, ``episodes``, ``reason`` (string; NA when nothing needs saying).
    """
    dw = daily[in_window(daily["day"], window)].reset_index(drop=True)
    eps = episodes(dw, grade, min_gap_days=min_gap_days, merge=merge)
    out = summarise_episodes(eps, ids)
    out["grade"] = dw.groupby("patient_id")[grade].max().reindex(ids).astype("Int64")
    last_day = dw.groupby("patient_id")["day"].max().reindex(ids)

    reason = pd.Series(pd.NA, index=ids, dtype="string")
    # the distinct ids only: a string column's isin converts every value it is given in Python
    has_rows = ids.isin(pd.unique(daily["patient_id"]))
    in_win = ids.isin(pd.unique(dw["patient_id"]))
    reason[~has_rows] = f"no toxicity_daily rows: {label} not gradable"
    reason[has_rows & ~in_win] = (
        f"no toxicity_daily rows in window {window_text(window)}: {label} not gradable"
    )
    unresolved = out["unresolved"].to_numpy(dtype=bool)
    reason[unresolved] = [
        f"{label} not resolved by last observation (day {d:g})" for d in last_day[unresolved]
    ]
    deaths = deaths_from(events, death_cause)
    died = ids.isin(deaths.index)
    death_day = deaths.reindex(ids)[died]
    out.loc[died, "grade"] = 5
    reason[died] = [
        f"death from {label}" + ("" if pd.isna(d) else f" on day {d:g}") for d in death_day
    ]
    out["reason"] = reason
    return out.drop(columns="unresolved")
