"""GatewayFront: gateway paths skip the app's stack; everything else reaches the app unchanged."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelserve.gateway.front import GatewayFront
from modelserve.gateway.routes import split_gateway_path

@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/chat/completions", (None, "chat/completions")),
        ("/openai/v1/models", (None, "models")),
        ("/openai/v1/models/m_a", (None, "models/m_a")),
        ("/runs/abc123/v1/embeddings", ("abc123", "embeddings")),
        ("/runs/abc123/v1/", ("abc123", "")),
        ("/runs//v1/models", None),
        ("/runs/abc123/v2/models", None),
        ("/runs/abc123", None),
        ("/api/v1/runs", None),
        ("/v1", None),
        ("/openai/v2/models", None),
        ("/metrics", None),
        ("/", None),
    ],
)
def test_split_gateway_path(path: str, expected: tuple[str | None, str] | None) -> None:
    assert split_gateway_path(path) == expected

class _Recorder:
    """A gateway stand-in that answers 200 with the path params it was given (or raises)."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.fail:
            raise RuntimeError("boom")

        split = split_gateway_path(scope["path"])
        body = repr(split).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-from", b"gateway")]})
        await send({"type": "http.response.body", "body": body})

def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/runs")
    async def runs() -> dict[str, str]:
        return {"from": "app"}

    return app

async def _get(front: GatewayFront, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=front)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path)

async def test_gateway_paths_go_to_the_gateway_and_the_rest_to_the_app() -> None:
    front = GatewayFront(_app(), _Recorder())
    r = await _get(front, "/runs/abc/v1/models")
    assert (r.status_code, r.headers["x-from"], r.text) == (200, "gateway", "('abc', 'models')")
    r = await _get(front, "/api/v1/runs")
    assert (r.status_code, r.json()) == (200, {"from": "app"})
    assert "x-from" not in r.headers
    r = await _get(front, "/api/v1/nothing")
    assert r.status_code == 404 and "x-from" not in r.headers

async def test_an_exception_in_the_gateway_is_a_500_envelope() -> None:
    front = GatewayFront(_app(), _Recorder(fail=True))
    r = await _get(front, "/v1/models")
    assert r.status_code == 500
    assert r.json()["error"]["type"] == "internal_error"
