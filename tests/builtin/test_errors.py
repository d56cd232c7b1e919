"""Bad input gets the OpenAI error envelope with the right status and `param`; the engine keeps serving."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

OK_MSGS = [{"role": "user", "content": "hi"}]

CASES: list[tuple[str, dict[str, Any], int, str | None]] = [
    ("empty-messages", {"model": "tiny-llama", "messages": []}, 400, "messages"),
    (
        "unknown-role",
        {"model": "tiny-llama", "messages": [{"role": "wizard", "content": "x"}]},
        400,
        "messages[0].role",
    ),
    (
        "negative-max-tokens",
        {"model": "tiny-llama", "messages": OK_MSGS, "max_tokens": -1},
        400,
        "max_tokens",
    ),
    (
        "max-tokens-past-context",
        {"model": "tiny-llama", "messages": OK_MSGS, "max_tokens": 100000},
        400,
        "max_tokens",
    ),
    ("zero-n", {"model": "tiny-llama", "messages": OK_MSGS, "n": 0}, 400, "n"),
    (
        "temperature-too-high",
        {"model": "tiny-llama", "messages": OK_MSGS, "temperature": 3},
        400,
        "temperature",
    ),
    ("unknown-model", {"model": "nope", "messages": OK_MSGS}, 404, "model"),
]


@pytest.mark.parametrize(("body", "status", "param"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_chat_bad_input(llama_url: str, body: dict[str, Any], status: int, param: str | None) -> None:
    r = httpx.post(f"{llama_url}/v1/chat/completions", json=body, timeout=30)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["param"] == param
    assert set(err) == {"message", "type", "param", "code"}
    assert err["message"]


def test_malformed_json_is_400_not_422(llama_url: str) -> None:
    r = httpx.post(
        f"{llama_url}/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"


def test_openai_client_raises_typed_errors(llm: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        llm.chat.completions.create(model="missing", messages=OK_MSGS)  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError) as e:
        llm.chat.completions.create(model="tiny-llama", messages=OK_MSGS, max_tokens=-1)  # type: ignore[arg-type]
    assert e.value.body["param"] == "max_tokens"  # type: ignore[index]


def test_prompt_longer_than_context(llm: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        llm.completions.create(model="tiny-llama", prompt="hello " * 400, max_tokens=1)
    assert e.value.body["param"] == "prompt"  # type: ignore[index]


def test_embeddings_on_a_generation_model_is_rejected(llm: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        llm.embeddings.create(model="tiny-llama", input="x")


def test_engine_still_serves_after_bad_input(llama_url: str, llm: openai.OpenAI) -> None:
    for body in (c[1] for c in CASES):
        httpx.post(f"{llama_url}/v1/chat/completions", json=body, timeout=30)
    r = llm.chat.completions.create(model="tiny-llama", messages=OK_MSGS, max_tokens=2)  # type: ignore[arg-type]
    assert r.choices[0].finish_reason in ("stop", "length")
    assert httpx.get(f"{llama_url}/health").json() == {"status": "ok"}
