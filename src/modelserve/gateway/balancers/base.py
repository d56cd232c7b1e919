"""The Balancer protocol: choose one endpoint of a served model for a request.

Strategies are one file each in this package plus an entry in `BALANCERS`; they see only
endpoints, in-flight counts kept by the gateway, and the request. Imports only gateway.table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from modelserve.gateway.table import Endpoint


@dataclass(frozen=True)
class BalanceRequest:
    """What a strategy may look at: the exposed model, the adapter and the parsed JSON body."""

    model: str
    adapter: str | None = None
    body: Mapping[str, Any] = field(default_factory=dict)


class Balancer(Protocol):
    """Chooses an endpoint. One instance per served model, called from the event loop only."""

    def pick(
        self,
        candidates: Sequence[Endpoint],
        inflight: Mapping[Endpoint, int],
        request: BalanceRequest,
    ) -> Endpoint:
        """Return one of `candidates` (never empty). `inflight` lacks endpoints with no requests."""
        ...
