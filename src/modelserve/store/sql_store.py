"""SqlStore: the persistence layer on SQLAlchemy 2 (sync) and Alembic.

`SqlStore("sqlite:///path/modelserve.db")` (WAL, foreign keys, busy timeout) is the embedded
default; `SqlStore("postgresql+psycopg://user@host/db")` the production one. Call `migrate()`
once at start. Callers in async code wrap calls in `asyncio.to_thread`. The parts live in
`catalog` (projects, functions), `runs` (runs, events), `runtime_state` (replicas, kv) and
`keys` (API keys and their usage).
"""

from __future__ import annotations

from modelserve.store.catalog import CatalogStore
from modelserve.store.keys import KeyStore
from modelserve.store.runs import RunStore
from modelserve.store.runtime_state import RuntimeStateStore


class SqlStore(CatalogStore, RunStore, RuntimeStateStore, KeyStore):
    """Projects, functions, runs, events, replicas, key/value state and API keys in one SQL database.

    Thread-safe: one Engine per store, one short session per call. Errors are
    `modelserve.errors.NotFound` / `Conflict` / `InvalidRequest` naming the entity.
    """
