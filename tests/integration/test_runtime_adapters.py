"""A LoRA adapter added to and removed from a RUNNING run end to end: REST route → every replica
(built-in engine's /v1/load_lora_adapter) → gateway → official openai client; a replica restarted
later serves it too; removal makes the name 404."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.integration.harness import ServerProcess, free_port, reap_runs, run_processes

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
MSGS = [{"role": "user", "content": "Write a SQL query."}]
GREEDY: dict[str, Any] = {"messages": MSGS, "max_tokens": 10, "temperature": 0, "extra_body": {"ignore_eos": True}}


@pytest.fixture(scope="module")
def lora(tiny_llama: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from modelserve.testing import make_tiny_llama_lora

    return make_tiny_llama_lora(tiny_llama, tmp_path_factory.mktemp("adapters") / "sql")


@pytest.fixture(scope="module")
def served(server: ServerProcess, tiny_llama: Path) -> Iterator[Any]:
    import modelserve as ms

    client = ms.Client(base_url=server.url)
    fn = client.get_or_create_project("lora").new_function(
        "tiny", kind="vllmserve-text", url=str(tiny_llama), model_name="tiny"
    )
    run = fn.run("serve", wait=True, timeout=240, scaling={"replicas": 2, "min_replicas": 2})
    assert run.status.state == "RUNNING", run.status.message
    assert run.status.openai["adapters"] == []
    yield run
    run.stop()


def _gateway(run: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=run.status.openai["baseUrl"], api_key="x", max_retries=0)


def _answers(run: Any, model: str, n: int = 6) -> tuple[set[str], set[str]]:
    """(distinct texts, replicas that answered) for `n` greedy chats through the gateway."""
    texts, replicas = set(), set()
    for _ in range(n):
        raw = _gateway(run).chat.completions.with_raw_response.create(model=model, **GREEDY)
        texts.add(raw.parse().choices[0].message.content or "")
        replicas.add(raw.headers["x-modelserve-replica"])
    return texts, replicas


def _replica_process(run: Any, index: int) -> Any:
    return next(
        p for p in run_processes(run.id)
        if p.environ().get("MODELSERVE_REPLICA") == str(index) and "modelserve.builtin" in p.cmdline()
    )  # fmt: skip


def _wait_restarted(run: Any, index: int, timeout: float = 240) -> None:
    """Until the run's events show replica `index` exited and then became ready again."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reasons = [(e["reason"], e["message"]) for e in run.events()]
        exited = [i for i, (r, m) in enumerate(reasons) if r == "ReplicaExited" and m.startswith(f"replica {index} ")]
        if exited and any(
            r == "ReplicaReady" and m.startswith(f"replica {index} ") for r, m in reasons[exited[-1]:]
        ):
            return
        time.sleep(1)
    raise AssertionError(f"replica {index} not restarted: {run.events()[-5:]}")


def _both_replicas_answer(run: Any, model: str, timeout: float = 20) -> set[str]:
    """The texts of greedy chats once both replicas answer (the gateway sees a restarted one soon)."""
    deadline = time.monotonic() + timeout
    while True:
        texts, replicas = _answers(run, model)
        if replicas == {f"{run.id}-0", f"{run.id}-1"} or time.monotonic() > deadline:
            assert len(replicas) == 2, replicas
            return texts


