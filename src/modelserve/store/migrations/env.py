"""Alembic environment for the store; run by `modelserve.store.migrate` with a live connection."""

from __future__ import annotations

from alembic import context

from modelserve.store.migrate import VERSION_TABLE
from modelserve.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through modelserve.store.migrate (it passes a connection)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    compare_type=True,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
