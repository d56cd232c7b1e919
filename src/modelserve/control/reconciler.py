"""The reconciler: the only writer of run status. Desired state (from the API) vs observed state
(from the executor), one step per run per tick, every transition recorded as an event.

Restart-safe: everything it needs is in the store; in-memory state is only a cache.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any, Awaitable, Callable, TypeVar

from modelserve.control import states as S
from modelserve.control.autoscaler import Autoscaler, ScalingPolicy
from modelserve.control.engine_choice import choose_engine
from modelserve.control.status import adapter_entries, serving_status
from modelserve.errors import ModelServeError
from modelserve.executors.base import Executor
from modelserve.runtimes import DeploymentPlan, runtime_for
from modelserve.settings import Settings
from modelserve.spec import exposed_model_name
from modelserve.store.records import EventRecordInput, RunRecord

log = logging.getLogger("modelserve.control")
T = TypeVar("T")


class Reconciler:
    def __init__(
        self,
        settings: Settings,
        store: Any,
        executor: Executor,
        on_change: Callable[[], Awaitable[None]] | None = None,
        autoscaler: Autoscaler | None = None,
    ) -> None:
        self._settings = settings
        self._autoscaler = autoscaler
        self._on_change = on_change
        self._store = store
        self._executor = executor
        self._wake = asyncio.Event()
        self._busy: dict[str, asyncio.Task[None]] = {}

    def poke(self) -> None:
        """Ask for a tick now (thread-safe only from the event loop's thread)."""
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # a bad tick must not end reconciliation
                log.exception("reconcile tick failed")
            try:
                await asyncio.wait_for(self._wake.wait(), self._settings.reconcile_interval_s)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    async def tick(self) -> None:
        runs = await asyncio.to_thread(self._store.list_runs, None, (*S.ACTIVE, S.STOPPED, S.ERROR))
        for run in runs:
            if run.id in self._busy and not self._busy[run.id].done():
                continue
            if run.state in (S.STOPPED, S.ERROR) and run.desired not in ("resume", "delete"):
                if run.state == S.ERROR and self._executor.observe(run.id) is not None:
                    self._busy[run.id] = asyncio.create_task(self._executor.stop(run.id))
                continue
            self._busy[run.id] = asyncio.create_task(self._step_safely(run))
        for run_id in [k for k, t in self._busy.items() if t.done()]:
            del self._busy[run_id]

    async def exclusive(self, run_id: str, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work` for one run with no reconcile step of that run in progress or starting.

        For changes made on a user's request (an adapter added while the run serves): they write
        status too, and must not interleave with a step writing it from an older read. The work
        completes even if the caller goes away (it is shielded).
        """
        while (busy := self._busy.get(run_id)) is not None and not busy.done():
            await asyncio.wait([busy])
        task: asyncio.Task[T] = asyncio.create_task(work())  # type: ignore[arg-type]
        self._busy[run_id] = task  # type: ignore[assignment]
        return await asyncio.shield(task)

    async def notify_change(self) -> None:
        """Let an in-process gateway see a status change before clients do."""
        if self._on_change is not None:
            await self._on_change()

    async def drain(self) -> None:
        await asyncio.gather(*self._busy.values(), return_exceptions=True)

    async def _step_safely(self, run: RunRecord) -> None:
        try:
            await self._step(run)
        except ModelServeError as exc:
            await self._to_error(run, exc.message)
        except Exception as exc:
            log.exception("run %s: step failed", run.id)
            await self._to_error(run, f"internal error: {exc}")

    async def _step(self, run: RunRecord) -> None:
        if run.desired == "delete":
            await self._delete(run)
        elif run.desired == "stop" and run.state in (S.CREATED, S.READY, S.PENDING, S.RUNNING, S.RESUME, S.STOP):
            await self._stop(run)
        elif run.desired == "resume" and run.state in (S.STOPPED, S.ERROR):
            await self._set(run, S.RESUME, "RESUME", "Resuming", "resume requested")
        elif run.state == S.CREATED:
            plan = self._plan(run)
            await self._set(run, S.READY, "RUN", "Planned", f"plan built: engine {plan.engine}, {plan.replicas} replica(s)")
        elif run.state in (S.READY, S.RESUME, S.PENDING, S.RUNNING):
            await self._serve(run)

    def _plan(self, run: RunRecord) -> DeploymentPlan:
        exposed = exposed_model_name(run.spec.get("model_name"), run.id)
        plan = runtime_for(run.kind).plan(run, exposed)
        if self._settings.otlp_endpoint:
            plan = dataclasses.replace(plan, options={**plan.options, "otlp_endpoint": self._settings.otlp_endpoint})
        return plan

    async def _desired_replicas(self, run_id: str, plan: DeploymentPlan) -> int:
        if self._autoscaler is None:
            return plan.replicas
        policy = ScalingPolicy.from_scaling(plan.scaling)
        return await asyncio.to_thread(self._autoscaler.desired, run_id, policy)

    async def _forget_scale(self, run_id: str) -> None:
        if self._autoscaler is not None:
            await asyncio.to_thread(self._autoscaler.forget, run_id)

    async def _serve(self, run: RunRecord) -> None:
        plan = self._plan(run)
        plan = dataclasses.replace(plan, replicas=await self._desired_replicas(run.id, plan))
        choice = choose_engine(plan, self._settings)
        if run.state == S.READY:
            if choice.fallback:
                await self._event(run, "SCHEDULE", "EngineFallback", choice.note)
            extra = serving_status(plan, self._settings.base_url, choice.engine.display, choice.as_status())
            extra["replicas"] = {"desired": plan.replicas, "ready": 0}
            run = await self._set(
                run, S.PENDING, "SCHEDULE", "Scheduled",
                f"starting {plan.replicas} replica(s) with {choice.engine.display}", extra,
            )
        await self._executor.ensure(plan, choice.engine)
        observed = self._executor.observe(run.id)
        if observed is None:
            return
        if observed.failure:
            await self._executor.stop(run.id)
            await self._to_error(run, observed.failure)
            return
        if observed.desired != plan.replicas:
            await self._executor.scale(run.id, plan.replicas)
        replicas = {"desired": plan.replicas, "ready": observed.ready}
        # A run scaled to zero is RUNNING: the gateway holds its first request and wakes it.
        serving = observed.ready > 0 or (plan.replicas == 0 and observed.phase == "running")
        if run.state in (S.PENDING, S.RESUME) and serving:
            extra = serving_status(plan, self._settings.base_url, choice.engine.display, choice.as_status())
            extra["replicas"] = replicas
            await self._set(run, S.RUNNING, "EXECUTE", "Ready", f"Model {plan.exposed_name} ready", extra)
        else:
            # A status written from an older read (racing an adapter change) heals on the next tick.
            listed = (run.status.get("openai") or {}).get("adapters")
            stale = listed is not None and listed != adapter_entries(plan.exposed_name, (a.name for a in plan.adapters))
            if run.status.get("replicas") == replicas and not stale:
                return
            status = {**run.status, "replicas": replicas}
            if "service" not in status or stale:
                status.update(serving_status(plan, self._settings.base_url, choice.engine.display, choice.as_status()))
            await asyncio.to_thread(self._store.update_status, run.id, status)
            if stale:
                await self.notify_change()

    async def _stop(self, run: RunRecord) -> None:
        if run.state != S.STOP:
            run = await self._set(run, S.STOP, "STOP", "Stopping", "stopping replicas")
        await self._executor.stop(run.id)
        await self._forget_scale(run.id)
        await self._set(run, S.STOPPED, "STOP", "Stopped", "all replicas stopped", {"replicas": {"desired": 0, "ready": 0}})

    async def _delete(self, run: RunRecord) -> None:
        if run.state != S.DELETING:
            run = await self._set(run, S.DELETING, "DELETE", "Deleting", "deleting run")
        await self._executor.stop(run.id)
        await self._forget_scale(run.id)
        await self._set(run, S.DELETED, "DELETE", "Deleted", "run deleted", {"replicas": {"desired": 0, "ready": 0}})

    async def _to_error(self, run: RunRecord, message: str) -> None:
        fresh = await asyncio.to_thread(self._store.get_run, run.id)
        if fresh.state in (S.DELETED, S.ERROR) and fresh.desired != "resume":
            return
        await self._executor.stop(run.id)
        await self._forget_scale(run.id)
        await self._set(fresh, S.ERROR, "ERROR", "Failed", message, {"replicas": {"desired": 0, "ready": 0}})
        if fresh.desired == "resume":
            await asyncio.to_thread(self._store.set_desired, run.id, "serve")

    async def _set(
        self, run: RunRecord, state: str, event: str, reason: str, message: str, extra: dict[str, Any] | None = None
    ) -> RunRecord:
        status = {**run.status, **(extra or {}), "state": state, "message": message}
        rec = EventRecordInput(state=state, event=event, reason=reason, message=message)
        updated: RunRecord = await asyncio.to_thread(self._store.update_status, run.id, status, event=rec)
        if state == S.RUNNING and run.desired == "resume":
            updated = await asyncio.to_thread(self._store.set_desired, run.id, "serve")
        log.info("run %s: %s -> %s (%s)", run.id, run.state, state, message)
        if self._on_change is not None:  # let an in-process gateway see the change before clients do
            await self._on_change()
        return updated

    async def _event(self, run: RunRecord, event: str, reason: str, message: str) -> None:
        await asyncio.to_thread(self._store.add_event, run.id, run.state, event, reason, message)

    async def executor_event(self, run_id: str, event: str, reason: str, message: str) -> None:
        """Executor callback: record replica events against the run's current state."""
        run = await asyncio.to_thread(self._store.get_run, run_id)
        await asyncio.to_thread(self._store.add_event, run_id, run.state, event, reason, message)
