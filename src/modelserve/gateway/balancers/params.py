"""Reading strategy parameters from `ServedModel.balancing` (the spec's snake_case names)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def int_param(params: Mapping[str, Any], name: str, default: int, minimum: int) -> int:
    """`params[name]` as an int >= `minimum` (`default` when absent or None). Raises ValueError."""
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"load_balancing parameter {name} must be an integer >= {minimum}, not {value!r}")
    return value