def test_added_adapter_is_served_by_every_replica_then_removed(served: Any, lora: Path) -> None:
    model = served.status.openai["model"]
    base_texts, _ = _answers(served, model, 2)

    served.add_adapter("sql", str(lora))
    adapter_model = f"{model}_sql"
    assert served.status.openai["adapters"] == [{"name": "sql", "model": adapter_model}]
    assert served.spec["adapters"] == [{"name": "sql", "url": str(lora)}]
    assert any(e["reason"] == "AdapterAdded" for e in served.events())
    listed = {m.id: m for m in _gateway(served).models.list().data}
    assert adapter_model in listed  # at once: the call returned after the gateway refreshed

    texts, replicas = _answers(served, adapter_model)
    assert replicas == {f"{served.id}-0", f"{served.id}-1"}
    assert len(texts) == 1 and texts != base_texts  # the same adapter on both, not the base model

    # A replica started after the change (here: restarted after a crash) serves it too.
    victim = _replica_process(served, 1)
    os.killpg(os.getpgid(victim.pid), signal.SIGKILL)
    _wait_restarted(served, 1)
    restarted = _replica_process(served, 1)
    assert restarted.pid != victim.pid
    assert f"sql={lora}" in restarted.cmdline()
    assert _both_replicas_answer(served, adapter_model) == texts

    served.remove_adapter("sql")
    assert served.status.openai["adapters"] == [] and served.spec["adapters"] == []
    assert adapter_model not in {m.id for m in _gateway(served).models.list().data}
    with pytest.raises(openai.NotFoundError) as info:
        _gateway(served).chat.completions.create(model=adapter_model, **GREEDY)
    assert info.value.body["code"] == "model_not_found"  # type: ignore[index]
    assert _answers(served, model, 2)[0] == base_texts


def test_engine_admin_routes_stay_behind_the_gateway(served: Any, server: ServerProcess, lora: Path) -> None:
    body = {"lora_name": "x", "lora_path": str(lora)}
    r = httpx.post(f"{served.status.openai['baseUrl']}/load_lora_adapter", json=body, timeout=30)
    assert r.status_code == 404
    assert "x" not in {m.id for m in _gateway(served).models.list().data}


def _post(server: ServerProcess, run_id: str, body: Any) -> httpx.Response:
    return httpx.post(f"{server.url}/api/v1/runs/{run_id}/adapters", json=body, timeout=60)


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"name": "Bad_Name", "url": "/tmp"}, 400, "name"),
        ({"url": "/tmp"}, 400, "name"),
        ({"name": "ok", "url": "ollama://llama3"}, 400, "url"),
        ({"name": "ok", "url": "/no/such/adapter"}, 400, "url"),
        ({"name": "ok", "url": "/tmp", "rank": 8}, 400, "rank"),
    ],
    ids=["bad-name", "no-name", "ollama-url", "missing-folder", "unknown-field"],
)
def test_bad_adapter_requests_name_the_field(
    served: Any, server: ServerProcess, body: Any, status: int, param: str
) -> None:
    r = _post(server, served.id, body)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert err["param"] == param


def test_adapter_refused_by_the_engine_is_400_with_its_words(
    served: Any, server: ServerProcess, tmp_path: Path
) -> None:
    (tmp_path / "adapter_config.json").write_text(
        '{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["nope"], "task_type": "CAUSAL_LM"}'
    )
    r = _post(server, served.id, {"name": "broken", "url": str(tmp_path)})
    assert r.status_code == 400 and r.json()["error"]["param"] == "url"
    assert "Loading lora broken failed" in r.json()["error"]["message"]
    served.refresh()
    assert served.status.openai["adapters"] == []  # nothing recorded, nothing half-loaded


def test_unknown_run_adapter_and_duplicate_names(served: Any, server: ServerProcess, lora: Path) -> None:
    assert _post(server, "0" * 32, {"name": "a", "url": str(lora)}).status_code == 404
    gone = httpx.delete(f"{server.url}/api/v1/runs/{served.id}/adapters/never", timeout=30)
    assert gone.status_code == 404 and gone.json()["error"]["param"] == "name"
    assert _post(server, served.id, {"name": "twin", "url": str(lora)}).status_code == 201
    try:
        dup = _post(server, served.id, {"name": "twin", "url": str(lora)})
        assert dup.status_code == 409 and dup.json()["error"]["param"] == "name"
    finally:
        assert httpx.delete(f"{server.url}/api/v1/runs/{served.id}/adapters/twin", timeout=30).status_code == 200


