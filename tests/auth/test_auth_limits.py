"""Per-key limits on a hand-moved clock: the request bucket and the one-minute token window."""

from __future__ import annotations

import pytest
from auth_support import FakeClock

from modelserve.auth.limits import RequestLimiter, StoredWindow, TokenWindow


@pytest.mark.parametrize(
    ("rpm", "steps", "expected"),
    [
        (3, [0, 0, 0, 0], [None, None, None, 20.0]),
        (60, [0] * 60 + [0], [None] * 60 + [1.0]),
        (2, [0, 0, 0, 30, 0], [None, None, 30.0, None, 30.0]),
        (1, [0, 59, 2], [None, 1.0, None]),
    ],
    ids=["burst-then-wait", "sixty-per-minute", "refills-one-per-half-minute", "refused-then-due"],
)
def test_request_bucket(rpm: int, steps: list[float], expected: list[float | None]) -> None:
    clock = FakeClock()
    limiter = RequestLimiter(clock)
    got = []
    for step in steps:
        clock.advance(step)
        wait = limiter.acquire("k", rpm)
        got.append(None if wait is None else round(wait, 6))
    assert got == expected


def test_request_buckets_are_per_key() -> None:
    limiter = RequestLimiter(FakeClock())
    assert limiter.acquire("a", 1) is None
    assert limiter.acquire("a", 1) is not None
    assert limiter.acquire("b", 1) is None


@pytest.mark.parametrize(
    ("events", "tpm", "expected"),
    [
        ([(0, 50)], 100, None),
        ([(0, 60), (10, 40)], 100, 50.0),
        ([(0, 60), (10, 40), (51, 0)], 100, None),
        ([(0, 30), (20, 30), (40, 80)], 100, 20.0),
        ([(0, 200), (61, 0)], 100, None),
    ],
    ids=[
        "under",
        "reached-waits-for-oldest",
        "oldest-left-window",
        "waits-until-enough-leave",
        "all-expired",
    ],
)
def test_token_window_local(events: list[tuple[float, int]], tpm: int, expected: float | None) -> None:
    clock = FakeClock()
    window = TokenWindow(clock)
    for step, tokens in events:
        clock.advance(step)
        window.add("k", tokens)
    assert window.check("k", tpm) == expected


def test_token_window_takes_the_larger_of_local_and_stored_counts() -> None:
    clock = FakeClock()
    window = TokenWindow(clock)
    window.add("k", 40)
    window.set_stored("k", StoredWindow(tokens=40, at=clock(), oldest_at=clock()))
    assert window.check("k", 70) is None  # the same 40 tokens, not 80

    window.set_stored("k", StoredWindow(tokens=90, at=clock(), oldest_at=clock() - 15))
    assert window.check("k", 70) == 45.0  # other gateways' tokens count; their oldest leaves in 45 s

    clock.advance(46)
    assert window.check("k", 70) is None  # the stored count went stale with its oldest record
