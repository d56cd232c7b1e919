"""Initial schema: projects, functions, runs, events, replicas, kv.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("name", sa.String(63), primary_key=True),
        _ts("created_at"),
    )
    op.create_table(
        "functions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "project", sa.String(63), sa.ForeignKey("projects.name", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("spec", JSON, nullable=False),
        _ts("created_at"),
        sa.UniqueConstraint("project", "name", "version", name="uq_functions_version"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "project", sa.String(63), sa.ForeignKey("projects.name", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "function_id", sa.String(32), sa.ForeignKey("functions.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("function", sa.String(255), nullable=False),
        sa.Column("function_version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("desired", sa.String(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("status", JSON, nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.create_index("ix_runs_project", "runs", ["project"])
    op.create_index("ix_runs_state", "runs", ["state"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        _ts("ts"),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("event", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_events_run_ts", "events", ["run_id", "ts", "id"])
    op.create_table(
        "replicas",
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("index", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("pgid", sa.Integer, nullable=True),
        sa.Column("port", sa.Integer, nullable=True),
        sa.Column("log_path", sa.Text, nullable=True),
        sa.Column("state", sa.String(32), nullable=False),
        _ts("started_at", nullable=True),
        sa.Column("restarts", sa.Integer, nullable=False),
    )
    op.create_table(
        "kv",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", JSON, nullable=False),
        _ts("updated_at"),
    )


def downgrade() -> None:
    for table in ("kv", "replicas", "events", "runs", "functions", "projects"):
        op.drop_table(table)
