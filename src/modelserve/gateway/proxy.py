"""Forwarding one OpenAI request to a replica: hold while none is ready, pick, send, retry, relay.

Rules: with no ready replica the request is held (bounded; see `hold`); a replica that refuses
the connection or answers 500/502/503/504 before the first byte is cooled down and the request
retried on another replica (one try per replica, at most `MAX_TRIES`); streams pass through chunk
by chunk; after the first byte a failure is one SSE error frame and `[DONE]`; a client disconnect
cancels the exchange and closes the upstream response. Must not import control/ or executors/.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import Receive, Send

from modelserve import errors
from modelserve.gateway.balancers import Balancer, BalanceRequest
from modelserve.gateway.clients import UpstreamClient, UpstreamConnectFailed, UpstreamTimedOut
from modelserve.gateway.clients.base import Body
from modelserve.gateway.cooldown import Cooldowns
from modelserve.gateway.hold import WaitingRoom
from modelserve.gateway.inflight import InFlight
from modelserve.gateway.metrics import GatewayMetrics
from modelserve.gateway.relay import relay_stream, relay_whole, timeout_error
from modelserve.gateway.reply import Reply
from modelserve.gateway.table import Endpoint, Route, ServedModel
from modelserve.gateway.usage import UsageRecord, UsageSink, UsageTap

log = logging.getLogger(__name__)

MAX_TRIES = 3
RETRY_STATUSES = frozenset({500, 502, 503, 504})
NO_REPLICA_RETRY_AFTER_S = 5.0


@dataclass(frozen=True)
class Exchange:
    """One request ready to forward: where it goes and what is sent."""

    route: Route
    path: str  # upstream path with query string, e.g. "/v1/chat/completions"
    headers: list[tuple[bytes, bytes]]
    body: Body
    stream: bool
    balance: BalanceRequest
    strip_usage: bool = False  # the gateway asked for stream usage the client did not want
    key_id: str | None = None


@dataclass(frozen=True)
class ProxyPolicy:
    """How long to hold, how often to keep a held stream alive."""

    hold_timeout_s: float = 120.0
    keepalive_s: float = 5.0


class Proxy:
    """Forwards exchanges; owns nothing but references to the gateway's shared state."""

    def __init__(
        self,
        client: Callable[[], UpstreamClient],
        inflight: InFlight,
        metrics: GatewayMetrics,
        balancer_for: Callable[[ServedModel], Balancer],
        current: Callable[[str], ServedModel | None],
        room: WaitingRoom,
        cooldowns: Cooldowns,
        policy: ProxyPolicy,
        usage_sink: UsageSink | None = None,
    ) -> None:
        self._client = client
        self._inflight = inflight
        self._metrics = metrics
        self._balancer_for = balancer_for
        self._current = current
        self._room = room
        self._cooldowns = cooldowns
        self._policy = policy
        self._usage_sink = usage_sink

    async def forward(self, x: Exchange, receive: Receive, send: Send) -> None:
        """Answer `x` on `send`. Never raises for upstream trouble; it answers an envelope instead.

        A client disconnect cancels this task (see `_watch_disconnect`); the cancellation is absorbed
        here once the upstream response is closed and the counters are settled.
        """
        model = x.route.model
        reply = Reply(send)
        tap = UsageTap(strip=x.strip_usage)
        started = time.perf_counter()
        self._inflight.enter_run(model.run_id)
        active = self._metrics.meters(model.model).active
        active.inc()
        task = asyncio.current_task()
        assert task is not None
        watcher = asyncio.get_running_loop().create_task(_watch_disconnect(receive, task, reply))
        try:
            await self._serve(x, reply, tap, started)
        except asyncio.CancelledError:
            if not reply.client_gone:
                raise
            if hasattr(task, "uncancel"):  # 3.11+: keep the task's cancel count honest
                task.uncancel()
        finally:
            watcher.cancel()
            active.dec()
            self._inflight.leave_run(model.run_id)
            self._account(x, reply, tap, started)

    async def _serve(self, x: Exchange, reply: Reply, tap: UsageTap, started: float) -> None:
        deadline = started + self._policy.hold_timeout_s
        tried: set[Endpoint] = set()
        failed: Endpoint | None = None
        while len(tried) < MAX_TRIES:
            try:
                model = await self._ready(x, reply, deadline)
            except errors.ModelServeError as exc:
                await reply.error(exc)
                return
            eligible = [ep for ep in model.endpoints if ep.serves(x.route.adapter) and ep not in tried]
            if not eligible:
                break
            ep = self._balancer_for(model).pick(
                self._cooldowns.usable(eligible), self._inflight.by_endpoint, x.balance
            )
            if failed is not None:
                self._metrics.retries.labels(model.model, failed.replica).inc()
            tried.add(ep)
            reply.replica = ep.replica
            can_retry = len(tried) < MAX_TRIES and len(eligible) > 1
            self._inflight.enter_endpoint(ep)
            try:
                if await self._attempt(x, ep, reply, tap, can_retry):
                    return
            finally:
                self._inflight.leave_endpoint(ep)
            failed = ep
        await reply.error(
            errors.UpstreamError(
                f"No replica of the model '{x.route.model.model}' answered ({len(tried)} tried).",
                code="upstream_unavailable",
            )
        )

    async def _ready(self, x: Exchange, reply: Reply, deadline: float) -> ServedModel:
        """The run's current model once it has a replica for the request; holds until then.

        Raises errors.NotFound (the run left the table), errors.Overloaded (too many held) or
        errors.NotReady (the hold timed out, or the control plane refused to start a replica).
        """
        run_id, adapter = x.route.model.run_id, x.route.adapter
        model = self._current(run_id)
        if model is None:
            raise _gone(x.route.model)
        if any(ep.serves(adapter) for ep in model.endpoints):
            return model
        held_at = time.perf_counter()
        with self._room.enter(run_id, demand=not model.endpoints):
            try:
                return await self._hold(x, reply, deadline)
            finally:
                self._metrics.meters(x.route.model.model).hold_wait.observe(time.perf_counter() - held_at)

    async def _hold(self, x: Exchange, reply: Reply, deadline: float) -> ServedModel:
        run_id, adapter = x.route.model.run_id, x.route.adapter
        keepalive_at = time.perf_counter() + self._policy.keepalive_s if x.stream else float("inf")
        while True:
            changed = self._room.changed()  # taken before the check: no change can slip between
            model = self._current(run_id)
            if model is None:
                raise _gone(x.route.model)
            if any(ep.serves(adapter) for ep in model.endpoints):
                return model
            failure = self._room.failure(run_id)
            if failure is not None:
                raise failure
            left = deadline - time.perf_counter()
            if left <= 0:
                raise errors.NotReady(
                    f"The model '{x.route.model.model}' has no ready replica yet.",
                    code="no_ready_replica",
                    retry_after=NO_REPLICA_RETRY_AFTER_S,
                )
            if keepalive_at <= time.perf_counter():
                # Table changes (several a second while requests are held) do not delay this.
                await reply.keepalive()
                keepalive_at = time.perf_counter() + self._policy.keepalive_s
            wait = min(deadline, keepalive_at) - time.perf_counter()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), max(wait, 0.0))

    async def _attempt(self, x: Exchange, ep: Endpoint, reply: Reply, tap: UsageTap, can_retry: bool) -> bool:
        """One try on `ep`. True when the client got its answer; False to try another endpoint."""
        model = x.route.model.model
        sent_at = time.perf_counter()

        def failed(kind: str, detail: object) -> None:
            self._upstream_failed(model, ep, kind, detail)

        try:
            response = await self._client().open("POST", ep.url + x.path, x.headers, x.body)
        except UpstreamConnectFailed as exc:
            failed("connect", exc)
            self._cooldowns.failed(ep)
            return False
        except UpstreamTimedOut as exc:
            failed("timeout", exc)
            await reply.error(timeout_error(model))
            return True
        try:
            self._metrics.meters(model).upstream_latency.observe(time.perf_counter() - sent_at)
            if response.status in RETRY_STATUSES:
                self._cooldowns.failed(ep)
                if can_retry:
                    failed("status", f"HTTP {response.status}")
                    return False
            relay = relay_stream if x.stream and response.status < 400 else relay_whole
            done = await relay(model, response, ep, reply, tap, can_retry, failed)
            if not done:
                self._cooldowns.failed(ep)
            return done
        finally:
            await response.aclose()  # both clients shield their own pool bookkeeping

    def _upstream_failed(self, model: str, ep: Endpoint, kind: str, detail: object) -> None:
        self._metrics.upstream_errors.labels(model, ep.replica, kind).inc()
        log.warning("upstream %s failure on replica %s (%s): %s", kind, ep.replica, ep.url, detail)

    def _account(self, x: Exchange, reply: Reply, tap: UsageTap, started: float) -> None:
        """Metrics and the usage record of a finished exchange. Never raises."""
        model = x.route.model
        self._metrics.observe(model.model, reply.replica, reply.status, started, reply.first_byte_at, tap)
        if self._usage_sink is None:
            return
        record = UsageRecord(
            run_id=model.run_id,
            model=model.model,
            replica=reply.replica,
            key_id=x.key_id,
            prompt_tokens=tap.prompt_tokens,
            completion_tokens=tap.completion_tokens,
            status=reply.status,
            adapter=x.route.adapter,
        )
        try:
            self._usage_sink(record)
        except Exception:
            log.warning("usage sink failed for a request of run %s", model.run_id, exc_info=True)


async def _watch_disconnect(receive: Receive, task: asyncio.Task[Any], reply: Reply) -> None:
    """Wait for `http.disconnect` (the body is already read); cancel `task` if it is still answering.

    A plain task instead of a task group: it is on every request's path and costs far less.
    """
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            if not reply.finished:
                reply.client_gone = True
                task.cancel()
            return


def _gone(model: ServedModel) -> errors.NotFound:
    return errors.NotFound(
        f"The model '{model.model}' is no longer served.", param="model", code="model_not_found"
    )


__all__ = ["MAX_TRIES", "RETRY_STATUSES", "Exchange", "Proxy", "ProxyPolicy"]
