"""`Client`: the SDK entry object (projects, functions, runs on one server) and the default client.

The module-level functions (`get_or_create_project`, ...) use a lazily built default `Client`.
Imports only the SDK modules and `modelserve.errors`.
"""

from __future__ import annotations

from typing import Any

from modelserve import errors
from modelserve.sdk.function import Function
from modelserve.sdk.project import Project
from modelserve.sdk.run import Run
from modelserve.sdk.session import ApiSession

MIN_PREFIX = 6


class Client(ApiSession):
    """A modelserve server. `Client(base_url=None, timeout=30.0, poll_interval=1.0)`.

    `base_url` defaults to `MODELSERVE_URL`, else http://127.0.0.1:8000. Every call raises the
    `modelserve.errors` class matching the server's answer, or `ServerUnreachable`.
    """

    def list_projects(self) -> list[Project]:
        return [Project(self, item) for item in self.get_json("/projects")]

    def get_project(self, name: str) -> Project:
        """Project `name`; NotFound if it does not exist."""
        return Project(self, self.get_json(f"/projects/{name}"))

    def new_project(self, name: str) -> Project:
        """Create project `name`; Conflict if it already exists."""
        return Project(self, self.post_json("/projects", {"name": name}))

    def get_or_create_project(self, name: str) -> Project:
        """Project `name`, created if missing."""
        return Project(self, self.post_json("/projects", {"name": name}, get_or_create="true"))

    def delete_project(self, name: str) -> Project:
        return Project(self, self.delete_json(f"/projects/{name}"))

    def new_function(self, project: str, name: str, *, kind: str, **spec: Any) -> Function:
        return self.get_or_create_project(project).new_function(name, kind=kind, **spec)

    def get_function(self, project: str, name: str, version: int | None = None) -> Function:
        return Project(self, {"name": project}).get_function(name, version)

    def list_runs(self, project: str | None = None) -> list[Run]:
        """All runs, or those of `project`."""
        return [Run(self, item) for item in self.get_json("/runs", project=project)]

    def get_run(self, run_id: str) -> Run:
        return Run(self, self.get_json(f"/runs/{run_id}"))

    def delete_run(self, run_id: str) -> Run:
        return self.get_run(run_id).delete()

    def resolve_run_id(self, ref: str) -> str:
        """The full run id for `ref`: a full id, or a unique prefix of at least 6 characters.

        Raises InvalidRequest for a short or ambiguous prefix, NotFound when nothing matches.
        """
        ref = ref.strip().lower()
        if len(ref) >= 32:
            return ref
        if len(ref) < MIN_PREFIX:
            raise errors.InvalidRequest(
                f"run id prefix {ref!r} is too short: give at least {MIN_PREFIX} characters", param="run_id"
            )
        matches = [run.id for run in self.list_runs() if run.id.startswith(ref)]
        if not matches:
            raise errors.NotFound(f"no run id starts with {ref}", param="run_id")
        if len(matches) > 1:
            raise errors.InvalidRequest(
                f"{ref} matches {len(matches)} runs ({', '.join(m[:12] for m in matches)}); give more characters",
                param="run_id",
            )
        return matches[0]


_default: Client | None = None


def default_client() -> Client:
    """The client the module-level functions use, built on first use from `MODELSERVE_URL`."""
    global _default
    if _default is None:
        _default = Client()
    return _default


def set_default_client(client: Client | None) -> None:
    """Make `client` the default (None: build a fresh one from the environment on next use)."""
    global _default
    _default = client


def _client(client: Client | None) -> Client:
    return client if client is not None else default_client()


def list_projects(*, client: Client | None = None) -> list[Project]:
    return _client(client).list_projects()


def get_project(name: str, *, client: Client | None = None) -> Project:
    return _client(client).get_project(name)


def new_project(name: str, *, client: Client | None = None) -> Project:
    return _client(client).new_project(name)


def get_or_create_project(name: str, *, client: Client | None = None) -> Project:
    return _client(client).get_or_create_project(name)


def delete_project(name: str, *, client: Client | None = None) -> Project:
    return _client(client).delete_project(name)


def new_function(
    project: str, name: str, *, kind: str, client: Client | None = None, **spec: Any
) -> Function:
    return _client(client).new_function(project, name, kind=kind, **spec)


def get_function(
    project: str, name: str, version: int | None = None, *, client: Client | None = None
) -> Function:
    return _client(client).get_function(project, name, version)


def list_runs(project: str | None = None, *, client: Client | None = None) -> list[Run]:
    return _client(client).list_runs(project)


def get_run(run_id: str, *, client: Client | None = None) -> Run:
    return _client(client).get_run(run_id)


def delete_run(run_id: str, *, client: Client | None = None) -> Run:
    return _client(client).delete_run(run_id)
