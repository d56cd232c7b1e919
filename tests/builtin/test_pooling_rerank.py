"""/score and /rerank (+ /v1, /v2) on a real engine process: a tiny cross-encoder (one-label BERT
classifier, checked against transformers in this process) and the tiny bi-encoder (scores are the
cosine of its /v1/embeddings vectors). Bad input answers the OpenAI error envelope naming the field."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelserve.testing import BuiltinEngineProcess
from modelserve.testing.tiny_encoders import make_tiny_bert_reranker

QUERY = "what is the capital of france?"
DOCS = ["the capital of france is paris.", "kubernetes runs containers in pods", "hello world", "paris"]


@pytest.fixture(scope="module")
def reranker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("tiny-reranker")
    folder = make_tiny_bert_reranker(root / "model")
    with BuiltinEngineProcess(folder, "rr", ["--max-model-len", "32"], log_path=root / "engine.log") as p:
        yield p.base_url, folder


@pytest.fixture(scope="module")
def expected(reranker: tuple[str, Path]) -> list[float]:
    """sigmoid(logit) of (QUERY, doc) per document, from transformers itself."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = reranker[1]
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    with torch.inference_mode():
        return [float(model(**tok(QUERY, d, return_tensors="pt")).logits[0, 0].sigmoid()) for d in DOCS]


def _post(url: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(url + path, json=body, timeout=60)


def test_score_pairs_match_transformers(reranker: tuple[str, Path], expected: list[float]) -> None:
    url = reranker[0]
    one_to_many = _post(url, "/score", {"model": "rr", "text_1": QUERY, "text_2": DOCS}).json()
    assert one_to_many["id"].startswith("score-") and one_to_many["object"] == "list"
    assert [d["index"] for d in one_to_many["data"]] == list(range(len(DOCS)))
    assert [d["score"] for d in one_to_many["data"]] == pytest.approx(expected, abs=1e-4)
    assert len({round(s, 4) for s in expected}) == len(DOCS), "distinct pairs should score differently"
    pairwise = _post(url, "/v1/score", {"text_1": [QUERY] * 2, "text_2": DOCS[:2]}).json()
    assert [d["score"] for d in pairwise["data"]] == pytest.approx(expected[:2], abs=1e-4)
    raw = _post(url, "/score", {"text_1": QUERY, "text_2": DOCS[0], "use_activation": False}).json()
    assert raw["data"][0]["score"] == pytest.approx(math.log(expected[0] / (1 - expected[0])), abs=1e-3)


@pytest.mark.parametrize("path", ["/rerank", "/v1/rerank", "/v2/rerank"])
def test_rerank_sorts_documents_by_relevance(
    reranker: tuple[str, Path], expected: list[float], path: str
) -> None:
    body = _post(reranker[0], path, {"model": "rr", "query": QUERY, "documents": DOCS}).json()
    order = sorted(range(len(DOCS)), key=lambda i: expected[i], reverse=True)
    assert [r["index"] for r in body["results"]] == order
    for r in body["results"]:
        assert r["document"] == {"text": DOCS[r["index"]]}
        assert r["relevance_score"] == pytest.approx(expected[r["index"]], abs=1e-4)
    assert body["model"] == "rr" and body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] > 0


def test_rerank_top_n_and_cohere_documents(reranker: tuple[str, Path], expected: list[float]) -> None:
    docs = [{"text": d} for d in DOCS]  # Cohere v1 shape
    body = _post(reranker[0], "/rerank", {"query": QUERY, "documents": docs, "top_n": 2,
                                          "return_documents": False}).json()  # fmt: skip
    best = sorted(range(len(DOCS)), key=lambda i: expected[i], reverse=True)[:2]
    assert [r["index"] for r in body["results"]] == best
    assert all("document" not in r for r in body["results"])


def test_bi_encoder_scores_by_cosine(bert_url: str) -> None:
    body = {"model": "tiny-bert", "input": [QUERY, *DOCS]}
    vectors = _post(bert_url, "/v1/embeddings", body).json()["data"]
    q = vectors[0]["embedding"]
    cos = [sum(a * b for a, b in zip(q, d["embedding"])) for d in vectors[1:]]  # unit vectors
    scores = _post(bert_url, "/score", {"text_1": QUERY, "text_2": DOCS}).json()["data"]
    assert [s["score"] for s in scores] == pytest.approx(cos, abs=1e-4)
    ranked = _post(bert_url, "/rerank", {"query": QUERY, "documents": DOCS}).json()["results"]
    assert [r["index"] for r in ranked] == sorted(range(len(DOCS)), key=lambda i: cos[i], reverse=True)
    pooled = _post(bert_url, "/pooling", {"input": QUERY}).json()["data"][0]["data"]
    assert pooled == pytest.approx(q, abs=1e-5)


BAD = [
    ("missing-query", "/rerank", {"documents": ["a"]}, "query"),
    ("empty-documents", "/rerank", {"query": "a", "documents": []}, "documents"),
    ("negative-top-n", "/v1/rerank", {"query": "a", "documents": ["b"], "top_n": -1}, "top_n"),
    ("document-too-long", "/rerank", {"query": "a", "documents": ["b", "hello world " * 20]}, "documents"),
    ("unpaired-texts", "/score", {"text_1": ["a", "b"], "text_2": ["c", "d", "e"]}, "text_2"),
    ("empty-text-list", "/score", {"text_1": [], "text_2": "b"}, "text_1"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "param"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_names_the_field(
    reranker: tuple[str, Path], path: str, body: dict[str, Any], param: str
) -> None:
    r = _post(reranker[0], path, body)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["param"] == param and err["type"] == "invalid_request_error"
    assert _post(reranker[0], "/rerank", {"query": "a", "documents": ["b"]}).status_code == 200


def test_too_long_document_is_named(reranker: tuple[str, Path]) -> None:
    r = _post(reranker[0], "/rerank", {"query": "a", "documents": ["b", "c", "hello world " * 20]})
    assert "documents[2]" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    "path", ["/rerank", "/score", "/classify", "/pooling", "/v2/models/tiny-llama/infer"]
)
def test_pooling_routes_on_a_generation_model_name_model(llama_url: str, path: str) -> None:
    body = {"query": "a", "documents": ["b"], "text_1": "a", "text_2": "b", "input": "a",
            "inputs": [{"name": "input-0", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}  # fmt: skip
    r = _post(llama_url, path, body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == "model"
