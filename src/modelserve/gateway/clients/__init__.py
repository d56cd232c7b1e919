"""Upstream HTTP clients by name; a new library is a new file and one entry in `CLIENTS`."""

from __future__ import annotations

from collections.abc import Callable

from modelserve.gateway.clients.base import (
    ClientLimits,
    UpstreamBroken,
    UpstreamClient,
    UpstreamConnectFailed,
    UpstreamResponse,
    UpstreamTimedOut,
)
from modelserve.gateway.clients.httpx_client import HttpxUpstream

CLIENTS: dict[str, Callable[[ClientLimits], UpstreamClient]] = {
    "httpx": HttpxUpstream,
}

try:  # aiohttp is optional: measured against httpx in benchmarks/gateway.
    from modelserve.gateway.clients.aiohttp_client import AiohttpUpstream
except ImportError:  # pragma: no cover - depends on the environment
    pass
else:
    CLIENTS["aiohttp"] = AiohttpUpstream

try:  # httptools comes with uvicorn[standard]
    from modelserve.gateway.clients.raw_client import RawUpstream
except ImportError:  # pragma: no cover - depends on the environment
    pass
else:
    CLIENTS["raw"] = RawUpstream

_PREFERENCE = ("raw", "aiohttp", "httpx")


def default_client() -> str:
    """The cheapest installed client per request (benchmarks/RESULTS.md, "Gateway overhead"):
    raw (asyncio protocols + httptools), then aiohttp, then httpx."""
    return next(name for name in _PREFERENCE if name in CLIENTS)


def make_client(name: str, limits: ClientLimits) -> UpstreamClient:
    """A new pooled client ("auto" = `default_client()`). Raises KeyError naming the known clients
    when `name` is unknown."""
    if name == "auto":
        name = default_client()
    try:
        factory = CLIENTS[name]
    except KeyError:
        raise KeyError(f"unknown upstream client {name!r}; known: {sorted(CLIENTS)}") from None
    return factory(limits)


__all__ = [
    "CLIENTS",
    "ClientLimits",
    "HttpxUpstream",
    "UpstreamBroken",
    "UpstreamClient",
    "UpstreamConnectFailed",
    "UpstreamResponse",
    "UpstreamTimedOut",
    "default_client",
    "make_client",
]
