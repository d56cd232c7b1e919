"""OpenAI request parsing: bad fields become InvalidRequest naming the field; unknown fields pass through."""

from __future__ import annotations

import json
from typing import Any

import pytest

from modelserve.errors import InvalidRequest
from modelserve.protocol import (
    ChatCompletionRequest,
    CompletionRequest,
    EmbeddingRequest,
    parse_body,
)

MSG = [{"role": "user", "content": "hi"}]

BAD_CHAT: list[tuple[str, dict[str, Any], str | None]] = [
    ("empty-messages", {"model": "m", "messages": []}, "messages"),
    ("missing-messages", {"model": "m"}, "messages"),
    ("missing-model", {"messages": MSG}, "model"),
    ("unknown-role", {"model": "m", "messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
    ("negative-max-tokens", {"model": "m", "messages": MSG, "max_tokens": -1}, "max_tokens"),
    (
        "zero-max-completion-tokens",
        {"model": "m", "messages": MSG, "max_completion_tokens": 0},
        "max_completion_tokens",
    ),
    ("zero-n", {"model": "m", "messages": MSG, "n": 0}, "n"),
    ("temperature", {"model": "m", "messages": MSG, "temperature": -0.5}, "temperature"),
    ("top-p-zero", {"model": "m", "messages": MSG, "top_p": 0}, "top_p"),
    ("bad-content", {"model": "m", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
    ("top-logprobs-alone", {"model": "m", "messages": MSG, "top_logprobs": 2}, None),
    ("empty-stop", {"model": "m", "messages": MSG, "stop": [""]}, "stop"),
]


@pytest.mark.parametrize(("body", "param"), [c[1:] for c in BAD_CHAT], ids=[c[0] for c in BAD_CHAT])
def test_bad_chat_fields_name_the_param(body: dict[str, Any], param: str | None) -> None:
    with pytest.raises(InvalidRequest) as e:
        parse_body(ChatCompletionRequest, json.dumps(body).encode())
    assert e.value.param == param
    assert e.value.status == 400
    assert e.value.envelope()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "raw", [b"{oops", b"", b"[1, 2]", b'"text"'], ids=["broken", "empty", "array", "string"]
)
def test_malformed_or_non_object_body(raw: bytes) -> None:
    with pytest.raises(InvalidRequest) as e:
        parse_body(ChatCompletionRequest, raw)
    assert e.value.code == "invalid_json"


def test_unknown_fields_pass_through() -> None:
    req = parse_body(ChatCompletionRequest, {"model": "m", "messages": MSG, "tools": [], "my_vendor_knob": 3})
    assert req.model_extra == {"tools": [], "my_vendor_knob": 3}


def test_max_completion_tokens_wins() -> None:
    req = parse_body(
        ChatCompletionRequest, {"model": "m", "messages": MSG, "max_tokens": 5, "max_completion_tokens": 9}
    )
    assert req.token_limit() == 9


def test_content_parts_are_joined() -> None:
    parts = [
        {"type": "text", "text": "a"},
        {"type": "image_url", "image_url": {}},
        {"type": "text", "text": "b"},
    ]
    req = parse_body(ChatCompletionRequest, {"model": "m", "messages": [{"role": "user", "content": parts}]})
    assert req.messages[0].text() == "ab"


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [("hi", ["hi"]), (["a", "b"], ["a", "b"]), ([1, 2, 3], [[1, 2, 3]]), ([[1], [2, 3]], [[1], [2, 3]])],
    ids=["string", "strings", "ids", "id-lists"],
)
def test_completion_prompt_forms(prompt: Any, expected: list[Any]) -> None:
    assert parse_body(CompletionRequest, {"model": "m", "prompt": prompt}).prompts() == expected


def test_stop_as_string_or_list() -> None:
    one = parse_body(CompletionRequest, {"model": "m", "prompt": "x", "stop": "\n"})
    many = parse_body(CompletionRequest, {"model": "m", "prompt": "x", "stop": ["a", "b"]})
    assert one.stop_list() == ["\n"] and many.stop_list() == ["a", "b"]


def test_embedding_request_validation() -> None:
    with pytest.raises(InvalidRequest) as e:
        parse_body(EmbeddingRequest, {"model": "m", "input": "x", "encoding_format": "hex"})
    assert e.value.param == "encoding_format"
    with pytest.raises(InvalidRequest) as e:
        parse_body(EmbeddingRequest, {"model": "m", "input": []})
    assert e.value.param == "input"
    assert parse_body(EmbeddingRequest, {"model": "m", "input": "x"}).inputs() == ["x"]
