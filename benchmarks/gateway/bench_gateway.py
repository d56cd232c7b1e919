"""Gateway overhead on loopback: one minimal backend called directly, through the modelserve
gateway, and through the LiteLLM proxy, in the same run.

    .venv/bin/python benchmarks/gateway/bench_gateway.py [--concurrency 1,64,512] [--duration 3]
        [--clients raw,aiohttp] [--workers 1] [--chunks 8] [--litellm .engines/litellm/bin/litellm]

Starts the backend (tests/gateway/upstream.py), one gateway process per upstream client library
(`--workers` processes sharing the port with SO_REUSEPORT), and LiteLLM when installed
(benchmarks/gateway/install_litellm.sh; run offline with a master key), then drives each target
with `loadgen` (closed loop, keep-alive) for chat completions, non-streamed and streamed
(`--chunks` SSE events). Prints machine info, the command and Markdown tables: requests/s,
p50/p99 latency (streams: to the last byte), the latency each proxy adds over the direct baseline
measured in the same cell, the proxy's CPU time per request (psutil, its whole process tree),
and each target's best requests/s.
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
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import httpx
import psutil

from modelserve.gateway.clients import CLIENTS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import Samples, percentile, run

ROOT = Path(__file__).resolve().parents[2]
BACKEND = ROOT / "tests" / "gateway" / "upstream.py"
GATEWAY = Path(__file__).resolve().with_name("gateway_app.py")
LITELLM = ROOT / ".engines" / "litellm" / "bin" / "litellm"
LITELLM_KEY = "sk-bench-1234"


@dataclass
class Target:
    name: str
    url: str
    model: str
    pid: int | None  # the proxy process (None: the backend itself)
    headers: dict[str, str]
    slow: bool = False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@contextlib.contextmanager
def process(argv: list[str]) -> Iterator[tuple[str, int]]:
    """Start a server printing `PORT n`; yield (its URL, pid) once it answers; stop its group."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline().decode() if ready else ""
        if not line.startswith("PORT "):
            raise RuntimeError(f"{argv[1]} did not start: {line!r}")
        url = f"http://127.0.0.1:{int(line.split()[1])}"
        _wait_listening(url, {})
        yield url, proc.pid
    finally:
        _stop(proc)


