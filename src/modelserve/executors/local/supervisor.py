"""ReplicaSetSupervisor: keeps one run's replicas at the desired count, healthy, and recorded.

Lifecycle: prepare (fetch the model once) → launch or adopt replicas → probe every tick →
restart dead replicas with back-off. A replica that dies before its first readiness fails the
whole set: startup errors are deterministic, so the reconciler moves the run to ERROR instead.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Awaitable, Callable

import httpx

from modelserve.engines.base import LaunchPlan
from modelserve.engines.calls import perform_all
from modelserve.errors import ModelServeError
from modelserve.executors.base import ReplicaSetStatus
from modelserve.executors.local.adapters import ReplicaAdapters
from modelserve.executors.local.process import group_alive, stop_group, tail_lines
from modelserve.executors.local.replica import LIVENESS_EVERY_S, LIVENESS_FAILURES, Replica
from modelserve.settings import Settings

EventSink = Callable[[str, str, str], Awaitable[None]]  # (event, reason, message)
ReplicaSink = Callable[[Replica], Awaitable[None]]  # persist a replica row
Prepare = Callable[[], Awaitable[Callable[[int], LaunchPlan]]]

TICK_S = 0.25


class ReplicaSetSupervisor:
    def __init__(
        self,
        run_id: str,
        engine: str,
        desired: int,
        prepare: Prepare,
        settings: Settings,
        client: httpx.AsyncClient,
        emit: EventSink,
        persist: ReplicaSink,
        forget: Callable[[int], Awaitable[None]],
        adopt: list[Replica] | None = None,
    ) -> None:
        self.run_id = run_id
        self.engine = engine
        self.desired = desired
        self._prepare = prepare
        self._settings = settings
        self._client = client
        self._emit = emit
        self._persist = persist
        self._forget = forget
        self._adopt = {r.index: r for r in adopt or ()}
        self.replicas: dict[int, Replica] = {}
        self.phase = "preparing"
        self.failure: str | None = None
        self._make_plan: Callable[[int], LaunchPlan] | None = None
        self._stopping = False
        self.adapters = ReplicaAdapters(client)  # filled by `prepare`; the launch plans read it

    def status(self) -> ReplicaSetStatus:
        views = tuple(r.view() for r in sorted(self.replicas.values(), key=lambda r: r.index))
        ready = sum(1 for r in self.replicas.values() if r.state == "ready")
        return ReplicaSetStatus(self.desired, ready, views, self.phase, self.failure)

    async def run(self) -> None:
        try:
            self._make_plan = await self._prepare()
        except Exception as exc:  # any preparation error ends the set with its own message
            self._fail(f"could not prepare the model: {getattr(exc, 'message', None) or exc}")
            return
        self.phase = "running"
        while not self._stopping and self.failure is None:
            await self._converge()
            for replica in list(self.replicas.values()):
                await self._tick(replica)
            await asyncio.sleep(TICK_S)

    async def stop(self) -> None:
        """Stop every replica and forget its row; after this no process of the set survives."""
        self._stopping = True
        await asyncio.gather(*(self._remove(r) for r in list(self.replicas.values())))
        for row in list(self._adopt.values()):  # adoptable rows never taken over
            if row.pid and group_alive(row.pid):
                await stop_group(row.pid, None)
            await self._forget(row.index)
        self._adopt.clear()

    def _fail(self, message: str) -> None:
        self.failure = message
        self.phase = "failed"

    async def _converge(self) -> None:
        for index in range(self.desired):
            if index not in self.replicas:
                await self._start(index)
        for index in [i for i in self.replicas if i >= self.desired]:
            await self._remove(self.replicas[index])
            await self._emit("SCALE", "ScaledDown", f"replica {index} stopped")

    async def _start(self, index: int) -> None:
        adopted = self._adopt.pop(index, None)
        if adopted is not None and adopted.pid and group_alive(adopted.pid) and await adopted.healthy(self._client):
            assert self._make_plan is not None
            problems = await self.adapters.adopt(adopted, self._make_plan)  # before it counts as ready
            adopted.state, adopted.ever_ready = "ready", True
            self.replicas[index] = adopted
            await self._persist(adopted)
            await self._emit("ADOPT", "ReplicaAdopted", f"replica {index} re-adopted (pid {adopted.pid}, port {adopted.port})")
            for problem in problems:
                await self._emit("EXECUTE", "AdapterSyncFailed", problem)
            return
        if adopted is not None and adopted.pid and group_alive(adopted.pid):
            await stop_group(adopted.pid, None)  # alive but not answering: replace it
        replica = Replica(self.run_id, index, self._settings.replica_log(self.run_id, index))
        await self._launch(replica)
        self.replicas[index] = replica

    async def _launch(self, replica: Replica) -> None:
        assert self._make_plan is not None
        replica.adapters = frozenset(self.adapters.current)  # what the launch plan puts on its command line
        replica.launch(self._make_plan)
        await self._persist(replica)
        await self._emit(
            "EXECUTE", "ReplicaStarting",
            f"replica {replica.index} starting ({self.engine}, pid {replica.pid}, port {replica.port})",
        )

    async def _remove(self, replica: Replica) -> None:
        await replica.terminate()
        self.replicas.pop(replica.index, None)
        await self._forget(replica.index)

    async def _tick(self, replica: Replica) -> None:
        now = time.monotonic()
        if replica.state == "backoff":
            if now >= replica.next_start_at:
                replica.restarts += 1
                await self._launch(replica)
            return
        code = replica.exited()
        if code is not None:
            await self._on_exit(replica, code)
        elif replica.state == "starting":
            await self._probe_startup(replica, now)
        elif now - replica.last_probe_at >= LIVENESS_EVERY_S:
            await self._probe_liveness(replica, now)

    async def _on_exit(self, replica: Replica, code: int) -> None:
        if not replica.ever_ready:
            self._fail(replica.failure_message(code, self.engine))
            await replica.terminate()
            return
        replica.popen, replica.pid = None, None
        delay = replica.schedule_restart(self._settings.restart_backoff_max_s)
        await self._persist(replica)
        last = " | ".join(tail_lines(replica.log_path, 3)) or "(no output)"
        await self._emit(
            "LOOP", "ReplicaExited",
            f"replica {replica.index} exited (code {code}); restarting in {delay:.0f}s; last log lines: {last}",
        )

    async def _probe_startup(self, replica: Replica, now: float) -> None:
        if await replica.healthy(self._client):
            if replica.post_start and not await self._post_start(replica):
                return
            assert self._make_plan is not None
            # Adapters may have changed while it started. No await between the sync (which holds
            # the adapters' lock) and "ready": a change waiting for the lock then sees it ready.
            problems = await self.adapters.sync(replica, self._make_plan)
            replica.state, replica.ever_ready, replica.last_probe_at = "ready", True, now
            await self._persist(replica)
            for problem in problems:
                await self._emit("EXECUTE", "AdapterSyncFailed", problem)
            took = now - replica.started_at
            await self._emit("EXECUTE", "ReplicaReady", f"replica {replica.index} ready in {took:.1f}s")
        elif now - replica.started_at > self._settings.replica_ready_timeout_s:
            await replica.terminate()
            self._fail(
                f"engine {self.engine} replica {replica.index} not ready after "
                f"{self._settings.replica_ready_timeout_s:.0f}s"
            )

    def ready_replicas(self) -> list[Replica]:
        return [r for r in sorted(self.replicas.values(), key=lambda r: r.index) if r.state == "ready"]

    def launch_plan(self) -> LaunchPlan | None:
        """A launch plan of this run (None while preparing): what its engine can do at run time."""
        return self._make_plan(0) if self._make_plan is not None else None

    async def add_adapter(self, name: str, path: Path) -> None:
        """Serve adapter `name` on every ready replica and on every replica started later."""
        assert self._make_plan is not None
        await self.adapters.add(name, path, self.ready_replicas, self._make_plan)

    async def remove_adapter(self, name: str) -> list[str]:
        """Stop serving adapter `name` everywhere; returns what failed, per replica."""
        assert self._make_plan is not None
        return await self.adapters.remove(name, self.ready_replicas, self._make_plan)

    async def _post_start(self, replica: Replica) -> bool:
        """Run the engine's post-start calls (e.g. Ollama's pull); a refusal fails the set."""
        assert replica.port is not None
        try:
            await perform_all(replica.post_start, replica.port, self._client)
        except ModelServeError as exc:
            await replica.terminate()
            self._fail(f"engine {self.engine} replica {replica.index} failed its start-up steps: {exc.message}")
            return False
        return True

    async def _probe_liveness(self, replica: Replica, now: float) -> None:
        replica.last_probe_at = now
        if await replica.healthy(self._client):
            replica.probe_failures = 0
            return
        replica.probe_failures += 1
        if replica.probe_failures >= LIVENESS_FAILURES:
            await replica.terminate()
            delay = replica.schedule_restart(self._settings.restart_backoff_max_s)
            await self._persist(replica)
            await self._emit(
                "LOOP", "ReplicaUnhealthy",
                f"replica {replica.index} failed {LIVENESS_FAILURES} health checks; restarting in {delay:.0f}s",
            )
