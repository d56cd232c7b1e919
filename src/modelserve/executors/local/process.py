"""OS process handling for replicas: spawn in a new session, probe, stop the whole group.

Only the standard library; nothing here knows about runs or engines.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Mapping


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(argv: tuple[str, ...], env: Mapping[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start argv in its own session (so its process group id equals its pid), logging to log_path."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **env}
    with open(log_path, "ab") as log:
        log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} start: {' '.join(argv)}\n".encode())
        log.flush()
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
            start_new_session=True,
        )


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pid_alive(pid: int) -> bool:
    """True while pid exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().split(b") ", 1)[1][:1] != b"Z"
    except (OSError, IndexError):
        return True


async def stop_group(pgid: int, popen: subprocess.Popen[bytes] | None, grace_s: float = 10.0) -> None:
    """SIGTERM the group, wait up to grace_s, then SIGKILL whatever is left; reap our child."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and group_alive(pgid):
            if popen is not None:
                popen.poll()
            await asyncio.sleep(0.05)
        if not group_alive(pgid):
            break
    if popen is not None:
        try:
            await asyncio.to_thread(popen.wait, 5)
        except subprocess.TimeoutExpired:
            pass


def tail_lines(path: Path, n: int = 20) -> list[str]:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    lines = [ln for ln in data.splitlines() if ln.strip()]
    return lines[-n:]


_BOX = str.maketrans("", "", "│╭╮╰╯─┌┐└┘├┤")
# A raised exception as Python prints it last in a traceback: `pkg.mod.NameError: message`.
_EXCEPTION = re.compile(r"^(?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt):\s")
# Lines that mention errors but never say what went wrong.
_NOISE = (
    "for further information visit",  # pydantic's link under each validation error
    "application startup failed",  # uvicorn's closing line after a failed lifespan
    "traceback (most recent call last)",
)


def error_line(lines: list[str]) -> str:
    """The engine's own error line, for a run's status message.

    The last raised exception (`FileNotFoundError: ...`) unless a later top-level line reports
    an error, joined with its first indented detail line (pydantic's `ValidationError: 1
    validation error for X` says what failed only on the next line); else the last line that
    mentions an error; else the last line. Lines that never say what went wrong are skipped
    (uvicorn's "Application startup failed", pydantic's "For further information visit ...").
    Box-drawing frames (rich/typer usage errors) are stripped so the message inside is found.
    """
    raw = [ln.translate(_BOX).rstrip() for ln in lines]
    kept = [ln for ln in raw if ln.strip() and ln.strip().lower() != "error" and not _is_noise(ln)]
    last_exception = next((i for i in range(len(kept) - 1, -1, -1) if _EXCEPTION.match(kept[i].strip())), None)
    for i in range(len(kept) - 1, -1, -1):
        if i == last_exception:
            after = kept[i + 1] if i + 1 < len(kept) else ""
            detail = f" {after.strip()}" if after[:1].isspace() else ""
            return kept[i].strip() + detail
        if _mentions_error(kept[i]) and (last_exception is None or not kept[i][:1].isspace()):
            return kept[i].strip()
    return kept[-1].strip() if kept else "(no output)"


def _mentions_error(line: str) -> bool:
    low = line.lower()
    return "error" in low or "exception" in low or "failed" in low


def _is_noise(line: str) -> bool:
    low = line.lower()
    return any(marker in low for marker in _NOISE)
