"""Runs and their event history.

A run's `status` is a JSON dict written only by the reconciler; its `state` column mirrors
`status["state"]` so runs can be filtered by state. `update_status` writes the status and the
event that explains it in one transaction. Imports `store.*` and `errors` from the project.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from modelserve.errors import InvalidRequest, NotFound
from modelserve.store.catalog import project_row
from modelserve.store.records import EventRecord, EventRecordInput, FunctionRecord, RunRecord
from modelserve.store.sessions import StoreSessions
from modelserve.store.tables import EventRow, FunctionRow, ReplicaRow, RunRow, utcnow

INITIAL_STATE = "CREATED"


def run_row(session: Session, run_id: str, *, lock: bool = False) -> RunRow:
    """The run's row (locked FOR UPDATE on PostgreSQL when `lock`); NotFound if absent."""
    query = select(RunRow).where(RunRow.id == run_id)
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise NotFound(f"run {run_id} not found", param="run_id", code="run_not_found")
    return row


def _with_state(status: dict[str, Any], fallback: str) -> tuple[dict[str, Any], str]:
    state = status.get("state") or fallback
    if not isinstance(state, str):
        raise InvalidRequest("status.state must be a string", param="status.state", code="invalid_value")
    return {**status, "state": state}, state


class RunStore(StoreSessions):
    # -- runs -------------------------------------------------------------------------------

    def create_run(
        self,
        project: str,
        function: FunctionRecord,
        spec: dict[str, Any],
        status: dict[str, Any],
        desired: str = "serve",
    ) -> RunRecord:
        """Create a `serve` run of one function version with a fresh uuid4 hex id.

        `state` is taken from `status["state"]` (CREATED when absent). Raises NotFound for an
        unknown project or function version, InvalidRequest if the function is another project's.
        """
        if function.project != project:
            raise InvalidRequest(
                f"function {function.name!r} belongs to project {function.project!r}, not {project!r}",
                param="function",
                code="invalid_value",
            )
        status, state = _with_state(status, INITIAL_STATE)
        now = utcnow()
        with self._write() as s:
            project_row(s, project)
            if s.get(FunctionRow, function.id) is None:
                raise NotFound(
                    f"function {function.name!r} version {function.version} not found in project {project!r}",
                    param="function",
                    code="function_not_found",
                )
            row = RunRow(
                id=uuid.uuid4().hex,
                project=project,
                function_id=function.id,
                function=function.name,
                function_version=function.version,
                kind=function.kind,
                action="serve",
                spec=dict(spec),
                desired=desired,
                state=state,
                status=status,
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            s.flush()
            return row.to_record()

    def get_run(self, run_id: str) -> RunRecord:
        """The run; NotFound if there is none."""
        with self._read() as s:
            return run_row(s, run_id).to_record()

    def list_runs(self, project: str | None = None, states: Iterable[str] | None = None) -> list[RunRecord]:
        """Runs, oldest first, optionally only those of `project` and/or in one of `states`."""
        query = select(RunRow).order_by(RunRow.created_at, RunRow.id)
        if project is not None:
            query = query.where(RunRow.project == project)
        if states is not None:
            query = query.where(RunRow.state.in_(list(states)))
        with self._read() as s:
            return [r.to_record() for r in s.scalars(query)]

    def set_desired(self, run_id: str, desired: str) -> RunRecord:
        """Record what the user wants of the run (serve, stop, resume, delete); NotFound if absent."""
        with self._write() as s:
            row = run_row(s, run_id, lock=True)
            row.desired = desired
            row.updated_at = utcnow()
            s.flush()
            return row.to_record()

    def update_status(
        self, run_id: str, status: dict[str, Any], *, event: EventRecordInput | None = None
    ) -> RunRecord:
        """Replace the run's status (and state column) and, if given, append `event`, atomically.

        Either both are written or neither is. `status["state"]` defaults to the current state.
        Raises NotFound if the run does not exist.
        """
        now = utcnow()
        with self._write() as s:
            row = run_row(s, run_id, lock=True)
            row.status, row.state = _with_state(status, row.state)
            row.updated_at = now
            # Write the status first so the event insert below runs after it, inside the same
            # transaction: a failure there rolls the status back too.
            s.flush()
            if event is not None:
                s.add(_event_row(run_id, now, event.state, event.event, event.reason, event.message))
                s.flush()
            return row.to_record()

    def update_spec(
        self,
        run_id: str,
        spec: dict[str, Any],
        status: dict[str, Any],
        *,
        event: EventRecordInput | None = None,
    ) -> RunRecord:
        """Replace the run's merged spec and its status (and, if given, append `event`) atomically:
        a change of what a run serves (e.g. an adapter added while it runs) and its trace.
        Raises NotFound if the run does not exist."""
        now = utcnow()
        with self._write() as s:
            row = run_row(s, run_id, lock=True)
            row.spec = dict(spec)
            row.status, row.state = _with_state(status, row.state)
            row.updated_at = now
            s.flush()
            if event is not None:
                s.add(_event_row(run_id, now, event.state, event.event, event.reason, event.message))
                s.flush()
            return row.to_record()

    def purge_run(self, run_id: str) -> None:
        """Remove a run with its events and replicas for good (tests and maintenance only;
        the product keeps DELETED runs as history). NotFound if absent."""
        with self._write() as s:
            run_row(s, run_id)
            s.execute(delete(EventRow).where(EventRow.run_id == run_id))
            s.execute(delete(ReplicaRow).where(ReplicaRow.run_id == run_id))
            s.execute(delete(RunRow).where(RunRow.id == run_id))

    # -- events -----------------------------------------------------------------------------

    def add_event(self, run_id: str, state: str, event: str, reason: str, message: str) -> EventRecord:
        """Append an event to the run's history; NotFound if the run does not exist."""
        with self._write() as s:
            run_row(s, run_id)
            row = _event_row(run_id, utcnow(), state, event, reason, message)
            s.add(row)
            s.flush()
            return row.to_record()

    def list_events(self, run_id: str, limit: int = 500) -> list[EventRecord]:
        """The run's latest `limit` events, oldest first (by time, then id); NotFound for an unknown run."""
        with self._read() as s:
            run_row(s, run_id)
            rows = s.scalars(
                select(EventRow)
                .where(EventRow.run_id == run_id)
                .order_by(EventRow.ts.desc(), EventRow.id.desc())
                .limit(max(0, limit))
            ).all()
            return [r.to_record() for r in reversed(rows)]


def _event_row(run_id: str, ts: Any, state: str, event: str, reason: str, message: str) -> EventRow:
    return EventRow(run_id=run_id, ts=ts, state=state, event=event, reason=reason, message=message)
