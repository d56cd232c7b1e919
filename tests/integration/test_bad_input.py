"""Bad specs are refused with the OpenAI envelope naming the field, and leave nothing behind."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.integration.harness import ServerProcess


@pytest.fixture()
def api(server: ServerProcess) -> httpx.Client:
    client = httpx.Client(base_url=f"{server.url}/api/v1", timeout=10)
    client.post("/projects", json={"name": "bad"}, params={"get_or_create": True}).raise_for_status()
    return client


def _counts(api: httpx.Client) -> tuple[int, int]:
    return len(api.get("/projects/bad/functions").json()), len(api.get("/projects/bad/runs").json())


@pytest.mark.parametrize(
    ("spec", "param"),
    [
        ({"url": "/models/x", "model_name": "x", "colour": "red"}, "spec.colour"),
        ({"url": "ftp://example/model", "model_name": "x"}, "spec.url"),
        ({"model_name": "x"}, "spec.url"),
    ],
    ids=["unknown-field", "bad-url-scheme", "missing-url"],
)
def test_bad_function_spec(api: httpx.Client, spec: dict, param: str) -> None:
    before = _counts(api)
    resp = api.post("/projects/bad/functions", json={"name": "f", "kind": "vllmserve-text", "spec": spec})
    assert resp.status_code == 400
    assert resp.json()["error"]["param"] == param
    assert _counts(api) == before


@pytest.mark.parametrize(
    ("serve", "param"),
    [
        ({"replicas": -1}, "serve.replicas"),
        ({"scaling": {"replicas": -2}}, "serve.scaling.replicas"),
        ({"gpus": 1}, "serve.gpus"),
        ({"url": "/elsewhere"}, "serve.url"),
    ],
    ids=["negative-replicas", "negative-scaling-replicas", "unknown-field", "url-override-not-subpath"],
)
def test_bad_serve_spec_creates_no_run(api: httpx.Client, tiny_llama: Path, serve: dict, param: str) -> None:
    api.post(
        "/projects/bad/functions",
        json={"name": "ok", "kind": "vllmserve-text", "spec": {"url": str(tiny_llama), "model_name": "ok"}},
    ).raise_for_status()
    before = _counts(api)
    resp = api.post("/projects/bad/runs", json={"function": "ok", "action": "serve", "spec": serve})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param
    assert _counts(api) == before


def test_unknown_kind_and_unknown_run(api: httpx.Client) -> None:
    resp = api.post("/projects/bad/functions", json={"name": "f", "kind": "tensorflow", "spec": {}})
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "kind"
    missing = api.get("/runs/0123456789abcdef0123456789abcdef")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found_error"


def test_malformed_json_on_the_api_is_400(api: httpx.Client) -> None:
    resp = api.post("/projects", content=b"{nope", headers={"content-type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "invalid_json"
