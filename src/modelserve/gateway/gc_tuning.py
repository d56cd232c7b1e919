"""Garbage-collector settings for a long-running serving process (the gateway's).

Once start-up is over, everything alive then (modules, the app, its routes and models: a few
hundred thousand objects) is moved out of the collector's generations with `gc.freeze()`, so no
later collection walks it again, and the youngest generation's threshold is raised so that bursts
of requests trigger fewer collections. Reference counting still frees what requests leave behind
at once; only reference cycles wait for a collection.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000  # Python's default is 700 allocations


def tune_gc(young_threshold: int = YOUNG_THRESHOLD) -> None:
    """Collect once, freeze what survives, and raise the youngest generation's threshold."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)
