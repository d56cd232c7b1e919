"""Run a LaunchPlan as a real process the way the local executor does, for engine tests.

Spawned in its own session with the executor's own helpers; readiness is `health_path` answering
200; a process that exits first raises EngineExited with the executor's error line.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from modelserve.engines import LaunchPlan
from modelserve.engines.calls import perform_all
from modelserve.executors.local.process import error_line, spawn, stop_group, tail_lines


class EngineExited(Exception):
    def __init__(self, line: str, code: int | None) -> None:
        super().__init__(f"engine exited ({code}) before ready: {line}")
        self.line, self.code = line, code


@dataclass
class Running:
    plan: LaunchPlan
    popen: subprocess.Popen[bytes]
    log: Path
    startup_s: float

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.plan.port}"

    def post_start(self) -> None:
        asyncio.run(_perform(self.plan, self.plan.post_start))


async def _perform(plan: LaunchPlan, calls: tuple[object, ...]) -> None:
    async with httpx.AsyncClient() as client:
        await perform_all(calls, plan.port, client)  # type: ignore[arg-type]


def wait_ready(plan: LaunchPlan, popen: subprocess.Popen[bytes], log: Path, timeout_s: float) -> float:
    """Seconds until `health_path` answered 200; EngineExited / TimeoutError otherwise."""
    start = time.monotonic()
    url = f"http://127.0.0.1:{plan.port}{plan.health_path}"
    while time.monotonic() - start < timeout_s:
        code = popen.poll()
        if code is not None:
            raise EngineExited(error_line(tail_lines(log)), code)
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{plan.engine} not ready after {timeout_s:.0f} s: {error_line(tail_lines(log))}")


@contextmanager
def running(plan: LaunchPlan, log: Path, timeout_s: float = 120.0) -> Iterator[Running]:
    """Start `plan`, wait until ready, yield it; always stop the whole process group."""
    popen = spawn(plan.argv, plan.env, log)
    try:
        startup = wait_ready(plan, popen, log, timeout_s)
        yield Running(plan, popen, log, startup)
    finally:
        asyncio.run(stop_group(popen.pid, popen, grace_s=10.0))


def exit_line(plan: LaunchPlan, log: Path, timeout_s: float = 120.0) -> str:
    """Start `plan`, expecting it to exit before ready; return the executor's error line for it."""
    popen = spawn(plan.argv, plan.env, log)
    try:
        wait_ready(plan, popen, log, timeout_s)
    except EngineExited as exc:
        return exc.line
    finally:
        asyncio.run(stop_group(popen.pid, popen, grace_s=5.0))
    raise AssertionError(f"{plan.engine} became ready although it was expected to fail")