def test_a_run_that_is_not_running_is_409(server: ServerProcess, lora: Path, tmp_path: Path) -> None:
    import modelserve as ms

    client = ms.Client(base_url=server.url)
    fn = client.get_or_create_project("lora").new_function(
        "broken", kind="vllmserve-text", url=str(tmp_path / "missing-model"), model_name="broken"
    )
    run = fn.run("serve", wait=True, timeout=120)
    assert run.status.state == "ERROR"
    r = _post(server, run.id, {"name": "a", "url": str(lora)})
    assert r.status_code == 409 and "RUNNING" in r.json()["error"]["message"]


def test_cli_adds_and_removes_an_adapter(served: Any, server: ServerProcess, lora: Path) -> None:
    from typer.testing import CliRunner

    from modelserve.cli.main import app

    runner = CliRunner()
    added = runner.invoke(app, ["--url", server.url, "runs", "add-adapter", served.id[:8], "cli", str(lora)])
    assert added.exit_code == 0, added.output
    assert f"served as model {served.status.openai['model']}_cli" in " ".join(added.output.split())
    assert f"{served.status.openai['model']}_cli" in {m.id for m in _gateway(served).models.list().data}
    removed = runner.invoke(app, ["--url", server.url, "runs", "remove-adapter", served.id[:8], "cli"])
    assert removed.exit_code == 0, removed.output
    again = runner.invoke(app, ["--url", server.url, "runs", "remove-adapter", served.id[:8], "cli"])
    assert again.exit_code != 0 and "no adapter named 'cli'" in again.output


def _replica_models(run: Any) -> set[str]:
    """The model ids replica 0 itself lists, asked on its own port (behind the gateway's back)."""
    cmd = _replica_process(run, 0).cmdline()
    port = cmd[cmd.index("--port") + 1]
    return {m["id"] for m in httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=30).json()["data"]}


def _on_replica(run: Any, route: str, body: dict[str, str]) -> None:
    cmd = _replica_process(run, 0).cmdline()
    port = cmd[cmd.index("--port") + 1]
    httpx.post(f"http://127.0.0.1:{port}/v1/{route}", json=body, timeout=60).raise_for_status()


def test_a_readopted_replica_is_brought_back_to_the_runs_adapters(
    tmp_path: Path, tiny_llama: Path, lora: Path
) -> None:
    """A server that died in the middle of adapter changes leaves replicas serving something else
    than the spec says; after a restart the re-adopted replica is asked and corrected."""
    import modelserve as ms

    srv = ServerProcess(tmp_path, free_port()).start()
    try:
        fn = ms.Client(base_url=srv.url).get_or_create_project("adopt").new_function(
            "tiny", kind="vllmserve-text", url=str(tiny_llama), model_name="tiny",
            adapters=[{"name": "sql", "url": str(lora)}],
        )
        run = fn.run("serve", wait=True, timeout=240)
        assert run.status.state == "RUNNING", run.status.message
        assert _replica_models(run) == {"tiny", "sql"}
        pid = _replica_process(run, 0).pid

        srv.stop()  # the replica keeps serving; now make it disagree with the spec
        _on_replica(run, "unload_lora_adapter", {"lora_name": "sql"})
        _on_replica(run, "load_lora_adapter", {"lora_name": "stray", "lora_path": str(lora)})
        assert _replica_models(run) == {"tiny", "stray"}
        srv.start()

        run = ms.Client(base_url=srv.url).get_run(run.id)
        deadline = time.monotonic() + 120
        while not any(e["reason"] == "ReplicaAdopted" for e in run.events()) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _replica_process(run, 0).pid == pid  # re-adopted, not restarted
        assert _replica_models(run) == {"tiny", "sql"}
        assert not [e for e in run.events() if e["reason"] == "AdapterSyncFailed"]
        run.refresh()
        texts, _ = _answers(run, f"{run.status.openai['model']}_sql", 2)
        assert len(texts) == 1
        run.stop()
    finally:
        srv.stop()
        reap_runs(srv)
