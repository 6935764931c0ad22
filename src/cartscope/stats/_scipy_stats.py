"""``scipy.stats``, imported when first used instead of when a statistics module is.

Why: importing ``scipy.stats`` costs about a second of CPU (its distributions are built at
import). The result classes of :mod:`cartscope.stats` are needed wherever results travel, as
in the report's figure workers, which unpickle them and never call a test or distribution;
with this proxy, importing :mod:`cartscope.stats` there does not import ``scipy.stats``.
Every call is ``scipy.stats``'s own: ``stats.norm.ppf(q)`` through the proxy is
``scipy.stats.norm.ppf(q)``.
"""

from __future__ import annotations

import importlib
from typing import Any


class _LazyModule:
    """A stand-in for a module, importing it at the first attribute looked up."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


stats: Any = _LazyModule("scipy.stats")
"""``scipy.stats`` (imported on first use)."""

__all__ = ["stats"]
