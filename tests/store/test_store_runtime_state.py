"""Replicas (re-adoption after a restart) and key/value state on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from modelserve.errors import NotFound
from modelserve.store import ReplicaRecord, SqlStore

PLUS_TWO = timezone(timedelta(hours=2))


def _replica(store: SqlStore, run_id: str, index: int, **overrides: object) -> ReplicaRecord:
    fields: dict[str, object] = {
        "pid": 4242 + index,
        "pgid": 4242 + index,
        "port": 9000 + index,
        "log_path": f"/tmp/logs/{run_id}-{index}.log",
        "state": "starting",
        "started_at": datetime(2025, 5, 1, 12, 0, tzinfo=PLUS_TWO),
        "restarts": 0,
    }
    fields.update(overrides)
    return store.upsert_replica(run_id, index, **fields)  # type: ignore[arg-type]


def test_upsert_replica_inserts_then_replaces(store: SqlStore, make_run) -> None:
    run = make_run()
    first = _replica(store, run.id, 0)
    assert first.started_at == datetime(2025, 5, 1, 10, 0, tzinfo=timezone.utc)
    assert first.started_at.tzinfo == timezone.utc

    second = _replica(store, run.id, 0, pid=5000, state="ready", restarts=1, log_path=None, started_at=None)

    assert second == ReplicaRecord(run.id, 0, 5000, 4242, 9000, None, "ready", None, 1)
    assert store.list_replicas(run.id) == [second]
    assert second.to_dict()["started_at"] is None


def test_list_and_delete_replicas(store: SqlStore, make_run) -> None:
    a, b = make_run(), make_run()
    for index in (1, 0):
        _replica(store, a.id, index)
    _replica(store, b.id, 0)

    assert [(r.run_id, r.index) for r in store.list_replicas(a.id)] == [(a.id, 0), (a.id, 1)]
    assert len(store.list_replicas()) == 3

    assert store.delete_replica(a.id, 1) is True
    assert store.delete_replica(a.id, 1) is False
    assert [r.index for r in store.list_replicas(a.id)] == [0]
    assert store.delete_replicas(b.id) == 1
    assert [r.run_id for r in store.list_replicas()] == [a.id]


def test_replica_of_unknown_run_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound, match=f"run {'f' * 32} not found"):
        _replica(store, "f" * 32, 0)
    assert store.list_replicas() == []


def test_replicas_survive_a_restart_of_the_store(store: SqlStore, make_run) -> None:
    run = make_run(state="RUNNING")
    saved = _replica(store, run.id, 0, state="ready")
    url = store.engine.url.render_as_string(hide_password=False)
    store.close()

    reopened = SqlStore(url)
    reopened.migrate()
    try:
        assert reopened.list_replicas() == [saved]
        assert reopened.get_run(run.id).state == "RUNNING"
    finally:
        reopened.close()


def test_kv_get_put_overwrite_delete(store: SqlStore) -> None:
    assert store.get_kv("autoscaler/abc") is None
    store.put_kv("autoscaler/abc", {"replicas": 2, "history": [1.5, 2.0], "last": {"at": "now"}})
    assert store.get_kv("autoscaler/abc") == {"replicas": 2, "history": [1.5, 2.0], "last": {"at": "now"}}

    store.put_kv("autoscaler/abc", {"replicas": 0})
    store.put_kv("leader", {"holder": "x"})
    assert store.get_kv("autoscaler/abc") == {"replicas": 0}
    assert store.get_kv("leader") == {"holder": "x"}

    assert store.delete_kv("leader") is True
    assert store.delete_kv("leader") is False
    assert store.get_kv("leader") is None
