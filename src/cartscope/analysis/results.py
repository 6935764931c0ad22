"""The result of running a study protocol over a cohort, and its on-disk form.

:class:`Results` holds everything a report needs: the per-patient endpoint frame, every tidy
result table under a stable name, the statistical result objects behind the figures, the
CONSORT-style exclusion list and the key numbers. :func:`write_results` writes it as tidy
CSV + Parquet tables and one ``results.json`` that is byte-identical for the same data and
protocol (no timestamps, sorted keys, floats at a fixed 12 significant digits), so two runs
can be compared with ``cmp``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cartscope.analysis.plan.ard import empty_ard
from cartscope.analysis.protocol import Protocol

FLOAT_DIGITS = 12
"""Significant digits of every float written to ``results.json``."""

EXCLUSION_COLUMNS = ("analysis", "patient_id", "reason")
STATUS_COLUMNS = ("analysis", "kind", "section", "population", "status", "reason")
"""Columns of :attr:`Results.status`: one row per analysis of the plan, ran or skipped and why."""

OBJECT_KEYS: dict[str, str] = {
    "km/<endpoint>/all": "KaplanMeier of the whole analysis set",
    "km/<endpoint>/<by>/<level>": "KaplanMeier of one level of a survival.by variable",
    "logrank/<endpoint>/<by>": "LogRank across the levels of a survival.by variable",
    "followup": "MedianFollowUp (reverse Kaplan-Meier) of overall survival",
    "cif/relapse_nrm": "CumulativeIncidence of relapse (1) and non-relapse mortality (2) by disease group",
    "cif/failure": "CumulativeIncidence of non-response or relapse (1) vs death without failure (2)",
    "gray/<name>/<cause>": "GrayTest of one cause across disease groups",
    "roc/<marker>": "RocResult of a protocol marker on the training cohort",
    "km/<endpoint>/cutoff_<marker>/<level>": "KaplanMeier above / below the frozen cutoff (training)",
    "logrank/<endpoint>/cutoff_<marker>": "LogRank above vs below the frozen cutoff (training)",
    "km/<endpoint>/validation_<marker>/<level>": "as above on the validation cohort",
    "logrank/<endpoint>/validation_<marker>": "as above on the validation cohort",
    "maxstat/<marker>": "MaxstatResult: best PFS cut-point with the search-adjusted p",
    "cox/<endpoint>/<i>": "CoxResult of the i-th cox entry of the protocol",
}
"""Keys of :attr:`Results.objects` (``<...>`` are placeholders)."""


@dataclass(frozen=True)
class Results:
    """One protocol run over one cohort (see the module docstring).

    - ``protocol``: the validated protocol; ``data_hash``: SHA-256 of the normalised cohort;
      ``versions``: package versions that produced the numbers;
    - ``endpoints``: one row per patient, the derived endpoints plus grouping columns
      (disease_group, cohort_role, crs_grade, crs_group, disease_burden);
    - ``tables``: tidy result tables by stable name; ``objects``: stats result objects by the
      keys of :data:`OBJECT_KEYS`; ``key_numbers``: flat name -> number (or text) summary;
    - ``exclusions``: analysis, patient_id, reason for every patient left out of an analysis;
    - ``sections``: report sections with an analysis that ran; ``skipped``: why something did
      not run, keyed ``<section>``, ``<section>:<analysis id>`` or ``<section>:<id>:<part>``;
    - ``plan``: the analysis plan that ran (``protocol`` is its section-form view);
    - ``ard``: the analysis-results dataset (:mod:`cartscope.analysis.plan.ard`);
    - ``status``: one row per analysis (:data:`STATUS_COLUMNS`), ran or skipped with the reason.
    """

    protocol: Protocol
    data_hash: str
    versions: dict[str, str]
    endpoints: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    objects: dict[str, Any]
    exclusions: pd.DataFrame
    sections: tuple[str, ...]
    skipped: dict[str, str]
    key_numbers: dict[str, Any] = field(default_factory=dict)
    plan: Any = None
    ard: pd.DataFrame = field(default_factory=empty_ard)
    status: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(STATUS_COLUMNS)))

    def __repr__(self) -> str:
        """A few lines: protocol, patients, sections run and skipped, tables and objects."""
        from cartscope.stats._repr import results_repr

        return results_repr(self)

    def _repr_html_(self) -> str:
        from cartscope.stats._repr import results_repr_html

        return results_repr_html(self)

    def table(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            raise KeyError(f"no result table {name!r}; tables are {', '.join(sorted(self.tables))}")
        return self.tables[name]

    def to_frame(self) -> pd.DataFrame:
        """The table index: name, rows, columns."""
        return pd.DataFrame(
            [{"table": k, "rows": len(v), "columns": ",".join(map(str, v.columns))}
             for k, v in sorted(self.tables.items())]
        )


def _clean(value: Any) -> Any:
    """JSON-ready value with fixed float formatting (NaN/inf -> null)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if not math.isfinite(x):
            return None
        return float(format(x, f".{FLOAT_DIGITS}g"))
    return str(value)


