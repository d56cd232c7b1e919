"""A lean closed-loop HTTP/1.1 load generator: N keep-alive connections on raw asyncio streams.

Each connection sends one POST, reads the whole response (content-length or chunked), records the
latency to the first body byte and to the last, and sends the next, until the deadline. It costs
far less CPU per request than an HTTP client library, so it disturbs the measurement less.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Samples:
    total_s: list[float] = field(default_factory=list)
    first_byte_s: list[float] = field(default_factory=list)
    errors: int = 0
    in_window: int = 0  # requests that ended inside the measured window (throughput)
    completed: int = 0  # every request answered, warm-up included (for CPU per request)
    elapsed_s: float = 0.0


def _request_bytes(host: str, port: int, path: str, body: bytes, extra: str = "") -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-type: application/json\r\n"
        f"{extra}content-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, float]:
    """(status, time of the first body byte). Reads the body to its end."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    if b"transfer-encoding: chunked" in lower:
        first = 0.0
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return status, first or time.perf_counter()
            await reader.readexactly(size + 2)
            if not first:
                first = time.perf_counter()
    start = lower.index(b"content-length:") + len(b"content-length:")
    length = int(lower[start : lower.index(b"\r\n", start)])
    first = time.perf_counter()
    await reader.readexactly(length)
    return status, first


class _Window:
    """The measured window opens `warmup_s` after every connection has completed one request (so
    connection set-up and the first slow round never count) and closes `duration_s` later."""

    def __init__(self, concurrency: int, warmup_s: float, duration_s: float) -> None:
        self._waiting = concurrency
        self._warmup_s = warmup_s
        self._duration_s = duration_s
        self.start = float("inf")
        self.end = float("inf")

    def first_done(self) -> None:
        self._waiting -= 1
        if self._waiting == 0:
            self.start = time.perf_counter() + self._warmup_s
            self.end = self.start + self._duration_s


async def _worker(url: str, path: str, body: bytes, window: _Window, out: Samples, extra: str) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reader, writer = await asyncio.open_connection(host, port)
    request = _request_bytes(host, port, path, body, extra)
    first = True
    try:
        while True:
            t0 = time.perf_counter()
            if t0 >= window.end:
                return
            writer.write(request)
            status, first_byte = await _read_response(reader)
            t1 = time.perf_counter()
            out.completed += 1
            if first:
                first = False
                window.first_done()
            out.in_window += window.start <= t1 <= window.end
            if t0 < window.start:
                continue  # started during the warm-up: no latency sample
            if status != 200:
                out.errors += 1
                continue
            out.total_s.append(t1 - t0)
            out.first_byte_s.append(first_byte - t0)
    finally:
        writer.close()


async def run(
    url: str,
    path: str,
    body: bytes,
    *,
    concurrency: int,
    duration_s: float,
    warmup_s: float,
    headers: dict[str, str] | None = None,
) -> Samples:
    """Drive `concurrency` keep-alive connections; samples cover the measured window only."""
    window = _Window(concurrency, warmup_s, duration_s)
    out = Samples()
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    await asyncio.gather(*(_worker(url, path, body, window, out, extra) for _ in range(concurrency)))
    out.elapsed_s = duration_s
    return out


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
