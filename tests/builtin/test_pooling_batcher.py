"""The pooling batcher with a stand-in model (no torch work): concurrent requests share forward passes,
a batch past the sub-batch size runs sorted by length and answers in order, a bad request fails alone."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from modelserve.builtin.batcher import PoolingBatcher, Text
from modelserve.errors import InvalidRequest


class WordCounter:
    """A `PoolingRunner` whose "embedding" of a text is its word count; records each forward's size."""

    max_model_len = 50

    def __init__(self, forward_s: float = 0.0) -> None:
        self.tokenizer = None
        self.tokenizer_lock = threading.Lock()
        self.forward_s = forward_s
        self.forwards: list[list[int]] = []

    def encode(self, items: Sequence[Text]) -> tuple[list[Any], list[int]]:
        counts = [len(str(t).split()) for t in items]
        return counts, counts

    def forward(self, encoded: list[Any]) -> list[Any]:
        time.sleep(self.forward_s)  # stands in for a forward pass (releases the GIL, as torch does)
        self.forwards.append(list(encoded))
        return list(encoded)


@pytest.fixture
def runner() -> WordCounter:
    return WordCounter(forward_s=0.04)


@pytest.fixture
def batcher(runner: WordCounter) -> Iterator[PoolingBatcher]:
    b = PoolingBatcher(runner, max_batch=64, max_queue=256, sub_batch=4)
    b.start()
    yield b
    b.close()


def test_closed_loop_clients_share_forward_passes(runner: WordCounter) -> None:
    """8 clients, 6 requests each, one forward pass per batch."""
    batcher = PoolingBatcher(runner, max_batch=64, max_queue=256)
    batcher.start()
    async def client(i: int) -> list[int]:
        out = []
        for _ in range(6):
            await asyncio.sleep(0.0005 * i)  # clients come back at different times, as over HTTP
            out.append((await batcher.submit(["w " * (1 + i % 3)], list)).value[0])
        return out

    async def main() -> list[list[int]]:
        return await asyncio.gather(*(client(i) for i in range(8)))

    try:
        answers = asyncio.run(main())
    finally:
        batcher.close()
    assert answers == [[1 + i % 3] * 6 for i in range(8)]
    sizes = [len(f) for f in runner.forwards]
    # the batcher waits for the last batch's clients instead of starting on the first one back
    assert sum(sizes) == 48 and sizes.count(8) >= 4, sizes


def test_large_batch_runs_sorted_in_slices_and_answers_in_order(
    batcher: PoolingBatcher, runner: WordCounter
) -> None:
    texts = ["w " * n for n in (5, 1, 4, 2, 3, 1, 5, 2, 3)]
    res = asyncio.run(batcher.submit(list(texts), list))
    assert res.value == [5, 1, 4, 2, 3, 1, 5, 2, 3] and res.prompt_tokens == 26
    assert all(len(f) <= 4 for f in runner.forwards)
    assert [x for f in runner.forwards for x in f] == sorted(res.value)


def test_a_too_long_input_fails_only_its_request(batcher: PoolingBatcher) -> None:
    async def main() -> list[Any]:
        return await asyncio.gather(
            batcher.submit(["ok"], list),
            batcher.submit(["short", "w " * 60], list, names=["query", "documents[0]"]),
            return_exceptions=True,
        )

    ok, bad = asyncio.run(main())
    assert ok.value == [1]
    assert isinstance(bad, InvalidRequest) and bad.param == "documents" and "documents[0]" in bad.message
