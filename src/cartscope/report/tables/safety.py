"""Adverse-event table by CTCAE grade: rows = AE terms, columns = Grade 1-4 (%).

The layout of Lu et al. 2021, Table 3 ("Adverse events after first infusion of CAR-T cells"):
worst grade per patient and term, percentage of the analysis set, blank where no patient had
that grade.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from cartscope.report.tables.base import INDENT, Table, require_columns, string_grid
from cartscope.report.tables.formatting import fmt_n_pct, fmt_num, is_missing

GRADES: tuple[int, ...] = (1, 2, 3, 4)


def ae_table(
    frame: pd.DataFrame,
    *,
    show: Literal["pct", "n_pct", "n"] = "pct",
    label_column: str = "label",
    zero: str = "",
    pct_decimals: int = 1,
    grades: tuple[int, ...] = GRADES,
    title: str = "Adverse events by CTCAE grade",
) -> Table:
    """Worst-grade percentages per adverse-event term.

    Input columns: as :meth:`cartscope.clinical.ctcae.LabGrades.ae_table`: ``term``, ``n``
    (denominator), ``grade_<g>_n`` for each g in ``grades``; optional ``label`` (printed name,
    else ``term``), ``grade_<g>_pct`` (recomputed from the counts when absent) and ``category``
    (section rows such as "Hematological event", in order of appearance). Rows from other
    sources (CRS, ICANS, fever) can be appended to the frame with the same columns.

    ``show``: "pct" (Grade 1, %), "n_pct" (Grade 1, n (%)) or "n". ``zero`` is printed where
    no patient had the grade (blank, as Lu et al.; "-" or "0" are common too).
    """
    count_cols = [f"grade_{g}_n" for g in grades]
    require_columns(frame, ["term", "n", *count_cols], "ae_table")
    if show not in ("pct", "n_pct", "n"):
        raise ValueError("show must be 'pct', 'n_pct' or 'n'")
    data = frame.reset_index(drop=True)
    label_col = label_column if label_column in data.columns else "term"
    has_category = "category" in data.columns
    head = {"pct": "%", "n_pct": "n (%)", "n": "n"}[show]
    columns = ["Adverse event", *[f"Grade {g}, {head}" for g in grades]]
    rows: list[list[str]] = []
    tidy_rows = []
    current: object = None
    for _, r in data.iterrows():
        if has_category and r["category"] != current:
            current = r["category"]
            rows.append([str(current), *([""] * len(grades))])
        label = str(r[label_col])
        row = [INDENT + label if has_category else label]
        n = r["n"]
        for g in grades:
            count = int(r[f"grade_{g}_n"])
            pct_col = f"grade_{g}_pct"
            if pct_col in data.columns and not is_missing(r[pct_col]):
                pct = float(r[pct_col])
            else:
                pct = 100.0 * count / float(n) if not is_missing(n) and float(n) > 0 else float("nan")
            tidy_rows.append({"term": r["term"], "label": label, "grade": g, "n_patients": count,
                              "n": n, "percent": pct})
            if count == 0:
                row.append(zero)
            elif show == "pct":
                row.append(fmt_num(pct, pct_decimals))
            elif show == "n_pct":
                row.append(fmt_n_pct(count, n, pct_decimals))
            else:
                row.append(str(count))
        rows.append(row)
    tidy = pd.DataFrame(tidy_rows, columns=["term", "label", "grade", "n_patients", "n", "percent"])
    denominators = sorted({int(v) for v in data["n"].dropna()})
    if len(denominators) == 1:
        basis = f"of the {denominators[0]} patients"
    else:
        basis = "of the patients evaluable for each term"
    notes = (f"Worst grade per patient (CTCAE); percentages {basis}.",)
    return Table(frame=tidy, display=string_grid(rows, columns), title=title, footnotes=notes)
