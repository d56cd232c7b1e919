"""Fixtures: three upstream replica processes and one gateway server, shared by the gateway tests.

Run ids: "runa" has replicas runa-0 and runa-1, "runb" has runb-0. Each test installs the routing
table it needs with `gw.set_models(...)`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import openai
import pytest

from modelserve.gateway import Endpoint, ServedModel
from modelserve.gateway.clients import CLIENTS

from .harness import GatewayServer, Upstream, start_upstreams


@pytest.fixture(scope="session")
def ups() -> Iterator[dict[str, Upstream]]:
    started = start_upstreams(["runa-0", "runa-1", "runb-0"])
    yield started
    for up in started.values():
        up.stop()


@pytest.fixture(scope="session", params=["httpx", "aiohttp", "raw"])
def gw(request: pytest.FixtureRequest) -> Iterator[GatewayServer]:
    """The gateway, once per upstream client (all must behave the same)."""
    if request.param not in CLIENTS:
        pytest.skip(f"upstream client {request.param!r} is not installed")
    # No holding here (a run without replicas answers 503 at once); tests/gateway/test_hold.py
    # covers scale from zero on a gateway of its own.
    server = GatewayServer(upstream_client=request.param, hold_timeout_s=0).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reset_upstreams(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "ups" in request.fixturenames:
        for up in request.getfixturevalue("ups").values():
            up.control(None)


def endpoint(up: Upstream) -> Endpoint:
    return Endpoint(replica=up.replica, url=up.url)


def served(
    run_id: str,
    endpoints: list[Endpoint],
    *,
    model: str | None = None,
    model_name: str | None = "qwen",
    upstream_model: str = "qwen-upstream",
    adapters: tuple[str, ...] = (),
    features: tuple[str, ...] = ("TextGeneration",),
    project: str = "demo",
    strategy: str = "LeastLoad",
    balancing: dict[str, object] | None = None,
) -> ServedModel:
    return ServedModel(
        run_id=run_id,
        project=project,
        model=model or f"qwen-{run_id}",
        model_name=model_name,
        upstream_model=upstream_model,
        adapters=adapters,
        features=features,
        endpoints=tuple(endpoints),
        created=1700000000,
        strategy=strategy,
        balancing=balancing or {},
    )


@functools.cache
def client(base_url: str) -> openai.OpenAI:
    """An official client for `base_url`, kept for the session (building one loads TLS settings)."""
    return openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=15)
