"""The waiting room: requests held while their run has no ready replica (scale from zero).

Counts held requests (capped), asks the control plane for a replica once per run per wait
(`on_demand`, de-duplicated while any request of that run waits), and wakes waiters whenever the
routing table changes. Touched only from the event loop. Must not import control/ or executors/.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator

from modelserve import errors

log = logging.getLogger(__name__)

OnDemand = Callable[[str], Awaitable[None]]
HELD_RETRY_AFTER_S = 5.0


class WaitingRoom:
    """Held requests per run. `notify()` after every table change; `aclose()` at shutdown."""

    def __init__(self, on_demand: OnDemand | None, max_held: int, kick: Callable[[], None]) -> None:
        self._on_demand = on_demand
        self._max_held = max_held
        self._kick = kick
        self._held: dict[str, int] = {}
        self._total = 0
        self._demands: dict[str, asyncio.Task[None]] = {}  # run -> the call of its current wait
        self._tasks: set[asyncio.Task[None]] = set()  # every call still running (held references)
        self._failures: dict[str, errors.ModelServeError] = {}
        self._changed = asyncio.Event()

    @property
    def held(self) -> int:
        """Requests waiting right now, all runs together."""
        return self._total

    def held_by_run(self) -> dict[str, int]:
        return dict(self._held)

    @contextlib.contextmanager
    def enter(self, run_id: str, *, demand: bool) -> Iterator[None]:
        """Hold one request of `run_id` for the duration of the block.

        `demand`: the run has no replica at all, so the control plane is asked for one (once per
        run while requests of it wait). Raises errors.Overloaded (429) when `max_held` requests
        are already held.
        """
        if self._total >= self._max_held:
            raise errors.Overloaded(
                f"Too many requests are waiting for replicas to start ({self._max_held}); retry later.",
                code="too_many_held_requests",
                retry_after=HELD_RETRY_AFTER_S,
            )
        self._total += 1
        self._held[run_id] = self._held.get(run_id, 0) + 1
        if self._held[run_id] == 1:
            self._kick()  # look for new endpoints now rather than at the next slow refresh
        if demand and run_id not in self._demands and self._on_demand is not None:
            task = asyncio.get_running_loop().create_task(
                self._ask(run_id, self._on_demand), name=f"gateway-demand-{run_id}"
            )
            self._demands[run_id] = task
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        try:
            yield
        finally:
            self._total -= 1
            left = self._held[run_id] - 1
            if left:
                self._held[run_id] = left
            else:
                # The wait is over: a later wait of this run asks the control plane again.
                del self._held[run_id]
                self._failures.pop(run_id, None)
                self._demands.pop(run_id, None)

    def changed(self) -> asyncio.Event:
        """An event set at the next table change. Take it *before* checking the table."""
        return self._changed

    def failure(self, run_id: str) -> errors.ModelServeError | None:
        """The error the control plane answered for this run's current wait, if any."""
        return self._failures.get(run_id)

    def notify(self) -> None:
        """The table changed: wake every waiter so each rechecks its run."""
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def aclose(self) -> None:
        """Cancel control-plane calls still running."""
        tasks = list(self._tasks)
        self._demands.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _ask(self, run_id: str, on_demand: OnDemand) -> None:
        try:
            await on_demand(run_id)
        except errors.ModelServeError as exc:
            # E.g. the run was deleted: waiters answer this instead of waiting out the timeout.
            log.warning("scale-from-zero request for run %s refused: %s", run_id, exc.message)
            self._failures[run_id] = exc
            self.notify()
        except Exception:
            log.warning("scale-from-zero request for run %s failed; waiting anyway", run_id, exc_info=True)
        else:
            self._kick()
