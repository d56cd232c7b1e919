"""Autoscaler: in-flight requests (counted at the gateway) → desired replicas per run.

KubeAI's policy: sample in-flight requests every interval, average them over a window,
`desired = ceil(average / target_requests)` clamped to [min_replicas, max_replicas]; scale up at
once, scale down only after `scale_down_delay_seconds` of steady lower demand. `min_replicas: 0`
scales to zero; a held request (scale from zero) wakes the run at once. The decision is a pure
function; the desired count and the time demand fell are persisted so a restart keeps them.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

KV_PREFIX = "autoscaler:"


@dataclass(frozen=True)
class ScalingPolicy:
    replicas: int
    min_replicas: int
    max_replicas: int | None
    target_requests: int
    scale_down_delay_s: float
    disabled: bool

    @classmethod
    def from_scaling(cls, scaling: Mapping[str, Any]) -> "ScalingPolicy":
        replicas = int(scaling.get("replicas", 1))
        return cls(
            replicas=replicas,
            min_replicas=int(scaling.get("min_replicas", min(1, replicas))),
            max_replicas=scaling.get("max_replicas"),
            target_requests=max(1, int(scaling.get("target_requests") or 100)),
            scale_down_delay_s=float(scaling.get("scale_down_delay_seconds", 30)),
            disabled=bool(scaling.get("autoscaling_disabled", False)),
        )

    @property
    def ceiling(self) -> int:
        # Without max_replicas a run never grows past its replicas, but a run at zero can always wake.
        return self.max_replicas if self.max_replicas is not None else max(self.replicas, self.min_replicas, 1)


@dataclass
class ScaleState:
    current: int
    low_since: float | None = None  # when demand first fell below `current`, if it still is
    samples: deque[float] = field(default_factory=lambda: deque(maxlen=600))

    def to_kv(self) -> dict[str, Any]:
        return {"current": self.current, "low_since": self.low_since}


def decide(policy: ScalingPolicy, state: ScaleState, average: float, now: float) -> int:
    """The replica count for `average` in-flight requests; updates `state.low_since`."""
    if policy.disabled:
        state.low_since = None
        return policy.replicas
    want = math.ceil(average / policy.target_requests) if average > 0 else 0
    want = max(policy.min_replicas, min(policy.ceiling, want))
    if want >= state.current:
        state.low_since = None
        return want
    if state.low_since is None:
        state.low_since = now
    if now - state.low_since >= policy.scale_down_delay_s:
        state.low_since = None
        return want
    return state.current


class Autoscaler:
    """Holds per-run scale state; `sample()` each interval, `desired()` for the reconciler."""

    def __init__(self, store: Any, demand: Callable[[], Mapping[str, int]], window_samples: int = 10) -> None:
        self._store = store
        self._demand = demand
        self._window = max(1, window_samples)
        self._states: dict[str, ScaleState] = {}

    def desired(self, run_id: str, policy: ScalingPolicy) -> int:
        return self._state(run_id, policy).current

    def wake(self, run_id: str, policy: ScalingPolicy) -> bool:
        """A request is waiting for a run scaled to zero: go to one replica now. True if it changed."""
        state = self._state(run_id, policy)
        if state.current > 0 or policy.ceiling < 1:
            return False
        state.current, state.low_since = 1, None
        self._store.put_kv(KV_PREFIX + run_id, state.to_kv())
        return True

    def sample(self, runs: Mapping[str, ScalingPolicy], now: float | None = None) -> dict[str, tuple[int, int, float]]:
        """Take one demand sample for each run; return {run_id: (old, new, average)} for changed runs."""
        now = time.monotonic() if now is None else now
        demand = self._demand()
        changes: dict[str, tuple[int, int, float]] = {}
        for run_id, policy in runs.items():
            state = self._state(run_id, policy)
            state.samples.append(float(demand.get(run_id, 0)))
            window = list(state.samples)[-self._window:]
            average = sum(window) / len(window)
            old = state.current
            state.current = decide(policy, state, average, now)
            if state.current != old:
                changes[run_id] = (old, state.current, average)
                self._store.put_kv(KV_PREFIX + run_id, state.to_kv())
        return changes

    def forget(self, run_id: str) -> None:
        self._states.pop(run_id, None)
        self._store.delete_kv(KV_PREFIX + run_id)

    def _state(self, run_id: str, policy: ScalingPolicy) -> ScaleState:
        state = self._states.get(run_id)
        if state is None:
            saved = self._store.get_kv(KV_PREFIX + run_id)
            current = int(saved["current"]) if saved else policy.replicas
            state = ScaleState(current=current)  # low_since restarts: a restart never hastens scale-down
            self._states[run_id] = state
        return state
