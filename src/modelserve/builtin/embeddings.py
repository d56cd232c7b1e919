"""Dynamic batching for embeddings: concurrent requests are gathered into one forward pass.

A worker thread takes every queued request (up to `max_batch` inputs), tokenizes them together,
runs the sentence-transformers modules once, and hands each request its rows back through
`loop.call_soon_threadsafe`. The event loop never runs torch.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from dataclasses import dataclass

import torch

from modelserve.builtin.loader import LoadedEmbedder
from modelserve.errors import InvalidRequest, ModelServeError, Overloaded

log = logging.getLogger("modelserve.builtin")


@dataclass(frozen=True)
class EmbeddingResult:
    vectors: list[list[float]]
    prompt_tokens: int


@dataclass
class _Job:
    texts: list[str | list[int]]  # token-id inputs become text on the worker thread (see _fits)
    future: asyncio.Future[EmbeddingResult]
    loop: asyncio.AbstractEventLoop


def _resolve(fut: asyncio.Future[EmbeddingResult], value: EmbeddingResult | BaseException) -> None:
    if fut.done():  # the client went away
        return
    if isinstance(value, BaseException):
        fut.set_exception(value)
    else:
        fut.set_result(value)


class EmbeddingBatcher:
    def __init__(self, loaded: LoadedEmbedder, max_batch: int, max_queue: int) -> None:
        self.m = loaded
        self.max_batch = max_batch
        self.max_queue = max_queue
        self._jobs: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self.tokenizer_lock = threading.Lock()  # held whenever the tokenizer is used
        self._thread = threading.Thread(target=self._run, name="modelserve-embed", daemon=True)

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

    async def embed(self, texts: list[str | list[int]]) -> EmbeddingResult:
        """Embed `texts` (strings or token ids), normalized as the model's modules say.

        Raises Overloaded when the queue is full, InvalidRequest for an input longer than the model takes.
        """
        loop = asyncio.get_running_loop()
        job = _Job(texts, loop.create_future(), loop)
        with self._cond:
            if len(self._jobs) >= self.max_queue:
                raise Overloaded("the engine's request queue is full; retry later", retry_after=1)
            self._jobs.append(job)
            self._cond.notify()
        return await job.future

    def _take(self) -> list[_Job] | None:
        with self._cond:
            while not self._stopping and not self._jobs:
                self._cond.wait()
            if self._stopping:
                return None
            batch = [self._jobs.popleft()]
            size = len(batch[0].texts)
            while self._jobs and size + len(self._jobs[0].texts) <= self.max_batch:
                size += len(self._jobs[0].texts)
                batch.append(self._jobs.popleft())
            return batch

    def _run(self) -> None:
        torch.set_grad_enabled(False)
        with torch.inference_mode():
            while (batch := self._take()) is not None:
                batch = [job for job in batch if self._fits(job)]
                if batch:
                    self._embed(batch)

    def _fits(self, job: _Job) -> bool:
        """Refuse a request with an input longer than the model takes (rather than truncating it)."""
        # The tokenizer is used only on this thread: its truncation settings are mutable state.
        tok = self.m.tokenizer
        with self.tokenizer_lock:
            job.texts = [
                t if isinstance(t, str) else tok.decode(t, skip_special_tokens=True) for t in job.texts
            ]
            lengths = [len(ids) for ids in tok(job.texts)["input_ids"]]
        limit = self.m.max_model_len
        for i, n in enumerate(lengths):
            if n > limit:
                where = "input" if len(job.texts) == 1 else f"input[{i}]"
                err = InvalidRequest(
                    f"{where} has {n} tokens; this model takes at most {limit}",
                    param="input",
                    code="context_length_exceeded",
                )
                job.loop.call_soon_threadsafe(_resolve, job.future, err)
                return False
        return True

    def _embed(self, batch: list[_Job]) -> None:
        texts = [str(t) for job in batch for t in job.texts]
        try:
            vectors, counts = self._forward(texts)
        except Exception as e:  # fail these requests, keep serving
            log.exception("embedding forward failed")
            for job in batch:
                err = ModelServeError(f"embedding failed: {type(e).__name__}")
                job.loop.call_soon_threadsafe(_resolve, job.future, err)
            return
        start = 0
        for job in batch:
            end = start + len(job.texts)
            res = EmbeddingResult(vectors[start:end], sum(counts[start:end]))
            job.loop.call_soon_threadsafe(_resolve, job.future, res)
            start = end

    def _forward(self, texts: list[str]) -> tuple[list[list[float]], list[int]]:
        st = self.m.model
        with self.tokenizer_lock:
            features = st.tokenize(texts)
        counts = features["attention_mask"].sum(dim=1).tolist()
        features = {k: v.to(self.m.device) if hasattr(v, "to") else v for k, v in features.items()}
        emb = st.forward(features)["sentence_embedding"]
        return emb.float().cpu().tolist(), [int(c) for c in counts]
