"""One engine replica: its process, readiness and liveness, and restart with back-off.

A replica is either our child (we hold its Popen) or adopted after a control-plane restart
(only pid/pgid/port known). Both are probed the same way: the process table plus HTTP health.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import httpx

from modelserve.engines.base import HttpCall, LaunchPlan
from modelserve.executors.base import ReplicaView
from modelserve.executors.local.process import (
    error_line,
    free_port,
    pid_alive,
    spawn,
    stop_group,
    tail_lines,
)

LIVENESS_EVERY_S = 2.0
LIVENESS_FAILURES = 3


class StartupFailed(Exception):
    """The engine exited (or never became ready) on its first start: the run cannot be served."""


@dataclass
class Replica:
    run_id: str
    index: int
    log_path: Path
    state: str = "starting"  # starting | ready | backoff
    port: int | None = None
    pid: int | None = None
    popen: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    ever_ready: bool = False
    next_start_at: float = 0.0
    last_probe_at: float = 0.0
    probe_failures: int = 0
    health_path: str = "/health"
    post_start: tuple[HttpCall, ...] = ()
    adapters: frozenset[str] = frozenset()  # LoRA adapters this process serves (see adapters.py)

    @property
    def name(self) -> str:
        return f"{self.run_id}-{self.index}"

    def view(self) -> ReplicaView:
        return ReplicaView(self.index, self.state, self.port, self.pid, self.restarts)

    def launch(self, make_plan: Callable[[int], LaunchPlan]) -> None:
        plan = make_plan(free_port())
        # The run id in the environment lets an operator (and the tests) find every process of a run.
        env = {**plan.env, "MODELSERVE_RUN_ID": self.run_id, "MODELSERVE_REPLICA": str(self.index)}
        self.popen = spawn(plan.argv, env, self.log_path)
        self.pid = self.popen.pid
        self.port = plan.port
        self.health_path = plan.health_path
        self.post_start = plan.post_start
        self.state = "starting"
        self.started_at = time.monotonic()
        self.probe_failures = 0

    def exited(self) -> int | None:
        """Exit code if the process is gone (None while it runs); -1 for an adopted process."""
        if self.pid is None:
            return -1
        if self.popen is not None:
            return self.popen.poll()
        return None if pid_alive(self.pid) else -1

    async def healthy(self, client: httpx.AsyncClient) -> bool:
        try:
            resp = await client.get(f"http://127.0.0.1:{self.port}{self.health_path}", timeout=2.0)
        except httpx.HTTPError:
            return False
        return resp.status_code == 200

    async def terminate(self) -> None:
        if self.pid is not None:
            await stop_group(self.pid, self.popen)
        self.popen = None
        self.pid = None

    def failure_message(self, code: int | None, engine: str) -> str:
        line = error_line(tail_lines(self.log_path))
        how = f"exited with code {code}" if code is not None and code >= 0 else "exited"
        return f"engine {engine} replica {self.index} {how} before it was ready: {line}"

    def schedule_restart(self, backoff_max_s: float) -> float:
        delay = min(backoff_max_s, 1.0 * (2 ** min(self.restarts, 10)))
        self.state = "backoff"
        self.next_start_at = time.monotonic() + delay
        return delay
