"""cartscope: CAR-T cell therapy outcome research, with numbers exact against R."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from cartscope.cohort.load import load_cohort
    from cartscope.cohort.validate import validate

_LAZY = {
    "load_cohort": "cartscope.cohort.load",
    "validate": "cartscope.cohort.validate",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cartscope' has no attribute {name!r}")
