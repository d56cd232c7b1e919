"""PrefixCache: block hashing, the LRU estimate, longest-prefix choice within the load bound,
consistent hashing for prefixes no replica has seen; and adapter eligibility."""

from __future__ import annotations

import pytest

from modelserve.gateway import Endpoint
from modelserve.gateway.balancers import BalanceRequest, PrefixCache, make_balancer
from modelserve.gateway.balancers.blocks import LruBlocks, block_hashes, render

A, B, C, D = (Endpoint(f"run-{i}", f"http://127.0.0.1:{9100 + i}") for i in range(4))
EPS = [A, B, C, D]
SYSTEM = "You are the support assistant of ACME. " * 20  # ~800 characters


def convo(system: str, *turns: str) -> BalanceRequest:
    messages = [{"role": "system", "content": system}]
    messages += [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(turns)]
    return BalanceRequest("m", None, {"messages": messages})


def test_blocks_are_chained_full_blocks_of_the_rendered_conversation() -> None:
    text = render(convo("sys", "hello").body)
    assert text == "\x1esystem\x1fsys\x1euser\x1fhello"
    assert len(block_hashes("x" * 10, 4)) == 2  # the partial last block is left out
    one, two = block_hashes("abcdefgh", 4), block_hashes("zzzzefgh", 4)
    assert one[1] != two[1]  # same block text, different prefix: different hash
    assert block_hashes("abcdefgh", 4) == one
    assert block_hashes("abcdefgh", 4, seed=7) != one  # an adapter seeds the chain


@pytest.mark.parametrize(
    ("capacity", "touches", "probe", "matched", "size"),
    [
        (8, [[1, 2, 3]], [1, 2, 3, 4], 3, 3),
        (4, [[1, 2, 3], [4, 5]], [1, 2, 3], 2, 4),  # a prefix's tail goes first
        (4, [[1, 2, 3], [4, 5], [1, 2, 3]], [4, 5], 1, 4),  # re-used prefix is recent again
        (3, [[1, 2], [3, 4], [5, 6]], [1, 2], 0, 3),
        (5, [[1, 2, 3], [1, 2, 9]], [1, 2, 3], 3, 4),
    ],
    ids=["fits", "evicts-tail-first", "reuse-refreshes", "oldest-gone", "shared-head"],
)
def test_lru_estimate(
    capacity: int, touches: list[list[int]], probe: list[int], matched: int, size: int
) -> None:
    lru = LruBlocks(capacity)
    for blocks in touches:
        lru.touch(blocks)
    assert (lru.match(probe), len(lru)) == (matched, size)


def test_a_continued_conversation_stays_on_its_replica() -> None:
    balancer = PrefixCache(block_chars=64)
    first = balancer.pick(EPS, {}, convo(SYSTEM, "Where is my order 1234?"))
    turns = ["Where is my order 1234?", "It ships Monday.", "Can it come sooner?", "Express costs 5."]
    others = [ep for ep in EPS if ep != first]
    for k in range(2, len(turns) + 1):
        # Load elsewhere does not matter while the replica is within the bound.
        load = {others[0]: 1, others[1]: 1}
        assert balancer.pick(EPS, load, convo(SYSTEM, *turns[:k], "ok")) == first