@contextlib.contextmanager
def litellm(binary: Path, backend: str) -> Iterator[tuple[str, int]]:
    """The LiteLLM proxy, offline, routing `bench-model` to the backend's `bench-upstream`."""
    config = (
        "model_list:\n"
        "  - model_name: bench-model\n"
        f"    litellm_params: {{model: openai/bench-upstream, api_base: {backend}/v1, api_key: none}}\n"
        "litellm_settings: {telemetry: false}\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(config)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY": "False",
        "LITELLM_MASTER_KEY": LITELLM_KEY,
    }
    argv = [str(binary), "--config", f.name, "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_listening(url, {"authorization": f"Bearer {LITELLM_KEY}"}, timeout_s=120)
        yield url, proc.pid
    finally:
        _stop(proc)
        os.unlink(f.name)


def _wait_listening(url: str, headers: dict[str, str], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/v1/models", headers=headers, timeout=2).status_code < 500:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} never answered")


def _body(model: str, stream: bool) -> bytes:
    payload = {
        "model": model,
        "messages": [{"role": "user", "content": "Say hello in a few words."}],
        "max_tokens": 16,
        "stream": stream,
    }
    return json.dumps(payload).encode()


def _cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system) of a process and its descendants so far."""
    if pid is None:
        return 0.0
    total = 0.0
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        for p in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system
    return total


def measure(t: Target, stream: bool, args: argparse.Namespace, concurrency: int) -> tuple[Samples, float]:
    """(samples, proxy CPU seconds per request over the whole run of this cell)."""
    coro = run(
        t.url,
        "/v1/chat/completions",
        _body(t.model, stream),
        concurrency=concurrency,
        # A slow proxy needs a window longer than its latency for requests to start and end in it.
        duration_s=args.slow_duration if t.slow and concurrency > 1 else args.duration,
        warmup_s=args.warmup,
        headers=t.headers,
    )
    before = _cpu_s(t.pid)
    try:
        import uvloop
    except ImportError:
        samples = asyncio.run(coro)
    else:
        samples = uvloop.run(coro)
    done = samples.completed or 1
    return samples, (_cpu_s(t.pid) - before) / done


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def _row(mode: str, conc: int, target: str, s: Samples, cpu_s: float, base: Samples | None) -> str:
    p50, p99 = percentile(s.total_s, 50), percentile(s.total_s, 99)
    added = "—"
    if base is not None:
        d50 = p50 - percentile(base.total_s, 50)
        d99 = p99 - percentile(base.total_s, 99)
        added = f"{_ms(d50)} / {_ms(d99)}"
    rps = s.in_window / s.elapsed_s
    ratio = "" if base is None else f" ({rps / (base.in_window / base.elapsed_s):.2f}×)"
    cpu = "—" if base is None else f"{cpu_s * 1000:.2f}"
    cells = [mode, str(conc), target, f"{rps:,.0f}{ratio}", _ms(p50), _ms(p99), added, cpu, str(s.errors)]
    return "| " + " | ".join(cells) + " |"


def machine_info() -> list[str]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    names = ("uvicorn", "fastapi", "httpx", "aiohttp", "uvloop")
    libs = ", ".join(f"{n} {version(n)}" for n in names if _installed(n))
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


def _litellm_version(binary: Path) -> str:
    found = sorted(binary.parent.parent.glob("lib/python*/site-packages/litellm-*.dist-info"))
    return found[-1].name.removeprefix("litellm-").removesuffix(".dist-info") if found else "?"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", default="1,64,512")
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--slow-duration", type=float, default=30.0, help="window for LiteLLM above 1 client")
    parser.add_argument("--clients", default="raw,aiohttp", help="gateway upstream clients to compare")
    parser.add_argument("--workers", type=int, default=1, help="gateway processes (SO_REUSEPORT)")
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--max-connections", type=int, default=1024, help="gateway upstream pool size")
    parser.add_argument("--litellm", type=Path, default=LITELLM, help="the litellm binary ('' to skip)")
    parser.add_argument("--gc", default="tuned", help="gateway GC settings to compare: tuned,default")
    args = parser.parse_args()
    clients = [c for c in args.clients.split(",") if c in CLIENTS]
    levels = [int(c) for c in args.concurrency.split(",")]
    py = sys.executable
    rows: list[str] = []
    best: dict[tuple[str, bool], float] = {}
    with contextlib.ExitStack() as stack:
        backend, _ = stack.enter_context(
            process([py, str(BACKEND), "--replica", "bench-0", "--chunks", str(args.chunks)])
        )
        targets = [Target("direct", backend, "bench-upstream", None, {})]
        gcs = args.gc.split(",")
        for c in clients:
            for gc_mode in gcs:
                argv = [py, str(GATEWAY), "--backend", backend, "--client", c, "--workers", str(args.workers)]
                argv += ["--max-connections", str(args.max_connections), "--gc", gc_mode]
                url, pid = stack.enter_context(process(argv))
                notes = [c] + ([f"{args.workers} workers"] if args.workers > 1 else [])
                notes += [f"gc {gc_mode}"] if len(gcs) > 1 else []
                targets.append(Target(f"modelserve gateway ({', '.join(notes)})", url, "bench-model", pid, {}))
        if args.litellm.is_file():
            url, pid = stack.enter_context(litellm(args.litellm, backend))
            auth = {"authorization": f"Bearer {LITELLM_KEY}"}
            targets.append(
                Target(f"LiteLLM proxy {_litellm_version(args.litellm)}", url, "bench-model", pid, auth)
            )
        for stream in (False, True):
            mode = f"stream ({args.chunks} events)" if stream else "non-stream"
            for conc in levels:
                base: Samples | None = None
                for t in targets:
                    s, cpu = measure(t, stream, args, conc)
                    rows.append(_row(mode, conc, t.name, s, cpu, base))
                    base = base or s
                    best[(t.name, stream)] = max(best.get((t.name, stream), 0.0), s.in_window / s.elapsed_s)
                print(*rows[-len(targets) :], sep="\n", file=sys.stderr, flush=True)
    command = "python " + " ".join(shlex.quote(a) for a in [str(Path(sys.argv[0])), *sys.argv[1:]])
    print("\n".join(machine_info()))
    print(
        f"- command: `{command}` ({args.duration:g} s per cell after {args.warmup:g} s warm-up, closed loop)"
    )
    print()
    print(
        "| mode | clients | target | req/s (vs direct) | p50 ms | p99 ms | added p50 / p99 ms | proxy CPU ms/req | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    _print_best(targets, best)


def _print_best(targets: list[Target], best: dict[tuple[str, bool], float]) -> None:
    lite = next((t.name for t in targets if t.name.startswith("LiteLLM")), None)
    print("| target | best req/s, non-stream | best req/s, stream | vs LiteLLM (non-stream / stream) |")
    print("|---|---|---|---|")
    for t in targets:
        plain, streamed = best[(t.name, False)], best[(t.name, True)]
        vs = "—"
        if lite is not None and t.name != lite:
            vs = f"{plain / best[(lite, False)]:.1f}× / {streamed / best[(lite, True)]:.1f}×"
        print(f"| {t.name} | {plain:,.0f} | {streamed:,.0f} | {vs} |")


if __name__ == "__main__":
    main()
