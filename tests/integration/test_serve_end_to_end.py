"""Serve a tiny model end to end: SDK → API → reconciler → engine process → gateway → openai client."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import openai
import pytest

from tests.integration.harness import ServerProcess, run_processes


@pytest.fixture(scope="module")
def served(server: ServerProcess, tiny_llama: Path):  # type: ignore[no-untyped-def]
    import modelserve as ms

    client = ms.Client(base_url=server.url)
    project = client.get_or_create_project("e2e")
    fn = project.new_function("tiny", kind="vllmserve-text", url=str(tiny_llama), model_name="tiny")
    run = fn.run("serve", wait=True, timeout=180, scaling={"replicas": 2, "min_replicas": 1})
    assert run.status.state == "RUNNING", run.status.message
    yield run
    run.stop()


def test_status_names_model_base_url_and_fallback_engine(served) -> None:  # type: ignore[no-untyped-def]
    status = served.status
    model = status.openai["model"]
    assert model.startswith("tiny-") and len(model) <= 39 and re.fullmatch(r"[a-z0-9-]+", model)
    assert status.openai["baseUrl"].startswith("http://") and status.openai["baseUrl"].endswith("/openai/v1")
    assert status.service["url"].endswith(f"/runs/{served.id}/v1")
    # vLLM is not installed here, so the run says it fell back to the built-in engine.
    assert status.to_dict()["engine"]["fallback"] is True
    assert status.to_dict()["engine"]["used"] == "builtin"
    events = served.events()
    assert any(e["reason"] == "EngineFallback" for e in events)
    assert [e["state"] for e in events if e["reason"] in ("Created", "Planned", "Scheduled", "Ready")] == [
        "CREATED", "READY", "PENDING", "RUNNING",
    ]


def test_openai_client_chat_and_completions(served) -> None:  # type: ignore[no-untyped-def]
    client = openai.OpenAI(base_url=served.status.openai["baseUrl"], api_key="unused")
    model = served.status.openai["model"]
    chat = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hello"}], max_tokens=8, temperature=0
    )
    assert chat.choices[0].message.content
    assert chat.usage is not None and chat.usage.completion_tokens == 8
    again = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hello"}], max_tokens=8, temperature=0
    )
    assert again.choices[0].message.content == chat.choices[0].message.content

    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hello"}], max_tokens=8, temperature=0, stream=True
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert streamed == chat.choices[0].message.content

    completion = client.completions.create(model=model, prompt="Once upon", max_tokens=5, temperature=0)
    assert completion.choices[0].text and completion.usage.completion_tokens == 5


def test_plain_model_name_and_per_run_channel(served, server: ServerProcess) -> None:  # type: ignore[no-untyped-def]
    by_plain = openai.OpenAI(base_url=f"{server.url}/v1", api_key="x").chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "hi"}], max_tokens=3
    )
    assert by_plain.choices[0].message.content is not None
    channel = openai.OpenAI(base_url=served.status.service["url"], api_key="x")
    listed = [m.id for m in channel.models.list()]
    assert served.status.openai["model"] in listed


def test_two_replicas_both_serve_behind_least_load(served) -> None:  # type: ignore[no-untyped-def]
    client = openai.OpenAI(base_url=served.status.openai["baseUrl"], api_key="x")
    seen = set()
    for _ in range(8):
        raw = client.chat.completions.with_raw_response.create(
            model=served.status.openai["model"], messages=[{"role": "user", "content": "hi"}], max_tokens=2
        )
        seen.add(raw.headers["x-modelserve-replica"])
    assert seen == {f"{served.id}-0", f"{served.id}-1"}
    assert len(run_processes(served.id)) >= 2


def test_logs_and_events_are_readable(served) -> None:  # type: ignore[no-untyped-def]
    logs = served.logs(replica=0, tail=50)
    assert "modelserve.builtin" in logs  # the launch line names the engine command
    assert served.events()[-1]["run_id"] == served.id


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"model": "no-such-model", "messages": [{"role": "user", "content": "x"}]}, 404, "model"),
        ("{not json", 400, None),
    ],
    ids=["unknown-model", "malformed-json"],
)
def test_gateway_bad_requests_use_the_openai_envelope(served, body, status, param) -> None:  # type: ignore[no-untyped-def]
    url = served.status.openai["baseUrl"] + "/chat/completions"
    if isinstance(body, str):
        resp = httpx.post(url, content=body, headers={"content-type": "application/json"})
    else:
        resp = httpx.post(url, json=body)
    assert resp.status_code == status
    err = resp.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert err["param"] == param


def test_max_tokens_negative_is_rejected_naming_the_field(served) -> None:  # type: ignore[no-untyped-def]
    client = openai.OpenAI(base_url=served.status.openai["baseUrl"], api_key="x")
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model=served.status.openai["model"], messages=[{"role": "user", "content": "x"}], max_tokens=-1
        )
    assert info.value.status_code == 400
    assert info.value.body["param"] == "max_tokens"  # type: ignore[index]


def test_prometheus_metrics_count_gateway_requests(served, server: ServerProcess) -> None:  # type: ignore[no-untyped-def]
    client = openai.OpenAI(base_url=served.status.openai["baseUrl"], api_key="x")
    client.chat.completions.create(
        model=served.status.openai["model"], messages=[{"role": "user", "content": "hi"}], max_tokens=2
    )
    text = httpx.get(f"{server.url}/metrics").text
    lines = [ln for ln in text.splitlines() if ln.startswith("modelserve_gateway_requests_total{")]
    assert any(served.status.openai["model"] in ln and 'status="200"' in ln for ln in lines), lines
