"""Executor and control-loop state: engine replicas (for re-adoption after a restart) and a
small key/value table (autoscaler state and the like).

Imports `store.*` and `errors` from the project.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from modelserve.store.records import ReplicaRecord
from modelserve.store.runs import run_row
from modelserve.store.sessions import StoreSessions
from modelserve.store.tables import KvRow, ReplicaRow, utcnow


def _upsert(session: Session, table: Any, values: dict[str, Any], keys: list[str]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE, in the backend's own dialect (atomic on both)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(**values)
    updates = {k: stmt.excluded[k] for k in values if k not in keys}
    session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updates))


class RuntimeStateStore(StoreSessions):
    # -- replicas ---------------------------------------------------------------------------

    def upsert_replica(
        self,
        run_id: str,
        index: int,
        *,
        pid: int | None,
        pgid: int | None,
        port: int | None,
        log_path: str | None,
        state: str,
        started_at: datetime | None,
        restarts: int,
    ) -> ReplicaRecord:
        """Insert or replace replica `index` of a run; NotFound if the run does not exist."""
        values: dict[str, Any] = {
            "run_id": run_id,
            "index": index,
            "pid": pid,
            "pgid": pgid,
            "port": port,
            "log_path": log_path,
            "state": state,
            "started_at": started_at,
            "restarts": restarts,
        }
        with self._write() as s:
            run_row(s, run_id)
            _upsert(s, ReplicaRow, values, ["run_id", "index"])
            row = s.get(ReplicaRow, (run_id, index), populate_existing=True)
            assert row is not None
            return row.to_record()

    def list_replicas(self, run_id: str | None = None) -> list[ReplicaRecord]:
        """Replicas of one run, or of every run, ordered by run id then index."""
        query = select(ReplicaRow).order_by(ReplicaRow.run_id, ReplicaRow.index)
        if run_id is not None:
            query = query.where(ReplicaRow.run_id == run_id)
        with self._read() as s:
            return [r.to_record() for r in s.scalars(query)]

    def delete_replica(self, run_id: str, index: int) -> bool:
        """Forget one replica; returns whether it was there (deleting twice is not an error)."""
        with self._write() as s:
            result = s.execute(
                delete(ReplicaRow).where(ReplicaRow.run_id == run_id, ReplicaRow.index == index)
            )
            return bool(getattr(result, "rowcount", 0))

    def delete_replicas(self, run_id: str) -> int:
        """Forget every replica of a run; returns how many there were."""
        with self._write() as s:
            result = s.execute(delete(ReplicaRow).where(ReplicaRow.run_id == run_id))
            return int(getattr(result, "rowcount", 0))

    # -- key/value --------------------------------------------------------------------------

    def get_kv(self, key: str) -> dict[str, Any] | None:
        """The JSON object stored under `key`, or None."""
        with self._read() as s:
            row = s.get(KvRow, key)
            return None if row is None else dict(row.value)

    def put_kv(self, key: str, value: dict[str, Any]) -> None:
        """Store `value` under `key`, replacing what was there."""
        with self._write() as s:
            _upsert(s, KvRow, {"key": key, "value": dict(value), "updated_at": utcnow()}, ["key"])

    def delete_kv(self, key: str) -> bool:
        """Remove `key`; returns whether it was there."""
        with self._write() as s:
            result = s.execute(delete(KvRow).where(KvRow.key == key))
            return bool(getattr(result, "rowcount", 0))
