"""Publication tables: Table 1, outcome, safety, biomarker and survival tables, and exports.

Every builder returns a :class:`~cartscope.report.tables.base.Table` (tidy ``frame``, printed
``display``, ``title``, ``footnotes``); :func:`export_table` writes it as CSV, XLSX or DOCX.
"""
