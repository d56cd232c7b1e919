"""Parse an OpenAI request body into its pydantic type, or raise `InvalidRequest` naming the field.

Malformed JSON is a 400 (never FastAPI's 422). Imports pydantic and `modelserve.errors` only.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from modelserve.errors import InvalidRequest, field_path

M = TypeVar("M", bound=BaseModel)

# pydantic appends the union member it tried to the location ('content', 'str'); drop those tags.
_UNION_TAGS = ("str", "int", "float", "bool", "list[", "dict[", "literal[", "function-")


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and part.lower().startswith(_UNION_TAGS)


def validation_to_invalid(exc: ValidationError) -> InvalidRequest:
    """An InvalidRequest whose `param` is the first bad field path (`max_tokens`, `messages[0].role`)."""
    problems: list[str] = []
    first: str | None = None
    for err in exc.errors():
        loc = tuple(p for p in err.get("loc", ()) if not _is_tag(p))
        path = field_path(loc)
        msg = str(err.get("msg", "invalid value"))
        if first is None:
            first = path or None
        problems.append(f"{path}: {msg}" if path else msg)
    return InvalidRequest("; ".join(dict.fromkeys(problems)), param=first, code="invalid_value")


def parse_body(model: type[M], body: bytes | str | dict[str, Any]) -> M:
    """Validate a raw body (bytes/str JSON, or an already decoded dict) as `model`.

    Raises InvalidRequest for malformed JSON, a non-object body, or a field that fails validation.
    """
    data: Any = body
    if isinstance(body, (bytes, str)):
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InvalidRequest(f"request body is not valid JSON: {e}", code="invalid_json") from None
    if not isinstance(data, dict):
        raise InvalidRequest("request body must be a JSON object", code="invalid_json")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise validation_to_invalid(e) from None
