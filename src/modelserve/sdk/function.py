"""`Function`: a versioned function (kind + spec) and its `run(action="serve", ...)` call.

Imports only the SDK session and `Run`.
"""

from __future__ import annotations

from typing import Any

from modelserve.sdk.run import Run
from modelserve.sdk.session import ApiSession


class Function:
    """One version of a function: `name`, `kind`, `version`, `spec` (dict) in a `project`."""

    def __init__(self, session: ApiSession, data: dict[str, Any]) -> None:
        self._session = session
        self._data = dict(data)
        self.id: str | None = data.get("id")
        self.project: str = data["project"]
        self.name: str = data["name"]
        self.kind: str = data["kind"]
        self.version: int | None = data.get("version")
        self.spec: dict[str, Any] = dict(data.get("spec") or {})
        self.created_at: str | None = data.get("created_at")

    def __repr__(self) -> str:
        return f"Function(project={self.project!r}, name={self.name!r}, kind={self.kind!r}, version={self.version})"

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def run(
        self,
        action: str = "serve",
        *,
        wait: bool = False,
        timeout: float | None = 600.0,
        log_info: bool = False,
        **spec: Any,
    ) -> Run:
        """Start `action` (only "serve") on this function version with task/run fields `spec`.

        Returns the new Run; with `wait=True` it first waits (see `Run.wait`) until the run is
        RUNNING or ERROR. Raises `modelserve.errors.InvalidRequest` naming a bad field.
        """
        body = {
            "function": self.name,
            "function_version": self.version,
            "action": action,
            "spec": spec,
        }
        run = Run(self._session, self._session.post_json(f"/projects/{self.project}/runs", body))
        if wait:
            run.wait(timeout, log_info=log_info)
        return run
