"""RawUpstream against small scripted HTTP servers: keep-alive reuse, a stale idle connection
retried once, chunked and content-length bodies, timeouts, malformed answers, pool limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from modelserve.gateway.clients.base import (
    ClientLimits,
    UpstreamBroken,
    UpstreamConnectFailed,
    UpstreamTimedOut,
)
from modelserve.gateway.clients.raw_client import RawUpstream, _split_url

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


class Server:
    """Counts connections; `handler(reader, writer, connection_number)` answers each one."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.url = ""
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer, self.connections)
        finally:
            writer.close()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    return head + await reader.readexactly(length)


def ok(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)


async def echo_forever(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
    """Keep-alive: answer every request on the connection with its own body."""
    while True:
        try:
            request = await read_request(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        writer.write(ok(request.split(b"\r\n\r\n", 1)[1]))
        await writer.drain()


@pytest.fixture
async def client() -> AsyncIterator[RawUpstream]:
    c = RawUpstream(ClientLimits(read_timeout_s=0.5, pool_timeout_s=0.3, max_connections=2))
    yield c
    await c.aclose()


async def fetch(client: RawUpstream, url: str, body: bytes = b"hi") -> tuple[int, bytes]:
    response = await client.open("POST", url + "/v1/x", [(b"x-a", b"1")], body)
    try:
        return response.status, b"".join([c async for c in response.chunks()])
    finally:
        await response.aclose()


async def test_keep_alive_connections_are_reused(client: RawUpstream) -> None:
    async with Server(echo_forever) as server:
        for i in range(5):
            assert await fetch(client, server.url, b"n%d" % i) == (200, b"n%d" % i)
        assert server.connections == 1


async def test_segmented_bodies_are_sent_back_to_back(client: RawUpstream) -> None:
    async with Server(echo_forever) as server:
        body = (memoryview(b"abc"), memoryview(b"def"))
        response = await client.open("POST", server.url + "/v1/x", [], body)
        assert b"".join([c async for c in response.chunks()]) == b"abcdef"
        await response.aclose()


async def test_a_connection_the_server_dropped_as_idle_is_retried_once(client: RawUpstream) -> None:
    async def once_per_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(ok(b"conn%d" % n))  # no `connection: close`, yet closes: an idle timeout
        await writer.drain()

    async with Server(once_per_connection) as server:
        assert await fetch(client, server.url) == (200, b"conn1")
        await asyncio.sleep(0.05)  # the close reaches the client... or not: both must work
        assert await fetch(client, server.url) == (200, b"conn2")
        assert server.connections == 2


async def test_chunked_bodies_stream_piece_by_piece(client: RawUpstream) -> None:
    release = asyncio.Event()

    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        await release.wait()
        writer.write(b"6\r\nsecond\r\n0\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.2)

    async with Server(chunked) as server:
        response = await client.open("POST", server.url + "/v1/x", [], b"")
        assert (response.status, dict(response.headers)[b"transfer-encoding"]) == (200, b"chunked")
        chunks = response.chunks().__aiter__()
        assert await anext(chunks) == b"first"  # before the server sent the rest
        release.set()
        assert b"".join([c async for c in chunks]) == b"second"
        await response.aclose()


async def test_a_silent_server_times_out(client: RawUpstream) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        await asyncio.sleep(2)

    async with Server(silent) as server:
        with pytest.raises(UpstreamTimedOut, match="no data from the replica"):
            await fetch(client, server.url)


async def test_a_response_cut_after_its_headers_is_broken(client: RawUpstream) -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this")
        await writer.drain()

    async with Server(cut) as server:
        with pytest.raises(UpstreamBroken, match="cut short"):
            await fetch(client, server.url)


async def test_garbage_instead_of_http_is_not_an_answer(client: RawUpstream) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()

    async with Server(garbage) as server:
        with pytest.raises((UpstreamBroken, UpstreamConnectFailed)):
            await fetch(client, server.url)


async def test_nothing_listening_is_a_connect_failure(client: RawUpstream) -> None:
    async with Server(echo_forever) as server:
        url = server.url
    with pytest.raises(UpstreamConnectFailed, match="cannot connect"):
        await fetch(client, url)


async def test_busy_pool_waits_then_fails_after_the_pool_timeout(client: RawUpstream) -> None:
    async with Server(echo_forever) as server:
        held = [await client.open("POST", server.url + "/v1/x", [], b"a") for _ in range(2)]
        with pytest.raises(UpstreamConnectFailed, match="no free upstream connection"):
            await fetch(client, server.url)
        await held[0].aclose()  # a slot frees: the next request goes through
        assert await fetch(client, server.url, b"b") == (200, b"b")
        await held[1].aclose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8000/v1/chat/completions", ("127.0.0.1", 8000, "/v1/chat/completions")),
        ("http://engine.ns.svc/v1/models?x=1", ("engine.ns.svc", 80, "/v1/models?x=1")),
        ("http://[::1]:9000/health", ("::1", 9000, "/health")),
        ("http://host:81", ("host", 81, "/")),
    ],
)
def test_split_url(url: str, expected: tuple[str, int, str]) -> None:
    assert _split_url(url) == expected


def test_https_is_refused_with_a_clear_reason() -> None:
    with pytest.raises(UpstreamConnectFailed, match="plain http only"):
        _split_url("https://engine:443/v1/x")
