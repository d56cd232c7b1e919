"""Through a real gateway: balancing, streaming pass-through, failures before and after the first
byte, client disconnects, in-flight accounting and a failing routing source."""

from __future__ import annotations

import collections
import time
import uuid
from collections.abc import Callable

import openai
import pytest

from modelserve.gateway import Endpoint

from .conftest import client, endpoint, served
from .harness import HTTP, GatewayServer, Upstream, closed_port_url

MSGS = [{"role": "user", "content": "hi"}]


def _eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def _replica_of(c: openai.OpenAI, model: str = "qwen-runa") -> str:
    raw = c.chat.completions.with_raw_response.create(model=model, messages=MSGS)
    return raw.headers["x-modelserve-replica"]


def test_two_idle_replicas_both_serve(gw: GatewayServer, ups: dict[str, Upstream]) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"]), endpoint(ups["runa-1"])])])
    c = client(f"{gw.url}/openai/v1")
    counts = collections.Counter(_replica_of(c) for _ in range(10))
    assert set(counts) == {"runa-0", "runa-1"}
    assert min(counts.values()) >= 3


def test_busy_replica_is_avoided_and_counted_in_flight(gw: GatewayServer, ups: dict[str, Upstream]) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"]), endpoint(ups["runa-1"])])])
    c = client(f"{gw.url}/openai/v1")
    key = uuid.uuid4().hex
    stream = c.chat.completions.with_raw_response.create(
        model="qwen-runa", messages=MSGS, stream=True, extra_body={"x_test": {"hold": key}}
    )
    busy = stream.headers["x-modelserve-replica"]
    try:
        assert gw.gateway.inflight_by_run() == {"runa": 1}
        others = {_replica_of(c) for _ in range(4)}
        assert others == ({"runa-0", "runa-1"} - {busy})
    finally:
        ups[busy].release(key)
        list(stream.parse())
    assert _eventually(lambda: gw.gateway.inflight_by_run() == {"runa": 0})


def test_stream_chunks_arrive_before_the_upstream_finishes(
    gw: GatewayServer, ups: dict[str, Upstream]
) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"])])])
    key = uuid.uuid4().hex
    stream = client(f"{gw.url}/openai/v1").chat.completions.create(
        model="qwen-runa", messages=MSGS, stream=True, extra_body={"x_test": {"hold": key, "chunks": 4}}
    )
    first = next(iter(stream))
    # The upstream is still holding the rest of its stream: nothing was buffered in between.
    assert ups["runa-0"].stream_state(key) == "open"
    assert first.choices[0].delta.content == "replica=runa-0 model=qwen-upstream"
    ups["runa-0"].release(key)
    rest = [chunk.choices[0].delta.content for chunk in stream]
    assert rest == [" 1", " 2", " 3"]
    assert ups["runa-0"].stream_state(key) == "done"


def test_completion_stream_passes_through(gw: GatewayServer, ups: dict[str, Upstream]) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"])])])
    stream = client(f"{gw.url}/v1").completions.create(model="qwen-runa", prompt="hi", stream=True)
    assert "".join(c.choices[0].text for c in stream) == "replica=runa-0 model=qwen-upstream 1 2"


def test_mid_stream_failure_ends_with_error_frame_and_done(
    gw: GatewayServer, ups: dict[str, Upstream]
) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"])])])
    body = {"model": "qwen-runa", "messages": MSGS, "stream": True, "x_test": {"fail_after": 2, "chunks": 5}}
    with HTTP.stream("POST", f"{gw.url}/openai/v1/chat/completions", json=body, timeout=15) as r:
        assert r.status_code == 200
        assert r.headers["x-modelserve-replica"] == "runa-0"
        events = [e for e in r.read().decode().split("\n\n") if e]
    assert len(events) == 4
    assert events[-1] == "data: [DONE]"
    assert '"code": "upstream_stream_error"' in events[-2]
    # The official client surfaces the frame as an error after the chunks it got.
    stream = client(f"{gw.url}/openai/v1").chat.completions.create(
        model="qwen-runa", messages=MSGS, stream=True, extra_body={"x_test": {"fail_after": 2, "chunks": 5}}
    )
    got = []
    with pytest.raises(openai.APIError, match="failed while answering"):
        for chunk in stream:
            got.append(chunk.choices[0].delta.content)
    assert len(got) == 2


