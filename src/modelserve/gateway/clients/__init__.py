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


def default_client() -> str:
    """aiohttp when installed: on loopback it sustains several times httpx's request rate once
    dozens of requests are in flight (benchmarks/RESULTS.md, "Gateway overhead"); else httpx."""
    return "aiohttp" if "aiohttp" in CLIENTS else "httpx"


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
