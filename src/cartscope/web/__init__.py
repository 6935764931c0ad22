"""The web application (FastAPI, server-rendered pages): ``create_app(store, secret_key=...)``.

Run it with ``cartscope serve --db study.duckdb``; create the first administrator with
``cartscope user add NAME --admin --db study.duckdb``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from cartscope.web.app import create_app


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from cartscope.web.app import create_app

        return create_app
    raise AttributeError(name)


__all__ = ["create_app"]
