"""Forwarding one OpenAI request to a replica: pick, send, retry before the first byte, stream.

Rules: a replica that does not answer (or answers 502/503/504) before the first byte is retried
once on another endpoint of the same model; streams pass through chunk by chunk; an upstream
failure after the first byte becomes one SSE error frame and `[DONE]`; a client disconnect
cancels the exchange and closes the upstream response. Must not import control/ or executors/.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import Receive, Send

from modelserve import errors
from modelserve.gateway.asgi import send_error
from modelserve.gateway.balancers import Balancer, BalanceRequest
from modelserve.gateway.clients import (
    UpstreamBroken,
    UpstreamClient,
    UpstreamConnectFailed,
    UpstreamResponse,
    UpstreamTimedOut,
)
from modelserve.gateway.headers import downstream_response_headers, replica_header
from modelserve.gateway.inflight import InFlight
from modelserve.gateway.metrics import GatewayMetrics
from modelserve.gateway.table import Endpoint, Route, ServedModel

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 2
RETRY_STATUSES = frozenset({502, 503, 504})
NO_REPLICA_RETRY_AFTER_S = 5.0
_DONE_FRAME = b"data: [DONE]\n\n"


@dataclass(frozen=True)
class Exchange:
    """One request ready to forward: where it goes and what is sent."""

    route: Route
    path: str  # upstream path with query string, e.g. "/v1/chat/completions"
    headers: list[tuple[bytes, bytes]]
    body: bytes
    stream: bool
    balance: BalanceRequest


class _Outcome:
    """What was answered so far; read by the accounting in `Proxy.forward`'s finally."""

    __slots__ = ("client_gone", "finished", "replica", "status")

    def __init__(self) -> None:
        self.client_gone = False
        self.replica = ""
        self.status = 499  # until a response starts: the client left first
        self.finished = False


@dataclass(frozen=True)
class _Meters:
    """Per-model metric children, looked up once (label lookups take a lock each time)."""

    active: Any
    upstream_latency: Any
    duration: Any


def error_frame(exc: errors.ModelServeError) -> bytes:
    """The SSE frame that ends a broken stream, followed by `[DONE]`."""
    return b"data: " + json.dumps(exc.envelope()).encode() + b"\n\n" + _DONE_FRAME


async def _watch_disconnect(receive: Receive, task: asyncio.Task[Any], out: _Outcome) -> None:
    """Wait for `http.disconnect` (the body is already read); cancel `task` if it is still answering.

    A plain task instead of a task group: it is on every request's path and costs far less.
    """
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            if not out.finished:
                out.client_gone = True
                task.cancel()
            return


