"""Which headers cross the gateway: hop-by-hop and host never do; the upstream is asked not to
compress (loopback bytes are cheap, and the gateway may append an SSE error frame)."""

from __future__ import annotations

from collections.abc import Iterable

REPLICA_HEADER = b"x-modelserve-replica"

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)
_DROP_REQUEST = HOP_BY_HOP | {b"host", b"content-length", b"accept-encoding", b"expect"}
# The ASGI server writes its own date/server; content-length is recomputed or absent (streams).
_DROP_RESPONSE = HOP_BY_HOP | {b"content-length", b"date", b"server", REPLICA_HEADER}


def upstream_request_headers(client_headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Client headers (ASGI: lower-case names) fit to forward, plus `accept-encoding: identity`."""
    out = [(k, v) for k, v in client_headers if k not in _DROP_REQUEST]
    out.append((b"accept-encoding", b"identity"))
    return out


def downstream_response_headers(
    upstream_headers: Iterable[tuple[bytes, bytes]], replica: str
) -> list[tuple[bytes, bytes]]:
    """Upstream response headers fit to return to the client, plus the replica header."""
    out = [(k, v) for k, v in upstream_headers if k not in _DROP_RESPONSE]
    out.append((REPLICA_HEADER, replica.encode()))
    return out


def replica_header(replica: str) -> list[tuple[bytes, bytes]]:
    return [(REPLICA_HEADER, replica.encode())] if replica else []
