"""The upstream HTTP client seam: open one request to an engine replica, stream its response.

Implementations (one file each) map their library's exceptions onto the three below, so the
proxy's retry and streaming rules do not depend on the library.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

# A request body: bytes, or segments sent back to back (a rewritten upload, not copied whole).
Body = bytes | tuple[memoryview, ...]


def body_length(body: Body) -> int:
    return len(body) if isinstance(body, bytes) else sum(len(part) for part in body)


async def body_segments(body: tuple[memoryview, ...]) -> AsyncIterator[bytes]:
    for part in body:
        yield part  # type: ignore[misc]  # both clients write buffers as they are


class UpstreamConnectFailed(Exception):
    """Nothing was received from the replica (refused, reset, closed before headers). Retryable."""


class UpstreamTimedOut(Exception):
    """The replica accepted the request but did not answer (or stalled) within the read timeout."""


class UpstreamBroken(Exception):
    """The replica's response failed after its headers arrived."""


@dataclass(frozen=True)
class ClientLimits:
    """Pool and timeout sizing shared by every implementation."""

    read_timeout_s: float = 600.0
    connect_timeout_s: float = 10.0
    write_timeout_s: float = 60.0
    pool_timeout_s: float = 30.0
    max_connections: int = 1024
    max_keepalive: int = 1024
    # Below the 5 s keep-alive of uvicorn-based engines (vLLM, the built-in engine): reusing a
    # connection the server is closing fails the request before any byte.
    keepalive_expiry_s: float = 4.0


class UpstreamResponse(Protocol):
    """A response whose headers have arrived; the body is read with `chunks()` or not at all."""

    status: int
    headers: list[tuple[bytes, bytes]]  # lower-case names

    def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, undecoded. Raises UpstreamBroken / UpstreamTimedOut."""
        ...

    async def aclose(self) -> None:
        """Release the connection (closing it when the body was not fully read). Idempotent."""
        ...


class UpstreamClient(Protocol):
    """A pooled client; one per gateway, closed by `aclose()` at shutdown."""

    async def open(
        self, method: str, url: str, headers: list[tuple[bytes, bytes]], body: Body
    ) -> UpstreamResponse:
        """Send the request and wait for response headers. The caller must `aclose()` the result.

        Raises UpstreamConnectFailed or UpstreamTimedOut.
        """
        ...

    async def aclose(self) -> None: ...
