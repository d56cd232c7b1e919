"""Autoscaling with real replicas: scale from zero, up under load and back down, SIGKILL under load."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest

from tests.integration.harness import ServerProcess, free_port, kill_run_processes, run_processes
from tests.integration.test_lifecycle import wait_until


@pytest.fixture(scope="module")
def fast_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose autoscaler samples every 0.5 s over a 2 s window, so tests take seconds."""
    env = {"MODELSERVE_AUTOSCALE_INTERVAL_S": "0.5", "MODELSERVE_AUTOSCALE_WINDOW_S": "2"}
    srv = ServerProcess(tmp_path_factory.mktemp("scaling"), free_port(), env=env).start()
    yield srv
    import httpx

    runs: list[str] = []
    try:
        runs = [r["id"] for r in httpx.get(f"{srv.url}/api/v1/runs", timeout=10).json()]
    finally:
        srv.stop()
        for run_id in runs:
            kill_run_processes(run_id)


def _serve(srv: ServerProcess, tiny_llama: Path, name: str, scaling: dict):  # type: ignore[no-untyped-def]
    import modelserve as ms

    project = ms.Client(base_url=srv.url).get_or_create_project("scaling")
    fn = project.new_function(name, kind="kubeai-text", url=str(tiny_llama), model_name=name)
    run = fn.run("serve", wait=True, timeout=180, scaling=scaling)
    assert run.status.state == "RUNNING", run.status.message
    # RUNNING means one replica is ready; tests that compare replicas want all of them in the table.
    wait_until(lambda: run.refresh().status.replicas.get("ready") == scaling["replicas"], timeout=180)
    return run


def _client(run) -> openai.OpenAI:  # type: ignore[no-untyped-def]
    return openai.OpenAI(base_url=run.status.openai["baseUrl"], api_key="x", timeout=180, max_retries=0)


def test_scale_from_zero_and_back(fast_server: ServerProcess, tiny_llama: Path) -> None:
    run = _serve(fast_server, tiny_llama, "zero", {
        "replicas": 0, "min_replicas": 0, "max_replicas": 1, "scale_down_delay_seconds": 2,
    })
    assert run_processes(run.id) == []  # RUNNING with no replica process before the first request
    reply = _client(run).chat.completions.create(
        model=run.status.openai["model"], messages=[{"role": "user", "content": "hi"}], max_tokens=4
    )
    assert reply.choices[0].message.content is not None
    assert len(run_processes(run.id)) >= 1
    assert any(e["reason"] == "ScaledUp" for e in run.events())
    wait_until(lambda: not run_processes(run.id), timeout=60)  # idle past the delay: back to zero
    assert any(e["reason"] == "ScaledDown" for e in run.events())
    run.stop()


def test_scale_up_under_load_then_down_after_delay(fast_server: ServerProcess, tiny_llama: Path) -> None:
    run = _serve(fast_server, tiny_llama, "load", {
        "replicas": 1, "min_replicas": 1, "max_replicas": 2, "target_requests": 1, "scale_down_delay_seconds": 3,
    })
    client, stop = _client(run), threading.Event()

    def busy() -> None:
        while not stop.is_set():
            client.completions.create(model=run.status.openai["model"], prompt="count", max_tokens=64)

    with ThreadPoolExecutor(4) as pool:
        for _ in range(4):
            pool.submit(busy)
        try:
            wait_until(lambda: run.refresh().status.replicas.get("ready") == 2, timeout=120)
        finally:
            stop.set()
    assert len(run_processes(run.id)) >= 2
    wait_until(lambda: run.refresh().status.replicas.get("desired") == 1, timeout=60)
    wait_until(lambda: len(run_processes(run.id)) == 1, timeout=30)
    reasons = [e["reason"] for e in run.events()]
    assert "ScaledUp" in reasons and "ScaledDown" in reasons
    run.stop()


def test_sigkill_a_replica_under_load_every_request_answered(fast_server: ServerProcess, tiny_llama: Path) -> None:
    run = _serve(fast_server, tiny_llama, "kill", {"replicas": 2, "min_replicas": 2, "max_replicas": 2})
    client, model = _client(run), run.status.openai["model"]
    victim = min(run_processes(run.id), key=lambda p: p.pid)

    def one(i: int) -> str:
        if i == 10:
            os.killpg(victim.pid, signal.SIGKILL)
        out = client.chat.completions.create(model=model, messages=[{"role": "user", "content": f"n{i}"}], max_tokens=16)
        return out.choices[0].message.content or ""

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(one, range(40)))
    assert len(answers) == 40  # every non-streamed request answered (map re-raises any failure)
    wait_until(lambda: run.refresh().status.replicas.get("ready") == 2, timeout=120)  # the dead one restarted
    assert any(e["reason"] == "ReplicaExited" for e in run.events())
    run.stop()


@pytest.mark.parametrize("strategy", ["PrefixHash", "PrefixCache"])
def test_prefix_affinity_visible_in_replica_header(fast_server: ServerProcess, tiny_llama: Path, strategy: str) -> None:
    run = _serve(fast_server, tiny_llama, f"affinity-{strategy.lower()}", {
        "replicas": 2, "min_replicas": 2, "max_replicas": 2, "load_balancing": {"strategy": strategy},
    })
    client, model = _client(run), run.status.openai["model"]

    def replica_for(first: str, turns: int = 1) -> str:
        # Each conversation has its own system prompt (one tenant each): PrefixCache then has no
        # shared prefix to gather them on one replica, and falls back to consistent hashing.
        messages = [{"role": "system", "content": first[:16] + " You are terse." * 20}, {"role": "user", "content": first}]
        for i in range(1, turns):
            messages += [{"role": "assistant", "content": f"reply {i}"}, {"role": "user", "content": f"more {i}"}]
        raw = client.chat.completions.with_raw_response.create(model=model, messages=messages, max_tokens=2)
        # A user's think time: the gateway counts a request in flight until its last byte is sent,
        # and bounded-load hashing rightly moves a request off a replica that still looks busy.
        time.sleep(0.2)
        return raw.headers["x-modelserve-replica"]

    # The status says both replicas are ready; wait until the gateway's table routes to both too
    # (it refreshes on its own clock), with prompts unrelated to the conversations below.
    warm: set[str] = set()
    for i in range(40):
        warm.add(replica_for(f"warm-up {i} " + "y" * 120))
        if len(warm) == 2:
            break
    assert len(warm) == 2, warm

    by_conversation = {f"conversation {i}: " + "x" * 120: set() for i in range(8)}
    for first, seen in by_conversation.items():
        for turns in (1, 2, 3):
            seen.add(replica_for(first, turns))
    assert all(len(seen) == 1 for seen in by_conversation.values())  # each conversation sticks
    used = set().union(*by_conversation.values())
    assert used == {f"{run.id}-0", f"{run.id}-1"}  # and conversations spread over both replicas
    run.stop()
