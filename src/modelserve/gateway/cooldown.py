"""Cooldowns: a replica that just failed (refused the connection, answered 500/502/503/504) is
skipped for a few seconds, unless skipping it would leave no replica to try.

In memory, per gateway process, touched only from the event loop. Imports only gateway.table.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from modelserve.gateway.table import Endpoint


class Cooldowns:
    """Replicas cooling down after a failure, each until a monotonic deadline."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._until: dict[Endpoint, float] = {}

    def failed(self, endpoint: Endpoint) -> None:
        """Start (or restart) the cooldown of `endpoint`."""
        if self._seconds > 0:
            self._until[endpoint] = time.monotonic() + self._seconds

    def usable(self, endpoints: Sequence[Endpoint]) -> Sequence[Endpoint]:
        """`endpoints` without those cooling down; all of them when every one is cooling down."""
        if not self._until:
            return endpoints
        now = time.monotonic()
        for ep in [ep for ep, until in self._until.items() if until <= now]:
            del self._until[ep]
        warm = [ep for ep in endpoints if ep not in self._until]
        return warm or endpoints

    def cooling(self) -> list[Endpoint]:
        """Endpoints cooling down right now."""
        now = time.monotonic()
        return [ep for ep, until in self._until.items() if until > now]

    def clear(self) -> None:
        """Forget every cooldown (e.g. after an operator fixed the replicas)."""
        self._until.clear()
