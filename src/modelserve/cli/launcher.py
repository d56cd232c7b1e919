"""Start `modelserve up` in the background when no server answers, and wait until it does.

The server runs detached (its own session) with its output in <data-dir>/server.log, so it
outlives the CLI. Only local URLs are started here. Imports httpx, rich and settings only.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from rich.console import Console
from rich.text import Text

from modelserve import errors
from modelserve.sdk.session import API_PREFIX, ServerUnreachable, unreachable_message
from modelserve.settings import Settings

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
START_TIMEOUT_S = 180.0
_LOG_TAIL_LINES = 20


def server_answers(base_url: str) -> bool:
    """True when something answers `GET /api/v1/projects` at `base_url` without a 5xx."""
    try:
        response = httpx.get(base_url + API_PREFIX + "/projects", timeout=3.0)
    except httpx.HTTPError:
        return False
    return response.status_code < 500


def start_background_server(host: str, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """Launch `modelserve up` detached from this terminal; its output goes to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "modelserve.cli", "up", "--host", host, "--port", str(port)]
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _log_tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-_LOG_TAIL_LINES:])


def ensure_server(base_url: str, console: Console, timeout: float = START_TIMEOUT_S) -> None:
    """Return once a server answers at `base_url`, starting a local one in the background if needed.

    Raises ServerUnreachable for a non-local URL with no server, and ModelServeError when the
    started server exits or does not answer within `timeout` seconds (with its log's last lines).
    """
    if server_answers(base_url):
        return
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if host not in LOCAL_HOSTS:
        raise ServerUnreachable(
            unreachable_message(base_url) + " It is not on this machine, so it is not started here."
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    log_path = Settings().data_dir / "server.log"
    process = start_background_server(host, port, log_path)
    deadline = time.monotonic() + timeout
    with console.status(f"Starting a modelserve server at {base_url} (log: {log_path})"):
        while not server_answers(base_url):
            code = process.poll()
            if code is not None:
                raise errors.ModelServeError(
                    f"the modelserve server exited with code {code}. Last lines of {log_path}:\n{_log_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                raise errors.ModelServeError(
                    f"the modelserve server (pid {process.pid}) did not answer within {timeout:g} s; see {log_path}"
                )
            time.sleep(0.3)
    console.print(
        Text(
            f"Started a modelserve server at {base_url} in the background (pid {process.pid}, log {log_path}). "
            f"Stop it with: kill {process.pid}",
            style="dim",
        )
    )
