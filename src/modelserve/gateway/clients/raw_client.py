"""RawUpstream: a lean HTTP/1.1 client on asyncio protocols and httptools' response parser.

The gateway's upstream side is a fixed, narrow job: POST to a replica on plain HTTP, get the
status and headers, pass the body through as it arrives, keep the connection for the next request.
Doing just that on raw protocols costs a fraction of a general client library's CPU per request
(benchmarks/RESULTS.md, "Gateway overhead"): the request goes out in one write, the response
is parsed in C, and there is no per-request session, header or timer machinery.

Rules: `http://` only (engines are reached inside the host or cluster network); keep-alive
connections are reused only after their response was read to the end, and dropped after
`keepalive_expiry_s` idle (below the engines' own keep-alive); a reused connection that closes
before any response byte (the server dropped it as idle just then) is retried once on a new one.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator

import httptools

from modelserve.gateway.clients.base import (
    Body,
    ClientLimits,
    UpstreamBroken,
    UpstreamConnectFailed,
    UpstreamTimedOut,
    body_length,
)

_PAUSE_AT = 1 << 20  # buffered response bytes before reading from the replica pauses


class _Connection(asyncio.Protocol):
    """One keep-alive connection; parses one response at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, read_timeout_s: float) -> None:
        self._loop = loop
        self._read_timeout_s = read_timeout_s
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.got_headers = False
        self.complete = False
        self.reusable = False
        self.received_any = False
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._paused = False
        self._error: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None

    # ------------------------------------------------------------------ protocol callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received_any = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamBroken(f"malformed response: {exc}"))
            self.close()

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost settles the response

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.complete:
            detail = str(exc) if exc else "connection closed"
            if self.got_headers:
                self._fail(UpstreamBroken(f"response cut short: {detail}"))
            else:
                self._fail(UpstreamConnectFailed(f"no response: {detail}"))

    # ------------------------------------------------------------------ parser callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        self.got_headers = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _PAUSE_AT and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        self.complete = True
        self.reusable = self._parser.should_keep_alive()
        self._wake()

    # ------------------------------------------------------------------ used by RawUpstream
    def send(self, head: bytes, body: Body) -> None:
        assert self.transport is not None
        if isinstance(body, bytes):
            self.transport.write(head + body)
        else:
            self.transport.writelines([head, *body])

    async def headers_arrived(self) -> None:
        while not self.got_headers:
            if self._error is not None:
                raise self._error
            await self._wait()

    async def next_chunk(self) -> bytes | None:
        """The next body bytes, or None at the end of the response."""
        while True:
            if self._chunks:
                chunk = b"".join(self._chunks) if len(self._chunks) > 1 else self._chunks[0]
                self._chunks.clear()
                self._buffered = 0
                if self._paused and self.transport is not None and not self.closed:
                    self._paused = False
                    self.transport.resume_reading()
                return chunk
            if self.complete:
                return None
            if self._error is not None:
                raise self._error
            await self._wait()

    def close(self) -> None:
        if not self.closed and self.transport is not None:
            self.closed = True
            self.transport.close()

    # ------------------------------------------------------------------ internals
    async def _wait(self) -> None:
        waiter = self._waiter = self._loop.create_future()
        timer = self._loop.call_later(self._read_timeout_s, self._timed_out, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def _timed_out(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(UpstreamTimedOut(f"no data from the replica for {self._read_timeout_s:g} s"))

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _fail(self, exc: Exception) -> None:
        if self._error is None:
            self._error = exc
        self._wake()


class _RawResponse:
    def __init__(self, conn: _Connection, release: _Release) -> None:
        self._conn = conn
        self._release = release
        self.status = conn.status
        self.headers = conn.headers
        self._done = False

    async def chunks(self) -> AsyncIterator[bytes]:
        while (chunk := await self._conn.next_chunk()) is not None:
            yield chunk

    async def aclose(self) -> None:
        if not self._done:  # synchronous bookkeeping: safe under cancellation
            self._done = True
            self._release(self._conn)


class _Release:
    """Gives a connection back to its pool (or closes it) and frees its slot."""

    def __init__(self, client: RawUpstream, key: tuple[str, int]) -> None:
        self._client = client
        self._key = key

    def __call__(self, conn: _Connection) -> None:
        self._client._give_back(self._key, conn)


class RawUpstream:
    """Pooled keep-alive connections per replica, at most `max_connections` busy at once."""

    def __init__(self, limits: ClientLimits | None = None) -> None:
        self._limits = limits or ClientLimits()
        self._idle: dict[tuple[str, int], deque[_Connection]] = {}
        self._idle_count = 0
        self._slots = asyncio.Semaphore(self._limits.max_connections)
        self._releases: dict[tuple[str, int], _Release] = {}
        self._closed = False

    async def open(
        self, method: str, url: str, headers: list[tuple[bytes, bytes]], body: Body
    ) -> _RawResponse:
        host, port, target = _split_url(url)
        key = (host, port)
        head = _request_head(method, target, host, port, headers, body_length(body))
        await self._acquire_slot()
        try:
            conn = await self._send(key, head, body)
        except BaseException:
            self._slots.release()
            raise
        return _RawResponse(conn, self._releases.get(key) or self._release_for(key))

    async def aclose(self) -> None:
        self._closed = True
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()
        self._idle_count = 0

    # ------------------------------------------------------------------ internals
    async def _acquire_slot(self) -> None:
        if not self._slots.locked():
            await self._slots.acquire()  # free slot: returns without suspending
            return
        try:
            await asyncio.wait_for(self._slots.acquire(), self._limits.pool_timeout_s)
        except TimeoutError as exc:
            raise UpstreamConnectFailed(
                f"no free upstream connection within {self._limits.pool_timeout_s:g} s"
            ) from exc

    async def _send(self, key: tuple[str, int], head: bytes, body: Body) -> _Connection:
        """Write the request and wait for the response headers (one retry on a stale idle connection)."""
        conn = self._take_idle(key)
        if conn is not None:
            conn.send(head, body)
            try:
                await conn.headers_arrived()
                return conn
            except UpstreamConnectFailed:
                conn.close()
                if conn.received_any:
                    raise
                # The replica closed it as idle while we sent: once more, on a new connection.
            except BaseException:
                conn.close()
                raise
        conn = await self._connect(key)
        conn.send(head, body)
        try:
            await conn.headers_arrived()
        except BaseException:
            conn.close()
            raise
        return conn

    def _take_idle(self, key: tuple[str, int]) -> _Connection | None:
        conns = self._idle.get(key)
        if not conns:
            return None
        expiry = time.monotonic() - self._limits.keepalive_expiry_s
        while conns:
            conn = conns.pop()  # most recently used first: the likeliest to be alive
            self._idle_count -= 1
            if not conn.closed and conn.idle_since > expiry:
                conn._reset()
                return conn
            conn.close()
        return None

    async def _connect(self, key: tuple[str, int]) -> _Connection:
        loop = asyncio.get_running_loop()
        conn = _Connection(loop, self._limits.read_timeout_s)
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: conn, key[0], key[1]), self._limits.connect_timeout_s
            )
        except TimeoutError as exc:
            raise UpstreamConnectFailed(f"connect timeout ({self._limits.connect_timeout_s:g} s)") from exc
        except OSError as exc:
            raise UpstreamConnectFailed(f"cannot connect to {key[0]}:{key[1]}: {exc}") from exc
        return conn

    def _release_for(self, key: tuple[str, int]) -> _Release:
        release = self._releases[key] = _Release(self, key)
        return release

    def _give_back(self, key: tuple[str, int], conn: _Connection) -> None:
        self._slots.release()
        if self._closed or conn.closed or not conn.complete or not conn.reusable:
            conn.close()
            return
        if self._idle_count >= self._limits.max_keepalive:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        self._idle.setdefault(key, deque()).append(conn)
        self._idle_count += 1


def _split_url(url: str) -> tuple[str, int, str]:
    """`http://host:port/path?q` → (host, port, "/path?q"). Raises UpstreamConnectFailed otherwise."""
    if not url.startswith("http://"):
        raise UpstreamConnectFailed(f"the raw upstream client speaks plain http only, not {url.split(':', 1)[0]}")
    rest = url[7:]
    slash = rest.find("/")
    authority, target = (rest, "/") if slash < 0 else (rest[:slash], rest[slash:])
    host, sep, port = authority.rpartition(":")
    if not sep or not port.isdigit():
        host, port = authority, "80"
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port), target


def _request_head(
    method: str, target: str, host: str, port: int, headers: list[tuple[bytes, bytes]], length: int
) -> bytes:
    parts = [f"{method} {target} HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-length: {length}\r\n".encode("latin-1")]
    for name, value in headers:
        parts += (name, b": ", value, b"\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)
