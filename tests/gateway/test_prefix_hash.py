"""PrefixHash (KubeAI's CHWBL): ring placement, the prefix it hashes, the load bound."""

from __future__ import annotations

import collections
import math
import random

import pytest

from modelserve.gateway import Endpoint
from modelserve.gateway.balancers import BalanceRequest, PrefixHash, make_balancer
from modelserve.gateway.balancers.prefix_hash import request_prefix
from modelserve.gateway.balancers.ring import HashRing, hash64, kubeai_load_ok

EPS = [Endpoint(f"run-{i}", f"http://127.0.0.1:{9000 + i}") for i in range(4)]


def chat(first_user: str, *later: str, system: str = "You are helpful.") -> BalanceRequest:
    messages = [{"role": "system", "content": system}, {"role": "user", "content": first_user}]
    messages += [{"role": "assistant" if i % 2 == 0 else "user", "content": t} for i, t in enumerate(later)]
    return BalanceRequest("m", None, {"messages": messages})


@pytest.mark.parametrize(
    ("body", "prefix"),
    [
        ({"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "hello"}]}, "hello"),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"text": "b"}]}]}, "ab"),
        ({"messages": [{"role": "user", "content": "x" * 150}]}, "x" * 100),
        ({"messages": [{"role": "user", "content": "é" * 150}]}, "é" * 100),  # characters, not bytes
        ({"messages": [{"role": "system", "content": "only system"}]}, ""),
        ({"prompt": "complete me"}, "complete me"),
        ({"prompt": ["first", "second"]}, "first"),
        ({"prompt": [1, 2, 3]}, ""),
    ],
    ids=["first-user", "array-content", "cut", "cut-runes", "no-user", "prompt", "prompt-list", "token-ids"],
)
def test_prefix_is_kubeais(body: dict[str, object], prefix: str) -> None:
    assert request_prefix(body, 100) == prefix


@pytest.mark.parametrize(
    ("load", "total", "n", "ok"),
    [
        (5, 0, 4, True),  # nothing in flight: anything goes
        (0, 1, 8, False),  # KubeAI's low-load quirk: (1+1)/8*1.25 < 1
        (0, 6, 8, True),  # 1 <= 7/8*1.25
        (1, 8, 4, True),  # 2 <= 9/4*1.25 = 2.81
        (2, 8, 4, False),  # 3 > 2.81
        (4, 15, 4, True),  # 5 <= 16/4*1.25 = 5
        (5, 15, 4, False),
    ],
    ids=["idle", "low-load", "low-load-room", "near-mean", "above", "at-bound", "over-bound"],
)
def test_kubeai_load_bound(load: int, total: int, n: int, ok: bool) -> None:
    assert kubeai_load_ok(load, total, n, 1.25) is ok


def test_placement_is_deterministic_across_instances_and_candidate_order() -> None:
    requests = [chat(f"question {i}") for i in range(50)]
    a, b = PrefixHash(), PrefixHash()
    shuffled = EPS[:]
    random.Random(7).shuffle(shuffled)
    assert [a.pick(EPS, {}, r) for r in requests] == [b.pick(shuffled, {}, r) for r in requests]


def test_same_first_user_message_same_replica_whatever_follows() -> None:
    balancer = PrefixHash()
    picks = {balancer.pick(EPS, {}, chat("plan my trip", *["more"] * k, system=f"s{k}")) for k in range(6)}
    assert len(picks) == 1


def test_adapter_is_part_of_the_key() -> None:
    balancer = PrefixHash()
    base = balancer.key(BalanceRequest("m", None, {"prompt": "p"}))
    assert balancer.key(BalanceRequest("m", "sql", {"prompt": "p"})) == hash64(b"sqlp")
    assert base == hash64(b"p")


@pytest.mark.parametrize("replication", [1, 16, 256], ids=["r1", "r16", "r256"])
def test_ring_has_replication_points_per_replica(replication: int) -> None:
    ring = HashRing([ep.replica for ep in EPS], replication)
    assert len(ring._hashes) == len(EPS) * replication
    assert collections.Counter(ring._names) == {ep.replica: replication for ep in EPS}
    assert ring._hashes == sorted(ring._hashes)
    # Every replica is met exactly once on a walk.
    assert sorted(ring.walk(12345)) == sorted(ep.replica for ep in EPS)


def test_default_replication_spreads_keys_evenly_and_removal_moves_only_its_keys() -> None:
    balancer = PrefixHash()
    requests = [chat(f"user {i} asks") for i in range(2000)]
    before = [balancer.pick(EPS, {}, r) for r in requests]
    counts = collections.Counter(before)
    assert min(counts.values()) > 0.15 * len(requests)  # fair share is 25 %
    after = [balancer.pick(EPS[:3], {}, r) for r in requests]
    moved = [(b, a) for b, a in zip(before, after) if b != a]
    assert moved and all(b == EPS[3] for b, _ in moved)


def test_no_replica_exceeds_the_bound_while_another_has_room() -> None:
    balancer, factor = PrefixHash(), 1.25
    inflight: collections.Counter[Endpoint] = collections.Counter()
    rng = random.Random(1)
    hot = [chat(f"hot {i}") for i in range(3)]  # a few keys take most of the traffic
    for step in range(400):
        if inflight and rng.random() < 0.45:  # some requests finish
            inflight[rng.choice(sorted(inflight, key=lambda e: e.replica))] -= 1
            inflight += collections.Counter()  # drop zeros
        total = sum(inflight.values())
        room = [ep for ep in EPS if kubeai_load_ok(inflight[ep], total, len(EPS), factor)]
        ep = balancer.pick(EPS, inflight, hot[step % 3] if step % 5 else chat(f"cold {step}"))
        inflight[ep] += 1
        if room:
            assert ep in room
            assert inflight[ep] <= math.ceil((total + 1) / len(EPS) * factor)


def test_when_no_replica_has_room_the_hashed_one_serves() -> None:
    balancer, request = PrefixHash(), chat("hello")
    home = balancer.pick(EPS, {}, request)
    # One request in flight on 4 replicas: KubeAI's bound lets none pass, so the ring's first wins.
    assert balancer.pick(EPS, {EPS[0]: 1}, request) == home


def test_overloaded_home_sends_the_request_clockwise() -> None:
    balancer, request = PrefixHash(), chat("hello")
    order = list(HashRing([ep.replica for ep in EPS], 256).walk(balancer.key(request)))
    by_name = {ep.replica: ep for ep in EPS}
    loads = {by_name[order[0]]: 10, by_name[order[1]]: 2, by_name[order[2]]: 2, by_name[order[3]]: 2}
    assert balancer.pick(EPS, loads, request) == by_name[order[1]]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"mean_load_factor": 99}, "mean_load_factor"),
        ({"replication": 0}, "replication"),
        ({"prefix_char_length": "x"}, "prefix"),
    ],
    ids=["factor", "replication", "length"],
)
def test_bad_parameters_are_refused(params: dict[str, object], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        make_balancer("PrefixHash", params)


def test_parameters_from_the_spec_shape() -> None:
    balancer = make_balancer(
        "PrefixHash", {"mean_load_factor": 150, "replication": 8, "prefix_char_length": 3}
    )
    assert isinstance(balancer, PrefixHash)
    assert (balancer.factor, balancer.prefix_char_length) == (1.5, 3)
    assert balancer.pick(EPS, {}, chat("abcX")) == balancer.pick(EPS, {}, chat("abcY"))
