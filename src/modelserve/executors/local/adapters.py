"""The LoRA adapters one run's replicas serve, changed while they run.

`current` is what every replica should serve: the spec's adapters plus those added at run time.
A replica launched later gets all of `current` on its command line (the launch plan reads it);
a ready replica gets an addition or removal through its engine's runtime LoRA calls; a replica
that was starting while `current` changed is brought up to date when it becomes ready (`sync`).
One lock per run orders these, so a replica never sees two changes at once.
`runtime_lora` stays true once the run has served an adapter, so replicas started after its last
adapter was removed still accept new ones (vLLM needs `--enable-lora` at start for that).
A replica re-adopted after a server restart is asked which adapters it serves (`adopt`) rather
than assumed to serve `current`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx

from modelserve.engines.base import LaunchPlan
from modelserve.engines.calls import EngineRefused, perform
from modelserve.errors import InvalidRequest, ModelServeError
from modelserve.executors.local.replica import Replica

PlanFor = Callable[[int], LaunchPlan]  # a replica's launch plan, by port
Ready = Callable[[], list[Replica]]  # the ready replicas, read under the lock


class ReplicaAdapters:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.current: dict[str, Path] = {}
        self.runtime_lora = False
        self.lock = asyncio.Lock()
        self._client = client

    def set_initial(self, adapters: dict[str, Path]) -> None:
        """The spec's adapters, fetched: what replicas start with."""
        self.current.update(adapters)
        self.runtime_lora = self.runtime_lora or bool(adapters)

    async def add(self, name: str, path: Path, ready: Ready, plan_for: PlanFor) -> None:
        """Load adapter `name` (folder `path`) on every ready replica, then record it for later ones.

        All or nothing: when one replica refuses, those that loaded it unload it again. Raises
        InvalidRequest (param `url`) with the engine's words when an engine refuses the adapter,
        UpstreamError when a replica cannot be reached, InvalidRequest when the engine has no
        runtime LoRA.
        """
        async with self.lock:
            done: list[Replica] = []
            try:
                for replica in ready():
                    assert replica.port is not None
                    await perform(plan_for(replica.port).load_adapter(name, path), replica.port, self._client)
                    replica.adapters |= {name}
                    done.append(replica)
            except EngineRefused as exc:
                await self._undo(name, done, plan_for)
                raise InvalidRequest(
                    f"replica {replica.index} refused adapter {name!r}: {exc.engine_message}", param="url"
                ) from None
            except ModelServeError:
                await self._undo(name, done, plan_for)
                raise
            self.current[name] = path
            self.runtime_lora = True

    async def remove(self, name: str, ready: Ready, plan_for: PlanFor) -> list[str]:
        """Stop serving `name` on every ready replica and forget it; returns what failed, per replica
        (a replica that already lacks it counts as done)."""
        async with self.lock:
            self.current.pop(name, None)
            failures = []
            for replica in ready():
                problem = await self._unload(replica, name, plan_for)
                if problem:
                    failures.append(f"replica {replica.index}: {problem}")
            return failures

    async def sync(self, replica: Replica, plan_for: PlanFor) -> list[str]:
        """Make a replica that just became ready serve exactly `current`; returns what failed.

        Called for every replica on its way to ready, even when nothing changed: taking the lock
        means a change in progress either saw this replica as ready or finishes before it is."""
        async with self.lock:
            assert replica.port is not None
            plan = plan_for(replica.port)
            failures = []
            for name in [n for n in self.current if n not in replica.adapters]:
                try:
                    await perform(plan.load_adapter(name, self.current[name]), replica.port, self._client)
                    replica.adapters |= {name}
                except ModelServeError as exc:
                    failures.append(f"replica {replica.index} could not load adapter {name!r}: {exc.message}")
            for name in sorted(replica.adapters - set(self.current)):
                problem = await self._unload(replica, name, plan_for)
                if problem:
                    failures.append(f"replica {replica.index} could not unload adapter {name!r}: {problem}")
            return failures

    async def adopt(self, replica: Replica, plan_for: PlanFor) -> list[str]:
        """Learn which adapters a re-adopted replica serves (its `/models`), then `sync` it to
        `current`; returns what failed. An engine without runtime LoRA serves what it was started
        with, which is `current`."""
        assert replica.port is not None
        plan = plan_for(replica.port)
        if plan.runtime_lora is None:
            replica.adapters = frozenset(self.current)
            return []
        try:
            answer = await perform(plan.list_models(), replica.port, self._client)
            replica.adapters = plan.adapters_in(answer.json())
        except (ModelServeError, ValueError) as exc:
            replica.adapters = frozenset(self.current)  # assume, and say so
            reason = getattr(exc, "message", None) or str(exc)
            return [f"replica {replica.index} did not list its adapters ({reason}); assuming {sorted(self.current)}"]
        return await self.sync(replica, plan_for)

    async def _unload(self, replica: Replica, name: str, plan_for: PlanFor) -> str | None:
        assert replica.port is not None
        try:
            await perform(plan_for(replica.port).unload_adapter(name), replica.port, self._client)
        except EngineRefused as exc:
            if exc.status_code != 404:  # 404: the engine does not serve it, which is the goal
                return exc.engine_message
        except ModelServeError as exc:  # unreachable, timed out, or no runtime LoRA
            return exc.message
        replica.adapters -= {name}
        return None

    async def _undo(self, name: str, replicas: list[Replica], plan_for: PlanFor) -> None:
        for replica in replicas:
            await self._unload(replica, name, plan_for)
