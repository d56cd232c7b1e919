"""Per-key rate limits held in memory: requests per minute (a token bucket) and tokens per minute
(a sliding one-minute window of the tokens this process saw, combined with the store's count).

Pure logic over an injected monotonic clock; no I/O. Imports nothing from the project.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_S = 60.0
Clock = Callable[[], float]


class RequestLimiter:
    """A token bucket per key: `rpm` requests of burst, refilled at `rpm` per minute.

    Thread-unsafe by design: it is used from the event loop only.
    """

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, at)

    def acquire(self, key_id: str, rpm: int) -> float | None:
        """Take one request. None when allowed, else the seconds until one more is allowed."""
        now = self._clock()
        tokens, at = self._buckets.get(key_id, (float(rpm), now))
        tokens = min(float(rpm), tokens + (now - at) * rpm / WINDOW_S)
        if tokens >= 1.0:
            self._buckets[key_id] = (tokens - 1.0, now)
            return None
        self._buckets[key_id] = (tokens, now)
        return (1.0 - tokens) * WINDOW_S / rpm

    def forget(self, key_id: str) -> None:
        self._buckets.pop(key_id, None)


@dataclass(frozen=True)
class StoredWindow:
    """The store's count of a key's tokens in the last minute, as of `at` (monotonic time).

    `oldest_at` is when the oldest counted record was written (monotonic time), or None.
    """

    tokens: int
    at: float
    oldest_at: float | None


class TokenWindow:
    """Tokens per key in the last minute.

    The local log holds what this process recorded; the stored window what every process
    recorded (as of the last key lookup). The larger of the two counts, so tokens already
    written to the store are never counted twice, and usage from other gateway processes
    still counts once the key is looked up again.
    """

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._local: dict[str, deque[tuple[float, int]]] = {}
        self._stored: dict[str, StoredWindow] = {}

    def add(self, key_id: str, tokens: int) -> None:
        if tokens > 0:
            self._local.setdefault(key_id, deque()).append((self._clock(), tokens))

    def set_stored(self, key_id: str, window: StoredWindow) -> None:
        self._stored[key_id] = window

    def check(self, key_id: str, tpm: int) -> float | None:
        """None while the key used fewer than `tpm` tokens in the last minute, else the seconds
        until enough of them leave the window."""
        now = self._clock()
        local = self._local_log(key_id, now)
        used_local = sum(t for _, t in local)
        stored = self._stored.get(key_id)
        if stored is not None and stored.oldest_at is not None and stored.oldest_at + WINDOW_S <= now:
            stored = None  # its oldest record left the window: the count is stale
        used_stored = stored.tokens if stored is not None else 0
        if max(used_local, used_stored) < tpm:
            return None
        if used_local >= used_stored:
            return self._local_wait(local, used_local, tpm, now)
        assert stored is not None
        oldest = stored.oldest_at if stored.oldest_at is not None else stored.at
        return max(1.0, oldest + WINDOW_S - now)

    def forget(self, key_id: str) -> None:
        self._local.pop(key_id, None)
        self._stored.pop(key_id, None)

    def _local_log(self, key_id: str, now: float) -> deque[tuple[float, int]]:
        log = self._local.get(key_id)
        if log is None:
            return deque()
        while log and log[0][0] + WINDOW_S <= now:
            log.popleft()
        if not log:
            del self._local[key_id]
        return log

    @staticmethod
    def _local_wait(log: deque[tuple[float, int]], used: int, tpm: int, now: float) -> float:
        # Walk from the oldest record until dropping them brings the count under the limit.
        for at, tokens in log:
            used -= tokens
            if used < tpm:
                return max(1.0, at + WINDOW_S - now)
        return WINDOW_S
