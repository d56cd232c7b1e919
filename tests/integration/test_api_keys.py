"""API keys through the real server: 401 without a key, 403 off the allow-list, usage recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.integration.harness import ServerProcess, free_port, kill_run_processes
from tests.integration.test_lifecycle import wait_until


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("keys"), free_port(), env={"MODELSERVE_REQUIRE_API_KEY": "true"})
    srv.start()
    yield srv
    runs = httpx.get(f"{srv.url}/api/v1/runs", timeout=10).json()
    srv.stop()
    for run in runs:
        kill_run_processes(run["id"])


def test_keys_guard_openai_routes_and_count_usage(keyed_server: ServerProcess, tiny_llama: Path) -> None:
    import modelserve as ms

    project = ms.Client(base_url=keyed_server.url).get_or_create_project("keys")
    fn = project.new_function("tiny", kind="vllmserve-text", url=str(tiny_llama), model_name="tiny")
    run = fn.run("serve", wait=True, timeout=180)
    assert run.status.state == "RUNNING", run.status.message
    model, base = run.status.openai["model"], run.status.openai["baseUrl"]
    api = httpx.Client(base_url=f"{keyed_server.url}/api/v1", timeout=10)
    allowed = api.post("/keys", json={"name": "app", "models": [model]}).json()
    other = api.post("/keys", json={"name": "other", "models": ["some-other-model"]}).json()
    messages = [{"role": "user", "content": "hi"}]

    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=base, api_key="msk-not-a-real-key", max_retries=0).chat.completions.create(
            model=model, messages=messages, max_tokens=2
        )
    with pytest.raises(openai.PermissionDeniedError):
        openai.OpenAI(base_url=base, api_key=other["key"], max_retries=0).chat.completions.create(
            model=model, messages=messages, max_tokens=2
        )
    client = openai.OpenAI(base_url=base, api_key=allowed["key"], max_retries=0)
    exact = {"ignore_eos": True}  # exactly max_tokens tokens, so the expected usage is known
    reply = client.chat.completions.create(model=model, messages=messages, max_tokens=3, extra_body=exact)
    stream = client.chat.completions.create(
        model=model, messages=messages, max_tokens=4, stream=True, extra_body=exact
    )
    chunks = list(stream)
    assert all(c.usage is None for c in chunks)  # usage asked upstream for accounting, hidden from the client
    assert reply.usage is not None and reply.usage.completion_tokens == 3

    def recorded() -> dict | None:
        usage = api.get(f"/keys/{allowed['id']}/usage").json()
        return usage if usage["requests"] >= 2 else None

    usage = wait_until(recorded, timeout=30)
    assert usage["completion_tokens"] == 3 + 4
    assert allowed["key"] not in api.get("/keys").text  # the key is shown once, at creation
    run.stop()
