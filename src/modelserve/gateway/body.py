"""The OpenAI request body as the gateway sees it: parsed once, `model` read, rewritten only when needed.

Everything except `model` passes through untouched (vendor params, tools, stream_options, ...).
"""

from __future__ import annotations

import json
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
        data = {**self.data, "model": name}
        if add_usage:
            options = self.data.get("stream_options")
            data["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
        return json.dumps(data, ensure_ascii=False).encode()


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