def test_client_disconnect_closes_the_upstream_stream(gw: GatewayServer, ups: dict[str, Upstream]) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"])])])
    key = uuid.uuid4().hex
    body = {"model": "qwen-runa", "messages": MSGS, "stream": True, "x_test": {"hold": key}}
    with HTTP.stream("POST", f"{gw.url}/openai/v1/chat/completions", json=body, timeout=15) as r:
        chunks = r.iter_raw()
        assert next(chunks).startswith(b"data: ")
        assert ups["runa-0"].stream_state(key) == "open"
    assert _eventually(lambda: ups["runa-0"].stream_state(key) == "cancelled")
    assert _eventually(lambda: gw.gateway.inflight_by_run() == {"runa": 0})


def test_dead_endpoint_is_retried_on_another_and_cooled_down(
    gw: GatewayServer, ups: dict[str, Upstream]
) -> None:
    dead = Endpoint(replica="runa-9", url=closed_port_url())
    gw.set_models([served("runa", [dead, endpoint(ups["runa-1"])])])
    c = client(f"{gw.url}/openai/v1")
    assert {_replica_of(c) for _ in range(4)} == {"runa-1"}
    stream = c.chat.completions.create(model="qwen-runa", messages=MSGS, stream=True)
    assert len(list(stream)) == 3
    labels = {"model": "qwen-runa", "replica": "runa-9", "kind": "connect"}
    # Tried at most once: after its first refusal the dead replica cools down and is skipped.
    connect_failures = gw.gateway.metrics_registry.get_sample_value(
        "modelserve_gateway_upstream_errors_total", labels
    )
    assert connect_failures in (None, 1.0)
    assert [ep.replica for ep in gw.gateway.cooldowns.cooling()] == (["runa-9"] if connect_failures else [])


def test_only_endpoint_dead_is_a_502_envelope(gw: GatewayServer) -> None:
    gw.set_models([served("runa", [Endpoint(replica="runa-0", url=closed_port_url())])])
    r = HTTP.post(f"{gw.url}/openai/v1/chat/completions", json={"model": "qwen-runa", "messages": MSGS})
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "upstream_unavailable"
    assert r.headers["x-modelserve-replica"] == "runa-0"


def _requests_seen(up: Upstream) -> int:
    count: int = HTTP.get(f"{up.url}/_stats").json()["requests"]
    return count


@pytest.mark.parametrize("status", [500, 503])
def test_replica_answering_5xx_is_retried_cooled_down_then_passed_through(
    gw: GatewayServer, ups: dict[str, Upstream], status: int
) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"]), endpoint(ups["runa-1"])])])
    ups["runa-0"].control(status)
    before = _requests_seen(ups["runa-0"])
    c = client(f"{gw.url}/openai/v1")
    assert {_replica_of(c) for _ in range(6)} == {"runa-1"}
    # After its first failure the replica cools down: the next requests do not even try it.
    assert _requests_seen(ups["runa-0"]) - before <= 1
    gw.set_models([served("runa", [endpoint(ups["runa-0"])])])
    with pytest.raises(openai.InternalServerError) as info:
        c.chat.completions.create(model="qwen-runa", messages=MSGS, stream=True)
    assert info.value.status_code == status
    assert info.value.response.headers["x-modelserve-replica"] == "runa-0"


def test_no_ready_replica_is_503_with_retry_after(gw: GatewayServer) -> None:
    gw.set_models([served("runa", [])])
    r = HTTP.post(f"{gw.url}/openai/v1/chat/completions", json={"model": "qwen-runa", "messages": MSGS})
    assert r.status_code == 503
    assert int(r.headers["retry-after"]) > 0
    assert r.json()["error"]["type"] == "service_unavailable"
    assert r.json()["error"]["code"] == "no_ready_replica"


def test_failing_source_keeps_the_last_good_table(gw: GatewayServer, ups: dict[str, Upstream]) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"])])])
    gw.fail_source = True
    try:
        with pytest.raises(RuntimeError):
            gw.call(gw.gateway.refresh_now())
        assert _replica_of(client(f"{gw.url}/openai/v1")) == "runa-0"
    finally:
        gw.fail_source = False


def test_requests_are_counted_in_prometheus(gw: GatewayServer, ups: dict[str, Upstream]) -> None:
    gw.set_models([served("runb", [endpoint(ups["runb-0"])], model="count-runb")])
    labels = {"model": "count-runb", "replica": "runb-0", "status": "200"}
    before = gw.gateway.metrics_registry.get_sample_value("modelserve_gateway_requests_total", labels) or 0
    _replica_of(client(f"{gw.url}/openai/v1"), "count-runb")
    # Counted when the exchange ends, which may be just after the client has its answer.
    assert _eventually(
        lambda: (
            gw.gateway.metrics_registry.get_sample_value("modelserve_gateway_requests_total", labels)
            == before + 1
        )
    )
