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


def make_client(name: str, limits: ClientLimits) -> UpstreamClient:
    """A new pooled client. Raises KeyError naming the known clients when `name` is unknown."""
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
    "make_client",
]
