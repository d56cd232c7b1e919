"""Scale from zero through a real gateway: requests held while a run has no replica, the control
plane asked once, forwarded when a replica appears, bounded in time and in number, keep-alive
comments on held streams."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from modelserve import errors

from .conftest import client, endpoint, served
from .harness import HTTP, GatewayServer, Upstream

MSGS = [{"role": "user", "content": "hi"}]
BODY = {"model": "qwen-runa", "messages": MSGS}
POOL = concurrent.futures.ThreadPoolExecutor(max_workers=8)


class Demands:
    """The `on_demand` callback: records the runs it was asked for; may refuse some."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.refuse: set[str] = set()

    async def __call__(self, run_id: str) -> None:
        self.calls.append(run_id)
        await asyncio.sleep(0)
        if run_id in self.refuse:
            raise errors.NotFound(f"run {run_id} was deleted", code="run_not_found")


@pytest.fixture(scope="module")
def demands() -> Demands:
    return Demands()


@pytest.fixture(scope="module")
def hgw(demands: Demands) -> Iterator[GatewayServer]:
    """A gateway that holds for up to 3 s, at most 3 requests, keep-alives every 0.2 s."""
    server = GatewayServer(on_demand=demands, hold_timeout_s=3.0, max_held=3, keepalive_s=0.2).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh(demands: Demands) -> None:
    demands.calls.clear()
    demands.refuse.clear()


def _until(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.01)


def _post(url: str, body: dict[str, Any]) -> httpx.Response:
    return HTTP.post(f"{url}/openai/v1/chat/completions", json=body, timeout=15)


def test_held_requests_are_forwarded_when_a_replica_appears(
    hgw: GatewayServer, ups: dict[str, Upstream], demands: Demands
) -> None:
    hgw.set_models([served("runa", [])])
    futures = [POOL.submit(_post, hgw.url, BODY) for _ in range(3)]
    _until(lambda: hgw.gateway.room.held == 3)
    assert hgw.gateway.inflight_by_run() == {"runa": 3}  # the autoscaler sees held requests
    # The replica appears in the source only: the held requests make the gateway look for it.
    hgw.models = [served("runa", [endpoint(ups["runa-0"])])]
    responses = [f.result(timeout=15) for f in futures]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert {r.headers["x-modelserve-replica"] for r in responses} == {"runa-0"}
    assert demands.calls == ["runa"]  # asked once for the three
    assert hgw.gateway.room.held == 0
    waited = hgw.gateway.metrics_registry.get_sample_value(
        "modelserve_gateway_hold_wait_seconds_count", {"model": "qwen-runa"}
    )
    assert waited is not None and waited >= 3


def test_a_hold_that_times_out_is_503_with_retry_after(hgw: GatewayServer, demands: Demands) -> None:
    hgw.set_models([served("runa", [])])
    r = _post(hgw.url, BODY)
    assert r.status_code == 503
    assert int(r.headers["retry-after"]) > 0
    assert (r.json()["error"]["type"], r.json()["error"]["code"]) == (
        "service_unavailable",
        "no_ready_replica",
    )
    assert demands.calls == ["runa"]
    # A later wait asks again.
    assert _post(hgw.url, BODY).status_code == 503
    assert demands.calls == ["runa", "runa"]


def test_requests_beyond_the_held_cap_are_429(hgw: GatewayServer, ups: dict[str, Upstream]) -> None:
    hgw.set_models([served("runa", [])])
    futures = [POOL.submit(_post, hgw.url, BODY) for _ in range(3)]
    _until(lambda: hgw.gateway.room.held == 3)
    r = _post(hgw.url, BODY)
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
    assert r.json()["error"]["code"] == "too_many_held_requests"
    hgw.set_models([served("runa", [endpoint(ups["runa-1"])])])
    assert [f.result(timeout=15).status_code for f in futures] == [200, 200, 200]


def test_a_refusal_from_the_control_plane_ends_the_wait(hgw: GatewayServer, demands: Demands) -> None:
    hgw.set_models([served("runa", [])])
    demands.refuse.add("runa")
    r = _post(hgw.url, BODY)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "run_not_found")


def test_held_stream_gets_keepalive_comments_then_the_stream(
    hgw: GatewayServer, ups: dict[str, Upstream]
) -> None:
    hgw.set_models([served("runa", [])])
    with HTTP.stream(
        "POST", f"{hgw.url}/openai/v1/chat/completions", json={**BODY, "stream": True}, timeout=15
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = r.iter_lines()
        assert next(lines) == ": keep-alive"
        hgw.set_models([served("runa", [endpoint(ups["runa-0"])])])
        rest = [line for line in lines if line and line != ": keep-alive"]
    assert rest[0].startswith("data: {") and "replica=runa-0" in rest[0]
    assert rest[-1] == "data: [DONE]"
    assert len(rest) == 4


def test_official_client_reads_a_held_stream(hgw: GatewayServer, ups: dict[str, Upstream]) -> None:
    hgw.set_models([served("runa", [])])
    later = POOL.submit(
        lambda: (time.sleep(0.5), hgw.set_models([served("runa", [endpoint(ups["runa-1"])])]))
    )
    stream = client(f"{hgw.url}/openai/v1").chat.completions.create(
        model="qwen-runa", messages=MSGS, stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    later.result(timeout=5)
    assert text == "replica=runa-1 model=qwen-upstream 1 2"


def test_held_stream_that_times_out_ends_with_an_error_frame(hgw: GatewayServer) -> None:
    hgw.set_models([served("runa", [])])
    with HTTP.stream(
        "POST", f"{hgw.url}/openai/v1/chat/completions", json={**BODY, "stream": True}, timeout=15
    ) as r:
        events = [e for e in r.read().decode().split("\n\n") if e]
    assert r.status_code == 200
    assert events[0] == ": keep-alive"
    assert '"code": "no_ready_replica"' in events[-2]
    assert events[-1] == "data: [DONE]"


def test_a_client_leaving_while_held_is_released(hgw: GatewayServer) -> None:
    hgw.set_models([served("runa", [])])
    with HTTP.stream(
        "POST", f"{hgw.url}/openai/v1/chat/completions", json={**BODY, "stream": True}, timeout=15
    ) as r:
        lines = r.iter_lines()  # kept: a discarded line iterator closes the response
        assert next(lines) == ": keep-alive"
        assert hgw.gateway.room.held == 1
    _until(lambda: hgw.gateway.room.held == 0 and hgw.gateway.inflight_by_run() == {"runa": 0})


def test_a_run_leaving_the_table_ends_its_held_requests_with_404(hgw: GatewayServer) -> None:
    hgw.set_models([served("runa", [])])
    future = POOL.submit(_post, hgw.url, BODY)
    _until(lambda: hgw.gateway.room.held == 1)
    hgw.set_models([])  # the run was stopped or deleted meanwhile
    r = future.result(timeout=15)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "model_not_found")
