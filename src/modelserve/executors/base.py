"""The Executor seam and the observed state it reports back to the reconciler."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from modelserve.engines.base import EngineAdapter, LaunchPlan
from modelserve.runtimes.plan import DeploymentPlan


@dataclass(frozen=True)
class ReplicaView:
    index: int
    state: str  # fetching | starting | ready | backoff | stopped
    port: int | None
    pid: int | None
    restarts: int


@dataclass(frozen=True)
class ReplicaSetStatus:
    desired: int
    ready: int
    replicas: tuple[ReplicaView, ...]
    phase: str  # preparing | running | failed
    failure: str | None = None  # set when the run cannot be served; the reconciler moves it to ERROR


class Executor(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> int: ...

    async def ensure(self, plan: DeploymentPlan, engine: EngineAdapter) -> None: ...

    def observe(self, run_id: str) -> ReplicaSetStatus | None: ...

    async def scale(self, run_id: str, replicas: int) -> None: ...

    async def stop(self, run_id: str) -> None: ...

    # LoRA adapters changed while a run serves (every ready replica now, later replicas at launch).
    def launch_plan(self, run_id: str) -> LaunchPlan | None: ...

    async def add_adapter(self, run_id: str, name: str, path: Path) -> None: ...

    async def remove_adapter(self, run_id: str, name: str) -> list[str]: ...
