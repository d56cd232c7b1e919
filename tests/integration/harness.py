"""A real modelserve server as a child process (`python -m modelserve up`), for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    data_dir: Path
    port: int
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "ServerProcess":
        env = {**os.environ, **self.env, "MODELSERVE_URL": self.url}
        log = open(self.data_dir / "server.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "modelserve", "up", "--port", str(self.port), "--data-dir", str(self.data_dir)],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"server not up after {timeout}s:\n{self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server process only (engine replicas are their own process groups)."""
        if self.proc is None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def log_tail(self, n: int = 60) -> str:
        path = self.data_dir / "server.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:]) if path.exists() else ""


def processes_with_env(name: str, value: str) -> list[psutil.Process]:
    """Every live process on this host whose environment has name=value."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get(name) == value:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def run_processes(run_id: str) -> list[psutil.Process]:
    """Every live process of the run (engine replicas and their children)."""
    return processes_with_env("MODELSERVE_RUN_ID", run_id)


def kill_processes_with_env(name: str, value: str) -> None:
    for proc in processes_with_env(name, value):
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass


def kill_run_processes(run_id: str) -> None:
    for proc in run_processes(run_id):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def reap_runs(srv: ServerProcess) -> None:
    """Leave no engine process behind, whatever a failed test left running (after `srv.stop()`)."""
    from modelserve.settings import Settings
    from modelserve.store import SqlStore

    store = SqlStore(Settings(data_dir=srv.data_dir).resolved_database_url)
    try:
        for run in store.list_runs():
            kill_run_processes(run.id)
    finally:
        store.close()
