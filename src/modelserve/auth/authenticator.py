"""KeyAuthenticator: turns a presented key into its record (cached briefly, off the event loop)
and enforces the key's requests/min and tokens/min limits.

Lookups are cached by the key's index digest (never the key) for `cache_ttl_s`, unknown keys
too, so a burst of requests, good or bad, costs one store query per key per TTL; concurrent
misses for the same key share one query. `invalidate()` drops the cache at once (the keys API
calls it on create/revoke). Imports `auth.*`, `errors` and `store.records` from the project.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

from modelserve import errors
from modelserve.auth import hashing
from modelserve.auth.limits import WINDOW_S, Clock, RequestLimiter, StoredWindow, TokenWindow
from modelserve.store.records import ApiKeyRecord

MAX_CACHED = 10_000


class KeyLookupStore(Protocol):
    """What the authenticator needs from the store (SqlStore has it)."""

    def find_api_key(self, secret: str) -> ApiKeyRecord | None: ...

    def token_window(self, key_id: str, since: datetime) -> tuple[int, datetime | None]: ...


_Fetched = tuple[ApiKeyRecord | None, StoredWindow | None]


@dataclass(frozen=True)
class _Entry:
    key: ApiKeyRecord | None
    expires: float


class KeyAuthenticator:
    """Looks keys up and applies their limits. Use from one event loop."""

    def __init__(
        self, store: KeyLookupStore, *, cache_ttl_s: float = 5.0, clock: Clock = time.monotonic
    ) -> None:
        self._store = store
        self._ttl = cache_ttl_s
        self._clock = clock
        self._cache: dict[str, _Entry] = {}
        self._pending: dict[str, asyncio.Future[_Fetched]] = {}
        self.requests = RequestLimiter(clock)
        self.tokens = TokenWindow(clock)

    async def authenticate(self, secret: str | None) -> ApiKeyRecord:
        """The active key for `secret`. Raises errors.Unauthorized when missing, unknown or revoked."""
        if not secret:
            raise errors.Unauthorized(
                "You didn't provide an API key. Send it as 'Authorization: Bearer msk-...'.",
                code="missing_api_key",
            )
        key = await self._lookup(secret) if hashing.looks_like_key(secret) else None
        if key is None:
            raise errors.Unauthorized("Incorrect API key provided.", code="invalid_api_key")
        if not key.active:
            raise errors.Unauthorized("This API key has been revoked.", code="api_key_revoked")
        return key

    def check_limits(self, key: ApiKeyRecord) -> None:
        """Count one request against `key`. Raises errors.Overloaded with retry_after when the
        key is over its requests/min or tokens/min limit (a refused request is not counted)."""
        if key.tokens_per_minute is not None:
            wait = self.tokens.check(key.id, key.tokens_per_minute)
            if wait is not None:
                raise errors.Overloaded(
                    f"Rate limit reached for this API key: {key.tokens_per_minute} tokens per minute.",
                    code="tokens_per_minute_exceeded",
                    retry_after=wait,
                )
        if key.requests_per_minute is not None:
            wait = self.requests.acquire(key.id, key.requests_per_minute)
            if wait is not None:
                raise errors.Overloaded(
                    f"Rate limit reached for this API key: {key.requests_per_minute} requests per minute.",
                    code="requests_per_minute_exceeded",
                    retry_after=wait,
                )

    def add_tokens(self, key_id: str, tokens: int) -> None:
        """Count tokens a request under `key_id` used (called by the usage recorder)."""
        self.tokens.add(key_id, tokens)

    def invalidate(self) -> None:
        """Forget every cached lookup: the next request of each key reads the store again."""
        self._cache.clear()

    async def _lookup(self, secret: str) -> ApiKeyRecord | None:
        digest = hashing.lookup_digest(secret)
        entry = self._cache.get(digest)
        if entry is not None and entry.expires > self._clock():
            return entry.key
        task = self._pending.get(digest)
        if task is None:
            task = asyncio.ensure_future(asyncio.to_thread(self._fetch, secret))
            self._pending[digest] = task
            task.add_done_callback(lambda done: self._fetched(digest, done))
        # Shielded: a waiter that goes away must not cancel the lookup the others wait on.
        key, _ = await asyncio.shield(task)
        return key

    def _fetch(self, secret: str) -> tuple[ApiKeyRecord | None, StoredWindow | None]:
        """Runs on a worker thread: the key, and its stored token window when it has a limit."""
        key = self._store.find_api_key(secret)
        if key is None or not key.active or key.tokens_per_minute is None:
            return key, None
        fetched = self._clock()
        now = datetime.now(timezone.utc)
        tokens, oldest = self._store.token_window(key.id, now - timedelta(seconds=WINDOW_S))
        oldest_at = None if oldest is None else fetched - (now - oldest).total_seconds()
        return key, StoredWindow(tokens, fetched, oldest_at)

    def _fetched(self, digest: str, task: asyncio.Future[_Fetched]) -> None:
        """On the loop when a lookup ends: cache its result (a failure is raised to the waiters)."""
        self._pending.pop(digest, None)
        if task.cancelled() or task.exception() is not None:
            return
        key, window = task.result()
        if key is not None and window is not None:
            self.tokens.set_stored(key.id, window)
        self._remember(digest, key)

    def _remember(self, digest: str, key: ApiKeyRecord | None) -> None:
        now = self._clock()
        if len(self._cache) >= MAX_CACHED:
            self._cache = {d: e for d, e in self._cache.items() if e.expires > now}
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
        self._cache[digest] = _Entry(key, now + self._ttl)
