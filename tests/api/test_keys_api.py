"""The keys REST API (/api/v1/keys, /api/v1/usage) on a FastAPI app over a SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelserve.api import install_error_handlers
from modelserve.api.keys import build_keys_router
from modelserve.store import SqlStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    s = SqlStore(f"sqlite:///{tmp_path / 'modelserve.db'}")
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def changes() -> list[str]:
    return []


@pytest.fixture
async def api(store: SqlStore, changes: list[str]) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(build_keys_router(store, on_change=lambda: changes.append("changed")))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        yield client


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    return dict(body["error"])


async def test_create_shows_the_key_once(api: httpx.AsyncClient, store: SqlStore, changes: list[str]) -> None:
    response = await api.post("/api/v1/keys", json={"name": "ci", "models": ["qwen"], "rpm": 60, "tpm": None})

    assert response.status_code == 201
    created = response.json()
    assert {"id", "name", "key", "models", "rpm", "tpm", "project", "hint", "active", "created_at"} <= set(
        created
    )
    assert (created["name"], created["models"], created["rpm"], created["tpm"]) == ("ci", ["qwen"], 60, None)
    assert created["key"].startswith("msk-") and created["active"] is True
    assert store.find_api_key(created["key"]).id == created["id"]
    assert changes == ["changed"]

    listed = await api.get("/api/v1/keys")
    fetched = await api.get(f"/api/v1/keys/{created['id']}")
    assert listed.status_code == fetched.status_code == 200
    assert [k["id"] for k in listed.json()] == [created["id"]]
    for text in (listed.text, fetched.text):
        assert created["key"] not in text and created["key"][4:20] not in text
        assert "key_hash" not in text and "salt" not in text


async def test_the_key_is_not_in_the_database_file(
    api: httpx.AsyncClient, store: SqlStore, tmp_path: Path
) -> None:
    key = (await api.post("/api/v1/keys", json={"name": "on-disk"})).json()["key"]
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("modelserve.db*"))
    assert b"on-disk" in raw
    assert key[4:].encode() not in raw


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "ci", "rpm": 0}, "rpm"),
        ({"name": "ci", "tpm": "lots"}, "tpm"),
        ({"name": "ci", "models": "qwen"}, "models"),
        ({"name": "ci", "scopes": ["all"]}, "scopes"),
    ],
    ids=["no-name", "empty-name", "zero-rpm", "text-tpm", "models-not-list", "unknown-field"],
)
async def test_bad_bodies_answer_400_naming_the_field(
    api: httpx.AsyncClient, body: dict[str, Any], param: str
) -> None:
    response = await api.post("/api/v1/keys", json=body)

    assert response.status_code == 400
    error = error_of(response)
    assert (error["type"], error["param"]) == ("invalid_request_error", param)
    assert (await api.get("/api/v1/keys")).json() == []


async def test_unknown_project_is_404(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/keys", json={"name": "ci", "project": "nowhere"})
    assert response.status_code == 404
    assert error_of(response)["type"] == "not_found_error"


async def test_delete_revokes(api: httpx.AsyncClient, store: SqlStore, changes: list[str]) -> None:
    created = (await api.post("/api/v1/keys", json={"name": "ci"})).json()

    response = await api.delete(f"/api/v1/keys/{created['id']}")

    assert response.status_code == 200
    assert response.json()["active"] is False and response.json()["revoked_at"]
    assert "key" not in response.json()
    assert not store.find_api_key(created["key"]).active
    assert changes == ["changed", "changed"]
    listed = (await api.get("/api/v1/keys")).json()
    assert [(k["id"], k["active"]) for k in listed] == [(created["id"], False)]
    missing = await api.delete("/api/v1/keys/0000000000000000")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "api_key_not_found"


async def test_usage_per_key_and_for_all_keys(api: httpx.AsyncClient, store: SqlStore) -> None:
    a = (await api.post("/api/v1/keys", json={"name": "a"})).json()
    b = (await api.post("/api/v1/keys", json={"name": "b"})).json()
    store.add_usage(a["id"], "qwen", 10, 5)
    store.add_usage(a["id"], "qwen", 2, 1)
    store.add_usage(b["id"], "llama", 7, 7)

    one = await api.get(f"/api/v1/keys/{a['id']}/usage")
    everyone = await api.get("/api/v1/usage")

    assert one.status_code == 200
    assert {k: one.json()[k] for k in ("key_id", "requests", "prompt_tokens", "total_tokens")} == {
        "key_id": a["id"],
        "requests": 2,
        "prompt_tokens": 12,
        "total_tokens": 18,
    }
    assert [(m["model"], m["requests"]) for m in one.json()["models"]] == [("qwen", 2)]
    assert everyone.json()["requests"] == 3 and everyone.json()["total_tokens"] == 32
    assert (await api.get(f"/api/v1/keys/{a['id']}/usage", params={"since": "2999-01-01T00:00:00Z"})).json()[
        "requests"
    ] == 0
    bad_since = await api.get("/api/v1/usage", params={"since": "yesterday"})
    assert bad_since.status_code == 400 and error_of(bad_since)["param"] == "since"
    assert (await api.get("/api/v1/keys/ffffffffffffffff/usage")).status_code == 404
