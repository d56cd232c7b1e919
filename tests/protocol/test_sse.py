"""SSE framing and response shapes as the official openai client expects them."""

from __future__ import annotations

import json

from modelserve.errors import Overloaded
from modelserve.protocol import (
    SSE_DONE,
    ChatChunkChoice,
    ChatCompletionChunk,
    ChatDelta,
    Usage,
    sse_error,
    sse_event,
)


def _payload(frame: bytes) -> dict:  # type: ignore[type-arg]
    assert frame.startswith(b"data: ") and frame.endswith(b"\n\n")
    return json.loads(frame[len(b"data: ") : -2])  # type: ignore[no-any-return]


def test_first_chunk_carries_role_and_final_delta_is_empty() -> None:
    first = ChatCompletionChunk(
        id="c",
        created=1,
        model="m",
        choices=[ChatChunkChoice(index=0, delta=ChatDelta(role="assistant", content=""))],
    )
    last = ChatCompletionChunk(
        id="c",
        created=1,
        model="m",
        choices=[ChatChunkChoice(index=0, delta=ChatDelta(), finish_reason="stop")],
    )
    a, b = _payload(sse_event(first)), _payload(sse_event(last))
    assert a["object"] == "chat.completion.chunk"
    assert a["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert b["choices"][0]["delta"] == {} and b["choices"][0]["finish_reason"] == "stop"
    assert "usage" not in a  # only sent when stream_options.include_usage asks for it


def test_usage_chunk_has_no_choices() -> None:
    chunk = ChatCompletionChunk(id="c", created=1, model="m", choices=[], usage=Usage.of(3, 4))
    p = _payload(sse_event(chunk))
    assert p["choices"] == [] and p["usage"] == {
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "total_tokens": 7,
    }


def test_error_frame_and_done() -> None:
    p = _payload(sse_error(Overloaded("busy")))
    assert p == {"error": {"message": "busy", "type": "rate_limit_error", "param": None, "code": None}}
    assert SSE_DONE == b"data: [DONE]\n\n"


def test_non_ascii_is_kept_readable() -> None:
    frame = sse_event({"text": "Olá"})
    assert "Olá".encode() in frame
