"""Engine construction: URL normalisation, SQLite pragmas and transaction start.

SQLite: WAL journal, foreign keys on, a busy timeout, and SQLAlchemy (not the sqlite3 module)
emits BEGIN, so writers can ask for `BEGIN IMMEDIATE` (see `write_engine`). PostgreSQL: psycopg 3.
Imports nothing from the project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import StaticPool

BUSY_TIMEOUT_MS = 30_000
# Execution option that makes a SQLite transaction start with BEGIN IMMEDIATE.
WRITE_OPTION = "modelserve_write"


def normalize_url(url: str) -> URL:
    """Parse `url`; bare `postgresql://` / `postgres://` URLs get the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def make_engine(url: str) -> Engine:
    """One Engine per store; it is thread-safe and pools connections."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=20)


def write_engine(engine: Engine) -> Engine:
    """The same engine (and pool) with transactions that take the write lock up front.

    A deferred SQLite transaction that reads and then writes fails at once with "database is
    locked" when another connection committed in between (the busy timeout does not apply to
    that upgrade); BEGIN IMMEDIATE waits for the lock instead. PostgreSQL ignores the option.
    """
    return engine.execution_options(**{WRITE_OPTION: True})


def _sqlite_engine(url: URL) -> Engine:
    kwargs: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_MS / 1000}}
    memory = _is_memory(url)
    if memory:
        # One shared connection, so every thread sees the same in-memory database.
        kwargs["poolclass"] = StaticPool
        kwargs["connect_args"]["check_same_thread"] = False
    elif url.database:
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module; `_on_begin` emits BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
