"""Shared by the API-key tests: a hand-moved clock, the tiny OpenAI-shaped app that sits behind
ApiKeyMiddleware, uvicorn on a thread for real-socket tests, and response helpers."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from modelserve.auth.middleware import STATE_KEY_ID


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Upstream:
    """The tiny app behind the middleware: echoes what it received; streams on /v1/stream."""

    def __init__(self) -> None:
        self.release = threading.Event()  # lets /v1/stream send its second chunk

    async def echo(self, request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse(
            {
                "path": request.url.path,
                "body": body.decode(),
                "key_id": request.scope.get("state", {}).get(STATE_KEY_ID),
            }
        )

    async def chat(self, request: Request) -> JSONResponse:
        data = json.loads(await request.body())
        return JSONResponse(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": data["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "hi"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
            }
        )

    async def stream(self, request: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"data: first\n\n"
            released = await asyncio.to_thread(self.release.wait, 20)
            yield b"data: second\n\n" if released else b"data: never-released\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self.chat, methods=["POST"]),
                Route("/v1/stream", self.stream, methods=["POST"]),
                Route("/openai/v1/{rest:path}", self.echo, methods=["GET", "POST"]),
                Route("/v1/{rest:path}", self.echo, methods=["GET", "POST"]),
                Route("/runs/{run_id}/v1/{rest:path}", self.echo, methods=["POST"]),
                Route("/api/v1/{rest:path}", self.echo, methods=["GET", "POST"]),
            ]
        )


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Serve `app` with uvicorn on a thread; yields its base URL, stops it on exit."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(1000):
            if server.started:
                break
            if not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            threading.Event().wait(0.01)
        else:
            raise RuntimeError("uvicorn did not start in 10 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def envelope(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    return dict(body["error"])
