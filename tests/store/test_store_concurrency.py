"""Many threads writing through one store at once, on both backends."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from modelserve.store import EventRecordInput, FunctionRecord, SqlStore

THREADS = 10


def test_ten_threads_creating_runs(store: SqlStore) -> None:
    store.create_project("p")
    fn = store.create_function("p", "chat", "kubeai-text", {"url": "hf://a/b"})

    def create(i: int) -> str:
        run = store.create_run("p", fn, {"i": i}, {"state": "CREATED"})
        store.add_event(run.id, "CREATED", "Created", "", f"run {i}")
        return run.id

    with ThreadPoolExecutor(THREADS) as pool:
        ids = list(pool.map(create, range(THREADS)))

    assert len(set(ids)) == THREADS
    runs = store.list_runs(project="p")
    assert sorted(r.id for r in runs) == sorted(ids)
    assert sorted(r.spec["i"] for r in runs) == list(range(THREADS))
    assert all(len(store.list_events(run_id)) == 1 for run_id in ids)


def test_concurrent_function_versions_are_unique_and_dense(store: SqlStore) -> None:
    store.create_project("p")

    def create(i: int) -> FunctionRecord:
        return store.create_function("p", "chat", "kubeai-text", {"i": i})

    with ThreadPoolExecutor(THREADS) as pool:
        created = list(pool.map(create, range(THREADS)))

    assert sorted(f.version for f in created) == list(range(1, THREADS + 1))
    assert store.get_function("p", "chat").version == THREADS


def test_concurrent_status_updates_keep_every_event(store: SqlStore, make_run) -> None:
    run = make_run()

    def update(i: int) -> None:
        store.update_status(
            run.id, {"state": "RUNNING", "message": f"m{i}"}, event=EventRecordInput("RUNNING", f"E{i}")
        )

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(update, range(THREADS)))

    events = store.list_events(run.id)
    assert sorted(e.event for e in events) == sorted(f"E{i}" for i in range(THREADS))
    assert store.get_run(run.id).status["message"] in {f"m{i}" for i in range(THREADS)}
