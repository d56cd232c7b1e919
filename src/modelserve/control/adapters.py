"""LoRA adapters added to and removed from a RUNNING run, without restarting its replicas.

Adding checks the request (name, url, the kind's own adapter rules, the engine's runtime LoRA),
fetches the adapter like the spec's adapters, loads it on every ready replica (all or nothing),
then records it in the run's spec (so replicas started later, and a server restart, serve it),
in `status.openai.adapters`, and as an event, and refreshes the gateway so `<model>_<adapter>`
answers when the call returns. Removing records first (the gateway stops routing the name),
then unloads from every replica; requests already accepted finish with it (engine semantics).
Each change runs exclusively against the reconciler's steps for that run.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from modelserve.control import states as S
from modelserve.control.reconciler import Reconciler
from modelserve.control.status import adapter_entries
from modelserve.errors import Conflict, InvalidRequest, ModelServeError, NotFound, from_validation_error
from modelserve.executors.base import Executor
from modelserve.settings import Settings
from modelserve.sources import fetch_model
from modelserve.spec import Adapter, exposed_model_name, function_type, parse_function
from modelserve.store.records import EventRecordInput, RunRecord

log = logging.getLogger("modelserve.control")


def parse_adapter(body: dict[str, Any]) -> Adapter:
    """The adapter a request names; InvalidRequest naming `name` or `url` when it is malformed."""
    try:
        return Adapter.model_validate(body)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


class RunAdapters:
    def __init__(self, settings: Settings, store: Any, executor: Executor, reconciler: Reconciler) -> None:
        self._settings = settings
        self._store = store
        self._executor = executor
        self._reconciler = reconciler

    async def add(self, run_id: str, adapter: Adapter) -> RunRecord:
        """Serve `adapter` on the running run `run_id`; returns the updated run.

        Raises NotFound (unknown run), Conflict (run not RUNNING, or the name is taken),
        InvalidRequest (the kind or engine serves no adapters; the url cannot be fetched; an
        engine refused the adapter, with its words), UpstreamError (a replica did not answer).
        """
        return await self._reconciler.exclusive(run_id, lambda: self._add(run_id, adapter))

    async def remove(self, run_id: str, name: str) -> RunRecord:
        """Stop serving adapter `name` on the running run `run_id`; returns the updated run.

        Raises NotFound (unknown run or adapter), Conflict (run not RUNNING).
        """
        return await self._reconciler.exclusive(run_id, lambda: self._remove(run_id, name))

    # ------------------------------------------------------------------ steps
    async def _add(self, run_id: str, adapter: Adapter) -> RunRecord:
        run = await self._running(run_id, "add an adapter to")
        listed = list(run.spec.get("adapters") or [])
        if any(a.get("name") == adapter.name for a in listed):
            raise Conflict(
                f"run {run_id} already serves an adapter named {adapter.name!r}",
                param="name", code="adapter_exists",
            )  # fmt: skip
        spec = {**run.spec, "adapters": [*listed, adapter.model_dump(mode="json")]}
        _check_kind_accepts(run.kind, spec)
        launch = self._executor.launch_plan(run_id)
        if launch is None:
            raise Conflict(f"run {run_id} has no replicas to change yet; retry shortly", param="state")
        launch.load_adapter(adapter.name, "")  # raises InvalidRequest naming the engine when it cannot
        path = await self._fetch(adapter)
        await self._executor.add_adapter(run_id, adapter.name, path)
        message = f"adapter {adapter.name} added from {adapter.url}, served as {self._model(run)}_{adapter.name}"
        return await self._record(run, spec, "AdapterAdded", message)

    async def _remove(self, run_id: str, name: str) -> RunRecord:
        run = await self._running(run_id, "remove an adapter from")
        listed = list(run.spec.get("adapters") or [])
        if not any(a.get("name") == name for a in listed):
            raise NotFound(f"run {run_id} serves no adapter named {name!r}", param="name", code="adapter_not_found")
        spec = {**run.spec, "adapters": [a for a in listed if a.get("name") != name]}
        updated = await self._record(run, spec, "AdapterRemoved", f"adapter {name} removed")
        failures = await self._executor.remove_adapter(run_id, name)
        for problem in failures:
            await asyncio.to_thread(
                self._store.add_event, run_id, updated.state, "EXECUTE", "AdapterUnloadFailed", problem
            )
        return updated

    # ------------------------------------------------------------------ helpers
    async def _running(self, run_id: str, doing: str) -> RunRecord:
        run: RunRecord = await asyncio.to_thread(self._store.get_run, run_id)
        if run.state != S.RUNNING or run.desired not in ("serve", "resume"):
            raise Conflict(
                f"cannot {doing} run {run_id}: it is {run.state}; adapters change only while a run is RUNNING",
                param="state", code="invalid_state",
            )  # fmt: skip
        return run

    def _model(self, run: RunRecord) -> str:
        exposed = (run.status.get("openai") or {}).get("model")
        return str(exposed or exposed_model_name(run.spec.get("model_name"), run.id))

    async def _fetch(self, adapter: Adapter) -> Path:
        try:
            return await asyncio.to_thread(fetch_model, adapter.url, self._settings.models_dir)
        except ModelServeError as exc:
            raise InvalidRequest(f"adapter url {adapter.url}: {exc.message}", param="url") from None
        except Exception as exc:  # a download error keeps its own words
            raise InvalidRequest(f"adapter url {adapter.url} could not be fetched: {exc}", param="url") from None

    async def _record(self, run: RunRecord, spec: dict[str, Any], reason: str, message: str) -> RunRecord:
        names = [str(a["name"]) for a in spec.get("adapters") or []]
        openai = {**(run.status.get("openai") or {}), "adapters": adapter_entries(self._model(run), names)}
        status = {**run.status, "openai": openai}
        event = EventRecordInput(state=run.state, event="EXECUTE", reason=reason, message=message)
        updated: RunRecord = await asyncio.to_thread(self._store.update_spec, run.id, spec, status, event=event)
        log.info("run %s: %s", run.id, message)
        await self._reconciler.notify_change()  # the gateway routes `<model>_<adapter>` from now on
        return updated


def _check_kind_accepts(kind: str, spec: dict[str, Any]) -> None:
    """Apply the kind's own adapter rules (e.g. kubeai-text serves adapters with engine VLLM only)."""
    fields = function_type(kind).model_fields
    if "adapters" not in fields:
        raise InvalidRequest(f"runs of kind {kind} serve no LoRA adapters", param="name", code="adapters_unsupported")
    parse_function(kind, {k: v for k, v in spec.items() if k in fields})
