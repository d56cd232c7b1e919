"""A LoRA adapter added to a RUNNING vLLM-CPU run through the control plane (vLLM's own
/v1/load_lora_adapter, VLLM_ALLOW_RUNTIME_LORA_UPDATING), then removed: greedy text for
`<model>_<adapter>` equals the built-in engine's with the same adapter loaded at start.

Opt-in: skips, naming the install command, unless vLLM's virtual environment exists
(`scripts/engines/install.sh vllm`, or `MODELSERVE_ENGINES__VLLM__PYTHON`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from modelserve.testing import BuiltinEngineProcess
from tests.engines.conftest import engine_python_or_skip
from tests.integration.harness import ServerProcess, free_port, reap_runs

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
PROMPTS = ("The quick brown fox", "Hello world! How are")


@pytest.fixture(scope="module")
def vllm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    python = engine_python_or_skip("vllm")
    env = {"MODELSERVE_ENGINE_FALLBACK": "false", "MODELSERVE_ENGINES__VLLM__PYTHON": python}
    srv = ServerProcess(tmp_path_factory.mktemp("vllm-lora"), free_port(), env=env).start()
    yield srv
    srv.stop()
    reap_runs(srv)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from modelserve.testing import make_tiny_llama, make_tiny_llama_lora

    root = tmp_path_factory.mktemp("vllm-lora-models")
    llama = make_tiny_llama(root / "tiny-llama")
    return {"llama": llama, "lora": make_tiny_llama_lora(llama, root / "sql")}


@pytest.fixture(scope="module")
def vllm_run(vllm_server: ServerProcess, models: dict[str, Path]) -> Iterator[Any]:
    import modelserve as ms

    fn = ms.Client(base_url=vllm_server.url).get_or_create_project("lora").new_function(
        "tiny-vllm", kind="vllmserve-text", url=str(models["llama"]), model_name="tiny"
    )
    # No adapter at start: --enable-lora is what lets vLLM take one later. float32 keeps
    # vLLM-CPU from downcasting the tiny model (near-tied greedy picks would differ).
    args = ["--enable-lora", "--max-model-len", "512", "--enforce-eager"]
    run = fn.run("serve", wait=True, timeout=600, dtype="float32", args=args)
    assert run.status.state == "RUNNING", run.status.message
    yield run
    run.stop()


@pytest.fixture(scope="module")
def reference(models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    """The built-in engine with the adapter loaded at start, as `sql`."""
    proc = BuiltinEngineProcess(
        models["llama"], "tiny", ["--lora-modules", f"sql={models['lora']}", "--max-model-len", "512",
                                  "--dtype", "float32"],
        log_path=tmp_path_factory.mktemp("vllm-lora-ref") / "builtin.log",
    )  # fmt: skip
    proc.start()
    try:
        proc.wait_ready()
        yield openai.OpenAI(base_url=f"{proc.base_url}/v1", api_key="x", max_retries=0, timeout=120)
    finally:
        proc.stop()


def _greedy(client: openai.OpenAI, model: str, prompt: str) -> str:
    out = client.completions.create(model=model, prompt=prompt, max_tokens=8, temperature=0)
    return out.choices[0].text.rstrip("\ufffd")  # vLLM withholds a partial UTF-8 character at the end


def test_adapter_added_to_running_vllm_matches_builtin_then_goes(
    vllm_run: Any, reference: openai.OpenAI, models: dict[str, Path]
) -> None:
    assert vllm_run.status.to_dict()["engine"]["used"] == "vllm"
    model = vllm_run.status.openai["model"]
    gateway = openai.OpenAI(base_url=vllm_run.status.openai["baseUrl"], api_key="x", max_retries=0, timeout=120)
    base = [_greedy(gateway, model, p) for p in PROMPTS]

    vllm_run.add_adapter("sql", str(models["lora"]))
    assert {m.id for m in gateway.models.list()} >= {model, f"{model}_sql"}
    adapted = [_greedy(gateway, f"{model}_sql", p) for p in PROMPTS]
    assert adapted == [_greedy(reference, "sql", p) for p in PROMPTS]
    assert adapted != base

    vllm_run.remove_adapter("sql")
    with pytest.raises(openai.NotFoundError):
        gateway.completions.create(model=f"{model}_sql", prompt=PROMPTS[0], max_tokens=2)
    assert [_greedy(gateway, model, p) for p in PROMPTS] == base


@pytest.fixture(scope="module")
def vllm_run_with_spec_adapter(vllm_server: ServerProcess, models: dict[str, Path]) -> Iterator[Any]:
    """A vLLM run whose only adapter comes from its spec (no --enable-lora in its args)."""
    import modelserve as ms

    fn = ms.Client(base_url=vllm_server.url).get_or_create_project("lora").new_function(
        "tiny-vllm-spec", kind="vllmserve-text", url=str(models["llama"]), model_name="tiny",
        adapters=[{"name": "sql", "url": str(models["lora"])}],
    )
    run = fn.run("serve", wait=True, timeout=600, dtype="float32", args=["--max-model-len", "512", "--enforce-eager"])
    assert run.status.state == "RUNNING", run.status.message
    yield run
    run.stop()


def test_replica_restarted_after_the_last_adapter_went_still_takes_adapters(
    vllm_run_with_spec_adapter: Any, reference: openai.OpenAI, models: dict[str, Path]
) -> None:
    import os
    import signal
    import time

    from tests.integration.harness import run_processes

    run = vllm_run_with_spec_adapter
    run.remove_adapter("sql")
    victim = next(p for p in run_processes(run.id) if "vllm.entrypoints.openai.api_server" in " ".join(p.cmdline()))
    os.killpg(os.getpgid(victim.pid), signal.SIGKILL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        reasons = [e["reason"] for e in run.events()]
        if "ReplicaExited" in reasons and reasons[reasons.index("ReplicaExited"):].count("ReplicaReady") >= 1:
            break
        time.sleep(2)
    restarted = next(p for p in run_processes(run.id) if "vllm.entrypoints.openai.api_server" in " ".join(p.cmdline()))
    assert restarted.pid != victim.pid
    assert "--enable-lora" in restarted.cmdline() and "--lora-modules" not in restarted.cmdline()

    run.add_adapter("sql", str(models["lora"]))  # accepted: the restarted replica kept LoRA enabled
    gateway = openai.OpenAI(base_url=run.status.openai["baseUrl"], api_key="x", max_retries=0, timeout=120)
    model = run.status.openai["model"]
    assert [_greedy(gateway, f"{model}_sql", p) for p in PROMPTS] == [_greedy(reference, "sql", p) for p in PROMPTS]
