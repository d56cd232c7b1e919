"""LoRA adapters loaded into and unloaded from a running engine (`/v1/load_lora_adapter`,
`/v1/unload_lora_adapter`), compared with an engine that loaded the same adapter at start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from modelserve.testing import BuiltinEngineProcess

MSGS = [{"role": "user", "content": "Tell me about Paris."}]
GREEDY: dict[str, Any] = {"messages": MSGS, "max_tokens": 12, "temperature": 0, "extra_body": {"ignore_eos": True}}


@pytest.fixture(scope="module")
def plain_url(tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The tiny llama started without any adapter (same limits as the session engine)."""
    proc = BuiltinEngineProcess(
        tiny_models["llama"], "tiny-llama", ["--max-model-len", "256", "--max-num-seqs", "4"],
        log_path=tmp_path_factory.mktemp("lora-runtime") / "engine.log",
    )  # fmt: skip
    proc.start()
    try:
        proc.wait_ready()
        yield proc.base_url
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def plain(plain_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{plain_url}/v1", api_key="x", max_retries=0)


def _load(url: str, name: str, path: Path | str) -> httpx.Response:
    return httpx.post(f"{url}/v1/load_lora_adapter", json={"lora_name": name, "lora_path": str(path)}, timeout=60)


def _unload(url: str, name: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/unload_lora_adapter", json={"lora_name": name}, timeout=60)


def _text(client: openai.OpenAI, model: str) -> str:
    return client.chat.completions.create(model=model, **GREEDY).choices[0].message.content or ""


def test_runtime_load_serves_what_a_start_time_adapter_serves(
    plain: openai.OpenAI, plain_url: str, llm: openai.OpenAI, tiny_models: dict[str, Path]
) -> None:
    base_before = _text(plain, "tiny-llama")
    loaded = _load(plain_url, "tiny-lora", tiny_models["lora"])
    assert loaded.status_code == 200, loaded.text
    assert loaded.text == "Success: LoRA adapter 'tiny-lora' added successfully."
    cards = {m.id: m for m in plain.models.list().data}
    assert set(cards) == {"tiny-llama", "tiny-lora"}
    assert cards["tiny-lora"].parent == "tiny-llama"  # type: ignore[attr-defined]
    assert cards["tiny-lora"].root == str(tiny_models["lora"])  # type: ignore[attr-defined]

    adapted = _text(plain, "tiny-lora")
    assert adapted == _text(llm, "tiny-lora")  # the engine started with --lora-modules
    assert adapted != base_before
    assert _text(plain, "tiny-llama") == base_before == _text(llm, "tiny-llama")
    _unload(plain_url, "tiny-lora")


def test_unload_then_requests_for_the_adapter_are_404(
    plain: openai.OpenAI, plain_url: str, tiny_models: dict[str, Path]
) -> None:
    assert _load(plain_url, "gone", tiny_models["lora"]).status_code == 200
    out = _unload(plain_url, "gone")
    assert out.status_code == 200 and out.text == "Success: LoRA adapter 'gone' removed successfully."
    with pytest.raises(openai.NotFoundError) as info:
        plain.chat.completions.create(model="gone", **GREEDY)
    assert info.value.body["code"] == "model_not_found"  # type: ignore[index]
    assert [m.id for m in plain.models.list().data] == ["tiny-llama"]
    again = _unload(plain_url, "gone")
    assert again.status_code == 404
    assert again.json()["error"]["message"] == "The lora adapter 'gone' cannot be found."


def test_a_name_loaded_again_after_unload_serves_the_new_weights(
    plain: openai.OpenAI, plain_url: str, llm: openai.OpenAI, tiny_models: dict[str, Path]
) -> None:
    for _ in range(2):
        assert _load(plain_url, "twice", tiny_models["lora"]).status_code == 200
        assert _text(plain, "twice") == _text(llm, "tiny-lora")
        assert _unload(plain_url, "twice").status_code == 200
    assert _text(plain, "tiny-llama") == _text(llm, "tiny-llama")  # base unchanged after the unwrap


def test_requests_in_flight_finish_with_an_unloaded_adapter(
    plain: openai.OpenAI, plain_url: str, llm: openai.OpenAI, tiny_models: dict[str, Path]
) -> None:
    kw: dict[str, Any] = {**GREEDY, "max_tokens": 64}
    expected = llm.chat.completions.create(model="tiny-lora", **kw).choices[0].message.content
    assert _load(plain_url, "inflight", tiny_models["lora"]).status_code == 200
    stream = plain.chat.completions.create(model="inflight", stream=True, **kw)
    parts: list[str] = []
    finish = None
    for chunk in stream:
        delta = chunk.choices[0].delta.content if chunk.choices else None
        if delta and len(parts) == 0:
            # The sequence is decoding: unload now; new requests are refused at once ...
            assert _unload(plain_url, "inflight").status_code == 200
            with pytest.raises(openai.NotFoundError):
                plain.chat.completions.create(model="inflight", **GREEDY)
        if delta:
            parts.append(delta)
        if chunk.choices and chunk.choices[0].finish_reason:
            finish = chunk.choices[0].finish_reason
    # ... while the accepted one ran to its end with the adapter's weights.
    assert finish == "length"
    assert "".join(parts) == expected


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"lora_name": "x"}, 400, "Both 'lora_name' and 'lora_path' must be provided."),
        ({"lora_path": "/tmp"}, 400, "Both 'lora_name' and 'lora_path' must be provided."),
        ({"lora_name": "x", "lora_path": "/no/such/adapter"}, 404,
         "Loading lora x failed: No adapter found for /no/such/adapter"),
        ({"lora_name": "tiny-llama", "lora_path": "/tmp"}, 400,
         "The lora adapter 'tiny-llama' cannot take the base model's name."),
    ],
    ids=["no-path", "no-name", "missing-folder", "base-name"],
)  # fmt: skip
def test_load_refusals_use_vllm_messages_in_the_openai_envelope(
    plain_url: str, body: dict[str, str], status: int, message: str
) -> None:
    r = httpx.post(f"{plain_url}/v1/load_lora_adapter", json=body, timeout=30)
    assert r.status_code == status
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert err["message"] == message


