"""The Gateway: routing table refreshed from a source, shared in-flight counts, balancers per run,
the waiting room for runs scaled to zero, replica cooldowns, one pooled upstream client, metrics,
usage records, and the router the server includes.

The source is the only way state enters; when it fails the last good table keeps serving, so the
data plane outlives a control-plane or database outage. Must not import control/ or executors/.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry
from starlette.types import Receive, Send

from modelserve import errors
from modelserve.gateway.asgi import send_error
from modelserve.gateway.balancers import DEFAULT_STRATEGY, Balancer, make_balancer
from modelserve.gateway.clients import ClientLimits, UpstreamClient, make_client
from modelserve.gateway.cooldown import Cooldowns
from modelserve.gateway.hold import OnDemand, WaitingRoom
from modelserve.gateway.inflight import InFlight
from modelserve.gateway.metrics import GatewayMetrics
from modelserve.gateway.proxy import Exchange, Proxy, ProxyPolicy
from modelserve.gateway.routes import GatewayApp
from modelserve.gateway.table import RoutingTable, ServedModel
from modelserve.gateway.usage import UsageSink

log = logging.getLogger(__name__)

Source = Callable[[], Awaitable[list[ServedModel]]]
# While requests are held the table is reloaded at least this often (a replica appears sooner).
HELD_REFRESH_S = 0.2


class Gateway:
    """The OpenAI data plane. `start()` before serving, `stop()` at shutdown (same event loop).

    `on_demand(run_id)` is awaited (once per run per wait) when a request arrives for a run with no
    replica; requests are held up to `hold_timeout_s` (then 503 + Retry-After), at most `max_held`
    at once (beyond: 429). `usage_sink` receives a `UsageRecord` after every request.
    """

    def __init__(
        self,
        source: Source,
        *,
        refresh_s: float = 0.5,
        upstream_timeout_s: float = 600.0,
        upstream_client: str = "auto",
        limits: ClientLimits | None = None,
        on_demand: OnDemand | None = None,
        hold_timeout_s: float = 120.0,
        max_held: int = 1000,
        keepalive_s: float = 5.0,
        cooldown_s: float = 5.0,
        usage_sink: UsageSink | None = None,
    ) -> None:
        self._source = source
        self._refresh_s = refresh_s
        self._refresh_timeout_s = max(5.0, 10 * refresh_s)
        self._limits = limits or ClientLimits(read_timeout_s=upstream_timeout_s)
        self._client_name = upstream_client
        self._client: UpstreamClient | None = None
        self._table = RoutingTable()
        self._inflight = InFlight()
        self._balancers: dict[str, tuple[ServedModel, Balancer]] = {}
        self._task: asyncio.Task[None] | None = None
        self._kick = asyncio.Event()
        self._source_failing = False
        self.metrics = GatewayMetrics()
        self.cooldowns = Cooldowns(cooldown_s)
        self.room = WaitingRoom(on_demand, max_held, self._kick.set)
        self._proxy = Proxy(
            self._upstream,
            self._inflight,
            self.metrics,
            self._balancer_for,
            self._current,
            self.room,
            self.cooldowns,
            ProxyPolicy(hold_timeout_s=hold_timeout_s, keepalive_s=keepalive_s),
            usage_sink,
        )
        self.asgi = GatewayApp(self)  # every gateway route; see gateway.front.GatewayFront

    @property
    def metrics_registry(self) -> CollectorRegistry:
        return self.metrics.registry

    @property
    def table(self) -> RoutingTable:
        """The table requests are routed by right now (replaced whole on each refresh)."""
        return self._table

    def inflight_by_run(self) -> dict[str, int]:
        """In-flight requests per served run, held ones included (0 for runs in the table with none)."""
        counts = {m.run_id: 0 for m in self._table.models()}
        counts.update(self._inflight.by_run())
        return counts

    async def start(self) -> None:
        """Open the upstream pool, load the table once (a failing source is logged, not raised),
        and start the refresh loop. Idempotent."""
        if self._task is not None:
            return
        self._client = make_client(self._client_name, self._limits)
        await self._refresh_logged()
        self._task = asyncio.create_task(self._refresh_loop(), name="gateway-refresh")

    async def stop(self) -> None:
        """Stop refreshing and close the upstream pool. Requests still streaming are cut."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.room.aclose()
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def refresh_now(self) -> None:
        """Reload the table from the source now and wake held requests. Raises what the source
        raises (table unchanged)."""
        models = await asyncio.wait_for(self._source(), timeout=self._refresh_timeout_s)
        table = RoutingTable(models)
        live = {m.run_id for m in table.models()}
        self._balancers = {k: v for k, v in self._balancers.items() if k in live}
        self._table = table
        self.room.notify()

    async def forward(self, x: Exchange, receive: Receive, send: Send) -> None:
        """Forward one prepared request (used by the routes)."""
        if self._client is None:
            await send_error(
                send,
                errors.NotReady("The gateway is not started.", code="gateway_not_started", retry_after=1),
            )
            return
        await self._proxy.forward(x, receive, send)

    async def _refresh_loop(self) -> None:
        while True:
            interval = min(self._refresh_s, HELD_REFRESH_S) if self.room.held else self._refresh_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), interval)
            self._kick.clear()
            await self._refresh_logged()

    async def _refresh_logged(self) -> None:
        try:
            await self.refresh_now()
        except Exception:
            # Log once per failing streak; the last good table keeps serving meanwhile.
            if not self._source_failing:
                log.warning("gateway table refresh failed; serving the last good table", exc_info=True)
            self._source_failing = True
        else:
            if self._source_failing:
                log.info("gateway table refresh recovered")
            self._source_failing = False

    def _current(self, run_id: str) -> ServedModel | None:
        return self._table.get(run_id)

    def _upstream(self) -> UpstreamClient:
        if self._client is None:
            raise errors.NotReady("The gateway is not started.", code="gateway_not_started")
        return self._client

    def _balancer_for(self, model: ServedModel) -> Balancer:
        held = self._balancers.get(model.run_id)
        if held is not None:
            seen, balancer = held
            if seen is model:
                return balancer
            if seen.strategy == model.strategy and seen.balancing == model.balancing:
                self._balancers[model.run_id] = (model, balancer)  # next time the identity check wins
                return balancer
        try:
            balancer = make_balancer(model.strategy, model.balancing)
        except (KeyError, ValueError) as exc:
            log.warning("run %s: %s; using %s", model.run_id, exc, DEFAULT_STRATEGY)
            balancer = make_balancer(DEFAULT_STRATEGY, {})
        self._balancers[model.run_id] = (model, balancer)
        return balancer
