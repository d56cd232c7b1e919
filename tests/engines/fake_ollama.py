"""A FAKE Ollama server for tests: no Ollama binary can be installed here (not on PyPI, Debian or npm).

Implements the subset of Ollama's HTTP API that modelserve uses, with Ollama's shapes, status codes
and name rules (`name` means `name:latest`): `GET /`, `/api/version`, `/api/tags`, `POST /api/pull`
(NDJSON progress unless `"stream": false`), `/api/copy`, `/api/generate` (an empty prompt loads the
model), and the OpenAI-compatible `/v1/models` and `/v1/chat/completions`. Pulls succeed only for
tags in FAKE_OLLAMA_REGISTRY (comma-separated); chat answers are canned, not a model's output.

    OLLAMA_HOST=127.0.0.1:PORT python tests/engines/fake_ollama.py serve
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

VERSION = "0.12.0-fake"


def full_name(name: str) -> str:
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def create_app(registry: set[str]) -> FastAPI:
    app = FastAPI()
    local: dict[str, str] = {}  # full name -> digest

    def not_found(name: str) -> JSONResponse:
        return JSONResponse({"error": f"model '{name}' not found"}, status_code=404)

    @app.get("/")
    async def root() -> Response:
        return PlainTextResponse("Ollama is running")

    @app.get("/api/version")
    async def version() -> dict[str, str]:
        return {"version": VERSION}

    @app.get("/api/tags")
    async def tags() -> dict[str, Any]:
        return {"models": [{"name": n, "model": n, "digest": d, "size": 1, "details": {}} for n, d in local.items()]}

    @app.post("/api/pull")
    async def pull(req: Request) -> Response:
        body = await req.json()
        name = full_name(body.get("model") or body.get("name") or "")
        if name not in {full_name(t) for t in registry}:
            return JSONResponse({"error": "pull model manifest: file does not exist"}, status_code=500)
        local[name] = f"sha256:{abs(hash(name)):064x}"[:71]
        if body.get("stream") is False:
            return JSONResponse({"status": "success"})
        steps = ["pulling manifest", "verifying sha256 digest", "writing manifest", "success"]
        lines = (json.dumps({"status": s}) + "\n" for s in steps)
        return StreamingResponse(lines, media_type="application/x-ndjson")

    @app.post("/api/copy")
    async def copy(req: Request) -> Response:
        body = await req.json()
        src = full_name(body["source"])
        if src not in local:
            return not_found(body["source"])
        local[full_name(body["destination"])] = local[src]
        return Response(status_code=200)

    @app.post("/api/generate")
    async def generate(req: Request) -> Response:
        body = await req.json()
        name = body.get("model", "")
        if full_name(name) not in local:
            return JSONResponse({"error": f'model "{name}" not found, try pulling it first'}, status_code=404)
        reply = "" if not body.get("prompt") else "Hello from the fake."
        done = {"model": name, "created_at": "2026-01-01T00:00:00Z", "response": reply, "done": True,
                "done_reason": "load" if not reply else "stop"}
        return JSONResponse(done)

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        data = [{"id": n, "object": "model", "created": 0, "owned_by": "library"} for n in local]
        return {"object": "list", "data": data}

    @app.post("/v1/chat/completions")
    async def chat(req: Request) -> Response:
        body = await req.json()
        name = body.get("model", "")
        if full_name(name) not in local:
            error = {"message": f'model "{name}" not found, try pulling it first', "type": "api_error",
                     "param": None, "code": None}
            return JSONResponse({"error": error}, status_code=404)
        last = body["messages"][-1]["content"]
        message = {"role": "assistant", "content": f"fake reply to: {last}"}
        return JSONResponse({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": name,
            "system_fingerprint": "fp_ollama",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 4, "total_tokens": 5},
        })

    return app


def main(argv: list[str]) -> int:
    if argv[:1] != ["serve"]:
        print(f"Error: unknown command {' '.join(argv)!r} for \"ollama\"", file=sys.stderr)
        return 1
    if argv[1:]:  # `ollama serve` takes no flags; its settings come from OLLAMA_* variables
        print(f"Error: unknown flag: {argv[1]}", file=sys.stderr)
        return 1
    host, _, port = os.environ.get("OLLAMA_HOST", "127.0.0.1:11434").rpartition(":")
    registry = {t for t in os.environ.get("FAKE_OLLAMA_REGISTRY", "").split(",") if t}
    import uvicorn

    print(f"Listening on {host}:{port} (version {VERSION})", file=sys.stderr, flush=True)
    uvicorn.run(create_app(registry), host=host, port=int(port), log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
