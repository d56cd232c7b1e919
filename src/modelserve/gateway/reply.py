"""The client side of one exchange: what has been sent so far, and how an error is answered.

Before the response starts an error is a status plus the OpenAI envelope. A held streaming request
may be committed early (200, `text/event-stream`, keep-alive comments); after that, as after the
first byte of any stream, an error is one `data: {"error": ...}` frame then `data: [DONE]`.
"""

from __future__ import annotations

import json
import time

from starlette.types import Send

from modelserve import errors
from modelserve.gateway.asgi import send_error
from modelserve.gateway.headers import replica_header

DONE_FRAME = b"data: [DONE]\n\n"
KEEPALIVE_FRAME = b": keep-alive\n\n"
_SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


def error_frame(exc: errors.ModelServeError) -> bytes:
    """The SSE frame that ends a broken stream, followed by `[DONE]`."""
    return b"data: " + json.dumps(exc.envelope()).encode() + b"\n\n" + DONE_FRAME


class Reply:
    """Wraps ASGI `send` for one request. `status` is what the client got (499: it left first)."""

    __slots__ = (
        "_send",
        "client_gone",
        "committed",
        "finished",
        "first_byte_at",
        "replica",
        "started",
        "status",
    )

    def __init__(self, send: Send) -> None:
        self._send = send
        self.client_gone = False
        self.replica = ""
        self.status = 499
        self.started = False  # http.response.start was sent
        self.committed = False  # started early as an SSE stream while the request was held
        self.finished = False
        self.first_byte_at = 0.0  # perf_counter of the first body byte that is not a keep-alive

    async def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        """Send the response head (skipped when a held stream already committed to 200)."""
        if self.started:
            return
        self.status = status
        self.started = True
        await self._send({"type": "http.response.start", "status": status, "headers": headers})

    async def body(self, chunk: bytes, more: bool) -> None:
        if chunk and not self.first_byte_at:
            self.first_byte_at = time.perf_counter()
        await self._send({"type": "http.response.body", "body": chunk, "more_body": more})
        if not more:
            self.finished = True

    async def keepalive(self) -> None:
        """Commit a held streaming request to 200 SSE (once) and send one keep-alive comment."""
        if not self.started:
            self.committed = True
            await self.start(200, list(_SSE_HEADERS))
        await self._send({"type": "http.response.body", "body": KEEPALIVE_FRAME, "more_body": True})

    async def error(self, exc: errors.ModelServeError) -> None:
        """Answer `exc`: an envelope with its status, or in-band when the response already started."""
        if self.started:
            await self.body(error_frame(exc), False)
            return
        self.status = exc.status
        self.started = True
        await send_error(self._send, exc, replica_header(self.replica))
        self.finished = True
