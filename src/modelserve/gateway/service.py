"""The Gateway: routing table refreshed from a source, shared in-flight counts, balancers per run,
one pooled upstream client, metrics, and the router the server includes.

The source is the only way state enters; when it fails the last good table keeps serving, so the
data plane outlives a control-plane or database outage. Must not import control/ or executors/.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry
from starlette.types import Receive, Send

from modelserve import errors
from modelserve.gateway.asgi import send_error
from modelserve.gateway.balancers import DEFAULT_STRATEGY, Balancer, make_balancer
from modelserve.gateway.clients import ClientLimits, UpstreamClient, make_client
from modelserve.gateway.inflight import InFlight
from modelserve.gateway.metrics import GatewayMetrics
from modelserve.gateway.proxy import Exchange, Proxy
from modelserve.gateway.routes import build_router
from modelserve.gateway.table import RoutingTable, ServedModel

log = logging.getLogger(__name__)

Source = Callable[[], Awaitable[list[ServedModel]]]


class Gateway:
    """The OpenAI data plane. `start()` before serving, `stop()` at shutdown (same event loop)."""

    def __init__(
        self,
        source: Source,
        *,
        refresh_s: float = 0.5,
        upstream_timeout_s: float = 600.0,
        upstream_client: str = "auto",
        limits: ClientLimits | None = None,
    ) -> None:
        self._source = source
        self._refresh_s = refresh_s
        self._refresh_timeout_s = max(5.0, 10 * refresh_s)
        self._limits = limits or ClientLimits(read_timeout_s=upstream_timeout_s)
        self._client_name = upstream_client
        self._client: UpstreamClient | None = None
        self._table = RoutingTable()
        self._inflight = InFlight()
        self._balancers: dict[str, tuple[str, Balancer]] = {}
        self._task: asyncio.Task[None] | None = None
        self._source_failing = False
        self.metrics = GatewayMetrics()
        self._proxy = Proxy(self._upstream, self._inflight, self.metrics, self._balancer_for)
        self.router = build_router(self)

    @property
    def metrics_registry(self) -> CollectorRegistry:
        return self.metrics.registry

    @property
    def table(self) -> RoutingTable:
        """The table requests are routed by right now (replaced whole on each refresh)."""
        return self._table

    def inflight_by_run(self) -> dict[str, int]:
        """In-flight requests per served run (0 for runs in the table with none)."""
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
            try:
                await task
            except asyncio.CancelledError:
                pass
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def refresh_now(self) -> None:
        """Reload the table from the source now. Raises what the source raises (table unchanged)."""
        models = await asyncio.wait_for(self._source(), timeout=self._refresh_timeout_s)
        table = RoutingTable(models)
        live = {m.run_id for m in table.models()}
        self._balancers = {k: v for k, v in self._balancers.items() if k in live}
        self._table = table

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
            await asyncio.sleep(self._refresh_s)
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

    def _upstream(self) -> UpstreamClient:
        if self._client is None:
            raise errors.NotReady("The gateway is not started.", code="gateway_not_started")
        return self._client

    def _balancer_for(self, model: ServedModel) -> Balancer:
        held = self._balancers.get(model.run_id)
        if held is not None and held[0] == model.strategy:
            return held[1]
        try:
            balancer = make_balancer(model.strategy)
        except KeyError:
            log.warning(
                "run %s asks for unknown strategy %r; using %s",
                model.run_id,
                model.strategy,
                DEFAULT_STRATEGY,
            )
            balancer = make_balancer(DEFAULT_STRATEGY)
        self._balancers[model.run_id] = (model.strategy, balancer)
        return balancer
