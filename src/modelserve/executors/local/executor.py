"""LocalExecutor: one ReplicaSetSupervisor per run, replica rows in the store for re-adoption.

Engine processes outlive the server: closing the executor stops supervising, not serving.
On start, replica rows left by a previous server become adoptable; the next `ensure` for the run
takes over the live, healthy ones and replaces the rest.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx

from modelserve.engines.base import EngineAdapter, LaunchPlan, ModelArtifact
from modelserve.errors import NotReady
from modelserve.executors.base import ReplicaSetStatus
from modelserve.executors.local.adapters import ReplicaAdapters
from modelserve.executors.local.process import group_alive, stop_group
from modelserve.executors.local.replica import Replica
from modelserve.executors.local.supervisor import ReplicaSetSupervisor
from modelserve.runtimes.plan import DeploymentPlan
from modelserve.settings import Settings
from modelserve.sources import fetch_model

EventCallback = Callable[[str, str, str, str], Awaitable[None]]  # run_id, event, reason, message


class LocalExecutor:
    def __init__(self, settings: Settings, store: Any, on_event: EventCallback) -> None:
        self._settings = settings
        self._store = store
        self._on_event = on_event
        self._sets: dict[str, ReplicaSetSupervisor] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._adoptable: dict[str, list[Replica]] = {}
        self._client = httpx.AsyncClient(timeout=5.0)

    async def start(self) -> None:
        rows = await asyncio.to_thread(self._store.list_replicas)
        for row in rows:
            replica = Replica(
                row.run_id, row.index, Path(row.log_path or ""), state="adopting",
                port=row.port, pid=row.pgid or row.pid, restarts=row.restarts,
            )
            self._adoptable.setdefault(row.run_id, []).append(replica)

    async def close(self) -> int:
        """Stop supervising; the processes keep serving and are re-adopted at the next start.

        Returns how many replica processes are left running.
        """
        alive = sum(
            1 for s in self._sets.values() for r in s.replicas.values() if r.pid and group_alive(r.pid)
        )
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
        self._sets.clear()
        await self._client.aclose()
        return alive

    def supervising(self, run_id: str) -> bool:
        return run_id in self._sets

    async def ensure(self, plan: DeploymentPlan, engine: EngineAdapter) -> None:
        """Make sure a supervisor serves `plan` with `engine`; idempotent."""
        if plan.run_id in self._sets:
            return
        run_id = plan.run_id
        supervisor: ReplicaSetSupervisor = ReplicaSetSupervisor(
            run_id=run_id,
            engine=engine.name,
            desired=plan.replicas,
            prepare=lambda: self._prepare(plan, engine, supervisor.adapters),
            settings=self._settings,
            client=self._client,
            emit=lambda event, reason, message: self._on_event(run_id, event, reason, message),
            persist=self._persist,
            forget=lambda index: asyncio.to_thread(self._store.delete_replica, run_id, index),
            adopt=self._adoptable.pop(run_id, None),
        )
        self._sets[run_id] = supervisor
        self._tasks[run_id] = asyncio.create_task(supervisor.run(), name=f"replicas-{run_id}")

    def observe(self, run_id: str) -> ReplicaSetStatus | None:
        supervisor = self._sets.get(run_id)
        return supervisor.status() if supervisor else None

    def launch_plan(self, run_id: str) -> LaunchPlan | None:
        """A launch plan of the run's replicas (None when it is not supervised or still preparing)."""
        supervisor = self._sets.get(run_id)
        return supervisor.launch_plan() if supervisor else None

    async def add_adapter(self, run_id: str, name: str, path: Path) -> None:
        """Load adapter `name` on every ready replica of the run; later replicas start with it.

        Raises NotReady when the run has no supervised replicas yet, and what
        ReplicaAdapters.add raises (InvalidRequest for a refusal, UpstreamError)."""
        await self._supervisor(run_id).add_adapter(name, path)

    async def remove_adapter(self, run_id: str, name: str) -> list[str]:
        """Unload adapter `name` from every ready replica; later replicas start without it.
        Returns what failed, per replica."""
        return await self._supervisor(run_id).remove_adapter(name)

    def _supervisor(self, run_id: str) -> ReplicaSetSupervisor:
        supervisor = self._sets.get(run_id)
        if supervisor is None or supervisor.launch_plan() is None:
            raise NotReady(f"run {run_id} has no replicas to change yet", retry_after=2)
        return supervisor

    async def scale(self, run_id: str, replicas: int) -> None:
        supervisor = self._sets.get(run_id)
        if supervisor is not None:
            supervisor.desired = replicas

    async def stop(self, run_id: str) -> None:
        """Stop every replica of the run, supervised or merely recorded; nothing survives."""
        supervisor = self._sets.pop(run_id, None)
        task = self._tasks.pop(run_id, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if supervisor is not None:
            await supervisor.stop()
        for row in self._adoptable.pop(run_id, []):
            if row.pid and group_alive(row.pid):
                await stop_group(row.pid, None)
        await asyncio.to_thread(self._store.delete_replicas, run_id)

    async def _prepare(
        self, plan: DeploymentPlan, engine: EngineAdapter, adapters: ReplicaAdapters
    ) -> Callable[[int], LaunchPlan]:
        """Fetch the model and the spec's adapters once; returns the replicas' launch-plan factory.

        `adapters` (the supervisor's live adapter set) is filled here and read at every launch,
        so replicas started later serve the adapters added while the run was serving too."""
        async def say(message: str) -> None:
            await self._on_event(plan.run_id, "SCHEDULE", "Fetching", message)

        loop = asyncio.get_running_loop()

        def progress(message: str) -> None:
            asyncio.run_coroutine_threadsafe(say(message), loop)

        cache = self._settings.models_dir
        if not getattr(engine, "fetches_model", True):  # the engine pulls its own model (Ollama)
            artifact = ModelArtifact(path=Path(""))
            return lambda port: engine.launch(plan, artifact, port=port, settings=self._settings)
        await say(f"resolving model {plan.model_url}")
        path = await asyncio.to_thread(fetch_model, plan.model_url, cache, progress)
        fetched = {}
        for adapter in plan.adapters:
            fetched[adapter.name] = await asyncio.to_thread(fetch_model, adapter.url, cache, progress)
        adapters.set_initial(fetched)

        def make_plan(port: int) -> LaunchPlan:
            artifact = ModelArtifact(path=path, adapters=dict(adapters.current), runtime_lora=adapters.runtime_lora)
            return engine.launch(plan, artifact, port=port, settings=self._settings)

        return make_plan

    async def _persist(self, replica: Replica) -> None:
        await asyncio.to_thread(
            self._store.upsert_replica,
            replica.run_id,
            replica.index,
            pid=replica.pid,
            pgid=replica.pid,
            port=replica.port,
            log_path=str(replica.log_path),
            state=replica.state,
            started_at=datetime.now(timezone.utc),
            restarts=replica.restarts,
        )
