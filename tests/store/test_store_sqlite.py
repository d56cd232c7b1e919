"""SQLite specifics: WAL journal, foreign keys, busy timeout, readers not blocked by a writer."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from modelserve.store import SqlStore
from modelserve.store.engine import normalize_url


def _sqlite_store(tmp_path: Path) -> tuple[SqlStore, Path]:
    path = tmp_path / "nested" / "dir" / "modelserve.db"
    store = SqlStore(f"sqlite:///{path}")
    store.migrate()
    return store, path


def test_sqlite_uses_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    store, path = _sqlite_store(tmp_path)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        # WAL is a property of the file: any other client sees it too.
        raw = sqlite3.connect(path)
        try:
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            raw.close()
    finally:
        store.close()


def test_readers_are_not_blocked_by_a_writer_holding_the_lock(tmp_path: Path) -> None:
    store, path = _sqlite_store(tmp_path)
    store.create_project("visible")
    raw = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    try:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("INSERT INTO kv (key, value, updated_at) VALUES ('pending', '{}', '2025-01-01')")
        # With WAL a reader sees the last committed state while the write is in progress.
        assert [p.name for p in store.list_projects()] == ["visible"]
        assert store.get_kv("pending") is None
        raw.execute("COMMIT")
        assert store.get_kv("pending") == {}
    finally:
        raw.close()
        store.close()


def test_postgres_urls_get_the_psycopg3_driver() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h:5433/db").render_as_string() == "postgresql+psycopg://u@h:5433/db"
    assert normalize_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite"


def test_in_memory_sqlite_works_across_threads() -> None:
    import threading

    store = SqlStore("sqlite://")
    store.migrate()
    thread = threading.Thread(target=store.create_project, args=("from-thread",))
    thread.start()
    thread.join()
    assert [p.name for p in store.list_projects()] == ["from-thread"]
    store.close()