@pytest.mark.parametrize(
    ("inflight", "expected"),
    [
        ({}, A),
        ({A: 1, B: 1, C: 1, D: 1}, A),  # A's longer match wins within ceil(5/4*1.25) = 2
        ({A: 4, B: 1, C: 0, D: 0}, B),  # A is over ceil(6/4*1.25) = 2: the next longest match
        ({A: 4, B: 4, C: 0, D: 0}, None),  # both over ceil(9/4*1.25) = 3: consistent hashing
        ({A: 1, B: 0, C: 0, D: 0}, B),  # few in flight: ceil(2/4*1.25) = 1 keeps A at one
    ],
    ids=["idle", "within-bound", "longest-over-bound", "all-matches-over-bound", "low-load-bound"],
)
def test_longest_prefix_within_the_load_bound(
    inflight: dict[Endpoint, int], expected: Endpoint | None
) -> None:
    balancer = PrefixCache(block_chars=64)
    history = ("Tell me about plan X.", "Plan X costs 10.")
    long, short = convo(SYSTEM, *history, "And plan Y?"), convo(SYSTEM, "Something else")
    balancer.estimate(A).touch(balancer.blocks(long))
    balancer.estimate(B).touch(balancer.blocks(short))  # B shares the system prompt only
    got = balancer.pick(EPS, inflight, convo(SYSTEM, *history, "And plan Y?", "Thanks.", "More?"))
    if expected is None:
        assert got in (C, D)
    else:
        assert got == expected


def test_unseen_prefixes_go_by_consistent_hashing_the_same_on_every_gateway() -> None:
    requests = [convo(f"tenant {i} system prompt " * 10, "hi") for i in range(40)]
    one, two = PrefixCache(block_chars=64), PrefixCache(block_chars=64)
    picks = [one.pick(EPS, {}, r) for r in requests]
    assert picks == [two.pick(EPS, {}, r) for r in requests]
    assert len(set(picks)) == 4
    # A new conversation of a tenant already seen goes where that tenant's system prompt is.
    assert one.pick(EPS, {}, convo("tenant 3 system prompt " * 10, "other question")) == picks[3]


def test_estimates_are_per_adapter() -> None:
    balancer = PrefixCache(block_chars=64)
    base = BalanceRequest("m", None, convo(SYSTEM, "q").body)
    sql = BalanceRequest("m", "sql", convo(SYSTEM, "q").body)
    assert set(balancer.blocks(base)).isdisjoint(balancer.blocks(sql))


def test_parameters() -> None:
    balancer = make_balancer(
        "PrefixCache", {"block_chars": 32, "cache_blocks": 10, "prefix_char_length": 100}
    )
    assert isinstance(balancer, PrefixCache)
    assert (balancer.block_chars, balancer.cache_blocks) == (32, 10)
    with pytest.raises(ValueError, match="cache_blocks"):
        make_balancer("PrefixCache", {"cache_blocks": 0})


@pytest.mark.parametrize(
    ("adapters", "adapter", "serves"),
    [
        (None, None, True),
        (None, "sql", True),  # no per-replica set: every adapter of the model
        (frozenset({"sql"}), "sql", True),
        (frozenset({"sql"}), "chat", False),
        (frozenset(), None, True),  # the base model is always there
    ],
    ids=["base", "unknown-set", "has-it", "lacks-it", "empty-set-base"],
)
def test_adapter_filter(adapters: frozenset[str] | None, adapter: str | None, serves: bool) -> None:
    ep = Endpoint("run-0", "http://127.0.0.1:1", adapters=adapters)
    assert ep.serves(adapter) is serves
    assert ep == Endpoint("run-0", "http://127.0.0.1:1")  # the set is not part of identity


def test_reply_placeholders_give_way_to_the_real_reply_blocks() -> None:
    balancer = PrefixCache(block_chars=64, cache_blocks=10_000)
    first = convo(SYSTEM, "q1", "a" * 640, "q2")  # one earlier reply seen: the average grows
    ep = balancer.pick(EPS, {}, first)
    size = len(balancer.estimate(ep))
    assert size > len(balancer.blocks(first))  # prompt blocks plus placeholders for the reply
    follow_up = convo(SYSTEM, "q1", "a" * 640, "q2", "b" * 640, "q3")
    assert balancer.pick(EPS, {}, follow_up) == ep
    # The placeholders of the first request were replaced, not kept beside the real blocks.
    grown = len(balancer.estimate(ep)) - size
    assert grown <= len(balancer.blocks(follow_up)) - len(balancer.blocks(first)) + round(
        balancer._reply_chars / 64
    )
