"""Fixtures: the fake control-plane API on a thread (one per session, emptied per test), a client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_api import FakeServer

import modelserve as ms


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeServer]:
    server = FakeServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake(fake_server: FakeServer) -> FakeServer:
    fake_server.state.reset()
    return fake_server


@pytest.fixture
def client(fake: FakeServer) -> Iterator[ms.Client]:
    with ms.Client(fake.url, poll_interval=0.01) as c:
        yield c
