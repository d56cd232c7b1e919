"""Session fixtures: tiny models built into a temp folder, and real engine subprocesses serving them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from modelserve.testing import (
    BuiltinEngineProcess,
    make_tiny_bert_embed,
    make_tiny_llama,
    make_tiny_llama_lora,
)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny-models")
    llama = make_tiny_llama(root / "tiny-llama")
    return {
        "llama": llama,
        "lora": make_tiny_llama_lora(llama, root / "tiny-llama-lora"),
        "bert": make_tiny_bert_embed(root / "tiny-bert-embed"),
    }


@pytest.fixture(scope="session")
def engines(
    tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """Both engines start together (their model loads overlap), then each must answer /health 200."""
    logs = tmp_path_factory.mktemp("engine-logs")
    procs = {
        "llama": BuiltinEngineProcess(
            tiny_models["llama"], "tiny-llama",
            ["--lora-modules", f"tiny-lora={tiny_models['lora']}", "--max-model-len", "256",
             "--max-num-seqs", "4", "--max-queue", "4"],
            log_path=logs / "llama.log",
        ),
        "bert": BuiltinEngineProcess(tiny_models["bert"], "tiny-bert", log_path=logs / "bert.log"),
    }  # fmt: skip
    try:
        for p in procs.values():
            p.start()
        for p in procs.values():
            p.wait_ready()
        yield {k: p.base_url for k, p in procs.items()}
    finally:
        for p in procs.values():
            p.stop()


@pytest.fixture(scope="session")
def llama_url(engines: dict[str, str]) -> str:
    return engines["llama"]


@pytest.fixture(scope="session")
def bert_url(engines: dict[str, str]) -> str:
    return engines["bert"]


@pytest.fixture
def llm(llama_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{llama_url}/v1", api_key="x", max_retries=0)


@pytest.fixture
def embedder(bert_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{bert_url}/v1", api_key="x", max_retries=0)
