"""Composition root: builds settings-driven parts (store, executor, reconciler, gateway, API,
console) into one FastAPI app, and runs it with uvicorn.

The only module that knows every package; nothing imports it but the CLI.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from modelserve.api import build_api_router, install_error_handlers
from modelserve.api.adapters import build_adapters_router
from modelserve.api.keys import build_keys_router
from modelserve.auth.access import routing_resolver
from modelserve.auth.authenticator import KeyAuthenticator
from modelserve.auth.middleware import ApiKeyMiddleware
from modelserve.auth.usage import UsageRecorder
from modelserve.control.adapters import RunAdapters
from modelserve.control.autoscaler import Autoscaler
from modelserve.control.reconciler import Reconciler
from modelserve.control.scale_loop import ScaleLoop
from modelserve.executors.local import LocalExecutor
from modelserve.gateway import Gateway
from modelserve.gateway.front import GatewayFront
from modelserve.gateway.gc_tuning import tune_gc
from modelserve.gateway.table import Endpoint, ServedModel
from modelserve.settings import Settings
from modelserve.store import SqlStore

log = logging.getLogger("modelserve.server")


def routing_source(store: Any) -> Any:
    """The gateway's view of the store: RUNNING runs with their ready replicas."""

    def snapshot() -> list[ServedModel]:
        runs = store.list_runs(None, ("RUNNING",))
        ready: dict[str, list[Endpoint]] = {}
        for row in store.list_replicas():
            if row.state == "ready" and row.port:
                ready.setdefault(row.run_id, []).append(
                    Endpoint(replica=f"{row.run_id}-{row.index}", url=f"http://127.0.0.1:{row.port}")
                )
        models = []
        for run in runs:
            openai = run.status.get("openai") or {}
            routing = run.status.get("routing") or {}
            if not openai.get("model"):
                continue
            models.append(
                ServedModel(
                    run_id=run.id,
                    project=run.project,
                    model=openai["model"],
                    model_name=routing.get("model_name"),
                    upstream_model=routing.get("upstream_model") or openai["model"],
                    adapters=tuple(a["name"] for a in openai.get("adapters") or ()),
                    features=tuple(routing.get("features") or ()),
                    endpoints=tuple(sorted(ready.get(run.id, ()), key=lambda e: e.replica)),
                    created=int(run.created_at.timestamp()),
                    strategy=routing.get("strategy") or "LeastLoad",
                    balancing=routing.get("balancing") or {},
                )
            )
        return models

    async def source() -> list[ServedModel]:
        return await asyncio.to_thread(snapshot)

    return source


def build_app(settings: Settings) -> GatewayFront:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqlStore(settings.resolved_database_url)
    store.migrate()
    holder: dict[str, Any] = {}

    async def on_event(run_id: str, event: str, reason: str, message: str) -> None:
        await holder["reconciler"].executor_event(run_id, event, reason, message)

    executor = LocalExecutor(settings, store, on_event)
    key_auth = KeyAuthenticator(store)
    usage = UsageRecorder(store, key_auth)
    async def on_demand(run_id: str) -> None:  # a request waits for a run with no ready replica
        await holder["scale_loop"].wake(run_id)

    gateway = Gateway(
        routing_source(store),
        refresh_s=settings.gateway_refresh_s,
        upstream_timeout_s=settings.upstream_timeout_s,
        on_demand=on_demand,
        usage_sink=usage.record,
    )
    window = max(1, round(settings.autoscale_window_s / settings.autoscale_interval_s))
    autoscaler = Autoscaler(store, gateway.inflight_by_run, window_samples=window)
    reconciler = Reconciler(settings, store, executor, on_change=gateway.refresh_now, autoscaler=autoscaler)
    holder["reconciler"] = reconciler
    scale_loop = ScaleLoop(store, autoscaler, reconciler.poke, settings.autoscale_interval_s)
    holder["scale_loop"] = scale_loop

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await executor.start()
        await gateway.start()
        tasks = [
            asyncio.create_task(reconciler.run_forever(), name="reconciler"),
            asyncio.create_task(scale_loop.run_forever(), name="autoscaler"),
            asyncio.create_task(usage.run_forever(), name="usage"),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await usage.flush()
            await reconciler.drain()
            left = await executor.close()
            if left:
                log.warning(
                    "%d engine replica process(es) keep serving; the next `modelserve up` re-adopts them. "
                    "Stop runs with `modelserve runs stop ID`.", left,
                )
            await gateway.stop()
            store.close()

    app = FastAPI(title="modelserve", version="0.1.0", lifespan=lifespan)
    install_error_handlers(app)
    app.include_router(build_api_router(settings, store, reconciler.poke))
    app.include_router(build_adapters_router(RunAdapters(settings, store, executor, reconciler)))
    app.include_router(build_keys_router(store, on_change=key_auth.invalidate))
    _mount_console(app, settings)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        """Prometheus metrics of the gateway (requests, in flight, TTFT, tokens, retries, holds)."""
        body = generate_latest(gateway.metrics_registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.state.store = store
    app.state.gateway = gateway
    app.state.reconciler = reconciler
    app.state.scale_loop = scale_loop
    guarded = ApiKeyMiddleware(
        gateway.asgi, auth=key_auth, enabled=settings.require_api_key,
        resolve=routing_resolver(lambda: gateway.table),
    )
    return GatewayFront(app, guarded)


def _mount_console(app: FastAPI, settings: Settings) -> None:
    try:
        from modelserve.ui import mount_console
    except ImportError:  # the console ships with the server extra; the API works without it
        return
    mount_console(app, settings)


def run_server(settings: Settings) -> None:
    """Serve API, gateway and console in the foreground until interrupted."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = build_app(settings)
    tune_gc()  # start-up objects out of the collector's way: a shorter latency tail under load
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", access_log=False)
