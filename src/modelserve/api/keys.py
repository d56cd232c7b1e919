"""Routes of the API-keys REST API under /api/v1: create (the key is in that answer only), list,
get, revoke, usage.

    POST   /api/v1/keys                {"name", "project"?, "models"?, "rpm"?, "tpm"?} -> key (201)
    GET    /api/v1/keys                -> [key]   (never the key itself: `hint` tells them apart)
    GET    /api/v1/keys/{id}           -> key
    DELETE /api/v1/keys/{id}           -> key, revoked
    GET    /api/v1/keys/{id}/usage     ?since= -> usage
    GET    /api/v1/usage               ?since= -> usage of every key
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from modelserve.errors import InvalidRequest
from modelserve.store.records import ApiKeyRecord, UsageSummary


class KeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    project: str | None = None
    models: list[str] = Field(default_factory=list)
    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)


def build_keys_router(store: Any, on_change: Callable[[], None] | None = None) -> APIRouter:
    """The keys routes over `store` (a SqlStore). `on_change` runs after a key is created or
    revoked (e.g. `KeyAuthenticator.invalidate`, so a revoked key stops working at once)."""
    router = APIRouter(prefix="/api/v1", tags=["keys"])

    async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    def changed() -> None:
        if on_change is not None:
            on_change()

    @router.post("/keys", status_code=201)
    async def create_key(body: KeyBody) -> dict[str, Any]:
        record, secret = await call(
            store.create_api_key,
            body.name,
            project=body.project,
            models=body.models,
            rpm=body.rpm,
            tpm=body.tpm,
        )
        changed()
        return {**record.to_dict(), "key": secret}

    @router.get("/keys")
    async def list_keys() -> list[dict[str, Any]]:
        return [k.to_dict() for k in await call(store.list_api_keys)]

    @router.get("/keys/{key_id}")
    async def get_key(key_id: str) -> dict[str, Any]:
        record: ApiKeyRecord = await call(store.get_api_key, key_id)
        return record.to_dict()

    @router.delete("/keys/{key_id}")
    async def revoke_key(key_id: str) -> dict[str, Any]:
        record: ApiKeyRecord = await call(store.revoke_api_key, key_id)
        changed()
        return record.to_dict()

    @router.get("/keys/{key_id}/usage")
    async def key_usage(key_id: str, since: str | None = None) -> dict[str, Any]:
        summary: UsageSummary = await call(store.usage_summary, key_id, since=_since(since))
        return summary.to_dict()

    @router.get("/usage")
    async def all_usage(since: str | None = None) -> dict[str, Any]:
        summary: UsageSummary = await call(store.usage_summary, None, since=_since(since))
        return summary.to_dict()

    return router


def _since(value: str | None) -> datetime | None:
    """An ISO-8601 time (UTC when it has no offset); InvalidRequest (param "since") otherwise."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(
            f"since must be an ISO-8601 time, got {value!r}", param="since", code="invalid_value"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)
