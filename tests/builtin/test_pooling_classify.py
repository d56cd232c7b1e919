"""A sequence classifier (tiny random BERT, 3 labels) served by a real engine process: /classify and
/pooling in vLLM's shapes, KServe's v2 /infer and v1 :predict, each checked against transformers
run in this process on the same folder; bad input answers the OpenAI error envelope naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelserve.testing import BuiltinEngineProcess
from modelserve.testing.tiny_encoders import SENTIMENT_LABELS, make_tiny_bert_classifier

TEXTS = ["hello world", "the quick brown fox jumps over the lazy dog", "paris", "how are you today?"]


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("tiny-classifier")
    folder = make_tiny_bert_classifier(root / "model")
    with BuiltinEngineProcess(folder, "clf", ["--max-model-len", "32"], log_path=root / "engine.log") as p:
        yield p.base_url, folder


@pytest.fixture(scope="module")
def reference(classifier: tuple[str, Path]) -> dict[str, list[float]]:
    """Logits per text from transformers itself, one text at a time."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = classifier[1]
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    with torch.inference_mode():
        return {t: model(**tok(t, return_tensors="pt")).logits[0].tolist() for t in TEXTS}


def _softmax(xs: list[float]) -> list[float]:
    import math

    e = [math.exp(x - max(xs)) for x in xs]
    return [v / sum(e) for v in e]


def _post(url: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(url + path, json=body, timeout=60)


def test_classify_matches_transformers(
    classifier: tuple[str, Path], reference: dict[str, list[float]]
) -> None:
    r = _post(classifier[0], "/classify", {"model": "clf", "input": TEXTS})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "list" and body["id"].startswith("classify-") and body["model"] == "clf"
    assert [d["index"] for d in body["data"]] == list(range(len(TEXTS)))
    for text, d in zip(TEXTS, body["data"]):
        expected = _softmax(reference[text])
        assert d["num_classes"] == 3
        assert d["probs"] == pytest.approx(expected, abs=1e-4)
        assert d["label"] == SENTIMENT_LABELS[expected.index(max(expected))]
    assert body["usage"]["prompt_tokens"] > len(TEXTS) * 2  # [CLS] and [SEP] at least
    labels = {d["label"] for d in body["data"]}
    assert len(labels) > 1, "the tiny model should not answer one label for every text"


def test_concurrent_requests_are_batched_without_mixing_answers(
    classifier: tuple[str, Path], reference: dict[str, list[float]]
) -> None:
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda t: _post(classifier[0], "/classify", {"input": t}), TEXTS * 3))
    for text, r in zip(TEXTS * 3, replies):
        assert r.json()["data"][0]["probs"] == pytest.approx(_softmax(reference[text]), abs=1e-4)


def test_many_inputs_of_mixed_lengths_keep_their_order(
    classifier: tuple[str, Path], reference: dict[str, list[float]]
) -> None:
    """More inputs than one CPU forward takes (32): run sorted by length in slices, answered in order."""
    texts = [TEXTS[i % len(TEXTS)] for i in range(41)]
    data = _post(classifier[0], "/classify", {"input": texts}).json()["data"]
    assert [d["index"] for d in data] == list(range(len(texts)))
    for text, d in zip(texts, data):
        assert d["probs"] == pytest.approx(_softmax(reference[text]), abs=1e-4)


def test_pooling_gives_probabilities_or_logits(
    classifier: tuple[str, Path], reference: dict[str, list[float]]
) -> None:
    probs = _post(classifier[0], "/pooling", {"input": TEXTS[:2]}).json()
    assert probs["data"][0]["object"] == "pooling"
    assert probs["data"][1]["data"] == pytest.approx(_softmax(reference[TEXTS[1]]), abs=1e-4)
    logits = _post(classifier[0], "/pooling", {"input": TEXTS[0], "use_activation": False}).json()
    assert logits["data"][0]["data"] == pytest.approx(reference[TEXTS[0]], abs=1e-4)


def test_kserve_v2_infer_answers_class_ids(
    classifier: tuple[str, Path], reference: dict[str, list[float]]
) -> None:
    url = classifier[0]
    tensor_in = {"name": "input-0", "shape": [len(TEXTS)], "datatype": "BYTES", "data": TEXTS}
    body = {"id": "req-1", "inputs": [tensor_in]}
    r = _post(url, "/v2/models/clf/infer", body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["model_name"] == "clf" and out["id"] == "req-1"
    [tensor] = out["outputs"]
    assert (tensor["name"], tensor["datatype"], tensor["shape"]) == ("output-0", "INT64", [len(TEXTS)])
    expected = [reference[t].index(max(reference[t])) for t in TEXTS]
    assert tensor["data"] == expected
    v1 = _post(url, "/v1/models/clf:predict", {"instances": TEXTS}).json()
    assert v1 == {"predictions": expected}


def test_kserve_metadata_and_readiness(classifier: tuple[str, Path]) -> None:
    url = classifier[0]
    meta = httpx.get(f"{url}/v2/models/clf").json()
    assert meta["name"] == "clf"
    assert meta["inputs"] == [{"name": "input-0", "datatype": "BYTES", "shape": [-1]}]
    assert meta["outputs"][0]["datatype"] == "INT64"
    assert httpx.get(f"{url}/v2/models/clf/ready").json() == {"name": "clf", "ready": True}
    assert httpx.get(f"{url}/v2/health/ready").json() == {"ready": True}
    assert httpx.get(f"{url}/v2/health/live").json() == {"live": True}
    missing = httpx.get(f"{url}/v2/models/other/ready")
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "model"


BAD = [
    ("empty-input", "/classify", {"input": []}, 400, "input"),
    ("unknown-model", "/classify", {"model": "other", "input": "x"}, 404, "model"),
    ("too-long", "/classify", {"input": ["ok", "hello world " * 40]}, 400, "input"),
    ("score-needs-one-label", "/score", {"text_1": "a", "text_2": "b"}, 400, "model"),
    ("rerank-needs-one-label", "/rerank", {"query": "a", "documents": ["b"]}, 400, "model"),
    ("embeddings-on-a-classifier", "/v1/embeddings", {"model": "clf", "input": "x"}, 400, "model"),
    ("v2-not-bytes", "/v2/models/clf/infer",
     {"inputs": [{"name": "input-0", "shape": [1], "datatype": "FP32", "data": [1.0]}]}, 400,
     "inputs[0].datatype"),
    ("v2-shape", "/v2/models/clf/infer",
     {"inputs": [{"name": "input-0", "shape": [2], "datatype": "BYTES", "data": ["x"]}]}, 400,
     "inputs[0].shape"),
    ("v2-no-inputs", "/v2/models/clf/infer", {"inputs": []}, 400, "inputs"),
    ("v2-unknown-model", "/v2/models/other/infer",
     {"inputs": [{"name": "input-0", "shape": [1], "datatype": "BYTES", "data": ["x"]}]}, 404, "model"),
    ("v1-no-instances", "/v1/models/clf:predict", {}, 400, "instances"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "body", "status", "param"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_input_names_the_field(
    classifier: tuple[str, Path], path: str, body: dict[str, Any], status: int, param: str
) -> None:
    r = _post(classifier[0], path, body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["param"] == param
    assert _post(classifier[0], "/classify", {"input": "still serving"}).status_code == 200
