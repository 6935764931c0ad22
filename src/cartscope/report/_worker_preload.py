"""Imported once by the fork server of the report's figure workers
(:func:`cartscope.report.render._worker_context`), before it forks any worker: imports
matplotlib and the figure modules and warms them for the default formats
(:func:`cartscope.report.render.warm`), so that every worker forked from the server starts
with all of it done.

A failure here must not stop the fork server (multiprocessing lets only an ImportError of a
preloaded module pass), so it is kept: each worker then warms itself in its initializer,
where the same failure is raised and reaches the report.
"""

from __future__ import annotations

from cartscope.report.render import FORMATS, warm

try:
    warm(FORMATS)
except Exception:  # noqa: BLE001 - re-raised by the worker's own warm-up (see the module docstring)
    pass
