"""Engine process lifecycle: load failures exit non-zero with one clear line; disconnects stop generation."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from modelserve.testing import free_port


def test_missing_model_exits_nonzero_with_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    argv = [sys.executable, "-m", "modelserve.builtin", "--model", str(tmp_path / "nope"),
            "--served-model-name", "x", "--port", str(free_port())]  # fmt: skip
    r = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    lines = [line for line in r.stderr.splitlines() if "failed to load" in line]
    assert len(lines) == 1 and "nope" in lines[0]
    assert "Traceback" not in r.stderr


def test_client_disconnect_stops_generation(llama_url: str) -> None:
    aborted_before = httpx.get(f"{llama_url}/load").json()["aborted"]
    body = {"model": "tiny-llama", "messages": [{"role": "user", "content": "go"}], "max_tokens": 230,
            "stream": True, "ignore_eos": True}  # fmt: skip
    with httpx.stream("POST", f"{llama_url}/v1/chat/completions", json=body, timeout=30) as r:
        for i, _ in enumerate(r.iter_lines()):
            if i > 3:
                break
    # once the stream is gone its sequence leaves the batch before reaching max_tokens: it is
    # counted as aborted (a sequence that ran to its end would not be)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        load = httpx.get(f"{llama_url}/load").json()
        if load["running"] == 0 and load["waiting"] == 0:
            break
        time.sleep(0.05)
    assert load["running"] == 0
    assert load["aborted"] == aborted_before + 1


def test_non_streaming_client_that_leaves_is_aborted(llama_url: str) -> None:
    aborted_before = httpx.get(f"{llama_url}/load").json()["aborted"]
    body = {"model": "tiny-llama", "messages": [{"role": "user", "content": "go"}], "max_tokens": 230,
            "n": 4, "ignore_eos": True}  # fmt: skip
    try:
        httpx.post(f"{llama_url}/v1/chat/completions", json=body, timeout=0.2)
    except httpx.TimeoutException:
        pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        load = httpx.get(f"{llama_url}/load").json()
        if load["running"] == 0 and load["waiting"] == 0:
            break
        time.sleep(0.05)
    assert load["running"] == 0
    assert load["aborted"] == aborted_before + 4
