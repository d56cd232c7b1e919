"""Runs through the SDK: wait, status, invoke, lifecycle, logs and events, id prefixes."""

from __future__ import annotations

import json

import pytest
from fake_api import FakeServer

import modelserve as ms
from modelserve import errors


@pytest.fixture
def fn(client: ms.Client) -> ms.Function:
    project = client.get_or_create_project("demo")
    return project.new_function(
        "qwen", kind="vllmserve-text", url="hf://Qwen/Qwen2.5-0.5B", model_name="qwen"
    )


def test_run_wait_reaches_running_with_openai_fields(fn: ms.Function, fake: FakeServer) -> None:
    run = fn.run("serve", wait=True, timeout=30, replicas=1, args=["--max-model-len", "4096"])
    assert run.status.state == "RUNNING"
    assert run.status.openai["baseUrl"] == f"{fake.url}/openai/v1"
    assert run.status.openai["model"] == f"qwen-{run.id}"[:39]
    assert run.status.service["url"] == f"{fake.url}/runs/{run.id}"
    assert run.status.to_dict()["replicas"] == {"desired": 1, "ready": 1}
    stored = fake.state.runs[run.id]
    assert stored["function_version"] == 1
    assert stored["spec"]["replicas"] == 1 and stored["spec"]["args"] == ["--max-model-len", "4096"]


def test_wait_is_silent_unless_log_info(fn: ms.Function, capsys: pytest.CaptureFixture[str]) -> None:
    fn.run("serve", wait=True, timeout=30)
    assert capsys.readouterr().err == ""
    fn.run("serve", wait=True, timeout=30, log_info=True)
    err = capsys.readouterr().err
    assert "PENDING" in err and "RUNNING" in err and "replica 0 ready" in err


def test_failed_run_is_returned_with_error_state(client: ms.Client) -> None:
    project = client.get_or_create_project("demo")
    bad = project.new_function("bad", kind="vllmserve-text", url="hf://fail/model")
    run = bad.run("serve", wait=True, timeout=30)
    assert run.status.state == "ERROR"
    assert "repository not found" in (run.status.message or "")
    assert run.events()[-1]["reason"] == "FetchFailed"


def test_wait_timeout_raises_with_the_run(fn: ms.Function) -> None:
    run = fn.run("serve")
    with pytest.raises(ms.WaitTimeout) as info:
        run.wait(timeout=0)
    assert isinstance(info.value, TimeoutError)
    assert info.value.run is run
    assert run.id in str(info.value)


def test_refresh_moves_state_forward(fn: ms.Function) -> None:
    run = fn.run("serve")
    assert run.status.state == "CREATED"
    assert run.refresh().status.state == "PENDING"
    assert run.refresh().status.state == "RUNNING"


def test_invoke_defaults_to_chat_completions_and_get_without_body(fn: ms.Function) -> None:
    run = fn.run("serve", wait=True, timeout=30)
    answer = run.invoke(json={"model": run.status.openai["model"], "messages": []}).json()
    assert answer["method"] == "POST" and answer["path"] == "chat/completions"
    assert json.loads(answer["body"])["model"] == run.status.openai["model"]
    assert run.invoke().json()["method"] == "GET"
    raw = run.invoke(data='{"x": 1}').json()
    assert raw["method"] == "POST" and raw["body"] == '{"x": 1}'


def test_invoke_embeddings_feature_targets_embeddings(client: ms.Client) -> None:
    project = client.get_or_create_project("demo")
    emb = project.new_function("emb", kind="vllmserve-pooling", url="hf://a/b", features=["TextEmbedding"])
    run = emb.run("serve", wait=True, timeout=30)
    assert run.invoke(json={"input": "hi"}).json()["path"] == "embeddings"


def test_invoke_explicit_url_must_be_under_the_run(fn: ms.Function, fake: FakeServer) -> None:
    run = fn.run("serve", wait=True, timeout=30)
    ok = run.invoke(url=f"{fake.url}/openai/v1/completions", json={"prompt": "hi"})
    assert ok.json()["path"] == "completions"
    schemeless = fake.url.split("://", 1)[1]
    assert run.invoke(url=f"{schemeless}/openai/v1/models").json()["method"] == "GET"
    with pytest.raises(errors.InvalidRequest) as info:
        run.invoke(url="http://example.com/v1/chat/completions", json={})
    assert info.value.param == "url"
    with pytest.raises(errors.InvalidRequest):
        run.invoke(url=f"{fake.url}/openai/v1x/chat/completions", json={})


def test_invoke_before_the_run_has_urls_is_not_ready(fn: ms.Function) -> None:
    run = fn.run("serve")
    with pytest.raises(errors.NotReady, match="wait until it is RUNNING"):
        run.invoke(json={})


def test_list_endpoints_adds_scheme_and_lists_service_urls(fn: ms.Function, fake: FakeServer) -> None:
    run = fn.run("serve", wait=True, timeout=30)
    assert run.list_endpoints() == [
        f"{fake.url}/runs/{run.id}",
        f"{fake.url}/runs/{run.id}/v1",
        f"{fake.url}/openai/v1",
    ]


def test_stop_resume_delete_update_the_run(fn: ms.Function, client: ms.Client) -> None:
    run = fn.run("serve", wait=True, timeout=30)
    assert run.stop().status.state == "STOPPED" and run.desired == "stop"
    assert run.resume().desired == "serve"
    deleted = client.get_or_create_project("demo").delete_run(run.id)
    assert deleted.desired == "delete" and deleted.status.state == "DELETING"


def test_logs_and_events(fn: ms.Function) -> None:
    run = fn.run("serve", wait=True, timeout=30)
    logs = run.logs(replica=0, tail=3)
    assert logs.splitlines() == ["replica 0 line 298", "replica 0 line 299", "replica 0 line 300"]
    assert [e["event"] for e in run.events()] == ["BUILD", "SCHEDULE", "EXECUTE"]


def test_project_runs_and_get_run(fn: ms.Function, client: ms.Client) -> None:
    run = fn.run("serve")
    other = client.get_or_create_project("other")
    other.new_function("x", kind="vllmserve-text", url="hf://a/b").run("serve")
    project = client.get_project("demo")
    assert [r.id for r in project.list_runs()] == [run.id]
    assert project.get_run(run.id).function == "qwen"
    assert len(client.list_runs()) == 2 and [r.project for r in client.list_runs("other")] == ["other"]
    with pytest.raises(errors.NotFound):
        other.get_run(run.id)
    with pytest.raises(errors.NotFound, match="not found"):
        client.get_run("0" * 32)


def test_resolve_run_id_prefixes(fn: ms.Function, client: ms.Client) -> None:
    run = fn.run("serve")
    assert client.resolve_run_id(run.id[:6].upper()) == run.id
    with pytest.raises(errors.InvalidRequest, match="at least 6"):
        client.resolve_run_id(run.id[:5])
    missing = "".join("0" if c != "0" else "1" for c in run.id[:8])
    with pytest.raises(errors.NotFound):
        client.resolve_run_id(missing)
