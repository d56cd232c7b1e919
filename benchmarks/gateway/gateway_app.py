"""The gateway as its own process for the benchmark: one served model on the given backend replicas.

    python benchmarks/gateway/gateway_app.py --backend http://127.0.0.1:PORT [--client aiohttp] [--workers N]

Prints `PORT <n>` once listening. Exposed name "bench-model", engine name "bench-upstream".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import uvicorn
from fastapi import FastAPI

from modelserve.gateway import Endpoint, Gateway, ServedModel
from modelserve.gateway.clients import ClientLimits
from modelserve.gateway.front import GatewayFront
from modelserve.gateway.gc_tuning import tune_gc


def build_app(backends: list[str], client: str, max_connections: int = 1024) -> GatewayFront:
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

    gateway = Gateway(
        source, refresh_s=1.0, upstream_client=client, limits=ClientLimits(max_connections=max_connections)
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    return GatewayFront(FastAPI(lifespan=lifespan), gateway.asgi)


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
    parser.add_argument("--client", default="aiohttp")
    parser.add_argument("--workers", type=int, default=1, help="processes sharing the port (SO_REUSEPORT)")
    parser.add_argument("--max-connections", type=int, default=1024, help="upstream pool size per worker")
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)  # set for extra workers
    parser.add_argument("--gc", choices=["tuned", "default"], default="tuned",
                        help="tuned: what `modelserve up` does (gateway.gc_tuning); default: Python's settings")
    args = parser.parse_args()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if args.workers > 1 or args.port:
        # Every worker binds the same port; the kernel spreads new connections across them.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", args.port))
    port = sock.getsockname()[1]
    children = []
    for _ in range(args.workers - 1):
        argv = [sys.executable, __file__, "--client", args.client, "--port", str(port)]
        argv += ["--max-connections", str(args.max_connections), "--gc", args.gc]
        for backend in args.backend:
            argv += ["--backend", backend]
        children.append(subprocess.Popen(argv))  # same process group: stopped with this one
    config = uvicorn.Config(
        build_app(args.backend, args.client, args.max_connections),
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
        backlog=4096,
    )
    if args.gc == "tuned":
        tune_gc()
    if not args.port:
        print(f"PORT {port}", flush=True)
    try:
        _run(uvicorn.Server(config).serve(sockets=[sock]))
    finally:
        for child in children:
            child.terminate()
            child.wait(timeout=10)


if __name__ == "__main__":
    main()
