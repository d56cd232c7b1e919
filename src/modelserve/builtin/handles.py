"""The bridge between the scheduler thread and the event loop: one `RequestHandle` per API request.

The scheduler calls `deliver(batch)` once per step; it hops onto each handle's loop with
`call_soon_threadsafe`, so the event loop never blocks and never touches torch.
Imports nothing heavy.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

from modelserve.builtin.params import StepOutput


class RequestHandle:
    """Outputs of the `n` sequences of one request, in arrival order. `cancel()` stops them."""

    def __init__(self, loop: asyncio.AbstractEventLoop, n: int) -> None:
        self.loop = loop
        self.n = n
        self.cancelled = False  # read by the scheduler thread; a plain bool write is atomic
        self._queue: asyncio.Queue[StepOutput] = asyncio.Queue()

    def cancel(self) -> None:
        self.cancelled = True

    def _put(self, out: StepOutput) -> None:
        self._queue.put_nowait(out)

    async def outputs(self) -> AsyncIterator[StepOutput]:
        """Yield step outputs until every sequence has finished (or failed)."""
        open_ = self.n
        while open_:
            out = await self._queue.get()
            if out.finish_reason is not None or out.error is not None:
                open_ -= 1
            yield out


def _deliver_on_loop(items: list[tuple[RequestHandle, StepOutput]]) -> None:
    for handle, out in items:
        handle._put(out)


def deliver(items: Iterable[tuple[RequestHandle, StepOutput]]) -> None:
    """From the scheduler thread: hand outputs to their loops, one wake-up per loop per step."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[RequestHandle, StepOutput]]] = {}
    for handle, out in items:
        by_loop.setdefault(handle.loop, []).append((handle, out))
    for loop, batch in by_loop.items():
        try:
            loop.call_soon_threadsafe(_deliver_on_loop, batch)
        except RuntimeError:  # loop closed during shutdown: nobody is listening any more
            pass
