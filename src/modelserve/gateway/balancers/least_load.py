"""LeastLoad: the endpoint with the fewest in-flight requests wins; ties go round-robin.

Round-robin among ties keeps idle replicas warm: sequential requests against two idle replicas
alternate instead of always hitting the first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from modelserve.gateway.balancers.base import BalanceRequest
from modelserve.gateway.table import Endpoint


class LeastLoad:
    """Fewest in-flight requests first; a rotating cursor breaks ties."""

    def __init__(self) -> None:
        self._cursor = 0

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> LeastLoad:
        """LeastLoad has no parameters."""
        return cls()

    def pick(
        self,
        candidates: Sequence[Endpoint],
        inflight: Mapping[Endpoint, int],
        request: BalanceRequest,
    ) -> Endpoint:
        if len(candidates) == 1:
            return candidates[0]
        loads = [inflight.get(ep, 0) for ep in candidates]
        low = min(loads)
        ties = [ep for ep, load in zip(candidates, loads) if load == low]
        chosen = ties[self._cursor % len(ties)]
        self._cursor += 1
        return chosen
