"""LeastLoad and the balancer registry."""

from __future__ import annotations

import collections

import pytest

from modelserve.gateway import Endpoint
from modelserve.gateway.balancers import BALANCERS, BalanceRequest, LeastLoad, make_balancer

A, B, C = (Endpoint(f"r-{i}", f"http://127.0.0.1:{9000 + i}") for i in range(3))
REQ = BalanceRequest(model="m")


@pytest.mark.parametrize(
    ("candidates", "inflight", "expected"),
    [
        ([A], {A: 9}, {A}),
        ([A, B], {A: 2, B: 1}, {B}),
        ([A, B, C], {A: 1, B: 0, C: 1}, {B}),
        ([A, B, C], {A: 3}, {B, C}),
        ([A, B], {}, {A, B}),
    ],
    ids=["single", "fewer-wins", "middle-idle", "two-idle-tie", "all-idle"],
)
def test_picks_among_the_least_loaded(
    candidates: list[Endpoint], inflight: dict[Endpoint, int], expected: set[Endpoint]
) -> None:
    balancer = LeastLoad()
    picks = {balancer.pick(candidates, inflight, REQ) for _ in range(6)}
    assert picks == expected


def test_ties_rotate_so_idle_replicas_share_sequential_traffic() -> None:
    balancer = LeastLoad()
    counts = collections.Counter(balancer.pick([A, B, C], {}, REQ) for _ in range(9))
    assert counts == {A: 3, B: 3, C: 3}


def test_inflight_counts_steer_concurrent_requests() -> None:
    balancer, inflight = LeastLoad(), collections.Counter[Endpoint]()
    for _ in range(6):  # six requests arrive and none finishes
        inflight[balancer.pick([A, B], inflight, REQ)] += 1
    assert inflight == {A: 3, B: 3}


def test_registry_builds_by_name_and_names_the_known_ones() -> None:
    assert isinstance(make_balancer("LeastLoad"), LeastLoad)
    assert "LeastLoad" in BALANCERS
    with pytest.raises(KeyError, match="LeastLoad"):
        make_balancer("Nope")
