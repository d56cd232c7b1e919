"""The OpenAI request body as the gateway sees it: parsed once, `model` read, rewritten only when needed.

Everything except `model` passes through untouched (vendor params, tools, stream_options, ...).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from modelserve import errors


@dataclass(frozen=True)
class RequestBody:
    raw: bytes
    data: dict[str, Any]

    @property
    def model(self) -> str | None:
        """The `model` field when it is a string, else None."""
        value = self.data.get("model")
        return value if isinstance(value, str) else None

    @property
    def stream(self) -> bool:
        return self.data.get("stream") is True

    @property
    def wants_usage(self) -> bool:
        """The client asked for the stream's usage chunk (`stream_options.include_usage`)."""
        options = self.data.get("stream_options")
        return isinstance(options, dict) and options.get("include_usage") is True

    def with_model(self, name: str, *, add_usage: bool = False) -> bytes:
        """The bytes to send upstream: `model` set to `name`, and with `add_usage` the stream's
        `stream_options.include_usage` turned on. The original bytes when nothing changes."""
        if self.data.get("model") == name and not add_usage:
            return self.raw
        spliced = _splice(self.raw, self.data.get("model"), name, add_usage)
        if spliced is not None:
            return spliced
        data = {**self.data, "model": name}
        if add_usage:
            options = self.data.get("stream_options")
            data["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
        return json.dumps(data, ensure_ascii=False).encode()


_MODEL_KEY = b'"model"'
_COLON = re.compile(rb"\s*:\s*")
_USAGE_OPTION = b'"stream_options": {"include_usage": true}, '


def _splice(raw: bytes, old: object, new: str, add_usage: bool) -> bytes | None:
    """`raw` with the top-level model value replaced (and the usage option added) by splicing
    bytes instead of re-encoding the whole body; None when that is not certainly right (the
    `"model"` token appears more than once, or `stream_options` is already there)."""
    if not isinstance(old, str):
        return None
    at = raw.find(_MODEL_KEY)
    if at < 0 or raw.find(_MODEL_KEY, at + 1) >= 0:
        return None
    colon = _COLON.match(raw, at + len(_MODEL_KEY))
    if colon is None:
        return None
    start = colon.end()
    encoded = json.dumps(old, ensure_ascii=False).encode()
    if not raw.startswith(encoded, start):
        return None
    head = raw[:start]
    if add_usage:
        brace = raw.find(b"{")
        if b'"stream_options"' in raw or brace < 0 or brace > at:
            return None
        head = raw[: brace + 1] + _USAGE_OPTION + raw[brace + 1 : start]
    return head + json.dumps(new, ensure_ascii=False).encode() + raw[start + len(encoded) :]


def parse_body(raw: bytes, *, model_required: bool = True) -> RequestBody:
    """Parse a JSON object body. Raises errors.InvalidRequest: code "invalid_json" (param None)
    for malformed JSON or a non-object, param "model" for a missing or non-string model."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.InvalidRequest(
            f"The request body is not valid JSON: {exc}", param=None, code="invalid_json"
        ) from None
    if not isinstance(data, dict):
        raise errors.InvalidRequest("The request body must be a JSON object.", code="invalid_json")
    model = data.get("model")
    if model is None and not model_required:
        return RequestBody(raw, data)
    if not isinstance(model, str) or not model:
        raise errors.InvalidRequest(
            "The request must name a model: 'model' must be a non-empty string.",
            param="model",
            code="invalid_value" if "model" in data else "missing_required_parameter",
        )
    return RequestBody(raw, data)
