"""Infinity as a real process from its LaunchPlan: OpenAI embeddings equal sentence-transformers'.

Needs the Infinity venv (scripts/engines/install.sh infinity); skips, naming that command, without it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import openai
import pytest

from modelserve.engines import ENGINES, ModelArtifact
from modelserve.executors.local.process import free_port
from tests.engines.conftest import engine_python_or_skip, settings_with
from tests.engines.golden import plan_for
from tests.engines.procs import exit_line, running

SENTENCES = ["A man is eating food.", "A man is eating a piece of bread.", "The stock market crashed today."]


@pytest.fixture(scope="module")
def python() -> str:
    return engine_python_or_skip("infinity")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """all-MiniLM-L6-v2 from its PyPI package when installed, else the tiny random BERT."""
    from modelserve.testing import make_tiny_bert_embed, minilm_path

    return minilm_path() or make_tiny_bert_embed(tmp_path_factory.mktemp("bert") / "tiny-bert-embed")


def _launch(python: str, tmp: Path, model: Path, args: list[str] | None = None):  # type: ignore[no-untyped-def]
    spec = {"url": str(model), "model_name": "emb", "engine": "Infinity", "features": ["TextEmbedding"],
            "args": args or []}
    return ENGINES["infinity"].launch(
        plan_for("kubeai-text", spec), ModelArtifact(model), port=free_port(), settings=settings_with(tmp, infinity=python)
    )


@pytest.fixture(scope="module")
def infinity(python: str, model: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("infinity")
    with running(_launch(python, tmp, model), tmp / "infinity.log", timeout_s=240) as eng:
        print(f"infinity ready in {eng.startup_s:.1f} s")
        yield eng


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def test_embeddings_match_sentence_transformers(infinity: Any, model: Path) -> None:
    from sentence_transformers import SentenceTransformer

    client = openai.OpenAI(base_url=f"{infinity.base_url}/v1", api_key="none", max_retries=0)
    assert [m.id for m in client.models.list()] == ["emb"]
    got = [d.embedding for d in client.embeddings.create(model="emb", input=SENTENCES).data]
    want = SentenceTransformer(str(model), device="cpu").encode(SENTENCES, normalize_embeddings=True)
    assert len(got) == 3 and len(got[0]) == len(want[0])
    for g, w in zip(got, want):
        assert _cos(g, [float(x) for x in w]) > 0.999
    if "MiniLM" in str(model) or "minilm" in str(model):
        assert _cos(got[0], got[1]) > 0.7
        assert _cos(got[0], got[2]) < 0.1


def test_bad_args_error_line(python: str, model: Path, tmp_path: Path) -> None:
    line = exit_line(_launch(python, tmp_path, model, ["--no-such-flag"]), tmp_path / "i.log", timeout_s=240)
    assert "No such option: --no-such-flag" in line
