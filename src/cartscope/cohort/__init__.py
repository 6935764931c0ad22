"""Cohort data model: schemas, loading, validation, unit normalisation and the DuckDB store.

The only layer that touches files or the database.
"""

from cartscope.cohort.model import Cohort, UnitConversion
from cartscope.cohort.problems import CohortError, Problem, Severity
from cartscope.cohort.schema import SCHEMA_VERSION, TABLES

__all__ = ["Cohort", "CohortError", "Problem", "Severity", "SCHEMA_VERSION", "TABLES", "UnitConversion"]
