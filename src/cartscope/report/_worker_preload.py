"""Imported once by the fork server of the report's figure workers
(:func:`cartscope.report.render._worker_context`), before it forks any worker: imports
matplotlib and the figure modules and warms them for the default formats
(:func:`cartscope.report.render.warm`), so that every worker forked from the server starts
with all of it done.

The fork server lowers its priority (nice +10, inherited by every worker): its start-up and
the figures run beside the caller's own work (the analyses, the document, the results files)
and beside the report's PDF printer, which are on the report's critical path, while the
figures fill whatever CPU they leave; on a machine with free cores nothing changes.

The collector is off while the server imports and warms up (0.3-0.7 of its 3.7 CPU-s went
to collections), then every object the server holds is moved out of its sight
(``gc.freeze``, as the Python documentation advises for a server that forks without exec)
and it is switched on again for the workers:
otherwise each full collection in a worker walks the hundreds of thousands of objects of
matplotlib, pandas and the figure modules, which never become garbage, and drawing the
figures creates garbage in cycles (artists that know their figure) that starts a
collection every few hundred objects. Drawing the 32 jin2023 figures in one process spent
1.2-1.6 CPU-s in collections, 0.7-0.8 with the modules frozen.

A failure here must not stop the fork server (multiprocessing lets only an ImportError of a
preloaded module pass), so it is kept: each worker then warms itself in its initializer,
where the same failure is raised and reaches the report.
"""

from __future__ import annotations

import gc

gc.disable()  # first: the imports and the warm-up create no garbage worth a collection (see the docstring)

import os  # noqa: E402

from cartscope.report.render import FORMATS, warm  # noqa: E402

try:  # the workers' drawing yields the CPU to the process that waits for it (see the docstring)
    os.nice(10)
except (AttributeError, OSError):  # pragma: no cover - no nice on this platform
    pass

try:
    warm(FORMATS)
except Exception:  # noqa: BLE001 - re-raised by the worker's own warm-up (see the module docstring)
    pass

gc.freeze()  # last: what the workers inherit is never walked by their collections (see the docstring)
gc.enable()
