"""Gateway overhead on loopback: the same minimal backend called directly and through the gateway.

    .venv/bin/python benchmarks/gateway/bench_gateway.py [--concurrency 1,64,512] [--duration 3]
        [--clients httpx,aiohttp] [--chunks 8]

Starts the backend (tests/gateway/upstream.py) and one gateway process per upstream client library,
then drives each target with `loadgen` (closed loop, keep-alive) for chat completions, non-streamed
and streamed (`--chunks` SSE events). Prints machine info, the command and a Markdown table:
requests/s, p50/p99 latency (streams: to the last byte; TTFB = first body byte) and the latency
the gateway adds over the direct baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import select
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import Samples, percentile, run

ROOT = Path(__file__).resolve().parents[2]
BACKEND = ROOT / "tests" / "gateway" / "upstream.py"
GATEWAY = Path(__file__).resolve().with_name("gateway_app.py")


@contextlib.contextmanager
def process(argv: list[str]) -> Iterator[str]:
    """Start a server printing `PORT n`, yield its URL once healthy, stop its process group."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline().decode() if ready else ""
        if not line.startswith("PORT "):
            raise RuntimeError(f"{argv[1]} did not start: {line!r}")
        url = f"http://127.0.0.1:{int(line.split()[1])}"
        _wait_listening(url)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def _wait_listening(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{url}/v1/models", timeout=1)
            return
        time.sleep(0.05)
    raise RuntimeError(f"{url} never answered")


def _body(model: str, stream: bool, chunks: int) -> bytes:
    payload = {
        "model": model,
        "messages": [{"role": "user", "content": "Say hello in a few words."}],
        "max_tokens": 16,
        "stream": stream,
        "x_test": {"chunks": chunks},
    }
    return json.dumps(payload).encode()


def measure(url: str, model: str, stream: bool, args: argparse.Namespace, concurrency: int) -> Samples:
    body = _body(model, stream, args.chunks)
    coro = run(
        url,
        "/v1/chat/completions",
        body,
        concurrency=concurrency,
        duration_s=args.duration,
        warmup_s=args.warmup,
    )
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def _row(mode: str, conc: int, target: str, s: Samples, base: Samples | None) -> str:
    p50, p99 = percentile(s.total_s, 50), percentile(s.total_s, 99)
    ttfb = percentile(s.first_byte_s, 50)
    added = "—"
    if base is not None:
        d50 = p50 - percentile(base.total_s, 50)
        d99 = p99 - percentile(base.total_s, 99)
        added = f"{_ms(d50)} / {_ms(d99)}"
    rps = s.in_window / s.elapsed_s
    ratio = "" if base is None else f" ({rps / (base.in_window / base.elapsed_s):.2f}×)"
    cells = [
        mode,
        str(conc),
        target,
        f"{rps:,.0f}{ratio}",
        _ms(p50),
        _ms(p99),
        _ms(ttfb),
        added,
        str(s.errors),
    ]
    return "| " + " | ".join(cells) + " |"


def machine_info() -> list[str]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    libs = ", ".join(
        f"{n} {version(n)}" for n in ("uvicorn", "fastapi", "httpx", "aiohttp", "uvloop") if _installed(n)
    )
    return [
        f"- machine: {cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        f"- python {platform.python_version()}; {libs}",
    ]


def _installed(name: str) -> bool:
    try:
        version(name)
    except PackageNotFoundError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", default="1,64,512")
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--clients", default="httpx,aiohttp")
    parser.add_argument("--chunks", type=int, default=8)
    args = parser.parse_args()
    clients = [c for c in args.clients.split(",") if c and _installed(c)]
    levels = [int(c) for c in args.concurrency.split(",")]
    py = sys.executable
    rows: list[str] = []
    with contextlib.ExitStack() as stack:
        backend = stack.enter_context(process([py, str(BACKEND), "--replica", "bench-0"]))
        gateways = {
            c: stack.enter_context(process([py, str(GATEWAY), "--backend", backend, "--client", c]))
            for c in clients
        }
        for stream in (False, True):
            mode = f"stream ({args.chunks} events)" if stream else "non-stream"
            for conc in levels:
                base = measure(backend, "bench-upstream", stream, args, conc)
                rows.append(_row(mode, conc, "direct", base, None))
                for client, url in gateways.items():
                    s = measure(url, "bench-model", stream, args, conc)
                    rows.append(_row(mode, conc, f"gateway ({client})", s, base))
                print(*rows[-1 - len(gateways) :], sep="\n", file=sys.stderr, flush=True)
    command = "python " + " ".join(shlex.quote(a) for a in [str(Path(sys.argv[0])), *sys.argv[1:]])
    print("\n".join(machine_info()))
    print(
        f"- command: `{command}` ({args.duration:g} s per cell after {args.warmup:g} s warm-up, closed loop)"
    )
    print()
    print(
        "| mode | clients | target | req/s (vs direct) | p50 ms | p99 ms | TTFB p50 ms | added p50 / p99 ms | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
