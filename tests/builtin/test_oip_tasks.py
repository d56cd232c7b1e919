"""KServe's token_classification and fill_mask tasks on real engine processes (tiny random BERTs),
through the v2 Open Inference Protocol and v1 :predict, checked against transformers run in this
process. The token classifier runs with --return-probabilities, so both output kinds are covered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelserve.testing import BuiltinEngineProcess
from modelserve.testing.tiny_encoders import (
    NER_LABELS,
    make_tiny_bert_masked_lm,
    make_tiny_bert_token_classifier,
)

TAG_TEXTS = ["hello world", "the capital of france is paris"]
MASK_TEXTS = ["the capital of france is [MASK].", "hello [MASK] how are [MASK] today?"]


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, Path]]]:
    root = tmp_path_factory.mktemp("tiny-kserve-tasks")
    folders = {
        "ner": make_tiny_bert_token_classifier(root / "ner"),
        "mlm": make_tiny_bert_masked_lm(root / "mlm"),
    }
    procs = {
        "ner": BuiltinEngineProcess(
            folders["ner"], "ner", ["--return-probabilities"], log_path=root / "ner.log"
        ),
        "mlm": BuiltinEngineProcess(folders["mlm"], "mlm", log_path=root / "mlm.log"),
    }
    try:
        for p in procs.values():
            p.start()
        yield {k: (p.wait_ready().base_url, folders[k]) for k, p in procs.items()}
    finally:
        for p in procs.values():
            p.stop()


def _flat(rows: list[list[float]]) -> list[float]:
    return [v for r in rows for v in r]


def _infer(url: str, name: str, texts: list[str]) -> dict[str, Any]:
    tensor = {"name": "input-0", "shape": [len(texts)], "datatype": "BYTES", "data": texts}
    r = httpx.post(f"{url}/v2/models/{name}/infer", json={"inputs": [tensor]}, timeout=60)
    assert r.status_code == 200, r.text
    [out] = r.json()["outputs"]
    assert out["name"] == "output-0"
    return dict(out)


def test_token_classification_probabilities(engines: dict[str, tuple[str, Path]]) -> None:
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    url, folder = engines["ner"]
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForTokenClassification.from_pretrained(folder).eval()
    with torch.inference_mode():
        expected = [model(**tok(t, return_tensors="pt")).logits[0].softmax(-1).tolist() for t in TAG_TEXTS]
    width = max(len(e) for e in expected)
    out = _infer(url, "ner", TAG_TEXTS)
    assert (out["datatype"], out["shape"]) == ("FP32", [2, width, len(NER_LABELS)])
    rows = [out["data"][i : i + len(NER_LABELS)] for i in range(0, len(out["data"]), len(NER_LABELS))]
    for t, exp in enumerate(expected):
        mine = rows[t * width : (t + 1) * width]
        assert _flat(mine[: len(exp)]) == pytest.approx(_flat(exp), abs=1e-4)
        assert all(r == [0.0] * len(NER_LABELS) for r in mine[len(exp) :])  # past this input's tokens
    v1 = httpx.post(f"{url}/v1/models/ner:predict", json={"instances": TAG_TEXTS[:1]}, timeout=60).json()
    first = v1["predictions"][0][0]  # {class index: probability}, KServe's v1 shape
    assert set(first) == {str(i) for i in range(len(NER_LABELS))}
    assert [first[str(i)] for i in range(len(NER_LABELS))] == pytest.approx(expected[0][0], abs=1e-4)
    pooled = httpx.post(f"{url}/pooling", json={"input": TAG_TEXTS[1]}, timeout=60).json()
    assert _flat(pooled["data"][0]["data"]) == pytest.approx(_flat(expected[1]), abs=1e-4)


def test_fill_mask_predicts_the_masked_tokens(engines: dict[str, tuple[str, Path]]) -> None:
    import torch
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    url, folder = engines["mlm"]
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForMaskedLM.from_pretrained(folder).eval()
    expected = []
    with torch.inference_mode():
        for t in MASK_TEXTS:
            enc = tok(t, return_tensors="pt")
            at = enc["input_ids"][0] == tok.mask_token_id
            expected.append(tok.decode(model(**enc).logits[0][at].argmax(-1).tolist()))
    out = _infer(url, "mlm", MASK_TEXTS)
    assert (out["datatype"], out["shape"], out["data"]) == ("BYTES", [2], expected)
    assert len(expected[1].split()) == 2  # two masks, two predicted words
    v1 = httpx.post(f"{url}/v1/models/mlm:predict", json={"instances": MASK_TEXTS}, timeout=60).json()
    assert v1 == {"predictions": expected}
    meta = httpx.get(f"{url}/v2/models/mlm").json()
    assert meta["outputs"][0]["datatype"] == "BYTES" and meta["platform"].endswith("fill_mask")


@pytest.mark.parametrize(
    ("engine", "path", "body", "param"),
    [
        ("mlm", "/v1/models/mlm:predict", {"instances": ["no mask here"]}, "instances"),
        ("mlm", "/classify", {"input": "a [MASK]"}, "model"),
        ("mlm", "/pooling", {"input": "a [MASK]"}, "model"),
        ("ner", "/classify", {"input": "a"}, "model"),
        ("ner", "/rerank", {"query": "a", "documents": ["b"]}, "model"),
    ],
    ids=["fill-mask-without-mask", "classify-on-mlm", "pooling-on-mlm", "classify-on-ner", "rerank-on-ner"],
)
def test_wrong_task_or_input_names_the_field(
    engines: dict[str, tuple[str, Path]], engine: str, path: str, body: dict[str, Any], param: str
) -> None:
    url = engines[engine][0]
    r = httpx.post(url + path, json=body, timeout=60)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param
