"""Run the built-in engine as a real subprocess on a free port, for tests and benchmarks.

`BuiltinEngineProcess` starts `python -m modelserve.builtin` in its own process group, waits for
`/health` 200, and kills the whole group on `stop()` (or on leaving the `with` block).
Imports only the standard library and httpx.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import httpx
from typing_extensions import Self


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EngineStartError(RuntimeError):
    pass


class BuiltinEngineProcess:
    """`python -m modelserve.builtin --model MODEL --served-model-name NAME [extra args]` on 127.0.0.1."""

    def __init__(
        self,
        model: str | Path,
        served_model_name: str,
        extra_args: Sequence[str] = (),
        log_path: Path | None = None,
        python: str = sys.executable,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.argv = [
            python, "-m", "modelserve.builtin",
            "--model", str(model),
            "--served-model-name", served_model_name,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            *extra_args,
        ]  # fmt: skip
        self.log_path = log_path
        self.env = dict(env or {})  # added to this process's environment
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        out = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.proc = subprocess.Popen(
            self.argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        return self

    def wait_ready(self, timeout: float = 180.0) -> Self:
        """Poll /health until 200; raises EngineStartError if the process exits or time runs out."""
        assert self.proc is not None, "start() first"
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise EngineStartError(f"engine exited with {self.proc.returncode}: {self.log_tail()}")
                try:
                    if client.get(f"{self.base_url}/health").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        raise EngineStartError(f"engine not ready after {timeout}s: {self.log_tail()}")

    def log_tail(self, chars: int = 2000) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-chars:]
        return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass

    def __enter__(self) -> Self:
        return self.start().wait_ready()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
