"""Runs and events on both backends, including the atomic status + event write."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from modelserve.errors import InvalidRequest, NotFound
from modelserve.store import EventRecordInput, SqlStore

RUN_KEYS = {
    "id",
    "project",
    "function",
    "function_version",
    "kind",
    "action",
    "spec",
    "desired",
    "status",
    "created_at",
    "updated_at",
}


def test_create_run_takes_function_and_state_from_inputs(store: SqlStore) -> None:
    store.create_project("p")
    store.create_function("p", "chat", "vllmserve-text", {"url": "hf://a/b"})
    fn = store.create_function("p", "chat", "vllmserve-text", {"url": "hf://a/c"})
    status = {"state": "READY", "message": "queued", "replicas": {"desired": 1, "ready": 0}}

    run = store.create_run("p", fn, {"url": "hf://a/c", "replicas": 1}, status)

    assert re.fullmatch(r"[0-9a-f]{32}", run.id)
    assert (run.project, run.function, run.function_version, run.kind) == ("p", "chat", 2, "vllmserve-text")
    assert (run.action, run.desired, run.state) == ("serve", "serve", "READY")
    assert run.status == status
    assert store.get_run(run.id) == run
    data = run.to_dict()
    assert set(data) == RUN_KEYS
    assert data["created_at"] == run.created_at.isoformat()
    assert data["spec"] == {"url": "hf://a/c", "replicas": 1}


def test_create_run_without_state_starts_created(store: SqlStore) -> None:
    store.create_project("p")
    fn = store.create_function("p", "chat", "kubeai-text", {})
    run = store.create_run("p", fn, {}, {}, desired="stop")
    assert (run.state, run.status, run.desired) == ("CREATED", {"state": "CREATED"}, "stop")


def test_create_run_rejects_unknown_project_and_foreign_function(store: SqlStore) -> None:
    store.create_project("p")
    store.create_project("q")
    fn = store.create_function("p", "chat", "kubeai-text", {})
    with pytest.raises(InvalidRequest, match="belongs to project 'p'") as info:
        store.create_run("q", fn, {}, {"state": "CREATED"})
    assert info.value.param == "function"
    store.delete_project("p")
    with pytest.raises(NotFound, match="project 'p' not found"):
        store.create_run("p", fn, {}, {"state": "CREATED"})
    assert store.list_runs() == []


def test_unknown_run_is_not_found_everywhere(store: SqlStore) -> None:
    ghost = "0" * 32
    calls: list[Any] = [
        lambda: store.get_run(ghost),
        lambda: store.set_desired(ghost, "stop"),
        lambda: store.update_status(ghost, {"state": "RUNNING"}),
        lambda: store.add_event(ghost, "RUNNING", "Started", "", ""),
        lambda: store.list_events(ghost),
        lambda: store.purge_run(ghost),
    ]
    for call in calls:
        with pytest.raises(NotFound, match=f"run {ghost} not found"):
            call()


def test_list_runs_filters_by_project_and_states(store: SqlStore, make_run) -> None:
    a1 = make_run("a", state="RUNNING")
    a2 = make_run("a", state="STOPPED")
    b1 = make_run("b", state="RUNNING")
    make_run("b", state="DELETED")

    assert [r.id for r in store.list_runs(project="a")] == [a1.id, a2.id]
    assert [r.id for r in store.list_runs(states=["RUNNING"])] == [a1.id, b1.id]
    assert [r.id for r in store.list_runs(project="b", states={"RUNNING", "STOPPED"})] == [b1.id]
    assert len(store.list_runs()) == 4
    assert store.list_runs(states=[]) == []
    assert store.list_runs(project="nobody") == []


def test_set_desired_changes_only_desired(store: SqlStore, make_run) -> None:
    run = make_run(state="RUNNING")
    stopped = store.set_desired(run.id, "stop")
    assert (stopped.desired, stopped.state, stopped.status) == ("stop", "RUNNING", run.status)
    assert stopped.updated_at >= run.updated_at
    assert store.get_run(run.id).desired == "stop"


def test_update_status_writes_status_state_and_event(store: SqlStore, make_run) -> None:
    run = make_run()
    status = {"state": "RUNNING", "service": {"url": "http://127.0.0.1:9000", "urls": []}}

    updated = store.update_status(
        run.id, status, event=EventRecordInput("RUNNING", "ReplicaReady", "Healthy", "replica 0 ready")
    )

    assert (updated.state, updated.status) == ("RUNNING", status)
    assert store.list_runs(states=["RUNNING"]) == [updated]
    [event] = store.list_events(run.id)
    assert (event.run_id, event.state, event.event, event.reason, event.message) == (
        run.id,
        "RUNNING",
        "ReplicaReady",
        "Healthy",
        "replica 0 ready",
    )
    assert event.to_dict() == {
        "id": event.id,
        "run_id": run.id,
        "ts": event.ts.isoformat(),
        "state": "RUNNING",
        "event": "ReplicaReady",
        "reason": "Healthy",
        "message": "replica 0 ready",
    }


def test_update_status_without_state_keeps_the_current_state(store: SqlStore, make_run) -> None:
    run = make_run(state="PENDING")
    updated = store.update_status(run.id, {"message": "pulling"})
    assert updated.status == {"message": "pulling", "state": "PENDING"}


def test_update_status_is_atomic_when_the_event_insert_fails(store: SqlStore, make_run) -> None:
    run = make_run(state="PENDING", message="waiting")
    # message=None violates NOT NULL, so the INSERT of the event fails after the status UPDATE
    # has already been sent inside the same transaction.
    broken = EventRecordInput("RUNNING", "ReplicaReady", "Healthy", None)  # type: ignore[arg-type]

    with pytest.raises(Exception, match="(?i)not null|null value"):
        store.update_status(run.id, {"state": "RUNNING", "message": "up"}, event=broken)

    after = store.get_run(run.id)
    assert (after.state, after.status, after.updated_at) == ("PENDING", run.status, run.updated_at)
    assert store.list_events(run.id) == []
    assert store.list_runs(states=["RUNNING"]) == []


def test_events_are_ordered_by_time_and_limited_to_the_latest(store: SqlStore, make_run) -> None:
    run = make_run()
    other = make_run()
    for i in range(5):
        store.add_event(run.id, "RUNNING", f"E{i}", "r", f"m{i}")
    store.add_event(other.id, "RUNNING", "Other", "", "")

    events = store.list_events(run.id)
    assert [e.event for e in events] == ["E0", "E1", "E2", "E3", "E4"]
    assert [e.event for e in store.list_events(run.id, limit=2)] == ["E3", "E4"]
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(events))


def test_purge_run_removes_run_events_and_replicas(store: SqlStore, make_run) -> None:
    run = make_run()
    keep = make_run()
    store.add_event(run.id, "CREATED", "Created", "", "")
    store.upsert_replica(
        run.id, 0, pid=1, pgid=1, port=1, log_path=None, state="running", started_at=None, restarts=0
    )

    store.purge_run(run.id)

    assert [r.id for r in store.list_runs()] == [keep.id]
    assert store.list_replicas() == []
    with pytest.raises(NotFound):
        store.list_events(run.id)
