"""Time from `serve` to the first streamed token, through the whole stack.

For each model: (a) `modelserve` — POST a serve run to a running server, then stream a chat
completion through the gateway as soon as the run is RUNNING; time from the POST to the first
content token; (b) baseline — start the built-in engine process directly and stream from it,
time from process start to first token. The ratio is what the control plane adds. The first
pair per model starts from empty caches (cold), the others reuse them (warm).

    .venv/bin/python benchmarks/serve_ttft.py [--models tiny,smollm2] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import openai

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.harness import ServerProcess, free_port, kill_run_processes  # noqa: E402


def first_token(base_url: str, model: str, deadline: float) -> float:
    client = openai.OpenAI(base_url=base_url, api_key="x", max_retries=0)
    while True:
        try:
            stream = client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "What is the capital of France?"}],
                max_tokens=8, temperature=0, stream=True,
            )
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    return time.perf_counter()
        except (openai.APIConnectionError, openai.APIStatusError):
            if time.perf_counter() > deadline:
                raise
            time.sleep(0.05)


def through_modelserve(server: ServerProcess, name: str, url: str) -> float:
    api = httpx.Client(base_url=f"{server.url}/api/v1", timeout=30)
    api.post("/projects", json={"name": "bench"}, params={"get_or_create": True}).raise_for_status()
    api.post("/projects/bench/functions", json={
        "name": name, "kind": "vllmserve-text", "spec": {"url": url, "model_name": name}}).raise_for_status()
    t0 = time.perf_counter()
    run = api.post("/projects/bench/runs", json={"function": name, "action": "serve", "spec": {}}).json()
    while True:
        run = api.get(f"/runs/{run['id']}").json()
        if run["status"]["state"] == "RUNNING":
            break
        if run["status"]["state"] == "ERROR":
            raise RuntimeError(run["status"]["message"])
        time.sleep(0.05)
    t1 = first_token(run["status"]["openai"]["baseUrl"], run["status"]["openai"]["model"], t0 + 600)
    api.post(f"/runs/{run['id']}/stop")
    while api.get(f"/runs/{run['id']}").json()["status"]["state"] != "STOPPED":
        time.sleep(0.1)
    kill_run_processes(run["id"])
    return t1 - t0


def direct_engine(url: str, cache_dir: Path) -> float:
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelserve.builtin", "--model", url, "--served-model-name", "m",
         "--port", str(port), "--cache-dir", str(cache_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        return first_token(f"http://127.0.0.1:{port}/v1", "m", t0 + 600) - t0
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="tiny,smollm2")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    from modelserve.testing import make_tiny_llama, smollm2_gguf_path

    work = Path(tempfile.mkdtemp(prefix="ttft-"))
    models: dict[str, str] = {}
    if "tiny" in args.models:
        models["tiny"] = str(make_tiny_llama(work / "tiny-llama"))
    if "smollm2" in args.models and smollm2_gguf_path():
        models["smollm2"] = str(smollm2_gguf_path())
    server = ServerProcess(work / "data", free_port())
    (work / "data").mkdir()
    server.start()
    rows = []
    try:
        for name, url in models.items():
            # "cold": both sides start with an empty model cache (a GGUF is dequantised once);
            # "warm": the engine alone reuses the server's cache, as a second `serve` does.
            for attempt in range(1, args.repeat + 2):
                label = "cold" if attempt == 1 else "warm"
                cache = work / f"direct-cold-{name}" if attempt == 1 else work / "data" / "models" / "builtin-cache"
                base = direct_engine(url, cache)
                full = through_modelserve(server, f"{name}-{attempt}", url)
                rows.append((name, label, base, full))
    finally:
        server.stop()
    print(f"\nserve → first token  ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()})")
    print(f"{'model':<10}{'cache':>6}{'engine alone (s)':>18}{'modelserve (s)':>16}{'ratio':>8}")
    for name, label, base, full in rows:
        print(f"{name:<10}{label:>6}{base:>18.2f}{full:>16.2f}{full / base:>8.2f}")
    print(f"\nreproduce: .venv/bin/python benchmarks/serve_ttft.py --models {args.models} --repeat {args.repeat}")


if __name__ == "__main__":
    main()
