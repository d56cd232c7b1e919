"""Usage records for API-key accounting, Prometheus token/TTFT/retry metrics, and the multipart
audio routes, through a real gateway."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from modelserve.gateway import Endpoint
from modelserve.gateway.usage import UsageRecord

from .conftest import client, endpoint, served
from .harness import HTTP, GatewayServer, Upstream, closed_port_url

MSGS = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def records() -> list[UsageRecord]:
    return []


@pytest.fixture(scope="module")
def ugw(records: list[UsageRecord]) -> Iterator[GatewayServer]:
    server = GatewayServer(usage_sink=records.append).start()
    yield server
    server.stop()


def _until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.01)


def _last(records: list[UsageRecord], count: int) -> list[UsageRecord]:
    _until(lambda: len(records) >= count)
    return records[-1:] if count else []


def test_non_stream_usage_reaches_the_sink_with_the_key_id(
    ugw: GatewayServer, ups: dict[str, Upstream], records: list[UsageRecord]
) -> None:
    ugw.set_models([served("runa", [endpoint(ups["runa-0"])])])
    before = len(records)
    r = HTTP.post(
        f"{ugw.url}/openai/v1/chat/completions",
        json={"model": "qwen-runa", "messages": MSGS},
        headers={"x-test-key-id": "key-7"},
    )
    assert r.status_code == 200
    (record,) = _last(records, before + 1)
    assert record == UsageRecord("runa", "qwen-runa", "runa-0", "key-7", 20, 1, 200, None)


def test_stream_usage_is_read_and_hidden_when_the_client_did_not_ask(
    ugw: GatewayServer, ups: dict[str, Upstream], records: list[UsageRecord]
) -> None:
    ugw.set_models([served("runa", [endpoint(ups["runa-0"])], adapters=("sql",))])
    before = len(records)
    chunks = list(
        client(f"{ugw.url}/openai/v1").chat.completions.create(
            model="qwen-runa_sql", messages=MSGS, stream=True
        )  # type: ignore[arg-type]
    )
    assert all(chunk.choices for chunk in chunks)  # no usage-only chunk reached the client
    assert all(chunk.usage is None for chunk in chunks)
    (record,) = _last(records, before + 1)
    assert (record.prompt_tokens, record.completion_tokens, record.key_id) == (20, 3, None)
    assert (record.adapter, record.model, record.status) == ("sql", "qwen-runa", 200)


def test_stream_usage_passes_through_when_the_client_asked(
    ugw: GatewayServer, ups: dict[str, Upstream], records: list[UsageRecord]
) -> None:
    ugw.set_models([served("runa", [endpoint(ups["runa-1"])])])
    before = len(records)
    chunks = list(
        client(f"{ugw.url}/openai/v1").completions.create(
            model="qwen-runa", prompt="hi", stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (10, 3)
    (record,) = _last(records, before + 1)
    assert (record.replica, record.prompt_tokens, record.completion_tokens) == ("runa-1", 10, 3)


def test_tokens_ttft_and_retries_are_in_prometheus(ugw: GatewayServer, ups: dict[str, Upstream]) -> None:
    dead = Endpoint("runb-9", closed_port_url())
    ugw.set_models([served("runb", [dead, endpoint(ups["runb-0"])], model="metered-runb")])
    c = client(f"{ugw.url}/openai/v1")
    for _ in range(2):
        list(c.chat.completions.create(model="metered-runb", messages=MSGS, stream=True))  # type: ignore[arg-type]
    reg = ugw.gateway.metrics_registry
    labels = {"model": "metered-runb", "replica": "runb-0"}

    def value(name: str, extra: dict[str, str] | None = None) -> float:
        return reg.get_sample_value(name, {**labels, **(extra or {})}) or 0.0

    _until(lambda: value("modelserve_gateway_generation_tokens_total") == 6)
    assert value("modelserve_gateway_prompt_tokens_total") == 40
    assert value("modelserve_gateway_time_to_first_token_seconds_count") == 2
    # The dead replica was tried once, then cooled down.
    assert (
        reg.get_sample_value(
            "modelserve_gateway_retries_total", {"model": "metered-runb", "replica": "runb-9"}
        )
        == 1
    )


def _audio(
    url: str, model: str | None, path: str = "audio/transcriptions", prefix: str = "/openai/v1"
) -> dict[str, str]:
    data = {"model": model, "language": "en"} if model else {"language": "en"}
    r = HTTP.post(
        f"{url}{prefix}/{path}", data=data, files={"file": ("a.wav", b"RIFF" + b"\0" * 5000, "audio/wav")}
    )
    assert r.status_code == 200, r.text
    return {**r.json(), "replica": r.headers["x-modelserve-replica"]}


@pytest.mark.parametrize("path", ["audio/transcriptions", "audio/translations"])
def test_multipart_audio_is_routed_by_its_model_field_and_rewritten(
    gw: GatewayServer, ups: dict[str, Upstream], path: str
) -> None:
    gw.set_models(
        [
            served("runa", [endpoint(ups["runa-0"])], features=("SpeechToText",)),
            served("runb", [endpoint(ups["runb-0"])], model="whisper-runb", model_name="whisper"),
        ]
    )
    got = _audio(gw.url, "whisper-runb", path)
    assert got == {
        "text": "replica=runb-0 model=qwen-upstream bytes=5004",
        "path": f"/v1/{path}",
        "replica": "runb-0",
    }
    assert _audio(gw.url, "qwen-runa", path, "/v1")["text"] == "replica=runa-0 model=qwen-upstream bytes=5004"
    per_run = _audio(gw.url, None, path, "/runs/runb/v1")
    assert per_run["text"] == "replica=runb-0 model=None bytes=5004"


def test_multipart_without_a_model_or_not_multipart_is_400(
    gw: GatewayServer, ups: dict[str, Upstream]
) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"])])])
    r = HTTP.post(f"{gw.url}/openai/v1/audio/transcriptions", files={"file": ("a.wav", b"x", "audio/wav")})
    assert (r.status_code, r.json()["error"]["param"]) == (400, "model")
    r = HTTP.post(f"{gw.url}/openai/v1/audio/transcriptions", json={"model": "qwen-runa"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_content_type")
