"""UsageRecorder: the gateway's usage sink. Counts each request's tokens against its key's
tokens/min limit at once and writes usage to the store in batches, off the event loop.

`record(usage)` takes any object with `key_id`, `model`, `prompt_tokens`, `completion_tokens`
(and optionally `run_id`), such as the gateway's `UsageRecord`; requests without a key are not
recorded. `run_forever()` flushes every `flush_interval_s` (or sooner when a batch is full) and
belongs in the server's lifespan task group; call `flush()` once more at shutdown.
Imports `auth.authenticator` and `store.records` from the project.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, Protocol

from modelserve.auth.authenticator import KeyAuthenticator
from modelserve.store.records import UsageInput

log = logging.getLogger(__name__)


class UsageStore(Protocol):
    def add_usage_batch(self, items: Sequence[UsageInput]) -> int: ...


class UsageRecorder:
    """Buffers usage in memory (at most `max_pending` items; the oldest go first when the store
    is away that long) and writes it with one store call per batch."""

    def __init__(
        self,
        store: UsageStore,
        auth: KeyAuthenticator | None = None,
        *,
        flush_interval_s: float = 1.0,
        batch_size: int = 500,
        max_pending: int = 100_000,
    ) -> None:
        self._store = store
        self._auth = auth
        self._interval = flush_interval_s
        self._batch_size = batch_size
        self._max_pending = max_pending
        self._pending: list[UsageInput] = []
        self._full = asyncio.Event()
        self._dropped = 0
        self._failing = False

    def record(self, usage: Any) -> None:
        """Count and queue one request's usage; never blocks, never raises for bad values."""
        key_id = getattr(usage, "key_id", None)
        if not key_id:
            return
        prompt = _count(getattr(usage, "prompt_tokens", 0))
        completion = _count(getattr(usage, "completion_tokens", 0))
        if self._auth is not None:
            self._auth.add_tokens(key_id, prompt + completion)
        run_id = getattr(usage, "run_id", None)
        self._pending.append(
            UsageInput(
                key_id=str(key_id),
                model=str(getattr(usage, "model", None) or ""),
                prompt_tokens=prompt,
                completion_tokens=completion,
                run_id=str(run_id)[:32] if run_id else None,
                ts=datetime.now(timezone.utc),
            )
        )
        self._trim()
        if len(self._pending) >= self._batch_size:
            self._full.set()

    __call__ = record

    @property
    def pending(self) -> int:
        """Items waiting to be written."""
        return len(self._pending)

    async def flush(self) -> int:
        """Write what is queued; returns how many items were written. On a store error the
        items go back to the queue (logged once per failing streak), nothing is raised."""
        written = 0
        while self._pending:
            batch = self._pending[: self._batch_size]
            del self._pending[: len(batch)]
            try:
                written += await asyncio.to_thread(self._store.add_usage_batch, batch)
            except Exception:
                self._pending[:0] = batch
                self._trim()
                if not self._failing:
                    log.warning("writing API key usage failed; keeping it to retry", exc_info=True)
                self._failing = True
                return written
        if self._failing:
            log.info("writing API key usage recovered")
        self._failing = False
        return written

    async def run_forever(self) -> None:
        """Flush every interval, or as soon as a batch is full, until cancelled."""
        while True:
            try:
                await asyncio.wait_for(self._full.wait(), timeout=self._interval)
            except asyncio.TimeoutError:
                pass
            self._full.clear()
            await self.flush()

    def _trim(self) -> None:
        extra = len(self._pending) - self._max_pending
        if extra > 0:
            del self._pending[:extra]
            self._dropped += extra
            log.warning("API key usage queue full: dropped %d oldest item(s) so far", self._dropped)


def _count(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0
