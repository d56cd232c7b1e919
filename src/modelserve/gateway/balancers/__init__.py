"""Balancing strategies by name (the spec's `load_balancing.strategy`).

A new strategy is a new file in this package and one entry in `BALANCERS`.
"""

from __future__ import annotations

from collections.abc import Callable

from modelserve.gateway.balancers.base import Balancer, BalanceRequest
from modelserve.gateway.balancers.least_load import LeastLoad

DEFAULT_STRATEGY = "LeastLoad"

BALANCERS: dict[str, Callable[[], Balancer]] = {
    "LeastLoad": LeastLoad,
}


def make_balancer(strategy: str) -> Balancer:
    """A fresh balancer for `strategy`. Raises KeyError naming the known strategies when unknown."""
    try:
        factory = BALANCERS[strategy]
    except KeyError:
        raise KeyError(f"unknown balancing strategy {strategy!r}; known: {sorted(BALANCERS)}") from None
    return factory()


__all__ = ["BALANCERS", "DEFAULT_STRATEGY", "BalanceRequest", "Balancer", "LeastLoad", "make_balancer"]
