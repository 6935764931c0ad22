"""Publication tables: Table 1, outcome, safety, biomarker and survival tables, and exports.

Every builder returns a :class:`~cartscope.report.tables.base.Table` (tidy ``frame``, printed
``display``, ``title``, ``footnotes``); :func:`export_table` writes it as CSV, XLSX or DOCX.
"""

from cartscope.report.tables.base import Table
from cartscope.report.tables.biomarkers import biomarker_table, cutoff_table
from cartscope.report.tables.export import export_table
from cartscope.report.tables.formatting import (
    fmt_ci,
    fmt_estimate_ci,
    fmt_mean_sd,
    fmt_median_range,
    fmt_n_pct,
    fmt_num,
    fmt_p,
    fmt_pct,
)
from cartscope.report.tables.outcomes import landmark_table, relapse_timing_table, response_table
from cartscope.report.tables.regression import cox_table
from cartscope.report.tables.safety import ae_table
from cartscope.report.tables.table_one import PRIOR_LINES_BINS, Bins, TableOne, table_one

__all__ = [
    "PRIOR_LINES_BINS",
    "Bins",
    "Table",
    "TableOne",
    "ae_table",
    "biomarker_table",
    "cox_table",
    "cutoff_table",
    "export_table",
    "fmt_ci",
    "fmt_estimate_ci",
    "fmt_mean_sd",
    "fmt_median_range",
    "fmt_n_pct",
    "fmt_num",
    "fmt_p",
    "fmt_pct",
    "landmark_table",
    "relapse_timing_table",
    "response_table",
    "table_one",
]
