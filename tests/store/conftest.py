"""Fixtures for the store tests: `store` runs every test on SQLite and on PostgreSQL.

SQLite lives in a file under tmp_path. PostgreSQL (127.0.0.1:5432, trust auth, user postgres or
root; MODELSERVE_TEST_POSTGRES_URL overrides) gets one fresh database per test session, emptied
between tests and dropped at the end; `fresh_url` gives a brand-new, unmigrated database.
Without a reachable server the postgres cases are skipped, saying so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from modelserve.store import FunctionRecord, RunRecord, SqlStore

TABLES = ("api_key_usage", "api_keys", "kv", "replicas", "events", "runs", "functions", "projects")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _admin_conninfo() -> str | None:
    """A libpq conninfo for the `test` database on the local server, or None if unreachable."""
    override = os.environ.get("MODELSERVE_TEST_POSTGRES_URL")
    candidates = (
        [override]
        if override
        else [
            f"host=127.0.0.1 port=5432 user={user} dbname=test connect_timeout=3"
            for user in ("postgres", "root")
        ]
    )
    for conninfo in candidates:
        try:
            with psycopg.connect(conninfo, autocommit=True):
                return conninfo
        except psycopg.Error:
            continue
    return None


class PostgresServer:
    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.params = psycopg.conninfo.conninfo_to_dict(conninfo)

    def create_database(self) -> str:
        """Create `modelserve_test_<random>` and return its SQLAlchemy URL."""
        name = f"modelserve_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        user = self.params.get("user", "postgres")
        host = self.params.get("host", "127.0.0.1")
        port = self.params.get("port", "5432")
        return f"postgresql+psycopg://{user}@{host}:{port}/{name}"

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    conninfo = _admin_conninfo()
    if conninfo is None:
        where = (
            os.environ.get("MODELSERVE_TEST_POSTGRES_URL") or "127.0.0.1:5432 (users postgres/root, db test)"
        )
        pytest.skip(f"PostgreSQL is not reachable at {where}")
    return PostgresServer(conninfo)


@pytest.fixture(scope="session")
def postgres_session_url(postgres_server: PostgresServer) -> Iterator[str]:
    url = postgres_server.create_database()
    s = SqlStore(url)
    s.migrate()
    s.close()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fresh_url(backend: str, tmp_path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A URL of an empty, unmigrated database on `backend`."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'modelserve.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def store(backend: str, tmp_path, request: pytest.FixtureRequest) -> Iterator[SqlStore]:
    """A migrated, empty store on `backend`."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'modelserve.db'}"
    else:
        url = request.getfixturevalue("postgres_session_url")
    s = SqlStore(url)
    s.migrate()
    if backend == "postgres":
        with s.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    yield s
    s.close()


MakeRun = Callable[..., RunRecord]


@pytest.fixture
def make_run(store: SqlStore) -> MakeRun:
    """Create a run of function `fn` (kubeai-text) in `project`, creating both as needed."""

    def make(project: str = "demo", state: str = "CREATED", **status: Any) -> RunRecord:
        store.get_or_create_project(project)
        function: FunctionRecord = store.create_function(
            project, "fn", "kubeai-text", {"url": "hf://org/model"}
        )
        return store.create_run(project, function, {"url": "hf://org/model"}, {"state": state, **status})

    return make
