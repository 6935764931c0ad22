"""Validation problems: what is wrong with an input, and exactly where.

A :class:`Problem` is printed as ``file:row:column: severity: message`` so that an editor or a
terminal can jump to it. ``row`` is the 1-based line (CSV, header = line 1) or worksheet row
(XLSX, header = row 1) as the user sees it in their own tool; it is ``None`` where the problem
belongs to a whole file or column.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in a cohort input.

    ``code`` is a stable machine-readable kind (e.g. ``missing-column``); tests and the web
    application key on it, users read ``message``.
    """

    file: str
    row: int | None
    column: str | None
    code: str
    message: str
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        row = "" if self.row is None else str(self.row)
        col = self.column or ""
        return f"{self.file}:{row}:{col}: {self.severity.value}: {self.message} [{self.code}]"


class CohortError(Exception):
    """Raised when a cohort cannot be loaded; carries the full problem list."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = [p for p in problems if p.is_error]
        head = "; ".join(str(p) for p in errors[:3])
        more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
        super().__init__(f"{len(errors)} error(s) in cohort: {head}{more}")
