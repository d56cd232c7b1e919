"""A small in-process stand-in for the control-plane REST API, for SDK and CLI unit tests only.

It implements the documented `/api/v1` routes over dicts. A run goes CREATED -> PENDING ->
RUNNING as it is polled (`GET /runs/{id}`); a function whose url contains "fail" ends in ERROR.
`/openai/v1/*` echoes the request so `Run.invoke` can be checked. The real server is tested end
to end elsewhere.
"""

from __future__ import annotations

import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse

from modelserve import errors

POLLS_TO_PENDING = 1
POLLS_TO_RUNNING = 2


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


@dataclass
class FakeState:
    """Everything the fake server knows; tests read it to check what the client sent."""

    base_url: str = ""
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    functions: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)

    def reset(self) -> None:
        self.projects.clear()
        self.functions.clear()
        self.runs.clear()
        self.events.clear()
        self.polls.clear()


def _fail(exc: errors.ModelServeError) -> JSONResponse:
    return JSONResponse(exc.envelope(), status_code=exc.status, headers=exc.headers())


def _project(state: FakeState, name: str) -> dict[str, Any]:
    if name not in state.projects:
        raise errors.NotFound(f"project {name} not found", param="project")
    return state.projects[name]


def _run(state: FakeState, run_id: str) -> dict[str, Any]:
    if run_id not in state.runs:
        raise errors.NotFound(f"run {run_id} not found", param="run_id")
    return state.runs[run_id]


def _event(state: FakeState, run: dict[str, Any], event: str, reason: str, message: str) -> None:
    items = state.events.setdefault(run["id"], [])
    items.append(
        {
            "id": len(items) + 1,
            "run_id": run["id"],
            "ts": _now(),
            "state": run["status"]["state"],
            "event": event,
            "reason": reason,
            "message": message,
        }
    )


def _advance(state: FakeState, run: dict[str, Any]) -> None:
    """Move a serving run one step along CREATED -> PENDING -> RUNNING (or ERROR) per poll."""
    polls = state.polls[run["id"]] = state.polls.get(run["id"], 0) + 1
    status = run["status"]
    if run["desired"] != "serve" or status["state"] in ("RUNNING", "ERROR"):
        return
    if polls >= POLLS_TO_RUNNING:
        if "fail" in str(run["spec"].get("url", "")):
            status.update(state="ERROR", message="model download failed: repository not found")
            _event(state, run, "ERROR", "FetchFailed", status["message"])
            return
        model = f"{run['spec'].get('model_name') or 'model'}-{run['id']}"[:39]
        status.update(
            state="RUNNING",
            message=f"Model {run['spec'].get('model_name')} ready",
            service={
                "url": f"{state.base_url}/runs/{run['id']}",
                "urls": [f"{state.base_url}/runs/{run['id']}/v1"],
            },
            openai={
                "baseUrl": f"{state.base_url}/openai/v1",
                "model": model,
                "modelUrl": run["spec"].get("url"),
                "adapters": [],
                "engine": "builtin",
                "features": run["spec"].get("features") or ["TextGeneration"],
            },
            replicas={"desired": 1, "ready": 1},
        )
        _event(state, run, "EXECUTE", "ReplicaReady", "replica 0 ready")
    elif polls >= POLLS_TO_PENDING and status["state"] == "CREATED":
        status.update(state="PENDING", message="starting replica 0")
        _event(state, run, "SCHEDULE", "ReplicaStarting", "starting replica 0")


def _new_run(state: FakeState, project: str, body: dict[str, Any]) -> dict[str, Any]:
    versions = state.functions.get((project, body.get("function", "")))
    if not versions:
        raise errors.NotFound(
            f"function {body.get('function')} not found in project {project}", param="function"
        )
    version = body.get("function_version") or versions[-1]["version"]
    fn = versions[version - 1]
    run_id = uuid.uuid4().hex
    run = {
        "id": run_id,
        "project": project,
        "function": fn["name"],
        "function_version": version,
        "kind": fn["kind"],
        "action": body.get("action", "serve"),
        "spec": {**fn["spec"], **(body.get("spec") or {})},
        "desired": "serve",
        "status": {"state": "CREATED", "message": "run created", "replicas": {"desired": 1, "ready": 0}},
        "created_at": _now(),
        "updated_at": _now(),
    }
    state.runs[run_id] = run
    _event(state, run, "BUILD", "Created", "run created")
    return run


