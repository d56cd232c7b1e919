"""Small pure-ASGI helpers for the gateway's endpoints: read a body, answer JSON or an error envelope."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from starlette.types import Receive, Send

from modelserve import errors

JSON_TYPE = b"application/json"


class ClientGone(Exception):
    """The client disconnected before its request body arrived."""


async def read_body(receive: Receive) -> bytes:
    """The whole request body. Raises ClientGone when the client disconnects first."""
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk = message.get("body", b"")
        if chunk:
            parts.append(chunk)
        if not message.get("more_body", False):
            break
    return parts[0] if len(parts) == 1 else b"".join(parts)


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    headers: Iterable[tuple[bytes, bytes]] = (),
    content_type: bytes = JSON_TYPE,
) -> None:
    """Send a complete response with content-type and content-length."""
    raw = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_json(
    send: Send, status: int, payload: Any, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    await send_bytes(send, status, json.dumps(payload).encode(), headers)


async def send_error(
    send: Send, exc: errors.ModelServeError, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """Answer the OpenAI error envelope with the error's status and headers (e.g. Retry-After)."""
    extra = [(k.lower().encode(), v.encode()) for k, v in exc.headers().items()]
    await send_json(send, exc.status, exc.envelope(), [*extra, *headers])
