"""Projects, functions and error mapping through the SDK against the fake control-plane API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_api import FakeServer, free_port

import modelserve as ms
from modelserve import errors


def test_get_or_create_project_creates_once(client: ms.Client, fake: FakeServer) -> None:
    first = client.get_or_create_project("demo")
    again = client.get_or_create_project("demo")
    assert first.name == again.name == "demo"
    assert list(fake.state.projects) == ["demo"]
    assert [p.name for p in client.list_projects()] == ["demo"]


def test_new_project_twice_is_a_conflict(client: ms.Client) -> None:
    client.new_project("demo")
    with pytest.raises(errors.Conflict, match="already exists"):
        client.new_project("demo")


def test_missing_project_raises_not_found_with_message_and_param(client: ms.Client) -> None:
    with pytest.raises(errors.NotFound) as info:
        client.get_project("nope")
    assert info.value.message == "project nope not found"
    assert info.value.param == "project"
    assert info.value.status == 404


def test_new_function_posts_kind_and_spec_and_versions(client: ms.Client, fake: FakeServer) -> None:
    project = client.get_or_create_project("demo")
    fn = project.new_function("qwen", kind="vllmserve-text", url="hf://Qwen/Qwen2.5-0.5B", model_name="qwen")
    assert (fn.name, fn.kind, fn.version) == ("qwen", "vllmserve-text", 1)
    assert fake.state.functions[("demo", "qwen")][0]["spec"] == {
        "url": "hf://Qwen/Qwen2.5-0.5B",
        "model_name": "qwen",
    }
    project.new_function("qwen", kind="vllmserve-text", url="hf://Qwen/Qwen2.5-1.5B", model_name="qwen")
    assert project.get_function("qwen").version == 2
    assert project.get_function("qwen", version=1).spec["url"] == "hf://Qwen/Qwen2.5-0.5B"


def test_invalid_spec_keeps_param_and_code(client: ms.Client) -> None:
    project = client.get_or_create_project("demo")
    with pytest.raises(errors.InvalidRequest) as info:
        project.new_function("broken", kind="vllmserve-text", model_name="x")
    assert info.value.param == "spec.url"
    assert info.value.code == "invalid_value"
    assert "Field required" in str(info.value)


def test_error_without_envelope_is_still_mapped(client: ms.Client) -> None:
    with pytest.raises(errors.NotFound, match="Not Found"):
        client.call("GET", "/no-such-route")


def test_connection_refused_says_how_to_start_a_server() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with ms.Client(url) as c, pytest.raises(ms.ServerUnreachable) as info:
        c.list_projects()
    assert url in str(info.value)
    assert "modelserve up" in str(info.value)
    assert isinstance(info.value, ConnectionError)


@pytest.fixture
def env_default_client(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MODELSERVE_URL", fake.url + "/api/v1/")
    ms.set_default_client(None)
    yield
    ms.set_default_client(None)


@pytest.mark.usefixtures("env_default_client")
def test_module_functions_use_modelserve_url(fake: FakeServer) -> None:
    project = ms.get_or_create_project("envdemo")
    assert project.name == "envdemo"
    assert "envdemo" in fake.state.projects
    assert [p.name for p in ms.list_projects()] == ["envdemo"]
    fn = ms.new_function("envdemo", "tiny", kind="vllmserve-text", url="hf://a/b")
    assert ms.get_function("envdemo", "tiny").id == fn.id
