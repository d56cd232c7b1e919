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


@dataclass(frozen=True)
class ApiKeyRecord:
    """An API key as stored: never the key itself, only `hint` (prefix and last four characters).

    `models` empty means every model; `requests_per_minute` / `tokens_per_minute` None means
    unlimited. A revoked key keeps its record (and usage) with `revoked_at` set.
    """

    id: str
    name: str
    project: str | None
    models: tuple[str, ...]
    requests_per_minute: int | None
    tokens_per_minute: int | None
    hint: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "project": self.project,
            "models": list(self.models),
            "rpm": self.requests_per_minute,
            "tpm": self.tokens_per_minute,
            "hint": self.hint,
            "active": self.active,
            "created_at": _iso(self.created_at),
            "revoked_at": _iso(self.revoked_at),
            "last_used_at": _iso(self.last_used_at),
        }


@dataclass(frozen=True)
class UsageInput:
    """One request's token usage to record for a key (`SqlStore.add_usage_batch`)."""

    key_id: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    run_id: str | None = None
    ts: datetime | None = None  # None: the time of the write


@dataclass(frozen=True)
class ModelUsage:
    """Usage of one key on one model: request count and token sums."""

    key_id: str
    model: str
    requests: int
    prompt_tokens: int
    completion_tokens: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "model": self.model,
            "requests": self.requests,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }


@dataclass(frozen=True)
class UsageSummary:
    """Usage of one key (or of every key when `key_id` is None), per key and model."""

    key_id: str | None
    since: datetime | None
    rows: tuple[ModelUsage, ...]

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.rows)

    @property
    def prompt_tokens(self) -> int:
        return sum(r.prompt_tokens for r in self.rows)

    @property
    def completion_tokens(self) -> int:
        return sum(r.completion_tokens for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "since": _iso(self.since),
            "requests": self.requests,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "models": [r.to_dict() for r in self.rows],
        }
