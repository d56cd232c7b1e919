"""RunService: validate then persist functions and runs, and record the actions users ask for.

Validation happens before any write, so bad input leaves nothing behind.
"""

from __future__ import annotations

from typing import Any, Callable

from modelserve.api.bodies import FunctionBody, RunBody
from modelserve.control.states import check_action
from modelserve.spec import check_url_override, model_url, parse_function, parse_serve
from modelserve.store.records import FunctionRecord, RunRecord


class RunService:
    def __init__(self, store: Any, poke: Callable[[], None]) -> None:
        self._store = store
        self._poke = poke

    def create_function(self, project: str, body: FunctionBody) -> FunctionRecord:
        spec = parse_function(body.kind, body.spec)
        self._store.get_project(project)
        dumped = spec.model_dump(mode="json", exclude_none=True)
        record: FunctionRecord = self._store.create_function(project, body.name, body.kind, dumped)
        return record

    def create_run(self, project: str, body: RunBody) -> RunRecord:
        fn: FunctionRecord = self._store.get_function(project, body.function, body.function_version)
        fn_spec = parse_function(fn.kind, fn.spec)
        serve = parse_serve(fn.kind, body.spec)
        serve_fields = serve.model_dump(mode="json", exclude_none=True)
        url_key = "path" if "path" in fn.spec else "url"
        override = serve_fields.pop(url_key, None)
        merged: dict[str, Any] = {**fn.spec, **serve_fields}
        if override:
            check_url_override(model_url(fn_spec), override)
            merged[url_key] = override
        status = {"state": "CREATED", "message": "run created"}
        run: RunRecord = self._store.create_run(project, fn, merged, status)
        self._store.add_event(run.id, "CREATED", "BUILD", "Created", f"serve run of {fn.name} v{fn.version} created")
        self._poke()
        return run

    def act(self, run_id: str, action: str) -> RunRecord:
        run: RunRecord = self._store.get_run(run_id)
        check_action(action, run.state, run.desired, run_id)
        updated: RunRecord = self._store.set_desired(run_id, action)
        self._poke()
        return updated


