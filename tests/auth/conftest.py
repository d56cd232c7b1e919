"""Fixtures for the API-key tests: a migrated SQLite store, an authenticator on a hand-moved
clock, the tiny app behind ApiKeyMiddleware and an httpx client on it (in-process ASGI)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from auth_support import FakeClock, Upstream

from modelserve.auth.authenticator import KeyAuthenticator
from modelserve.auth.middleware import ApiKeyMiddleware
from modelserve.store import SqlStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    s = SqlStore(f"sqlite:///{tmp_path / 'modelserve.db'}")
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def auth(store: SqlStore, clock: FakeClock) -> KeyAuthenticator:
    return KeyAuthenticator(store, clock=clock)


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


@pytest.fixture
def guarded(upstream: Upstream, auth: KeyAuthenticator) -> ApiKeyMiddleware:
    return ApiKeyMiddleware(upstream.app(), auth=auth, enabled=True)


@pytest.fixture
async def client(guarded: ApiKeyMiddleware) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=guarded)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as c:
        yield c