def results_json(results: Results) -> str:
    """The ``results.json`` text: deterministic for the same data and protocol."""
    doc = {
        "format": "cartscope-results/1",
        "data_hash": results.data_hash,
        "protocol": results.protocol.model_dump(mode="json"),
        "versions": results.versions,
        "sections": list(results.sections),
        "skipped": results.skipped,
        "tables": {name: {"rows": len(t), "columns": [str(c) for c in t.columns]}
                   for name, t in sorted(results.tables.items())},
        "exclusions": {
            "rows": len(results.exclusions),
            "patients": int(results.exclusions["patient_id"].nunique()) if len(results.exclusions) else 0,
        },
        "key_numbers": results.key_numbers,
        "plan": results.plan.model_dump(mode="json") if results.plan is not None else None,
        "analyses": results.status.to_dict(orient="records"),
        "ard": {"rows": len(results.ard)},
    }
    return json.dumps(_clean(doc), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy safe for CSV and Parquet: string column names, object columns as strings."""
    out = frame.reset_index(drop=True).copy()
    out.columns = [str(c) for c in out.columns]
    for col in out.columns:
        s = out[col]
        if s.dtype == object or isinstance(s.dtype, pd.CategoricalDtype):
            out[col] = s.map(lambda v: None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
                             else (v if isinstance(v, (str, bool)) else str(v))).astype("string")
    return out


def write_results(results: Results, out_dir: Path | str) -> Path:
    """Write ``tables/<name>.csv|.parquet``, ``endpoints.csv|.parquet``, ``exclusions.csv``,
    the ARD as ``ard.csv|.parquet|.json``, the analysis status ``analyses.csv`` and
    ``results.json`` under ``out_dir`` (created); returns the folder.

    Folders are created ``0700`` and files ``0600`` (patient-level data, whatever the umask);
    CSV text cells that a spreadsheet would run as a formula are neutralised
    (:mod:`cartscope.safe_output`); Parquet and JSON keep the values as they are."""
    from cartscope.safe_output import make_private, neutralise_frame, private_dir

    out = Path(out_dir)
    tables_dir = out / "tables"
    private_dir(tables_dir)
    for name, frame in sorted(results.tables.items()):
        tidy = _tidy(frame)
        neutralise_frame(tidy).to_csv(tables_dir / f"{name}.csv", index=False, lineterminator="\n",
                                      float_format="%.12g")
        tidy.to_parquet(tables_dir / f"{name}.parquet", index=False)
    ep = _tidy(results.endpoints)
    neutralise_frame(ep).to_csv(out / "endpoints.csv", index=False, lineterminator="\n", float_format="%.12g")
    ep.to_parquet(out / "endpoints.parquet", index=False)
    neutralise_frame(_tidy(results.exclusions)).to_csv(out / "exclusions.csv", index=False, lineterminator="\n")
    ard = _tidy(results.ard)
    neutralise_frame(ard).to_csv(out / "ard.csv", index=False, lineterminator="\n", float_format="%.12g")
    ard.to_parquet(out / "ard.parquet", index=False)
    (out / "ard.json").write_text(ard_json(results.ard), encoding="utf-8")
    neutralise_frame(_tidy(results.status)).to_csv(out / "analyses.csv", index=False, lineterminator="\n")
    (out / "results.json").write_text(results_json(results), encoding="utf-8")
    make_private(out)
    return out


def ard_json(ard: pd.DataFrame) -> str:
    """The ARD as a JSON list of row objects (floats at 12 significant digits, NaN as null)."""
    rows = [{k: _clean(v) for k, v in rec.items()} for rec in ard.to_dict(orient="records")]
    return json.dumps(rows, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
