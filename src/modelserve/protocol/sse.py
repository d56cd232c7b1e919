"""Server-sent events framing for OpenAI streams: `data: <json>\\n\\n` frames and the `[DONE]` sentinel.

Imports only pydantic and `modelserve.errors`.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from modelserve.errors import ModelServeError

SSE_DONE = b"data: [DONE]\n\n"


def _wire(obj: BaseModel | dict[str, Any]) -> dict[str, Any]:
    if isinstance(obj, BaseModel):
        data = obj.model_dump(mode="json")
        # OpenAI sends `usage` on chunks only when asked (stream_options.include_usage).
        if "usage" in data and data["usage"] is None:
            del data["usage"]
        return data
    return obj


def sse_event(obj: BaseModel | dict[str, Any]) -> bytes:
    """One SSE frame carrying `obj` as compact JSON."""
    return b"data: " + json.dumps(_wire(obj), separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


def sse_error(exc: ModelServeError) -> bytes:
    """The frame for an error after the first byte of a stream: `data: {"error": ...}` (then send DONE)."""
    return sse_event(exc.envelope())
