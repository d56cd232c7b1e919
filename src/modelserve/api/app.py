"""Routes of the control-plane API under /api/v1 (shapes in docs/design.md)."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from fastapi import APIRouter, Query, Response
from fastapi.responses import PlainTextResponse

from modelserve.api.bodies import FunctionBody, ProjectBody, RunBody
from modelserve.api.runs import RunService
from modelserve.control.logs import read_logs
from modelserve.settings import Settings


def build_api_router(settings: Settings, store: Any, poke: Callable[[], None]) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["control"])
    runs = RunService(store, poke)

    async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    @router.get("/projects")
    async def list_projects() -> list[dict[str, Any]]:
        return [p.to_dict() for p in await call(store.list_projects)]

    @router.post("/projects", status_code=201)
    async def create_project(body: ProjectBody, response: Response, get_or_create: bool = False) -> dict[str, Any]:
        if get_or_create:
            response.status_code = 200
            return (await call(store.get_or_create_project, body.name)).to_dict()
        return (await call(store.create_project, body.name)).to_dict()

    @router.get("/projects/{project}")
    async def get_project(project: str) -> dict[str, Any]:
        return (await call(store.get_project, project)).to_dict()

    @router.delete("/projects/{project}")
    async def delete_project(project: str) -> dict[str, Any]:
        record = await call(store.get_project, project)
        await call(store.delete_project, project)
        return record.to_dict()

    @router.post("/projects/{project}/functions", status_code=201)
    async def create_function(project: str, body: FunctionBody) -> dict[str, Any]:
        return (await call(runs.create_function, project, body)).to_dict()

    @router.get("/projects/{project}/functions")
    async def list_functions(project: str) -> list[dict[str, Any]]:
        return [f.to_dict() for f in await call(store.list_functions, project)]

    @router.get("/projects/{project}/functions/{name}")
    async def get_function(project: str, name: str, version: int | None = None) -> dict[str, Any]:
        return (await call(store.get_function, project, name, version)).to_dict()

    @router.post("/projects/{project}/runs", status_code=201)
    async def create_run(project: str, body: RunBody) -> dict[str, Any]:
        return (await call(runs.create_run, project, body)).to_dict()

    @router.get("/projects/{project}/runs")
    async def list_project_runs(project: str) -> list[dict[str, Any]]:
        await call(store.get_project, project)
        return [r.to_dict() for r in await call(store.list_runs, project)]

    @router.get("/runs")
    async def list_runs(project: str | None = None) -> list[dict[str, Any]]:
        return [r.to_dict() for r in await call(store.list_runs, project)]

    @router.get("/runs/{run_id}")
    async def get_run(run_id: str) -> dict[str, Any]:
        return (await call(store.get_run, run_id)).to_dict()

    @router.post("/runs/{run_id}/stop", status_code=202)
    async def stop_run(run_id: str) -> dict[str, Any]:
        return (await call(runs.act, run_id, "stop")).to_dict()

    @router.post("/runs/{run_id}/resume", status_code=202)
    async def resume_run(run_id: str) -> dict[str, Any]:
        return (await call(runs.act, run_id, "resume")).to_dict()

    @router.delete("/runs/{run_id}", status_code=202)
    async def delete_run(run_id: str) -> dict[str, Any]:
        return (await call(runs.act, run_id, "delete")).to_dict()

    @router.get("/runs/{run_id}/events")
    async def run_events(run_id: str, limit: int = Query(500, ge=1, le=5000)) -> list[dict[str, Any]]:
        await call(store.get_run, run_id)
        return [e.to_dict() for e in await call(store.list_events, run_id, limit)]

    @router.get("/runs/{run_id}/logs", response_class=PlainTextResponse)
    async def run_logs(run_id: str, replica: int = Query(0, ge=0), tail: int = Query(200, ge=1, le=100000)) -> str:
        await call(store.get_run, run_id)
        return await call(read_logs, settings, run_id, replica, tail)

    return router
