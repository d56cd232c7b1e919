"""Migrations: packaged, idempotent, concurrent-safe, and matching the table models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from modelserve.store import SqlStore
from modelserve.store.migrate import MIGRATIONS_DIR, VERSION_TABLE, alembic_config, current_revision
from modelserve.store.tables import Base

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
TABLES = {"projects", "functions", "runs", "events", "replicas", "kv", VERSION_TABLE}


def test_migrations_ship_inside_the_package() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert HEAD is not None
    assert not (MIGRATIONS_DIR.parent / "alembic.ini").exists()


def test_migrate_creates_schema_and_is_idempotent(fresh_url: str) -> None:
    store = SqlStore(fresh_url)
    try:
        assert current_revision(store.engine) is None
        store.migrate()
        store.create_project("keep")
        store.migrate()
        store.migrate()

        assert current_revision(store.engine) == HEAD
        assert TABLES <= set(inspect(store.engine).get_table_names())
        assert [p.name for p in store.list_projects()] == ["keep"]
    finally:
        store.close()


def test_migrated_schema_matches_the_table_models(store: SqlStore) -> None:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "version_table": VERSION_TABLE})
        assert compare_metadata(ctx, Base.metadata) == []


def test_two_processes_migrating_at_once_both_succeed(fresh_url: str, tmp_path: Path) -> None:
    # Run from an empty directory: no alembic.ini is needed at runtime.
    cmd = [sys.executable, "-m", "modelserve.store.migrate", "--url", fresh_url, "upgrade"]
    procs = [
        subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60)[0] for p in procs]

    assert [p.returncode for p in procs] == [0, 0], outputs
    store = SqlStore(fresh_url)
    try:
        assert current_revision(store.engine) == HEAD
        assert store.create_project("after").name == "after"
    finally:
        store.close()