def test_duplicate_name_is_refused_and_the_engine_keeps_serving(
    plain: openai.OpenAI, plain_url: str, tiny_models: dict[str, Path]
) -> None:
    assert _load(plain_url, "dup", tiny_models["lora"]).status_code == 200
    r = _load(plain_url, "dup", tiny_models["lora"])
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "The lora adapter 'dup' has already been loaded."
    assert r.json()["error"]["param"] == "lora_name"
    assert _text(plain, "dup")
    assert _unload(plain_url, "dup").status_code == 200


def test_an_adapter_that_does_not_fit_the_model_is_refused(plain_url: str, tmp_path: Path) -> None:
    import json

    bad = tmp_path / "bad-lora"
    bad.mkdir()
    (bad / "adapter_config.json").write_text(
        json.dumps({"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["no_such_proj"],
                    "task_type": "CAUSAL_LM"})
    )  # fmt: skip
    r = _load(plain_url, "bad", bad)
    assert r.status_code == 400
    assert r.json()["error"]["message"].startswith("Loading lora bad failed:")
    assert r.json()["error"]["param"] == "lora_path"
    models = httpx.get(f"{plain_url}/v1/models", timeout=10).json()["data"]
    assert [m["id"] for m in models] == ["tiny-llama"]


def test_unload_without_a_name_is_400(plain_url: str) -> None:
    r = httpx.post(f"{plain_url}/v1/unload_lora_adapter", json={}, timeout=10)
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "'lora_name' needs to be provided to unload a LoRA adapter."


def test_an_embedding_engine_serves_no_adapters(bert_url: str, tiny_models: dict[str, Path]) -> None:
    r = _load(bert_url, "x", tiny_models["lora"])
    assert r.status_code == 400
    assert "text generation only" in r.json()["error"]["message"]
