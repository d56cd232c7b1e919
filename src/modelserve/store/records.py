"""The store's records: frozen dataclasses of plain values handed to every other package.

Times are timezone-aware UTC datetimes, JSON columns are plain dicts. `to_dict()` gives the
JSON-friendly shapes of docs/design.md (ISO-8601 times). Imports nothing from the project.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class ProjectRecord:
    name: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "created_at": _iso(self.created_at)}


@dataclass(frozen=True)
class FunctionRecord:
    """One immutable version of a function; `id` is 32 lowercase hex characters."""

    id: str
    project: str
    name: str
    kind: str
    version: int
    spec: dict[str, Any]
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "project": self.project,
            "name": self.name,
            "kind": self.kind,
            "version": self.version,
            "spec": copy.deepcopy(self.spec),
            "created_at": _iso(self.created_at),
        }


@dataclass(frozen=True)
class RunRecord:
    """One run. `state` mirrors `status["state"]` (kept as a column so it can be filtered on)."""

    id: str
    project: str
    function: str
    function_version: int
    kind: str
    action: str
    spec: dict[str, Any]
    desired: str
    state: str
    status: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "project": self.project,
            "function": self.function,
            "function_version": self.function_version,
            "kind": self.kind,
            "action": self.action,
            "spec": copy.deepcopy(self.spec),
            "desired": self.desired,
            "status": copy.deepcopy(self.status),
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


@dataclass(frozen=True)
class EventRecordInput:
    """An event to record together with a status change (`SqlStore.update_status(event=...)`)."""

    state: str
    event: str
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class EventRecord:
    id: int
    run_id: str
    ts: datetime
    state: str
    event: str
    reason: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run_id": self.run_id,
            "ts": _iso(self.ts),
            "state": self.state,
            "event": self.event,
            "reason": self.reason,
            "message": self.message,
        }


@dataclass(frozen=True)
class ReplicaRecord:
    """What the local executor needs to re-adopt an engine process after a server restart."""

    run_id: str
    index: int
    pid: int | None
    pgid: int | None
    port: int | None
    log_path: str | None
    state: str
    started_at: datetime | None
    restarts: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "index": self.index,
            "pid": self.pid,
            "pgid": self.pgid,
            "port": self.port,
            "log_path": self.log_path,
            "state": self.state,
            "started_at": _iso(self.started_at),
            "restarts": self.restarts,
        }