class Proxy:
    """Forwards exchanges; owns nothing but references to the gateway's shared state."""

    def __init__(
        self,
        client: Callable[[], UpstreamClient],
        inflight: InFlight,
        metrics: GatewayMetrics,
        balancer_for: Callable[[ServedModel], Balancer],
    ) -> None:
        self._client = client
        self._inflight = inflight
        self._metrics = metrics
        self._balancer_for = balancer_for
        self._meter_cache: dict[str, _Meters] = {}

    def _meters(self, model: str) -> _Meters:
        meters = self._meter_cache.get(model)
        if meters is None:
            m = self._metrics
            meters = _Meters(
                m.active.labels(model), m.upstream_latency.labels(model), m.duration.labels(model)
            )
            self._meter_cache[model] = meters
        return meters

    async def forward(self, x: Exchange, receive: Receive, send: Send) -> None:
        """Answer `x` on `send`. Never raises for upstream trouble; it answers an envelope instead.

        A client disconnect cancels this task (see `_watch_disconnect`); the cancellation is absorbed
        here once the upstream response is closed and the counters are settled.
        """
        model = x.route.model
        out = _Outcome()
        started = time.perf_counter()
        self._inflight.enter_run(model.run_id)
        meters = self._meters(model.model)
        meters.active.inc()
        task = asyncio.current_task()
        assert task is not None
        watcher = asyncio.get_running_loop().create_task(_watch_disconnect(receive, task, out))
        try:
            await self._attempts(x, send, out)
        except asyncio.CancelledError:
            if not out.client_gone:
                raise
            if hasattr(task, "uncancel"):  # 3.11+: keep the task's cancel count honest
                task.uncancel()
        finally:
            watcher.cancel()
            meters.active.dec()
            self._inflight.leave_run(model.run_id)
            self._metrics.requests.labels(model.model, out.replica, str(out.status)).inc()
            meters.duration.observe(time.perf_counter() - started)

    async def _attempts(self, x: Exchange, send: Send, out: _Outcome) -> None:
        model = x.route.model
        tried: list[Endpoint] = []
        for attempt in range(MAX_ATTEMPTS):
            candidates = [ep for ep in model.endpoints if ep not in tried]
            if not candidates:
                break
            ep = self._balancer_for(model).pick(candidates, self._inflight.by_endpoint, x.balance)
            tried.append(ep)
            out.replica = ep.replica
            can_retry = attempt + 1 < MAX_ATTEMPTS and len(candidates) > 1
            self._inflight.enter_endpoint(ep)
            try:
                if await self._attempt(x, ep, send, out, can_retry):
                    return
            finally:
                self._inflight.leave_endpoint(ep)
        if not tried:
            await self._answer_error(
                send,
                out,
                errors.NotReady(
                    f"The model '{model.model}' has no ready replica yet.",
                    code="no_ready_replica",
                    retry_after=NO_REPLICA_RETRY_AFTER_S,
                ),
            )
            return
        await self._answer_error(
            send,
            out,
            errors.UpstreamError(
                f"No replica of the model '{model.model}' answered ({len(tried)} tried).",
                code="upstream_unavailable",
            ),
        )

    async def _attempt(self, x: Exchange, ep: Endpoint, send: Send, out: _Outcome, can_retry: bool) -> bool:
        """One try on `ep`. True when the client got its answer; False to try another endpoint."""
        model = x.route.model.model
        sent_at = time.perf_counter()
        try:
            response = await self._client().open("POST", ep.url + x.path, x.headers, x.body)
        except UpstreamConnectFailed as exc:
            self._upstream_failed(model, ep, "connect", exc)
            return False
        except UpstreamTimedOut as exc:
            self._upstream_failed(model, ep, "timeout", exc)
            await self._answer_error(send, out, _timeout(model))
            return True
        try:
            self._meters(model).upstream_latency.observe(time.perf_counter() - sent_at)
            if response.status in RETRY_STATUSES and can_retry:
                self._upstream_failed(model, ep, "status", f"HTTP {response.status}")
                return False
            if x.stream and response.status < 400:
                return await self._relay_stream(model, response, ep, send, out, can_retry)
            return await self._relay_whole(model, response, ep, send, out, can_retry)
        finally:
            await response.aclose()  # both clients shield their own pool bookkeeping

    async def _relay_whole(
        self,
        model: str,
        response: UpstreamResponse,
        ep: Endpoint,
        send: Send,
        out: _Outcome,
        can_retry: bool,
    ) -> bool:
        try:
            body = b"".join([chunk async for chunk in response.chunks()])
        except UpstreamBroken as exc:
            self._upstream_failed(model, ep, "midstream", exc)
            if can_retry:
                return False
            await self._answer_error(send, out, _broken(ep))
            return True
        except UpstreamTimedOut as exc:
            self._upstream_failed(model, ep, "timeout", exc)
            await self._answer_error(send, out, _timeout(model))
            return True
        headers = downstream_response_headers(response.headers, ep.replica)
        out.status = response.status
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body, "more_body": False})
        out.finished = True
        return True

    async def _relay_stream(
        self,
        model: str,
        response: UpstreamResponse,
        ep: Endpoint,
        send: Send,
        out: _Outcome,
        can_retry: bool,
    ) -> bool:
        chunks = response.chunks().__aiter__()
        try:
            first = await anext(chunks, b"")
        except (UpstreamBroken, UpstreamTimedOut) as exc:
            # Nothing reached the client yet: still a clean error (or a retry), not an error frame.
            if isinstance(exc, UpstreamTimedOut):
                self._upstream_failed(model, ep, "timeout", exc)
                await self._answer_error(send, out, _timeout(model))
                return True
            self._upstream_failed(model, ep, "midstream", exc)
            if can_retry:
                return False
            await self._answer_error(send, out, _broken(ep))
            return True
        out.status = response.status
        headers = downstream_response_headers(response.headers, ep.replica)
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        last = first
        if first:
            await send({"type": "http.response.body", "body": first, "more_body": True})
        try:
            async for chunk in chunks:
                if chunk:
                    last = chunk
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except (UpstreamBroken, UpstreamTimedOut) as exc:
            self._upstream_failed(model, ep, "midstream", exc)
            # Terminate a half-written event first so the error frame parses on its own.
            lead = b"" if last.endswith(b"\n\n") or not last else b"\n\n"
            await send(
                {"type": "http.response.body", "body": lead + error_frame(_broken(ep)), "more_body": True}
            )
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        out.finished = True
        return True

    async def _answer_error(self, send: Send, out: _Outcome, exc: errors.ModelServeError) -> None:
        out.status = exc.status
        await send_error(send, exc, replica_header(out.replica))
        out.finished = True

    def _upstream_failed(self, model: str, ep: Endpoint, kind: str, detail: object) -> None:
        self._metrics.upstream_errors.labels(model, ep.replica, kind).inc()
        log.warning("upstream %s failure on replica %s (%s): %s", kind, ep.replica, ep.url, detail)


def _timeout(what: str) -> errors.UpstreamTimeout:
    return errors.UpstreamTimeout(
        f"The replica serving '{what}' did not answer in time.", code="upstream_timeout"
    )


def _broken(ep: Endpoint) -> errors.UpstreamError:
    return errors.UpstreamError(
        f"The replica {ep.replica} failed while answering.", code="upstream_stream_error"
    )


__all__ = ["Exchange", "Proxy", "error_frame"]
