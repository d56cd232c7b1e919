"""A small stand-in for the modelserve server, for console tests only: the real `mount_console`
plus the few control-plane and OpenAI routes the console calls, over in-memory runs.

Chat answers stream word by word with a short delay so a browser can be watched mid-stream.
Prompts steer it: "long story" streams for a long time, "trigger an error" sends an in-band
error frame after two words, "unknown model" answers 404 before streaming.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse

from modelserve.settings import Settings
from modelserve.ui import mount_console

ANSWER = "The capital of France is Paris, a city on the Seine."
LONG_WORDS = 400
WORD_DELAY_S = 0.04
CHAT_RUN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
EMBED_RUN = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
STOPPED_RUN = "b00000000000000000000000000000b1"
STUBBORN_RUN = "c00000000000000000000000000000c1"  # every action on it answers 409


def envelope(status: int, message: str, type_: str, code: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": type_, "param": None, "code": code}}, status)


@dataclass
class FakeRun:
    id: str
    function: str
    kind: str
    state: str
    model: str
    features: list[str]
    engine: dict[str, Any]
    replicas: tuple[int, int] = (1, 1)
    desired: str = "serve"
    message: str = ""
    asked_at: float = 0.0

    def to_dict(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "project": "demo",
            "function": self.function,
            "function_version": 1,
            "kind": self.kind,
            "action": "serve",
            "spec": {},
            "desired": self.desired,
            "status": {
                "state": self.state,
                "message": self.message,
                "service": {"url": f"{base_url}/runs/{self.id}/v1", "urls": []},
                "openai": {
                    "baseUrl": f"{base_url}/openai/v1",
                    "model": self.model,
                    "modelUrl": "hf://org/model",
                    "adapters": [],
                    "engine": self.engine.get("used"),
                    "features": self.features,
                },
                "replicas": {"ready": self.replicas[0], "desired": self.replicas[1]},
                "engine": self.engine,
            },
            "created_at": "2026-01-05T10:00:00+00:00",
            "updated_at": "2026-01-05T10:01:00+00:00",
        }


@dataclass
class FakeBackend:
    """In-memory state the tests read back: `actions` and `chat_requests` record what the console sent."""

    runs: dict[str, FakeRun] = field(default_factory=dict)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    actions: list[tuple[str, str]] = field(default_factory=list)
    chat_requests: list[dict[str, Any]] = field(default_factory=list)
    streams_cancelled: int = 0

    def reset(self) -> None:
        builtin = {"requested": "vllm", "used": "builtin", "fallback": True}
        self.runs = {
            r.id: r
            for r in [
                FakeRun(
                    CHAT_RUN,
                    "smollm",
                    "vllmserve-text",
                    "RUNNING",
                    "smollm2-0f1e2d3c",
                    ["Chat Completions API", "Completions API"],
                    builtin,
                    message="serving on 1 replica",
                ),
                FakeRun(
                    EMBED_RUN,
                    "minilm",
                    "vllmserve-pooling",
                    "RUNNING",
                    "minilm-a1b2c3d4",
                    ["Embeddings API"],
                    builtin,
                ),
                FakeRun(
                    STOPPED_RUN,
                    "tinyllama",
                    "kubeai-text",
                    "STOPPED",
                    "tinyllama-b0000000",
                    ["TextGeneration"],
                    {"requested": "VLLM", "used": "VLLM", "fallback": False},
                    (0, 1),
                    "stop",
                ),
                FakeRun(
                    STUBBORN_RUN,
                    "stubborn",
                    "kubeai-text",
                    "RUNNING",
                    "stubborn-c0000000",
                    ["TextGeneration"],
                    {"requested": "VLLM", "used": "VLLM", "fallback": False},
                ),
            ]
        }
        self.events = {rid: [] for rid in self.runs}
        for i, (state, event, reason) in enumerate(
            [
                ("CREATED", "CREATE", "RunCreated"),
                ("PENDING", "SCHEDULE", "ReplicasStarting"),
                ("RUNNING", "EXECUTE", "ReplicasReady"),
            ]
        ):
            self.add_event(CHAT_RUN, state, event, reason, f"step {i}: {reason}")
        self.actions, self.chat_requests, self.streams_cancelled = [], [], 0

    def add_event(self, run_id: str, state: str, event: str, reason: str, message: str) -> None:
        events = self.events[run_id]
        events.append(
            {
                "id": len(events) + 1,
                "run_id": run_id,
                "ts": f"2026-01-05T10:00:{len(events):02d}+00:00",
                "state": state,
                "event": event,
                "reason": reason,
                "message": message,
            }
        )

    def settle(self, run: FakeRun) -> None:
        """What a reconciler would have done by now: an asked-for stop/delete completes after 0.4 s."""
        goal = {"stop": "STOPPED", "delete": "DELETED"}.get(run.desired)
        if goal and run.state != goal and time.monotonic() - run.asked_at > 0.4:
            run.state, run.replicas = goal, (0, run.replicas[1])
            self.add_event(run.id, goal, run.desired.upper(), "Asked", f"run {run.desired} done")


def chat_words(prompt: str) -> list[str]:
    if "long story" in prompt:
        return [f"word{i}" for i in range(LONG_WORDS)]
    return ANSWER.split(" ")


async def chat_stream(backend: FakeBackend, body: dict[str, Any], prompt: str) -> AsyncIterator[bytes]:
    words = chat_words(prompt)
    finished = False
    try:
        for i, word in enumerate(words):
            await asyncio.sleep(WORD_DELAY_S)
            if "trigger an error" in prompt and i == 2:
                frame = {
                    "error": {
                        "message": "engine crashed mid-answer",
                        "type": "server_error",
                        "param": None,
                        "code": None,
                    }
                }
                yield f"data: {json.dumps(frame)}\n\n".encode()
                yield b"data: [DONE]\n\n"
                finished = True
                return
            chunk = {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "model": body["model"],
                "choices": [
                    {"index": 0, "delta": {"content": word if i == 0 else " " + word}, "finish_reason": None}
                ],
            }
            yield f"data: {json.dumps(chunk)}\n\n".encode()
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"prompt_tokens": 9, "completion_tokens": len(words), "total_tokens": 9 + len(words)}
            yield f"data: {json.dumps({'id': 'chatcmpl-1', 'choices': [], 'usage': usage})}\n\n".encode()
        yield b"data: [DONE]\n\n"
        finished = True
    finally:
        if not finished:
            backend.streams_cancelled += 1


def build_app(backend: FakeBackend, settings: Settings) -> FastAPI:
    app = FastAPI()
    mount_console(app, settings)

    def find(run_id: str) -> FakeRun | None:
        run = backend.runs.get(run_id)
        if run is not None:
            backend.settle(run)
        return run

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    @app.get("/api/v1/runs")
    async def list_runs(request: Request) -> Any:
        return [run.to_dict(base(request)) for run in backend.runs.values() if find(run.id)]

    @app.get("/api/v1/runs/{run_id}")
    async def get_run(run_id: str, request: Request) -> Any:
        run = find(run_id)
        return (
            run.to_dict(base(request)) if run else envelope(404, f"run {run_id} not found", "not_found_error")
        )

    @app.api_route("/api/v1/runs/{run_id}/{action}", methods=["POST"])
    @app.api_route("/api/v1/runs/{run_id}", methods=["DELETE"])
    async def act(run_id: str, request: Request, action: str = "delete") -> Any:
        run = find(run_id)
        if run is None or action not in ("stop", "resume", "delete"):
            return envelope(404, f"run {run_id} not found", "not_found_error")
        backend.actions.append((run_id, action))
        if run_id == STUBBORN_RUN:
            return envelope(
                409, f"cannot {action} run {run_id}: it is busy", "conflict_error", "invalid_state"
            )
        run.desired, run.asked_at = action, time.monotonic()
        run.state = {"stop": "STOP", "delete": "DELETING", "resume": "RUNNING"}[action]
        return JSONResponse(run.to_dict(base(request)), 202)

    @app.get("/api/v1/runs/{run_id}/events")
    async def events(run_id: str) -> Any:
        return backend.events[run_id] if find(run_id) else envelope(404, "run not found", "not_found_error")

    @app.get("/api/v1/runs/{run_id}/logs")
    async def logs(run_id: str, replica: int = 0, tail: int = 200) -> Any:
        if not find(run_id):
            return envelope(404, "run not found", "not_found_error")
        lines = [f"replica {replica} | INFO engine ready on port 80{replica}{i}" for i in range(3)]
        return PlainTextResponse("\n".join(lines[-tail:]) + "\n")

    @app.post("/openai/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body = await request.json()
        backend.chat_requests.append(body)
        prompt = str(body["messages"][-1]["content"])
        if "unknown model" in prompt:
            return envelope(404, "model 'nope' is not served here", "not_found_error", "model_not_found")
        return StreamingResponse(chat_stream(backend, body, prompt), media_type="text/event-stream")

    @app.post("/openai/v1/embeddings")
    async def embeddings(request: Request) -> Any:
        body = await request.json()
        vector = [round((i % 7) / 10 - 0.3, 4) for i in range(384)]
        return {
            "object": "list",
            "model": body["model"],
            "data": [{"object": "embedding", "index": 0, "embedding": vector}],
        }

    return app


class FakeServer:
    """uvicorn serving the fake app on a free 127.0.0.1 port in a thread; `stop()` shuts it down."""

    def __init__(self, data_dir: Path) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.backend = FakeBackend()
        self.backend.reset()
        app = build_app(self.backend, Settings(data_dir=data_dir, public_url=self.url))
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> FakeServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake console backend did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.sock.close()
