"""Real processes for gateway tests: upstream replicas as subprocesses, the gateway served by uvicorn
in a thread of the test process (so tests can swap its routing table and read its counters)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI

from modelserve.gateway import Gateway, ServedModel
from modelserve.gateway.front import GatewayFront

UPSTREAM_PY = Path(__file__).with_name("upstream.py")
T = TypeVar("T")
# One client for control calls and raw requests: a new httpx client per call costs ~0.1 s of TLS setup.
HTTP = httpx.Client(timeout=15, trust_env=False)


class Upstream:
    """One upstream replica process, in its own process group, on a port it picked itself."""

    def __init__(self, replica: str) -> None:
        self.replica = replica
        self.proc = subprocess.Popen(
            [sys.executable, str(UPSTREAM_PY), "--replica", replica],
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        self.url = ""

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("PORT "):
            raise RuntimeError(f"upstream {self.replica} did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if HTTP.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"upstream {self.replica} never became healthy")

    def control(self, status: int | None) -> None:
        HTTP.post(f"{self.url}/_control", json={"status": status}, timeout=5).raise_for_status()

    def release(self, key: str) -> None:
        HTTP.post(f"{self.url}/_release/{key}").raise_for_status()

    def stream_state(self, key: str) -> str | None:
        state: str | None = HTTP.get(f"{self.url}/_streams/{key}").json()["state"]
        return state

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def start_upstreams(replicas: list[str]) -> dict[str, Upstream]:
    """Start all replicas at once (they boot in parallel), then wait for each."""
    ups = {r: Upstream(r) for r in replicas}
    try:
        for up in ups.values():
            up.wait_ready()
    except Exception:
        for up in ups.values():
            up.stop()
        raise
    return ups


def closed_port_url() -> str:
    """A loopback URL nobody listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class _KeyIdFromHeader:
    """Stands in for the API-key middleware: `x-test-key-id` becomes scope["state"]["modelserve.key_id"]."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            for k, v in scope["headers"]:
                if k == b"x-test-key-id":
                    scope.setdefault("state", {})["modelserve.key_id"] = v.decode()
        await self.app(scope, receive, send)


class GatewayServer:
    """The gateway in front of a FastAPI app (as in the server), served by uvicorn on a free port in a thread.

    The table comes from `models` (set with `set_models`); `fail_source` makes the source raise.
    """

    def __init__(self, **gateway_kwargs: Any) -> None:
        self.models: list[ServedModel] = []
        self.fail_source = False
        self.gateway = Gateway(
            self._source, refresh_s=gateway_kwargs.pop("refresh_s", 60.0), **gateway_kwargs
        )
        self.loop: asyncio.AbstractEventLoop | None = None
        gateway = self.gateway

        @contextlib.asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            self.loop = asyncio.get_running_loop()
            await gateway.start()
            try:
                yield
            finally:
                await gateway.stop()

        app = GatewayFront(FastAPI(lifespan=lifespan), _KeyIdFromHeader(gateway.asgi))
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, loop="asyncio", http="httptools")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="gateway-server", daemon=True)

    async def _source(self) -> list[ServedModel]:
        if self.fail_source:
            raise RuntimeError("the store is unreachable")
        return list(self.models)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self) -> GatewayServer:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("gateway server did not start")
            time.sleep(0.02)
        return self

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's event loop and return its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def set_models(self, models: list[ServedModel]) -> None:
        """Install a routing table now; cooldowns left by an earlier test are forgotten."""
        self.models = list(models)

        async def install() -> None:
            self.gateway.cooldowns.clear()
            await self.gateway.refresh_now()

        self.call(install())

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
