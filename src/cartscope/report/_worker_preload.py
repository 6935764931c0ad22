"""Imported once by the fork server of the report's figure workers
(:func:`cartscope.report.render._worker_context`), before it forks any worker: imports
matplotlib and the figure modules and warms them for the default formats
(:func:`cartscope.report.render.warm`), so that every worker forked from the server starts
with all of it done.

The fork server lowers its priority (nice +10, inherited by every worker): its start-up and
the figures run beside the caller's own work (the analyses, the document, the results files)
and beside the report's PDF printer, which are on the report's critical path, while the
figures fill whatever CPU they leave; on a machine with free cores nothing changes.

A failure here must not stop the fork server (multiprocessing lets only an ImportError of a
preloaded module pass), so it is kept: each worker then warms itself in its initializer,
where the same failure is raised and reaches the report.
"""

from __future__ import annotations

import os

from cartscope.report.render import FORMATS, warm

try:  # the workers' drawing yields the CPU to the process that waits for it (see the docstring)
    os.nice(10)
except (AttributeError, OSError):  # pragma: no cover - no nice on this platform
    pass

try:
    warm(FORMATS)
except Exception:  # noqa: BLE001 - re-raised by the worker's own warm-up (see the module docstring)
    pass
