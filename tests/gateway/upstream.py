"""A minimal OpenAI-compatible upstream for gateway tests and benchmarks (stands in for an engine).

    python tests/gateway/upstream.py --replica runa-0 [--port 0]

Prints `PORT <n>` once listening. Answers chat/completions/embeddings (stream and not) saying
which replica it is and which model name it received. Per request, `x_test` in the body may ask for
`{"chunks": n, "delay_s": s, "fail_after": k, "hold": "key"}`: `fail_after` drops the connection
after k chunks; `hold` pauses after the first chunk until POST /_release/{key}. POST /_control
{"status": 503} makes every inference answer that status until reset with {"status": null}.
Usage: prompt_tokens is the number of messages (or 1) times 10, completion_tokens the number of
chunks; a stream ends with a usage-only chunk when `stream_options.include_usage` is set.
/v1/audio/transcriptions and /translations (multipart) echo the model and the file size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time
from collections.abc import Coroutine
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

HOLD_CAP_S = 20.0


class State:
    def __init__(self, replica: str, chunks: int = 3) -> None:
        self.replica = replica
        self.chunks = chunks  # stream events when the request does not say
        self.status: int | None = None
        self.requests = 0
        self.holds: dict[str, asyncio.Event] = {}
        self.streams: dict[str, str] = {}  # hold key -> "open" | "done" | "cancelled"


def _chunk(kind: str, model: str, i: int, text: str, null_usage: bool = False) -> bytes:
    if kind == "chat":
        choice: dict[str, Any] = {"index": 0, "delta": {"content": text}, "finish_reason": None}
        obj = "chat.completion.chunk"
    else:
        choice = {"index": 0, "text": text, "finish_reason": None}
        obj = "text_completion"
    payload = {
        "id": f"x-{i}",
        "object": obj,
        "created": int(time.time()),
        "model": model,
        "choices": [choice],
    }
    if null_usage:
        payload["usage"] = None  # as vLLM and OpenAI send when usage was asked for
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _usage(body: dict[str, Any], completion: int) -> dict[str, int]:
    prompt = 10 * max(1, len(body.get("messages") or []))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _whole(kind: str, model: str, text: str, usage: dict[str, int]) -> dict[str, Any]:
    if kind == "chat":
        return {
            "id": "x",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": usage,
        }
    return {
        "id": "x",
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "text": text, "finish_reason": "stop"}],
        "usage": usage,
    }


def build_app(state: State) -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"replica": state.replica}

    @app.post("/_control")
    async def control(request: Request) -> dict[str, Any]:
        state.status = (await request.json()).get("status")
        return {"status": state.status}

    @app.post("/_release/{key}")
    async def release(key: str) -> dict[str, Any]:
        state.holds.setdefault(key, asyncio.Event()).set()
        return {"released": key}

    @app.get("/_streams/{key}")
    async def stream_state(key: str) -> dict[str, Any]:
        return {"state": state.streams.get(key)}

    @app.get("/_stats")
    async def stats() -> dict[str, Any]:
        return {"replica": state.replica, "requests": state.requests}

    async def infer(kind: str, request: Request) -> Response:
        state.requests += 1
        if state.status is not None:
            return JSONResponse(
                {
                    "error": {
                        "message": f"{state.replica} forced {state.status}",
                        "type": "test",
                        "param": None,
                        "code": None,
                    }
                },
                status_code=state.status,
            )
        body = await request.json()
        model, test = body.get("model"), body.get("x_test") or {}
        text = f"replica={state.replica} model={model}"
        headers = {"x-upstream-replica": state.replica}
        if kind == "embeddings":
            data = [{"object": "embedding", "index": 0, "embedding": [0.5, 0.25]}]
            return JSONResponse(
                {
                    "object": "list",
                    "data": data,
                    "model": model,
                    "x_replica": state.replica,
                    "usage": {"prompt_tokens": 1, "total_tokens": 1},
                },
                headers=headers,
            )
        if kind == "echo":
            return JSONResponse(
                {"path": request.url.path, "model": model, "replica": state.replica}, headers=headers
            )
        if test.get("delay_s") and not body.get("stream"):
            await asyncio.sleep(float(test["delay_s"]))
        if not body.get("stream"):
            return JSONResponse(_whole(kind, model, text, _usage(body, 1)), headers=headers)
        options = body.get("stream_options") or {}
        test.setdefault("chunks", state.chunks)
        usage = _usage(body, int(test["chunks"])) if options.get("include_usage") else None
        return StreamingResponse(
            _events(state, kind, model, text, test, usage), media_type="text/event-stream", headers=headers
        )

    async def audio(request: Request) -> Response:
        state.requests += 1
        form = await request.form()
        upload = form.get("file")
        size = len(await upload.read()) if upload is not None and not isinstance(upload, str) else 0
        model = form.get("model")
        return JSONResponse(
            {"text": f"replica={state.replica} model={model} bytes={size}", "path": request.url.path},
            headers={"x-upstream-replica": state.replica},
        )

    app.post("/v1/audio/transcriptions")(audio)
    app.post("/v1/audio/translations")(audio)

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        return await infer("chat", request)

    @app.post("/v1/completions")
    async def completions(request: Request) -> Response:
        return await infer("completions", request)

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> Response:
        return await infer("embeddings", request)

    @app.post("/{path:path}")
    async def echo(request: Request) -> Response:
        return await infer("echo", request)

    return app


async def _events(  # type: ignore[no-untyped-def]
    state: State, kind: str, model: str, text: str, test: dict[str, Any], usage: dict[str, int] | None
):
    key = test.get("hold")
    if key:
        state.streams[key] = "open"
    finished = False
    try:
        for i in range(int(test.get("chunks", 3))):
            if test.get("fail_after") is not None and i >= int(test["fail_after"]):
                raise RuntimeError("upstream fails mid-stream on purpose")
            if i and test.get("delay_s"):
                await asyncio.sleep(float(test["delay_s"]))
            yield _chunk(kind, model, i, text if i == 0 else f" {i}", usage is not None)
            if i == 0 and key:
                event = state.holds.setdefault(key, asyncio.Event())
                await asyncio.wait_for(event.wait(), HOLD_CAP_S)
        if usage is not None:
            obj = "chat.completion.chunk" if kind == "chat" else "text_completion"
            last = {"id": "x-u", "object": obj, "created": 0, "model": model, "choices": [], "usage": usage}
            yield b"data: " + json.dumps(last).encode() + b"\n\n"
        yield b"data: [DONE]\n\n"
        finished = True
    finally:
        if key:
            state.streams[key] = "done" if finished else "cancelled"


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when it is installed (as uvicorn[standard] does), else on asyncio."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replica", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--chunks", type=int, default=3, help="stream events when a request does not say")
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    config = uvicorn.Config(
        build_app(State(args.replica, args.chunks)),
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
    )
    server = uvicorn.Server(config)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    sys.stdout.flush()
    _run(server.serve(sockets=[sock]))


if __name__ == "__main__":
    main()
