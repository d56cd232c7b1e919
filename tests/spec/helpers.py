"""Shared assertion for the spec tests: a spec is rejected with a 400 InvalidRequest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from modelserve.errors import InvalidRequest


def rejected(parse: Callable[[str, Any], Any], kind: str, data: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        parse(kind, data)
    assert info.value.status == 400
    assert info.value.type == "invalid_request_error"
    return info.value
