"""Autoscaler policy: table-driven decisions, the scale-down delay, scale to and from zero, restarts."""

from __future__ import annotations

from typing import Any

import pytest

from modelserve.control.autoscaler import Autoscaler, ScaleState, ScalingPolicy, decide


def policy(**kw: Any) -> ScalingPolicy:
    base = dict(replicas=1, min_replicas=1, max_replicas=5, target_requests=10, scale_down_delay_s=30, disabled=False)
    return ScalingPolicy(**{**base, **kw})


@pytest.mark.parametrize(
    ("pol", "current", "average", "expected"),
    [
        (policy(), 1, 0.0, 1),  # floor is min_replicas
        (policy(), 1, 10.0, 1),  # exactly at target
        (policy(), 1, 10.5, 2),  # just over target → ceil
        (policy(), 1, 35.0, 4),
        (policy(), 1, 500.0, 5),  # clamped to max
        (policy(max_replicas=None, replicas=2), 2, 500.0, 2),  # no max: never above replicas
        (policy(disabled=True, replicas=3), 1, 500.0, 3),  # disabled: fixed at replicas
        (policy(min_replicas=0, replicas=0), 0, 0.0, 0),  # stays at zero with no demand
        (policy(min_replicas=0, replicas=0), 0, 0.2, 1),  # any demand wakes a zero run
    ],
    ids=["floor", "at-target", "over-target", "ceil-35", "clamp-max", "no-max", "disabled", "zero-idle", "zero-wake"],
)
def test_decide_scales_up_at_once(pol: ScalingPolicy, current: int, average: float, expected: int) -> None:
    assert decide(pol, ScaleState(current=current), average, now=100.0) == expected


def step(pol: ScalingPolicy, state: ScaleState, average: float, now: float) -> int:
    state.current = decide(pol, state, average, now)
    return state.current


def test_scale_down_waits_for_the_delay_of_steady_low_demand() -> None:
    pol = policy(scale_down_delay_s=30)
    state = ScaleState(current=4)
    assert step(pol, state, 5.0, now=0.0) == 4  # demand fell: start the clock
    assert step(pol, state, 5.0, now=29.0) == 4
    assert step(pol, state, 50.0, now=29.5) == 5  # demand came back: up at once, clock reset
    assert state.low_since is None
    assert step(pol, state, 5.0, now=40.0) == 5
    assert step(pol, state, 5.0, now=69.0) == 5
    assert step(pol, state, 5.0, now=70.0) == 1  # 30 s of steady low demand: down


def test_scale_to_zero_after_delay() -> None:
    pol = policy(min_replicas=0, replicas=1, scale_down_delay_s=10)
    state = ScaleState(current=1)
    assert decide(pol, state, 0.0, now=0.0) == 1
    assert decide(pol, state, 0.0, now=10.0) == 0


class MemoryKV:
    """The kv part of the store, in memory (the store's own tests cover the SQL side)."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}

    def get_kv(self, key: str) -> dict[str, Any] | None:
        return self.data.get(key)

    def put_kv(self, key: str, value: dict[str, Any]) -> None:
        self.data[key] = dict(value)

    def delete_kv(self, key: str) -> bool:
        return self.data.pop(key, None) is not None


def test_moving_average_and_state_survive_a_restart() -> None:
    kv, demand = MemoryKV(), {"r1": 0}
    pol = policy(target_requests=10, max_replicas=4, scale_down_delay_s=5)
    scaler = Autoscaler(kv, lambda: demand, window_samples=4)
    assert scaler.sample({"r1": pol}, now=0.0) == {}  # idle: stays at replicas
    demand["r1"] = 60
    assert scaler.sample({"r1": pol}, now=1.0) == {"r1": (1, 3, 30.0)}  # average of [0, 60]
    demand["r1"] = 0
    assert scaler.sample({"r1": pol}, now=2.0) == {}  # average 20 wants 2, but the delay holds 3
    restarted = Autoscaler(kv, lambda: demand, window_samples=4)
    assert restarted.desired("r1", pol) == 3  # persisted across the restart


def test_wake_from_zero_and_forget() -> None:
    kv = MemoryKV()
    pol = policy(min_replicas=0, replicas=0)
    scaler = Autoscaler(kv, dict, window_samples=1)
    assert scaler.desired("r", pol) == 0
    assert scaler.wake("r", pol) is True
    assert scaler.desired("r", pol) == 1
    assert scaler.wake("r", pol) is False  # already awake
    scaler.forget("r")
    assert kv.data == {}
