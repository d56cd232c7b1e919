"""ApiKeyMiddleware in front of a tiny OpenAI-shaped app: who gets in, with which key id, and what
the app still receives."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from auth_support import FakeClock, Upstream, bearer, envelope, serve

from modelserve.auth import hashing
from modelserve.auth.access import routing_resolver
from modelserve.auth.authenticator import KeyAuthenticator
from modelserve.auth.middleware import ApiKeyMiddleware
from modelserve.gateway.table import Endpoint, RoutingTable, ServedModel
from modelserve.store import SqlStore

CHAT = "/openai/v1/chat/completions"


def chat_body(model: str, **extra: object) -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": "héllo"}], **extra}


# -- 401 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"Authorization": "Bearer"}, "missing_api_key"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing_api_key"),
        ({"Authorization": "Bearer not-a-key"}, "invalid_api_key"),
        ({"Authorization": f"Bearer {hashing.new_secret()}"}, "invalid_api_key"),
        ({"api-key": hashing.new_secret()}, "invalid_api_key"),
    ],
    ids=["no-header", "empty-bearer", "basic-scheme", "malformed", "unknown-key", "unknown-api-key-header"],
)
async def test_requests_without_a_valid_key_get_401(
    client: httpx.AsyncClient, upstream: Upstream, headers: dict[str, str], code: str
) -> None:
    response = await client.post(CHAT, json=chat_body("m"), headers=headers)

    assert response.status_code == 401
    error = envelope(response)
    assert (error["type"], error["code"]) == ("authentication_error", code)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/models", "/runs/abc123/v1/embeddings"])
async def test_every_openai_prefix_is_guarded(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path, json=chat_body("m"))
    assert response.status_code == 401


async def test_revoked_key_gets_401_once_the_cache_is_invalidated(
    client: httpx.AsyncClient, store: SqlStore, auth: KeyAuthenticator
) -> None:
    record, key = store.create_api_key("ci")
    assert (await client.post(CHAT, json=chat_body("m"), headers=bearer(key))).status_code == 200

    store.revoke_api_key(record.id)
    auth.invalidate()
    response = await client.post(CHAT, json=chat_body("m"), headers=bearer(key))

    assert response.status_code == 401
    assert envelope(response)["code"] == "api_key_revoked"


async def test_lookups_are_cached_then_refreshed(
    guarded: ApiKeyMiddleware, store: SqlStore, clock: FakeClock
) -> None:
    calls: list[str] = []

    class CountingStore:
        def find_api_key(self, secret: str):  # type: ignore[no-untyped-def]
            calls.append("find")
            return store.find_api_key(secret)

        def token_window(self, key_id, since):  # type: ignore[no-untyped-def]
            return store.token_window(key_id, since)

    guarded.auth = KeyAuthenticator(CountingStore(), cache_ttl_s=5.0, clock=clock)
    record, key = store.create_api_key("ci")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=guarded), base_url="http://g") as c:
        for _ in range(5):
            assert (await c.post(CHAT, json=chat_body("m"), headers=bearer(key))).status_code == 200
        assert calls == ["find"]

        store.revoke_api_key(record.id)  # seen once the cached lookup expires
        clock.advance(6.0)
        assert (await c.post(CHAT, json=chat_body("m"), headers=bearer(key))).status_code == 401
    assert calls == ["find", "find"]


# -- accepted requests -----------------------------------------------------------------------


async def test_valid_key_reaches_the_app_with_its_key_id_and_the_body_intact(
    client: httpx.AsyncClient, store: SqlStore
) -> None:
    record, key = store.create_api_key("ci", models=["m"])
    raw = json.dumps(chat_body("m", temperature=0.5, extra_body={"x": [1, 2]}), ensure_ascii=False).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(raw), 7):  # many http.request messages, as a slow client sends them
            yield raw[i : i + 7]

    response = await client.post("/openai/v1/embeddings", content=chunks(), headers=bearer(key))

    assert response.status_code == 200
    assert response.json()["body"].encode() == raw
    assert response.json()["key_id"] == record.id


async def test_api_key_header_is_accepted(client: httpx.AsyncClient, store: SqlStore) -> None:
    record, key = store.create_api_key("azure-style")
    response = await client.post("/v1/embeddings", json=chat_body("m"), headers={"api-key": key})
    assert response.status_code == 200
    assert response.json()["key_id"] == record.id


async def test_other_paths_and_disabled_middleware_need_no_key(
    upstream: Upstream, auth: KeyAuthenticator
) -> None:
    on = ApiKeyMiddleware(upstream.app(), auth=auth, enabled=True)
    off = ApiKeyMiddleware(upstream.app(), auth=auth, enabled=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=on), base_url="http://g") as c:
        assert (await c.get("/api/v1/runs")).status_code == 200
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=off), base_url="http://g") as c:
        response = await c.post("/v1/embeddings", json=chat_body("m"))
    assert response.status_code == 200
    assert response.json()["key_id"] is None


# -- 403 -------------------------------------------------------------------------------------


async def test_model_outside_the_allow_list_gets_403(client: httpx.AsyncClient, store: SqlStore) -> None:
    _, key = store.create_api_key("ci", models=["allowed", "also"])

    denied = await client.post(CHAT, json=chat_body("other"), headers=bearer(key))
    no_model = await client.post("/runs/abc/v1/embeddings", json={"input": "x"}, headers=bearer(key))
    allowed = await client.post(CHAT, json=chat_body("also"), headers=bearer(key))

    assert denied.status_code == 403
    error = envelope(denied)
    assert (error["type"], error["param"], error["code"]) == (
        "permission_error",
        "model",
        "model_not_allowed",
    )
    assert "other" in error["message"]
    assert no_model.status_code == 403
    assert allowed.status_code == 200


def _table() -> RoutingTable:
    qwen = ServedModel(
        run_id="run1",
        project="team-a",
        model="qwen-run1",
        model_name="qwen",
        upstream_model="Qwen/Qwen2.5",
        adapters=("sql",),
        endpoints=(Endpoint("run1-0", "http://127.0.0.1:1"),),
    )
    other = ServedModel(
        run_id="run2", project="team-b", model="llama-run2", model_name="llama", upstream_model="l"
    )
    return RoutingTable([qwen, other])


@pytest.mark.parametrize(
    ("allowed", "project", "path", "model", "status"),
    [
        (["qwen"], None, CHAT, "qwen-run1", 200),
        (["qwen"], None, CHAT, "qwen-run1_sql", 200),
        (["qwen"], None, "/runs/run1/v1/chat/completions", None, 200),
        (["qwen"], None, CHAT, "llama-run2", 403),
        (["qwen-run1_sql"], None, CHAT, "qwen_sql", 200),
        (["qwen-run1_sql"], None, CHAT, "qwen-run1", 403),
        ([], "team-a", CHAT, "qwen", 200),
        ([], "team-a", CHAT, "llama", 403),
        ([], "team-a", CHAT, "unknown", 403),
    ],
    ids=[
        "plain-allows-exposed",
        "model-allows-its-adapter",
        "per-run-channel-without-model",
        "other-model",
        "adapter-by-plain-name",
        "adapter-only-not-base",
        "project-own-model",
        "project-other-model",
        "project-unknown-model",
    ],
)
async def test_allow_list_and_project_match_through_the_routing_table(
    upstream: Upstream,
    store: SqlStore,
    auth: KeyAuthenticator,
    allowed: list[str],
    project: str | None,
    path: str,
    model: str | None,
    status: int,
) -> None:
    if project:
        store.create_project(project)
    _, key = store.create_api_key("scoped", models=allowed, project=project)
    table = _table()
    app = ApiKeyMiddleware(upstream.app(), auth=auth, resolve=routing_resolver(lambda: table))
    body = {"input": "x"} if model is None else chat_body(model)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as c:
        response = await c.post(path, json=body, headers=bearer(key))
    assert response.status_code == status, response.text


# -- 429 -------------------------------------------------------------------------------------


async def test_requests_per_minute_limit_answers_429_with_retry_after(
    client: httpx.AsyncClient, store: SqlStore, clock: FakeClock
) -> None:
    _, limited = store.create_api_key("limited", rpm=2)
    _, free = store.create_api_key("free")

    statuses = [
        (await client.post(CHAT, json=chat_body("m"), headers=bearer(limited))).status_code for _ in range(2)
    ]
    refused = await client.post(CHAT, json=chat_body("m"), headers=bearer(limited))
    other = await client.post(CHAT, json=chat_body("m"), headers=bearer(free))

    assert statuses == [200, 200]
    assert refused.status_code == 429
    error = envelope(refused)
    assert (error["type"], error["code"]) == ("rate_limit_error", "requests_per_minute_exceeded")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert other.status_code == 200

    clock.advance(float(refused.headers["retry-after"]))
    assert (await client.post(CHAT, json=chat_body("m"), headers=bearer(limited))).status_code == 200


async def test_tokens_per_minute_limit_counts_recorded_usage(
    client: httpx.AsyncClient, store: SqlStore, auth: KeyAuthenticator, clock: FakeClock
) -> None:
    record, key = store.create_api_key("tpm", tpm=100)
    assert (await client.post(CHAT, json=chat_body("m"), headers=bearer(key))).status_code == 200

    auth.add_tokens(record.id, 150)  # what the usage recorder does after each response
    refused = await client.post(CHAT, json=chat_body("m"), headers=bearer(key))

    assert refused.status_code == 429
    assert envelope(refused)["code"] == "tokens_per_minute_exceeded"
    assert 1 <= int(refused.headers["retry-after"]) <= 60

    clock.advance(61.0)  # the tokens left the one-minute window
    assert (await client.post(CHAT, json=chat_body("m"), headers=bearer(key))).status_code == 200


async def test_tokens_recorded_by_another_gateway_count_after_the_next_lookup(
    client: httpx.AsyncClient, store: SqlStore, auth: KeyAuthenticator
) -> None:
    record, key = store.create_api_key("shared", tpm=1000)
    assert (await client.post(CHAT, json=chat_body("m"), headers=bearer(key))).status_code == 200

    store.add_usage(record.id, "m", prompt_tokens=900, completion_tokens=300)  # another process wrote it
    auth.invalidate()
    refused = await client.post(CHAT, json=chat_body("m"), headers=bearer(key))

    assert refused.status_code == 429
    assert envelope(refused)["code"] == "tokens_per_minute_exceeded"


# -- real sockets: streaming, the openai client, logs -----------------------------------------


def test_streaming_responses_pass_through_unbuffered(upstream: Upstream, store: SqlStore) -> None:
    _, key = store.create_api_key("stream", models=["m"], rpm=100)
    app = ApiKeyMiddleware(upstream.app(), auth=KeyAuthenticator(store))
    body = chat_body("m", stream=True)
    with (
        serve(app) as url,
        httpx.Client(base_url=url, timeout=30) as http,
        http.stream("POST", "/v1/stream", json=body, headers=bearer(key)) as r,
    ):
        assert r.status_code == 200
        chunks = r.iter_raw()
        # The app holds its second chunk until released: the first must arrive before that.
        received = b""
        while b"first" not in received:
            received += next(chunks)
        assert received == b"data: first\n\n"
        upstream.release.set()
        assert b"".join(chunks) == b"data: second\n\n"


def test_official_openai_client_sees_auth_and_rate_limit_errors(
    upstream: Upstream, store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    openai = pytest.importorskip("openai", reason="the openai client is part of the test extra")
    caplog.set_level(logging.DEBUG)
    _, key = store.create_api_key("sdk", models=["m"], rpm=1)
    app = ApiKeyMiddleware(upstream.app(), auth=KeyAuthenticator(store))
    messages = [{"role": "user", "content": "hi"}]
    with serve(app) as url:
        good = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)
        bad = openai.OpenAI(base_url=f"{url}/v1", api_key=hashing.new_secret(), max_retries=0)

        answer = good.chat.completions.create(model="m", messages=messages)
        with pytest.raises(openai.RateLimitError) as limited:
            good.chat.completions.create(model="m", messages=messages)
        with pytest.raises(openai.AuthenticationError):
            bad.chat.completions.create(model="m", messages=messages)

    assert answer.choices[0].message.content == "hi"
    assert limited.value.response.headers["retry-after"]
    assert key not in caplog.text
