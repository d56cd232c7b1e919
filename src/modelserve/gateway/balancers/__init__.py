"""Balancing strategies by name (the spec's `load_balancing.strategy`).

A new strategy is a new file in this package and one entry in `BALANCERS`. Every factory takes
the run's `ServedModel.balancing` parameters (unknown keys are ignored, bad values raise ValueError).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from modelserve.gateway.balancers.base import Balancer, BalanceRequest
from modelserve.gateway.balancers.least_load import LeastLoad
from modelserve.gateway.balancers.prefix_cache import PrefixCache
from modelserve.gateway.balancers.prefix_hash import PrefixHash

DEFAULT_STRATEGY = "LeastLoad"

BALANCERS: dict[str, Callable[[Mapping[str, Any]], Balancer]] = {
    "LeastLoad": LeastLoad.from_params,
    "PrefixHash": PrefixHash.from_params,
    "PrefixCache": PrefixCache.from_params,
}


def make_balancer(strategy: str, params: Mapping[str, Any] | None = None) -> Balancer:
    """A fresh balancer for `strategy` with `params`. Raises KeyError naming the known strategies
    when unknown, ValueError for a bad parameter."""
    try:
        factory = BALANCERS[strategy]
    except KeyError:
        raise KeyError(f"unknown balancing strategy {strategy!r}; known: {sorted(BALANCERS)}") from None
    return factory(params or {})


__all__ = [
    "BALANCERS",
    "DEFAULT_STRATEGY",
    "BalanceRequest",
    "Balancer",
    "LeastLoad",
    "PrefixCache",
    "PrefixHash",
    "make_balancer",
]
