"""Projects and their versioned, immutable functions.

Imports `store.sessions`, `store.tables`, `store.records` and `errors` from the project.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelserve.errors import Conflict, InvalidRequest, NotFound
from modelserve.store.records import FunctionRecord, ProjectRecord
from modelserve.store.sessions import StoreSessions, check_project_name
from modelserve.store.tables import FunctionRow, ProjectRow, RunRow, utcnow

DELETED = "DELETED"
# create_function locks the project row so concurrent calls pick versions one after another;
# should two still collide, the unique constraint rejects one and it retries.
_VERSION_RETRIES = 8


def project_row(session: Session, name: str, *, lock: bool = False) -> ProjectRow:
    """The project's row (locked FOR UPDATE on PostgreSQL when `lock`); NotFound if absent."""
    row = session.get(ProjectRow, name, with_for_update=lock or None)
    if row is None:
        raise NotFound(f"project {name!r} not found", param="project", code="project_not_found")
    return row


class CatalogStore(StoreSessions):
    # -- projects ---------------------------------------------------------------------------

    def create_project(self, name: str) -> ProjectRecord:
        """Create a project. Raises InvalidRequest for a bad name, Conflict if it exists."""
        check_project_name(name)
        try:
            with self._write() as s:
                if s.get(ProjectRow, name) is not None:
                    raise _project_exists(name)
                row = ProjectRow(name=name, created_at=utcnow())
                s.add(row)
                s.flush()
                return row.to_record()
        except IntegrityError as exc:  # created by someone else between our check and insert
            raise _project_exists(name) from exc

    def get_project(self, name: str) -> ProjectRecord:
        """The project; NotFound if there is none."""
        with self._read() as s:
            return project_row(s, name).to_record()

    def get_or_create_project(self, name: str) -> ProjectRecord:
        try:
            return self.create_project(name)
        except Conflict:
            return self.get_project(name)

    def list_projects(self) -> list[ProjectRecord]:
        with self._read() as s:
            rows = s.scalars(select(ProjectRow).order_by(ProjectRow.name))
            return [r.to_record() for r in rows]

    def delete_project(self, name: str) -> ProjectRecord:
        """Delete a project with its functions and finished runs; returns what was deleted.

        Raises NotFound, or Conflict while any of its runs is not DELETED.
        """
        with self._write() as s:
            row = project_row(s, name)
            live = s.scalar(select(func.count()).where(RunRow.project == name, RunRow.state != DELETED))
            if live:
                raise Conflict(
                    f"project {name!r} has {live} run(s) not deleted; delete them first",
                    param="name",
                    code="project_in_use",
                )
            record = row.to_record()
            # Explicit deletes in dependency order (the schema cascades too).
            s.execute(delete(RunRow).where(RunRow.project == name))
            s.execute(delete(FunctionRow).where(FunctionRow.project == name))
            s.delete(row)
            return record

    # -- functions --------------------------------------------------------------------------

    def create_function(self, project: str, name: str, kind: str, spec: dict[str, Any]) -> FunctionRecord:
        """Store a new version (previous maximum + 1, starting at 1) of function `name`.

        Raises NotFound for an unknown project, InvalidRequest for an empty name or kind.
        """
        _check_label(name, "name")
        _check_label(kind, "kind")
        for attempt in range(_VERSION_RETRIES):
            try:
                return self._insert_function(project, name, kind, spec)
            except IntegrityError:
                if attempt == _VERSION_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _insert_function(self, project: str, name: str, kind: str, spec: dict[str, Any]) -> FunctionRecord:
        with self._write() as s:
            project_row(s, project, lock=True)
            latest = s.scalar(
                select(func.max(FunctionRow.version)).where(
                    FunctionRow.project == project, FunctionRow.name == name
                )
            )
            row = FunctionRow(
                id=uuid.uuid4().hex,
                project=project,
                name=name,
                kind=kind,
                version=(latest or 0) + 1,
                spec=dict(spec),
                created_at=utcnow(),
            )
            s.add(row)
            s.flush()
            return row.to_record()

    def get_function(self, project: str, name: str, version: int | None = None) -> FunctionRecord:
        """The given version of a function, or its latest when `version` is None; NotFound otherwise."""
        with self._read() as s:
            query = select(FunctionRow).where(FunctionRow.project == project, FunctionRow.name == name)
            if version is None:
                query = query.order_by(FunctionRow.version.desc()).limit(1)
            else:
                query = query.where(FunctionRow.version == version)
            row = s.scalars(query).first()
            if row is None:
                project_row(s, project)
                what = f"function {name!r}" + (f" version {version}" if version is not None else "")
                raise NotFound(
                    f"{what} not found in project {project!r}", param="function", code="function_not_found"
                )
            return row.to_record()

    def list_functions(self, project: str) -> list[FunctionRecord]:
        """The latest version of each function in `project`, by name; NotFound for an unknown project."""
        with self._read() as s:
            project_row(s, project)
            latest = (
                select(FunctionRow.name, func.max(FunctionRow.version).label("version"))
                .where(FunctionRow.project == project)
                .group_by(FunctionRow.name)
                .subquery()
            )
            rows = s.scalars(
                select(FunctionRow)
                .join(
                    latest,
                    (FunctionRow.name == latest.c.name) & (FunctionRow.version == latest.c.version),
                )
                .where(FunctionRow.project == project)
                .order_by(FunctionRow.name)
            )
            return [r.to_record() for r in rows]


def _project_exists(name: str) -> Conflict:
    return Conflict(f"project {name!r} already exists", param="name", code="project_exists")


def _check_label(value: str, param: str) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise InvalidRequest(
            f"function {param} must be a non-empty string of at most 255 characters",
            param=param,
            code="invalid_value",
        )
