"""Fixtures for real-engine tests: tiny models built once, engine interpreters found or skipped.

An engine's interpreter is `MODELSERVE_ENGINES__<NAME>__PYTHON` (read through Settings), else
`<repo>/.engines/<name>/bin/python` as `scripts/engines/install.sh <name>` creates it; without
either the engine's tests skip, naming the install command.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelserve.engines.locate import has_module
from modelserve.settings import Settings

REPO = Path(__file__).resolve().parents[2]
MODULES = {"vllm": "vllm", "infinity": "infinity_emb", "llamacpp": "llama_cpp"}


def engine_python_or_skip(name: str, *, allow_current: bool = False) -> str:
    """The interpreter that has engine `name`, or pytest.skip with the command that installs it."""
    cfg = Settings().engines.get(name)
    candidates = [cfg.python] if cfg and cfg.python else []
    candidates.append(str(REPO / ".engines" / name / "bin" / "python"))
    if allow_current:
        candidates.append(sys.executable)
    for python in candidates:
        if Path(python).exists() and has_module(python, MODULES[name]):
            return python
    pytest.skip(f"{name} is not installed: run scripts/engines/install.sh {name} "
                f"(or set MODELSERVE_ENGINES__{name.upper()}__PYTHON)")


def settings_with(tmp: Path, **pythons: str) -> Settings:
    engines: dict[str, Any] = {name: {"python": py} for name, py in pythons.items()}
    return Settings(data_dir=tmp, engines=engines)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """tiny-llama folder, its LoRA adapter and its GGUF file (a few seconds, deterministic)."""
    from modelserve.testing import make_tiny_llama, make_tiny_llama_lora
    from modelserve.testing.gguf_models import make_tiny_llama_gguf

    root = tmp_path_factory.mktemp("engine-models")
    llama = make_tiny_llama(root / "tiny-llama")
    return {
        "llama": llama,
        "lora": make_tiny_llama_lora(llama, root / "tiny-llama-lora"),
        "gguf": make_tiny_llama_gguf(root / "tiny-llama.gguf", llama),
    }


@pytest.fixture(scope="session")
def builtin_llm(tiny: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The built-in engine serving tiny-llama as `tiny` and its adapter as `colorist`: the reference."""
    from modelserve.engines import ENGINES, ModelArtifact
    from modelserve.executors.local.process import free_port
    from tests.engines.golden import plan_for
    from tests.engines.procs import running

    tmp = tmp_path_factory.mktemp("builtin")
    spec = {"url": str(tiny["llama"]), "model_name": "tiny", "adapters": [{"name": "colorist", "url": "x"}],
            "args": ["--max-model-len", "512"]}
    plan = plan_for("vllmserve-text", spec)
    artifact = ModelArtifact(tiny["llama"], {"colorist": tiny["lora"]})
    lp = ENGINES["builtin"].launch(plan, artifact, port=free_port(), settings=Settings(data_dir=tmp))
    with running(lp, tmp / "builtin.log", timeout_s=180) as eng:
        yield eng


def greedy(
    base_url: str, model: str, prompt: str = "The quick brown fox", n: int = 8, extra: dict[str, Any] | None = None
) -> str:
    """Greedy completion text through the official openai client (`extra` goes in extra_body)."""
    import openai

    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="none", max_retries=0, timeout=120)
    out = client.completions.create(model=model, prompt=prompt, max_tokens=n, temperature=0, extra_body=extra)
    return out.choices[0].text
