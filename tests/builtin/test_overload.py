"""A full engine answers 429 with Retry-After (OpenAI envelope) and keeps serving the admitted work.

The session engine decodes at most 4 sequences and queues at most 4 more."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack

import httpx

BODY = {"model": "tiny-llama", "messages": [{"role": "user", "content": "go"}], "max_tokens": 230,
        "stream": True, "ignore_eos": True}  # fmt: skip


def _wait_for(client: httpx.Client, ok: Callable[[dict[str, int]], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not ok(client.get("/load").json()):
        assert time.monotonic() < deadline, client.get("/load").json()
        time.sleep(0.02)


def test_full_queue_answers_429_then_recovers(llama_url: str) -> None:
    with httpx.Client(base_url=llama_url, timeout=30) as client, ExitStack() as streams:
        # 4 running + 4 waiting (one request with n=4): both stream their first frames at once.
        # The line iterators are kept: dropping one closes its stream.
        lines = []
        for body in [BODY] * 4 + [{**BODY, "n": 4}]:
            if "n" in body:
                _wait_for(client, lambda load: load["running"] == 4)
            r = streams.enter_context(client.stream("POST", "/v1/chat/completions", json=body))
            assert r.status_code == 200
            lines.append(r.iter_lines())
            next(lines[-1])
        assert client.get("/load").json()["waiting"] >= 4
        over = client.post("/v1/chat/completions", json={**BODY, "stream": False, "max_tokens": 1})
        assert over.status_code == 429
        assert int(over.headers["retry-after"]) >= 1
        assert over.json()["error"]["type"] == "rate_limit_error"
    # the streams are closed: their sequences leave and new work is admitted again
    with httpx.Client(base_url=llama_url, timeout=30) as client:
        _wait_for(client, lambda load: load["running"] == 0 and load["waiting"] == 0)
    r = httpx.post(
        f"{llama_url}/v1/chat/completions", json={**BODY, "stream": False, "max_tokens": 2}, timeout=60
    )
    assert r.status_code == 200
