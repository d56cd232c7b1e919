"""SQLAlchemy models of the store's tables and their conversion to records.

The schema itself is owned by the Alembic migrations in `migrations/versions/`; these models
must match them (tests/store checks a migrated database against this metadata).
Imports only `records` from the project.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from modelserve.store.records import (
    ApiKeyRecord,
    EventRecord,
    FunctionRecord,
    ProjectRecord,
    ReplicaRecord,
    RunRecord,
)

# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JsonDict = JSON().with_variant(JSONB(), "postgresql")
JsonList = JsonDict  # the same column type, holding a JSON array


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite keeps no offset, so values are normalised to UTC before they are written and read
    back as UTC; PostgreSQL returns them in the session time zone, converted back here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass a timezone-aware one")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class ProjectRow(Base):
    __tablename__ = "projects"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)

    def to_record(self) -> ProjectRecord:
        return ProjectRecord(name=self.name, created_at=self.created_at)


class FunctionRow(Base):
    __tablename__ = "functions"
    __table_args__ = (UniqueConstraint("project", "name", "version", name="uq_functions_version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project: Mapped[str] = mapped_column(
        String(63), ForeignKey("projects.name", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    spec: Mapped[dict[str, Any]] = mapped_column(JsonDict, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)

    def to_record(self) -> FunctionRecord:
        return FunctionRecord(
            id=self.id,
            project=self.project,
            name=self.name,
            kind=self.kind,
            version=self.version,
            spec=self.spec,
            created_at=self.created_at,
        )


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_project", "project"),
        Index("ix_runs_state", "state"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project: Mapped[str] = mapped_column(
        String(63), ForeignKey("projects.name", ondelete="CASCADE"), nullable=False
    )
    function_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("functions.id", ondelete="CASCADE"), nullable=False
    )
    function: Mapped[str] = mapped_column(String(255), nullable=False)
    function_version: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    spec: Mapped[dict[str, Any]] = mapped_column(JsonDict, nullable=False)
    desired: Mapped[str] = mapped_column(String(32), nullable=False)
    state: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[dict[str, Any]] = mapped_column(JsonDict, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)

    def to_record(self) -> RunRecord:
        return RunRecord(
            id=self.id,
            project=self.project,
            function=self.function,
            function_version=self.function_version,
            kind=self.kind,
            action=self.action,
            spec=self.spec,
            desired=self.desired,
            state=self.state,
            status=self.status,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_run_ts", "run_id", "ts", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(32), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False)
    ts: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    state: Mapped[str] = mapped_column(String(32), nullable=False)
    event: Mapped[str] = mapped_column(String(255), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)

    def to_record(self) -> EventRecord:
        return EventRecord(
            id=self.id,
            run_id=self.run_id,
            ts=self.ts,
            state=self.state,
            event=self.event,
            reason=self.reason,
            message=self.message,
        )


class ReplicaRow(Base):
    __tablename__ = "replicas"

    run_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pgid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    port: Mapped[int | None] = mapped_column(Integer, nullable=True)
    log_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[str] = mapped_column(String(32), nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    restarts: Mapped[int] = mapped_column(Integer, nullable=False)

    def to_record(self) -> ReplicaRecord:
        return ReplicaRecord(
            run_id=self.run_id,
            index=self.index,
            pid=self.pid,
            pgid=self.pgid,
            port=self.port,
            log_path=self.log_path,
            state=self.state,
            started_at=self.started_at,
            restarts=self.restarts,
        )


class KvRow(Base):
    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JsonDict, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class ApiKeyRow(Base):
    """An API key: the salted hash and an index digest, never the key (see auth.hashing)."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_lookup", "lookup"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    project: Mapped[str | None] = mapped_column(String(63), nullable=True)
    models: Mapped[list[str]] = mapped_column(JsonList, nullable=False)
    requests_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tokens_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lookup: Mapped[str] = mapped_column(String(64), nullable=False)
    salt: Mapped[str] = mapped_column(String(64), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hint: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    def to_record(self) -> ApiKeyRecord:
        return ApiKeyRecord(
            id=self.id,
            name=self.name,
            project=self.project,
            models=tuple(self.models),
            requests_per_minute=self.requests_per_minute,
            tokens_per_minute=self.tokens_per_minute,
            hint=self.hint,
            created_at=self.created_at,
            revoked_at=self.revoked_at,
            last_used_at=self.last_used_at,
        )


class ApiKeyUsageRow(Base):
    """One request's token usage under a key (`run_id` kept as a label: runs get deleted)."""

    __tablename__ = "api_key_usage"
    __table_args__ = (Index("ix_api_key_usage_key_ts", "key_id", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False
    )
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    model: Mapped[str] = mapped_column(String(255), nullable=False)
    prompt_tokens: Mapped[int] = mapped_column(Integer, nullable=False)
    completion_tokens: Mapped[int] = mapped_column(Integer, nullable=False)
    ts: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
