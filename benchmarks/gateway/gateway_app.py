"""The gateway as its own process for the benchmark: one served model on the given backend replicas.

    python benchmarks/gateway/gateway_app.py --backend http://127.0.0.1:PORT [--client httpx]

Prints `PORT <n>` once listening. Exposed name "bench-model", engine name "bench-upstream".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import uvicorn
from fastapi import FastAPI

from modelserve.gateway import Endpoint, Gateway, ServedModel


def build_app(backends: list[str], client: str) -> FastAPI:
    model = ServedModel(
        run_id="bench",
        project="bench",
        model="bench-model",
        model_name="bench",
        upstream_model="bench-upstream",
        endpoints=tuple(Endpoint(f"bench-{i}", url) for i, url in enumerate(backends)),
    )

    async def source() -> list[ServedModel]:
        return [model]

    gateway = Gateway(source, refresh_s=1.0, upstream_client=client)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    app = FastAPI(lifespan=lifespan)
    app.include_router(gateway.router)
    return app


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when it is installed (as uvicorn[standard] does), else on asyncio."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", action="append", required=True)
    parser.add_argument("--client", default="httpx")
    args = parser.parse_args()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        build_app(args.backend, args.client),
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
        backlog=4096,
    )
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    _run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
