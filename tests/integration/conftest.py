"""Fixtures for end-to-end tests: a tiny model built once, a real server per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.harness import ServerProcess, free_port, reap_runs


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from modelserve.testing import make_tiny_llama

    return make_tiny_llama(tmp_path_factory.mktemp("models") / "tiny-llama")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("server")
    srv = ServerProcess(data, free_port()).start()
    yield srv
    srv.stop()
    reap_runs(srv)


@pytest.fixture()
def ms_client(server: ServerProcess):  # type: ignore[no-untyped-def]
    import modelserve as ms

    return ms.Client(base_url=server.url)
