"""Relaying one upstream response to the client: whole bodies, and streams chunk by chunk.

Each function answers the client or reports that nothing reached it yet (so the request may be
retried on another replica). Failures are reported to `on_failure(kind, detail)`.
"""

from __future__ import annotations

from collections.abc import Callable

from modelserve import errors
from modelserve.gateway.clients import UpstreamBroken, UpstreamResponse, UpstreamTimedOut
from modelserve.gateway.headers import downstream_response_headers
from modelserve.gateway.reply import DONE_FRAME, Reply, error_frame
from modelserve.gateway.table import Endpoint
from modelserve.gateway.usage import UsageTap

Failure = Callable[[str, object], None]


def timeout_error(what: str) -> errors.UpstreamTimeout:
    return errors.UpstreamTimeout(
        f"The replica serving '{what}' did not answer in time.", code="upstream_timeout"
    )


def broken_error(ep: Endpoint) -> errors.UpstreamError:
    return errors.UpstreamError(
        f"The replica {ep.replica} failed while answering.", code="upstream_stream_error"
    )


async def relay_whole(
    model: str,
    response: UpstreamResponse,
    ep: Endpoint,
    reply: Reply,
    tap: UsageTap,
    can_retry: bool,
    on_failure: Failure,
) -> bool:
    """Read the whole body, then answer it. False: it broke before any byte and may be retried."""
    try:
        body = b"".join([chunk async for chunk in response.chunks()])
    except UpstreamBroken as exc:
        on_failure("midstream", exc)
        if can_retry:
            return False
        await reply.error(broken_error(ep))
        return True
    except UpstreamTimedOut as exc:
        on_failure("timeout", exc)
        await reply.error(timeout_error(model))
        return True
    if response.status < 400:
        tap.whole(body)
    if reply.committed:
        # A held stream already answered 200: an upstream error becomes an in-band frame.
        await reply.body(_as_frame(body, response.status, ep), False)
        return True
    headers = downstream_response_headers(response.headers, ep.replica)
    headers.append((b"content-length", str(len(body)).encode()))
    await reply.start(response.status, headers)
    await reply.body(body, False)
    return True


async def relay_stream(
    model: str,
    response: UpstreamResponse,
    ep: Endpoint,
    reply: Reply,
    tap: UsageTap,
    can_retry: bool,
    on_failure: Failure,
) -> bool:
    """Pass SSE chunks through as they arrive. False: it broke before the first chunk."""
    chunks = response.chunks().__aiter__()
    try:
        first = await anext(chunks, b"")
    except UpstreamTimedOut as exc:
        on_failure("timeout", exc)
        await reply.error(timeout_error(model))
        return True
    except UpstreamBroken as exc:
        # Nothing reached the client yet: still a clean error (or a retry), not an error frame.
        on_failure("midstream", exc)
        if can_retry:
            return False
        await reply.error(broken_error(ep))
        return True
    await reply.start(response.status, downstream_response_headers(response.headers, ep.replica))
    last = first
    out = tap.stream(first)
    if out:
        await reply.body(out, True)
    try:
        async for chunk in chunks:
            if chunk:
                last = chunk
                out = tap.stream(chunk)
                if out:
                    await reply.body(out, True)
    except (UpstreamBroken, UpstreamTimedOut) as exc:
        on_failure("midstream", exc)
        # Terminate a half-written event first so the error frame parses on its own.
        lead = b"" if not last or last.endswith(b"\n\n") else b"\n\n"
        await reply.body(tap.flush() + lead, True)
        await reply.error(broken_error(ep))
        return True
    await reply.body(tap.flush(), False)
    return True


def _as_frame(body: bytes, status: int, ep: Endpoint) -> bytes:
    """An upstream answer turned into SSE frames: its JSON as one event (an error envelope when it
    failed), then [DONE]."""
    text = body.strip()
    if status >= 400 and not text.startswith(b"{"):
        exc = errors.UpstreamError(f"The replica {ep.replica} answered HTTP {status}.", code="upstream_error")
        return error_frame(exc)
    return b"data: " + text.replace(b"\n", b" ") + b"\n\n" + DONE_FRAME
