"""`Project`: a namespace of functions and runs; creates functions and finds runs.

Imports only the SDK session, `Function` and `Run`.
"""

from __future__ import annotations

from typing import Any

from modelserve import errors
from modelserve.sdk.function import Function
from modelserve.sdk.run import Run
from modelserve.sdk.session import ApiSession


class Project:
    """A project on the server (`name`, `created_at`)."""

    def __init__(self, session: ApiSession, data: dict[str, Any]) -> None:
        self._session = session
        self._data = dict(data)
        self.name: str = data["name"]
        self.created_at: str | None = data.get("created_at")

    def __repr__(self) -> str:
        return f"Project(name={self.name!r})"

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def new_function(self, name: str, *, kind: str, **spec: Any) -> Function:
        """Create a function (or a new version if `name` exists) of `kind` with spec fields `spec`.

        Raises `modelserve.errors.InvalidRequest` whose `param` names the bad field (`spec.url`).
        """
        body = {"name": name, "kind": kind, "spec": spec}
        return Function(self._session, self._session.post_json(f"/projects/{self.name}/functions", body))

    def get_function(self, name: str, version: int | None = None) -> Function:
        """The latest version of function `name` (or `version`); NotFound if there is none."""
        data = self._session.get_json(f"/projects/{self.name}/functions/{name}", version=version)
        return Function(self._session, data)

    def list_functions(self) -> list[Function]:
        """The latest version of each function in the project."""
        items = self._session.get_json(f"/projects/{self.name}/functions")
        return [Function(self._session, item) for item in items]

    def list_runs(self) -> list[Run]:
        items = self._session.get_json(f"/projects/{self.name}/runs")
        return [Run(self._session, item) for item in items]

    def get_run(self, run_id: str) -> Run:
        """The run with id `run_id`; NotFound if it does not exist in this project."""
        run = Run(self._session, self._session.get_json(f"/runs/{run_id}"))
        if run.project and run.project != self.name:
            raise errors.NotFound(f"run {run_id} does not belong to project {self.name}", param="run_id")
        return run

    def delete_run(self, run_id: str) -> Run:
        """Ask the server to delete run `run_id`; returns the run as the server reports it."""
        return self.get_run(run_id).delete()
