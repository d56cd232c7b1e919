"""Engine ownership and short per-call sessions shared by the SqlStore parts.

Each public store call opens one session and one transaction and closes both before
returning, so a store is safe to use from many threads (the Engine pools connections).
Imports `store.engine`, `store.migrate` and `errors` from the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from modelserve.errors import InvalidRequest
from modelserve.store.engine import make_engine, normalize_url, write_engine
from modelserve.store.migrate import run_migrations

PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def check_project_name(name: str) -> None:
    """Raise InvalidRequest (param "name") unless `name` is a valid project name."""
    if not isinstance(name, str) or not PROJECT_NAME.match(name):
        raise InvalidRequest(
            f"invalid project name {name!r}: use 1-63 characters of a-z, 0-9 and '-', "
            "starting with a letter or digit",
            param="name",
            code="invalid_value",
        )


class StoreSessions:
    """Owns the Engine; hands out read and write transactions."""

    def __init__(self, url: str) -> None:
        self._engine = make_engine(url)
        self._writer = write_engine(self._engine)
        self.backend = self._engine.dialect.name

    def __repr__(self) -> str:
        safe = normalize_url(str(self._engine.url)).render_as_string(hide_password=True)
        return f"{type(self).__name__}({safe!r})"

    @property
    def engine(self) -> Engine:
        return self._engine

    def migrate(self) -> None:
        """Apply the packaged Alembic migrations up to head; safe to call on every start."""
        run_migrations(self._engine)

    def close(self) -> None:
        """Close pooled connections; the store reconnects if used again."""
        self._engine.dispose()

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self._engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A transaction that commits on normal exit and rolls back on any exception."""
        with Session(self._writer, expire_on_commit=False) as session, session.begin():
            yield session
