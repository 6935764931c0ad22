"""Load a cohort (CSV folder, XLSX workbook or Parquet folder) into a validated :class:`Cohort`.

Loading is validation plus construction: any error refuses the whole cohort with a
:class:`CohortError` carrying every problem; warnings are returned by
:func:`load_cohort_with_problems` (and listed by ``cartscope validate``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cartscope.cohort.model import Cohort
from cartscope.cohort.problems import CohortError, Problem
from cartscope.cohort.validate import check_cohort


def load_cohort_with_problems(
    path: Path | str, *, index_infusion: int | str | None = None, date_order: str | None = None,
    data_cutoff: dt.date | str | None = None,
) -> tuple[Cohort, list[Problem]]:
    """The cohort at ``path`` and its warnings; raises :class:`CohortError` on any error.

    ``index_infusion`` chooses day 0: ``None`` is each patient's infusion 1; an ``int`` names an
    ``infusion_no``; a string names an infusion ``label`` (e.g. ``"CART2"``). All times of a
    patient shift so that the chosen infusion is day 0; a patient without it is an error.

    ``date_order`` (``DMY`` / ``MDY`` / ``YMD``) reads dates whose values do not decide their
    order; ``data_cutoff`` leaves out later records and censors follow-up at that date.
    """
    checked = check_cohort(path, index_infusion=index_infusion, date_order=date_order, data_cutoff=data_cutoff)
    if checked.errors:
        raise CohortError(checked.problems)
    cohort = Cohort(
        **checked.tables,
        present=checked.present,
        source=checked.source,
        conversions=checked.conversions,
        file_hashes=checked.file_hashes,
    )
    return cohort, checked.problems


def load_cohort(
    path: Path | str, *, index_infusion: int | str | None = None, date_order: str | None = None,
    data_cutoff: dt.date | str | None = None,
) -> Cohort:
    """The validated cohort at ``path`` (see :func:`load_cohort_with_problems`)."""
    return load_cohort_with_problems(path, index_infusion=index_infusion, date_order=date_order,
                                     data_cutoff=data_cutoff)[0]