def _register_projects(app: FastAPI, state: FakeState) -> None:
    @app.get("/api/v1/projects")
    def list_projects() -> list[dict[str, Any]]:
        return list(state.projects.values())

    @app.post("/api/v1/projects")
    def create_project(body: dict[str, Any], get_or_create: bool = False) -> JSONResponse:
        name = body["name"]
        if name in state.projects:
            if get_or_create:
                return JSONResponse(state.projects[name], status_code=200)
            raise errors.Conflict(f"project {name} already exists", param="name")
        state.projects[name] = {"name": name, "created_at": _now()}
        return JSONResponse(state.projects[name], status_code=201)

    @app.get("/api/v1/projects/{name}")
    def get_project(name: str) -> dict[str, Any]:
        return _project(state, name)

    @app.post("/api/v1/projects/{name}/functions", status_code=201)
    def create_function(name: str, body: dict[str, Any]) -> dict[str, Any]:
        _project(state, name)
        if not body.get("spec", {}).get("url"):
            raise errors.InvalidRequest("spec.url: Field required", param="spec.url", code="invalid_value")
        versions = state.functions.setdefault((name, body["name"]), [])
        fn = {
            "id": uuid.uuid4().hex,
            "project": name,
            "name": body["name"],
            "kind": body["kind"],
            "version": len(versions) + 1,
            "spec": body.get("spec") or {},
            "created_at": _now(),
        }
        versions.append(fn)
        return fn

    @app.get("/api/v1/projects/{name}/functions/{fn}")
    def get_function(name: str, fn: str, version: int | None = None) -> dict[str, Any]:
        versions = state.functions.get((name, fn))
        if not versions or (version is not None and not 1 <= version <= len(versions)):
            raise errors.NotFound(f"function {fn} not found in project {name}", param="function")
        return versions[(version or len(versions)) - 1]

    @app.post("/api/v1/projects/{name}/runs", status_code=201)
    def create_run(name: str, body: dict[str, Any]) -> dict[str, Any]:
        _project(state, name)
        return _new_run(state, name, body)

    @app.get("/api/v1/projects/{name}/runs")
    def project_runs(name: str) -> list[dict[str, Any]]:
        return [r for r in state.runs.values() if r["project"] == name]


def _register_runs(app: FastAPI, state: FakeState) -> None:
    @app.get("/api/v1/runs")
    def list_runs(project: str | None = None) -> list[dict[str, Any]]:
        return [r for r in state.runs.values() if project is None or r["project"] == project]

    @app.get("/api/v1/runs/{run_id}")
    def get_run(run_id: str) -> dict[str, Any]:
        run = _run(state, run_id)
        _advance(state, run)
        return run

    def _desire(run_id: str, desired: str, new_state: str) -> JSONResponse:
        run = _run(state, run_id)
        run["desired"] = desired
        run["status"].update(state=new_state, message=f"{desired} requested")
        _event(state, run, desired.upper(), "UserRequest", f"{desired} requested")
        return JSONResponse(run, status_code=202)

    @app.post("/api/v1/runs/{run_id}/stop")
    def stop(run_id: str) -> JSONResponse:
        return _desire(run_id, "stop", "STOPPED")

    @app.post("/api/v1/runs/{run_id}/resume")
    def resume(run_id: str) -> JSONResponse:
        return _desire(run_id, "serve", "RESUME")

    @app.delete("/api/v1/runs/{run_id}")
    def delete(run_id: str) -> JSONResponse:
        return _desire(run_id, "delete", "DELETING")

    @app.get("/api/v1/runs/{run_id}/events")
    def events(run_id: str) -> list[dict[str, Any]]:
        _run(state, run_id)
        return state.events.get(run_id, [])

    @app.get("/api/v1/runs/{run_id}/logs")
    def logs(run_id: str, replica: int = 0, tail: int = 200) -> PlainTextResponse:
        _run(state, run_id)
        lines = [f"replica {replica} line {i}" for i in range(1, 301)]
        return PlainTextResponse("\n".join(lines[-tail:]) + "\n")

    @app.api_route("/openai/v1/{path:path}", methods=["GET", "POST"])
    async def echo(path: str, request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"method": request.method, "path": path, "body": body.decode() or None}


def build_app(state: FakeState) -> FastAPI:
    app = FastAPI()

    @app.exception_handler(errors.ModelServeError)
    async def on_error(request: Request, exc: errors.ModelServeError) -> JSONResponse:
        return _fail(exc)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _fail(errors.InvalidRequest(str(exc.errors()[0].get("msg"))))

    _register_projects(app, state)
    _register_runs(app, state)
    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeServer:
    """The fake API served by uvicorn on a thread, on a free 127.0.0.1 port."""

    def __init__(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.state = FakeState(base_url=self.url)
        config = uvicorn.Config(
            build_app(self.state), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> FakeServer:
        self._thread.start()
        for _ in range(500):
            if self._server.started:
                return self
            if not self._thread.is_alive():
                break
            threading.Event().wait(0.01)
        raise RuntimeError("fake control-plane API did not start")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
