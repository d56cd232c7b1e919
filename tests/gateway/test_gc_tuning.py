"""tune_gc: start-up objects frozen out of collections, a higher young-generation threshold."""

from __future__ import annotations

import gc
import subprocess
import sys


def test_tune_gc_freezes_what_is_alive_and_raises_the_young_threshold() -> None:
    # In a child interpreter: freezing is process-wide and would change this test process.
    code = (
        "import gc, json\n"
        "from modelserve.gateway.gc_tuning import tune_gc, YOUNG_THRESHOLD\n"
        "before = (gc.get_freeze_count(), gc.get_threshold())\n"
        "tune_gc()\n"
        "keep = [[i] for i in range(1000)]\n"
        "print(json.dumps([before, gc.get_freeze_count(), gc.get_threshold(), YOUNG_THRESHOLD,"
        " sum(1 for o in gc.get_objects(0) if o in keep)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    import json

    (frozen_before, threshold_before), frozen, threshold, young, new_young = json.loads(out)
    assert frozen_before == 0 and frozen > 10_000  # the imported modules' objects, at least
    assert threshold == [young, threshold_before[1], threshold_before[2]]
    assert new_young == 1000  # objects made afterwards are tracked (and collected) as usual
    assert gc.get_freeze_count() == 0  # this process untouched
