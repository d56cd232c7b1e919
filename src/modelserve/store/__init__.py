"""Persistence: `SqlStore` (SQLAlchemy 2 + Alembic; SQLite embedded, PostgreSQL by URL) and
the frozen records it returns. Imports only `errors` from the project."""

from __future__ import annotations

from modelserve.store.records import (
    EventRecord,
    EventRecordInput,
    FunctionRecord,
    ProjectRecord,
    ReplicaRecord,
    RunRecord,
)
from modelserve.store.sql_store import SqlStore

__all__ = [
    "EventRecord",
    "EventRecordInput",
    "FunctionRecord",
    "ProjectRecord",
    "ReplicaRecord",
    "RunRecord",
    "SqlStore",
]
