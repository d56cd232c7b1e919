"""Routes that change the LoRA adapters of a RUNNING run, without restarting it:

    POST   /api/v1/runs/{id}/adapters         {"name", "url"} -> run (201)
    DELETE /api/v1/runs/{id}/adapters/{name}  -> run

404 for an unknown run (or adapter, on delete), 409 when the run is not RUNNING or the name is
taken, 400 naming the field for a bad name or url, an engine without runtime LoRA, or an adapter
the engine refuses. The answer comes once every ready replica serves the change.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from modelserve.control.adapters import RunAdapters, parse_adapter


def build_adapters_router(adapters: RunAdapters) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["control"])

    @router.post("/runs/{run_id}/adapters", status_code=201)
    async def add_adapter(run_id: str, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        return (await adapters.add(run_id, parse_adapter(body))).to_dict()

    @router.delete("/runs/{run_id}/adapters/{name}")
    async def remove_adapter(run_id: str, name: str) -> dict[str, Any]:
        return (await adapters.remove(run_id, name)).to_dict()

    return router
