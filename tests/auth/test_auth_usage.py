"""UsageRecorder: the gateway's usage reports end up in the store and count against tokens/min."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from modelserve import errors
from modelserve.auth.authenticator import KeyAuthenticator
from modelserve.auth.usage import UsageRecorder
from modelserve.store import SqlStore
from modelserve.store.records import UsageInput


@dataclass(frozen=True)
class Usage:
    """The shape of the gateway's UsageRecord."""

    run_id: str | None
    model: str
    replica: str | None
    key_id: str | None
    prompt_tokens: int
    completion_tokens: int
    status: int = 200


async def test_recorded_usage_is_written_and_summarised(store: SqlStore) -> None:
    a, _ = store.create_api_key("a")
    b, _ = store.create_api_key("b")
    recorder = UsageRecorder(store)

    recorder.record(Usage("run1", "qwen", "run1-0", a.id, 10, 5))
    recorder(Usage("run1", "qwen", "run1-0", a.id, 1, 2))
    recorder.record(Usage("run2", "llama", "run2-0", b.id, 7, 0))
    recorder.record(Usage("run2", "llama", "run2-0", None, 100, 100))  # no key: not recorded
    assert recorder.pending == 3
    assert await recorder.flush() == 3

    summary = store.usage_summary(a.id)
    assert (summary.requests, summary.prompt_tokens, summary.completion_tokens) == (2, 11, 7)
    assert store.usage_summary().requests == 3
    assert store.get_api_key(a.id).last_used_at is not None
    assert recorder.pending == 0


async def test_recording_counts_tokens_against_the_key_at_once(store: SqlStore) -> None:
    record, key = store.create_api_key("tpm", tpm=100)
    auth = KeyAuthenticator(store)
    recorder = UsageRecorder(store, auth)
    auth.check_limits(await auth.authenticate(key))

    recorder.record(Usage("run1", "qwen", None, record.id, 80, 30))  # not flushed yet

    with pytest.raises(errors.Overloaded) as refused:
        auth.check_limits(await auth.authenticate(key))
    assert refused.value.retry_after is not None


async def test_usage_is_kept_while_the_store_fails(store: SqlStore) -> None:
    record, _ = store.create_api_key("flaky")

    class FlakyStore:
        def __init__(self) -> None:
            self.fail = True

        def add_usage_batch(self, items: Sequence[UsageInput]) -> int:
            if self.fail:
                raise ConnectionError("database is away")
            return store.add_usage_batch(items)

    flaky = FlakyStore()
    recorder = UsageRecorder(flaky)
    recorder.record(Usage(None, "qwen", None, record.id, 3, 4))

    assert await recorder.flush() == 0
    assert recorder.pending == 1
    flaky.fail = False
    assert await recorder.flush() == 1
    assert store.usage_summary(record.id).completion_tokens == 4


async def test_background_loop_writes_full_batches_without_waiting_for_the_interval(
    store: SqlStore,
) -> None:
    record, _ = store.create_api_key("busy")
    recorder = UsageRecorder(store, flush_interval_s=3600, batch_size=2)
    task = asyncio.create_task(recorder.run_forever())
    try:
        recorder.record(Usage(None, "qwen", None, record.id, 1, 1))
        recorder.record(Usage(None, "qwen", None, record.id, 1, 1))
        for _ in range(500):
            if store.usage_summary(record.id).requests == 2:
                break
            await asyncio.sleep(0.01)
        assert store.usage_summary(record.id).requests == 2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_queue_is_bounded(store: SqlStore) -> None:
    record, _ = store.create_api_key("bounded")
    recorder = UsageRecorder(store, max_pending=3)
    for i in range(5):
        recorder.record(Usage(None, f"m{i}", None, record.id, 1, 0))
    assert recorder.pending == 3
    await recorder.flush()
    assert [r.model for r in store.usage_summary(record.id).rows] == ["m2", "m3", "m4"]
