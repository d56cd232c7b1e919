"""/v1/embeddings on a tiny sentence-transformers BERT served by a real engine process."""

from __future__ import annotations

import base64
import math
import struct
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest


def test_embeddings_shape_and_norm(embedder: openai.OpenAI) -> None:
    r = embedder.embeddings.create(model="tiny-bert", input=["hello world", "kubernetes pod", "a b c"])
    assert [d.index for d in r.data] == [0, 1, 2]
    assert all(len(d.embedding) == 64 for d in r.data)
    assert all(math.isclose(sum(x * x for x in d.embedding), 1.0, rel_tol=1e-3) for d in r.data)
    assert r.usage.prompt_tokens > 6


def test_single_string_input(embedder: openai.OpenAI) -> None:
    r = embedder.embeddings.create(model="tiny-bert", input="hello world")
    assert len(r.data) == 1


def test_base64_decodes_to_the_float_vector(embedder: openai.OpenAI, bert_url: str) -> None:
    floats = embedder.embeddings.create(model="tiny-bert", input="hello world", encoding_format="float")
    b64 = embedder.embeddings.create(model="tiny-bert", input="hello world", encoding_format="base64")
    raw_bytes = base64.b64decode(b64.data[0].embedding)  # type: ignore[arg-type]
    decoded = struct.unpack(f"<{len(raw_bytes) // 4}f", raw_bytes)
    assert list(decoded) == pytest.approx(floats.data[0].embedding, abs=1e-6)
    raw = httpx.post(
        f"{bert_url}/v1/embeddings", json={"model": "tiny-bert", "input": "x", "encoding_format": "base64"}
    )
    assert isinstance(raw.json()["data"][0]["embedding"], str)


def test_concurrent_requests_get_their_own_vectors(embedder: openai.OpenAI) -> None:
    texts = [f"sentence number {i}" for i in range(12)]
    alone = {t: embedder.embeddings.create(model="tiny-bert", input=t).data[0].embedding for t in texts[:3]}
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda t: embedder.embeddings.create(model="tiny-bert", input=t), texts))
    for t, r in zip(texts, results):
        if t in alone:
            assert r.data[0].embedding == pytest.approx(alone[t], abs=1e-4)
    assert len({tuple(round(x, 4) for x in r.data[0].embedding) for r in results}) == len(texts)


def test_dimensions_truncates_and_renormalizes(embedder: openai.OpenAI) -> None:
    r = embedder.embeddings.create(model="tiny-bert", input="hello world", dimensions=16)
    assert len(r.data[0].embedding) == 16
    assert math.isclose(sum(x * x for x in r.data[0].embedding), 1.0, rel_tol=1e-3)


def test_bad_embedding_input(bert_url: str) -> None:
    r = httpx.post(f"{bert_url}/v1/embeddings", json={"model": "tiny-bert", "input": []})
    assert r.status_code == 400 and r.json()["error"]["param"] == "input"
    r = httpx.post(f"{bert_url}/v1/embeddings", json={"model": "other", "input": "x"})
    assert r.status_code == 404 and r.json()["error"]["param"] == "model"


def test_chat_on_an_embedding_model_is_rejected(embedder: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        embedder.chat.completions.create(model="tiny-bert", messages=[{"role": "user", "content": "x"}])


def test_input_longer_than_the_model_takes_is_refused(embedder: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        embedder.embeddings.create(model="tiny-bert", input=["short", "hello world " * 200])
    assert e.value.body["param"] == "input"  # type: ignore[index]
    assert "input[1]" in e.value.body["message"]  # type: ignore[index]
    assert len(embedder.embeddings.create(model="tiny-bert", input="still serving").data) == 1


def test_token_id_inputs_and_tokenize_route(embedder: openai.OpenAI, bert_url: str) -> None:
    ids = httpx.post(f"{bert_url}/tokenize", json={"prompt": "hello world", "add_special_tokens": False}).json()
    by_ids = embedder.embeddings.create(model="tiny-bert", input=[ids["tokens"]])
    by_text = embedder.embeddings.create(model="tiny-bert", input="hello world")
    assert by_ids.data[0].embedding == pytest.approx(by_text.data[0].embedding, abs=1e-5)
