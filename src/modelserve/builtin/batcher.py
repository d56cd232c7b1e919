"""Dynamic batching for pooling models: concurrent requests share one forward pass.

A worker thread takes every queued request (up to `max_batch` inputs), tokenizes each request's
inputs to refuse any longer than the model takes, runs the model over all admitted inputs
(sorted by length, in slices of `sub_batch`), then applies each request's `finish` to its
own rows, still on the worker thread, and hands the results back to the event loop in one
`call_soon_threadsafe` per loop. The event loop never runs torch. The model-specific part is a
`PoolingRunner` (sentence-transformers embedder, or a transformers head: see `encoders.py`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from modelserve.errors import InvalidRequest, ModelServeError, Overloaded

log = logging.getLogger("modelserve.builtin")

MAX_GATHER_S = 0.05  # longest wait for more requests before a batch

# One model input: a text, token ids (decoded to text on the worker thread), or a text pair.
Item = str | list[int] | tuple[str, str]
Text = str | tuple[str, str]


class PoolingRunner(Protocol):
    """What the batcher needs from a model. Both methods run on the worker thread only; the batcher
    holds `tokenizer_lock` around `encode` (and each request's `finish`), `forward` takes it itself
    for as long as it uses the tokenizer."""

    tokenizer: Any
    max_model_len: int
    # Held whenever the tokenizer is used: a fast tokenizer's truncation/padding settings are
    # mutable state, and /tokenize uses it from other threads.
    tokenizer_lock: threading.Lock

    def encode(self, items: Sequence[Text]) -> tuple[list[Any], list[int]]:
        """Per-item encodings (opaque to the batcher) and token counts, special tokens included."""
        ...

    def forward(self, encoded: list[Any]) -> list[Any]:
        """One output row per encoding (e.g. a tensor), in order."""
        ...


@dataclass(frozen=True)
class PoolResult:
    value: Any  # what the request's `finish` returned
    prompt_tokens: int


@dataclass
class _Job:
    items: list[Item]
    finish: Callable[[list[Any]], Any]
    param: str  # the request field the items came from, named in errors
    names: list[str] | None  # per-item field paths for errors (default: param[i])
    future: asyncio.Future[PoolResult]
    loop: asyncio.AbstractEventLoop
    encoded: list[Any] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)


def _resolve_all(results: list[tuple[asyncio.Future[PoolResult], PoolResult | BaseException]]) -> None:
    for fut, value in results:
        if fut.done():  # the client went away
            continue
        if isinstance(value, BaseException):
            fut.set_exception(value)
        else:
            fut.set_result(value)


class PoolingBatcher:
    def __init__(
        self, runner: PoolingRunner, max_batch: int, max_queue: int, sub_batch: int | None = None
    ) -> None:
        self.runner = runner
        self.max_batch = max_batch
        # Inputs per forward pass: a gathered batch larger than this runs sorted by length in slices,
        # so short inputs are not padded to the longest (on CPU that saves ~20% on mixed lengths).
        self.sub_batch = min(sub_batch or max_batch, max_batch)
        self.max_queue = max_queue
        self._jobs: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self.tokenizer_lock = runner.tokenizer_lock
        self._queued_inputs = 0
        # Gathering (see _take): requests submitted so far, the count when the last batch was
        # answered, how many requests that batch held, and how long its forward pass took.
        self._submitted = 0
        self._answered_mark = 0
        self._last_requests = 0
        self._last_forward_s = 0.0
        self._thread = threading.Thread(target=self._run, name="modelserve-pool", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=10)

    @property
    def pending(self) -> int:
        return len(self._jobs)

    async def submit(
        self,
        items: list[Item],
        finish: Callable[[list[Any]], Any],
        *,
        param: str = "input",
        names: list[str] | None = None,
    ) -> PoolResult:
        """Run `items` through the model with other requests' items; `finish(rows)` (on the worker
        thread) turns this request's rows into its result.

        Raises Overloaded when the queue is full, InvalidRequest (naming `param`) for an input longer
        than the model takes, ModelServeError when the forward pass fails.
        """
        if names:
            param = names[0].split("[")[0]
        loop = asyncio.get_running_loop()
        job = _Job(items, finish, param, names, loop.create_future(), loop)
        with self._cond:
            if len(self._jobs) >= self.max_queue:
                raise Overloaded("the engine's request queue is full; retry later", retry_after=1)
            self._jobs.append(job)
            self._queued_inputs += len(items)
            self._submitted += 1
            self._cond.notify()
        return await job.future

    # ------------------------------------------------------------------ worker thread
    def _take(self) -> list[_Job] | None:
        """The next batch: every queued request, up to `max_batch` inputs.

        Before taking it, wait (briefly) for the clients of the last batch: as many requests as it
        held, counted from when it was answered. Without that, at high concurrency the worker wakes
        for each early arrival and runs batches of one or two, whose Python overhead (under the
        GIL) slows the event loop that parses the next requests, so batches stay small. A lone
        client loses nothing: its one request is all the wait asks for. The wait is at most half
        the last forward pass (and 50 ms).
        """
        with self._cond:
            while not self._stopping and not self._jobs:
                self._cond.wait()
            deadline = time.monotonic() + min(0.5 * self._last_forward_s, MAX_GATHER_S)
            while (
                not self._stopping
                and self._submitted - self._answered_mark < self._last_requests
                and self._queued_inputs < self.max_batch
                and (left := deadline - time.monotonic()) > 0
            ):
                self._cond.wait(left)
            if self._stopping:
                return None
            batch = [self._jobs.popleft()]
            size = len(batch[0].items)
            while self._jobs and size + len(self._jobs[0].items) <= self.max_batch:
                size += len(self._jobs[0].items)
                batch.append(self._jobs.popleft())
            self._queued_inputs -= size
            return batch

    def _run(self) -> None:
        import torch

        torch.set_grad_enabled(False)
        with torch.inference_mode():
            while (batch := self._take()) is not None:
                replies: list[tuple[_Job, PoolResult | BaseException]] = []
                admitted = [job for job in batch if self._admit(job, replies)]
                t0 = time.monotonic()
                if admitted:
                    self._process(admitted, replies)
                with self._cond:
                    self._last_forward_s = time.monotonic() - t0
                    log.debug(
                        "pooling batch: %d requests in %.1f ms, %d queued",
                        len(admitted), 1000 * self._last_forward_s, len(self._jobs),
                    )
                    self._last_requests = len(batch)
                    self._answered_mark = self._submitted
                self._reply(replies)

    def _admit(self, job: _Job, replies: list[tuple[_Job, PoolResult | BaseException]]) -> bool:
        """Encode the job's inputs; refuse (rather than truncate) one longer than the model takes."""
        if job.future.done():  # cancelled while queued
            return False
        tok = self.runner.tokenizer
        try:
            with self.tokenizer_lock:
                texts: list[Text] = [
                    tok.decode(t, skip_special_tokens=True) if isinstance(t, list) else t for t in job.items
                ]
                job.encoded, job.counts = self.runner.encode(texts)
        except Exception as e:  # noqa: BLE001 - a bad input fails its request, not the worker
            replies.append((job, InvalidRequest(f"{job.param} could not be tokenized: {e}", param=job.param)))
            return False
        limit = self.runner.max_model_len
        for i, n in enumerate(job.counts):
            if n > limit:
                if job.names is not None:
                    where = job.names[i]
                else:
                    where = job.param if len(job.items) == 1 else f"{job.param}[{i}]"
                err = InvalidRequest(
                    f"{where} has {n} tokens; this model takes at most {limit}",
                    param=where.split("[")[0],
                    code="context_length_exceeded",
                )
                replies.append((job, err))
                return False
        return True

    def _process(self, batch: list[_Job], replies: list[tuple[_Job, PoolResult | BaseException]]) -> None:
        encoded = [e for job in batch for e in job.encoded]
        counts = [c for job in batch for c in job.counts]
        try:
            rows = self._forward(encoded, counts)
        except Exception as e:  # fail these requests, keep serving
            log.exception("pooling forward failed")
            replies += [(job, ModelServeError(f"inference failed: {type(e).__name__}")) for job in batch]
            return
        start = 0
        for job in batch:
            end = start + len(job.items)
            try:
                with self.tokenizer_lock:  # some finishers decode tokens
                    value = job.finish(rows[start:end])
                replies.append((job, PoolResult(value, sum(job.counts))))
            except ModelServeError as e:
                replies.append((job, e))
            except Exception as e:
                log.exception("pooling post-processing failed")
                replies.append((job, ModelServeError(f"inference failed: {type(e).__name__}")))
            start = end

    def _forward(self, encoded: list[Any], counts: list[int]) -> list[Any]:
        """Rows for `encoded`, in order; more than `sub_batch` inputs run in slices of similar length."""
        if len(encoded) <= self.sub_batch:
            return self.runner.forward(encoded)
        order = sorted(range(len(encoded)), key=counts.__getitem__)
        rows: list[Any] = [None] * len(encoded)
        for s in range(0, len(order), self.sub_batch):
            part = order[s : s + self.sub_batch]
            for i, row in zip(part, self.runner.forward([encoded[i] for i in part])):
                rows[i] = row
        return rows

    @staticmethod
    def _reply(replies: list[tuple[_Job, PoolResult | BaseException]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
        for job, value in replies:
            by_loop.setdefault(job.loop, []).append((job.future, value))
        for loop, results in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve_all, results)
            except RuntimeError:  # loop closed during shutdown
                pass
