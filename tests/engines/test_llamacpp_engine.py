"""llama.cpp as a real process from its LaunchPlan: chat, and greedy text equal to transformers'.

Needs llama-cpp-python[server] (in this interpreter, or via scripts/engines/install.sh llamacpp).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest

from modelserve.engines import ENGINES, ModelArtifact
from modelserve.executors.local.process import free_port
from tests.engines.conftest import engine_python_or_skip, greedy, settings_with
from tests.engines.golden import plan_for
from tests.engines.procs import exit_line, running


@pytest.fixture(scope="module")
def python() -> str:
    return engine_python_or_skip("llamacpp", allow_current=True)


def _launch(python: str, tmp: Path, model: Path, args: list[str] | None = None):  # type: ignore[no-untyped-def]
    spec = {"url": str(model), "model_name": "tiny", "args": args or ["--n_ctx", "512"]}
    return ENGINES["llamacpp"].launch(
        plan_for("vllmserve-text", spec), ModelArtifact(model), port=free_port(), settings=settings_with(tmp, llamacpp=python)
    )


@pytest.fixture(scope="module")
def llamacpp(python: str, tiny: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("llamacpp")
    with running(_launch(python, tmp, tiny["gguf"]), tmp / "llamacpp.log", timeout_s=60) as eng:
        print(f"llama.cpp ready in {eng.startup_s:.1f} s")
        yield eng


def test_chat_with_served_name(llamacpp: Any) -> None:
    client = openai.OpenAI(base_url=f"{llamacpp.base_url}/v1", api_key="none", max_retries=0)
    assert [m.id for m in client.models.list()] == ["tiny"]
    out = client.chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "Say hello"}], max_tokens=6, temperature=0
    )
    assert out.choices[0].message.role == "assistant"
    assert out.usage is not None and out.usage.completion_tokens > 0


def _transformers_greedy(model_dir: Path, prompt: str, n: int = 8) -> str:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    ids = tok(prompt, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=n, do_sample=False)
    return str(tok.decode(out[0][ids.shape[1]:]))


def test_greedy_text_equals_transformers(llamacpp: Any, tiny: dict[str, Path]) -> None:
    """The GGUF served by llama.cpp decodes like the transformers model it was written from."""
    plain = {"repeat_penalty": 1.0}  # llama_cpp.server's default is 1.1; greedy means no penalty
    for prompt in ("The quick brown fox", "Hello world! How are"):
        assert greedy(llamacpp.base_url, "tiny", prompt, extra=plain) == _transformers_greedy(tiny["llama"], prompt)


def test_bad_args_error_line(python: str, tiny: dict[str, Path], tmp_path: Path) -> None:
    line = exit_line(_launch(python, tmp_path, tiny["gguf"], ["--no-such-flag", "1"]), tmp_path / "l.log")
    assert line.endswith("error: unrecognized arguments: --no-such-flag 1")


def test_unloadable_model_error_line(python: str, tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a gguf file")
    line = exit_line(_launch(python, tmp_path, bad), tmp_path / "l.log")
    assert "Failed to load model from file" in line and str(bad) in line
