"""In-flight request accounting, per endpoint (for balancing) and per run (for the autoscaler).

Counters live in memory, one set per gateway process, touched only from the event loop.
Entries are dropped when they reach zero so endpoints that left the table do not linger.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from modelserve.gateway.table import Endpoint

_K = TypeVar("_K")


class InFlight:
    """Counts requests between acceptance and the last byte sent (or the client leaving)."""

    def __init__(self) -> None:
        self._by_endpoint: dict[Endpoint, int] = {}
        self._by_run: dict[str, int] = {}

    @property
    def by_endpoint(self) -> Mapping[Endpoint, int]:
        """Live view: endpoints with at least one request upstream."""
        return self._by_endpoint

    def by_run(self) -> dict[str, int]:
        """A copy of the per-run counts (runs with requests only)."""
        return dict(self._by_run)

    def enter_run(self, run_id: str) -> None:
        self._by_run[run_id] = self._by_run.get(run_id, 0) + 1

    def leave_run(self, run_id: str) -> None:
        _decrement(self._by_run, run_id)

    def enter_endpoint(self, endpoint: Endpoint) -> None:
        self._by_endpoint[endpoint] = self._by_endpoint.get(endpoint, 0) + 1

    def leave_endpoint(self, endpoint: Endpoint) -> None:
        _decrement(self._by_endpoint, endpoint)


def _decrement(counts: dict[_K, int], key: _K) -> None:
    n = counts.get(key, 0) - 1
    if n > 0:
        counts[key] = n
    else:
        counts.pop(key, None)
