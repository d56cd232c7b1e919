"""API keys in the store (SQLite and PostgreSQL): hashed at rest, found by the key, revoked for
good, and their usage summed per model."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from modelserve import errors
from modelserve.store import SqlStore
from modelserve.store.records import UsageInput

KEY_SHAPE = re.compile(r"^msk-[A-Za-z0-9_-]{32}$")
# Input checks run before any SQL: one backend is enough for them.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def keys(store: SqlStore, backend: str) -> Iterator[SqlStore]:
    """The shared `store`, with the key tables emptied too on the reused PostgreSQL database."""
    if backend == "postgres":
        with store.engine.begin() as conn:
            conn.execute(text("TRUNCATE api_key_usage, api_keys RESTART IDENTITY CASCADE"))
    yield store


def test_create_returns_the_key_once_and_find_recognises_it(keys: SqlStore) -> None:
    record, key = keys.create_api_key("ci", models=["qwen", "llama", "qwen"], rpm=60, tpm=1000)

    assert KEY_SHAPE.match(key)
    assert (record.name, record.models, record.requests_per_minute, record.tokens_per_minute) == (
        "ci",
        ("qwen", "llama"),
        60,
        1000,
    )
    assert record.active and record.last_used_at is None
    assert record.hint == f"msk-...{key[-4:]}"
    assert keys.find_api_key(key) == record
    assert key not in repr(keys.list_api_keys())
    assert "key" not in record.to_dict()


@sqlite_only
@pytest.mark.parametrize(
    "presented",
    ["", "msk-", "sk-abc", "msk-" + "A" * 32, "msk-" + "A" * 31 + "!!", None],
    ids=["empty", "prefix-only", "other-vendor", "unknown", "too-long", "none"],
)
def test_find_returns_none_for_anything_but_a_key(keys: SqlStore, presented: str | None) -> None:
    keys.create_api_key("ci")
    assert keys.find_api_key(presented) is None  # type: ignore[arg-type]


def test_a_key_differing_in_one_character_is_not_found(keys: SqlStore) -> None:
    _, key = keys.create_api_key("ci")
    flipped = key[:-1] + ("a" if key[-1] != "a" else "b")
    assert keys.find_api_key(flipped) is None


def test_the_key_is_not_stored_anywhere(keys: SqlStore, backend: str, tmp_path: Path) -> None:
    _, key = keys.create_api_key("secret-holder", models=["m"])
    secret = key.removeprefix("msk-")

    with keys.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM api_keys")).all()
    assert len(rows) == 1
    assert secret[:12] not in repr(rows)
    if backend == "sqlite":
        keys.close()  # checkpoint the WAL so the file holds everything written
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("modelserve.db*"))
        assert b"secret-holder" in raw  # the row is there...
        assert secret.encode() not in raw and secret[:12].encode() not in raw  # ...the key is not


@sqlite_only
@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "ok", "rpm": 0}, "rpm"),
        ({"name": "ok", "tpm": -5}, "tpm"),
        ({"name": "ok", "rpm": True}, "rpm"),
        ({"name": "ok", "models": "qwen"}, "models"),
        ({"name": "ok", "models": ["qwen", ""]}, "models[1]"),
        ({"name": "ok", "project": "Bad Name"}, "name"),
    ],
    ids=[
        "empty-name",
        "long-name",
        "zero-rpm",
        "negative-tpm",
        "bool-rpm",
        "models-string",
        "blank-model",
        "bad-project",
    ],
)
def test_bad_input_is_refused_naming_the_field(keys: SqlStore, kwargs: dict[str, object], param: str) -> None:
    rest = dict(kwargs)  # the parameter dict is shared by both backends' cases
    name = rest.pop("name")
    with pytest.raises(errors.InvalidRequest) as exc:
        keys.create_api_key(name, **rest)  # type: ignore[arg-type]
    assert exc.value.param == param
    assert keys.list_api_keys() == []


def test_project_must_exist(keys: SqlStore) -> None:
    with pytest.raises(errors.NotFound):
        keys.create_api_key("ci", project="nowhere")
    keys.create_project("team-a")
    record, _ = keys.create_api_key("ci", project="team-a")
    assert record.project == "team-a"


def test_revoke_is_final_and_idempotent(keys: SqlStore) -> None:
    record, key = keys.create_api_key("ci")
    other, _ = keys.create_api_key("other")

    revoked = keys.revoke_api_key(record.id)
    again = keys.revoke_api_key(record.id)

    assert revoked.revoked_at is not None and not revoked.active
    assert again.revoked_at == revoked.revoked_at
    found = keys.find_api_key(key)
    assert found is not None and not found.active
    assert [k.id for k in keys.list_api_keys()] == [record.id, other.id]
    assert [k.id for k in keys.list_api_keys(include_revoked=False)] == [other.id]
    with pytest.raises(errors.NotFound):
        keys.revoke_api_key("0" * 16)


def test_usage_is_summed_per_key_and_model(keys: SqlStore) -> None:
    a, _ = keys.create_api_key("a")
    b, _ = keys.create_api_key("b")
    keys.add_usage(a.id, "qwen", 10, 5, run_id="r1")
    keys.add_usage(a.id, "qwen", 1, 1)
    keys.add_usage(a.id, "llama", 2, 0)
    keys.add_usage(b.id, "qwen", 100, 50)

    summary = keys.usage_summary(a.id)
    assert [(r.model, r.requests, r.prompt_tokens, r.completion_tokens) for r in summary.rows] == [
        ("llama", 1, 2, 0),
        ("qwen", 2, 11, 6),
    ]
    assert summary.to_dict()["total_tokens"] == 19
    everyone = keys.usage_summary()
    assert (everyone.key_id, everyone.requests, everyone.prompt_tokens) == (None, 4, 113)
    assert keys.get_api_key(a.id).last_used_at is not None
    assert keys.get_api_key(b.id).last_used_at is not None
    with pytest.raises(errors.NotFound):
        keys.usage_summary("f" * 16)
    with pytest.raises(errors.NotFound):
        keys.add_usage("f" * 16, "qwen", 1, 1)


def test_usage_since_and_token_window_count_only_recent_records(keys: SqlStore) -> None:
    record, _ = keys.create_api_key("a")
    now = datetime.now(timezone.utc)
    old = now - timedelta(minutes=5)
    keys.add_usage_batch(
        [
            UsageInput(record.id, "qwen", 1000, 1000, ts=old),
            UsageInput(record.id, "qwen", 30, 12, ts=now - timedelta(seconds=20)),
            UsageInput(record.id, "qwen", 5, 3, ts=now),
        ]
    )

    tokens, oldest = keys.token_window(record.id, now - timedelta(seconds=60))
    assert tokens == 50
    assert oldest is not None and abs((oldest - (now - timedelta(seconds=20))).total_seconds()) < 0.01
    assert keys.usage_summary(record.id, since=now - timedelta(minutes=1)).requests == 2
    assert keys.token_window(record.id, now + timedelta(seconds=1)) == (0, None)
    last_used = keys.get_api_key(record.id).last_used_at
    assert last_used is not None and abs((last_used - now).total_seconds()) < 0.01


def test_batch_drops_unknown_keys_and_refuses_negative_tokens(keys: SqlStore) -> None:
    record, _ = keys.create_api_key("a")
    written = keys.add_usage_batch([UsageInput(record.id, "qwen", 1, 1), UsageInput("f" * 16, "qwen", 1, 1)])
    assert written == 1
    with pytest.raises(errors.InvalidRequest):
        keys.add_usage_batch([UsageInput(record.id, "qwen", -1, 0)])
    assert keys.usage_summary(record.id).requests == 1
