"""The autoscaling loop: sample gateway demand for RUNNING runs, record scale events, poke the
reconciler (which applies the new desired count), and wake runs scaled to zero on demand."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from modelserve.control.autoscaler import Autoscaler, ScalingPolicy
from modelserve.runtimes.base import scaling_of

log = logging.getLogger("modelserve.autoscaler")


class ScaleLoop:
    def __init__(self, store: Any, autoscaler: Autoscaler, poke: Callable[[], None], interval_s: float) -> None:
        self._store = store
        self._autoscaler = autoscaler
        self._poke = poke
        self._interval_s = interval_s

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.tick()
            except Exception:  # a failed sample must not end autoscaling
                log.exception("autoscaler tick failed")

    async def tick(self) -> None:
        runs = await asyncio.to_thread(self._store.list_runs, None, ("RUNNING",))
        policies = {run.id: ScalingPolicy.from_scaling(scaling_of(run.spec)) for run in runs}
        changes = await asyncio.to_thread(self._autoscaler.sample, policies)
        for run_id, (old, new, average) in changes.items():
            reason = "ScaledUp" if new > old else "ScaledDown"
            target = policies[run_id].target_requests
            message = f"scaling from {old} to {new} replica(s): {average:.1f} requests in flight on average, target {target}"
            await asyncio.to_thread(self._store.add_event, run_id, "RUNNING", "SCALE", reason, message)
        if changes:
            self._poke()

    async def wake(self, run_id: str) -> None:
        """Gateway callback: a request waits for `run_id`, which has no replica."""
        run = await asyncio.to_thread(self._store.get_run, run_id)
        policy = ScalingPolicy.from_scaling(scaling_of(run.spec))
        if await asyncio.to_thread(self._autoscaler.wake, run_id, policy):
            await asyncio.to_thread(
                self._store.add_event, run_id, run.state, "SCALE", "ScaledUp",
                "scaling from 0 to 1 replica: a request is waiting",
            )
            self._poke()
