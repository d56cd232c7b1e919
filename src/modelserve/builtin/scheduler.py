"""Continuous (iteration-level) batching for generation, on one worker thread.

Each iteration: drop cancelled sequences, run ONE batched decode step for every running sequence,
run one chunk of the newcomers' prefill (left-padded, together) and, when their prompts are done,
merge their cache into the batch; sample, detokenize, emit, and drop finished sequences at once.
A new request therefore starts prefilling at the next step and decodes with the batch after it.
The waiting queue is bounded: `submit` raises `Overloaded` (429 + Retry-After) when it is full.
Work that must not overlap a step (loading or unloading a LoRA adapter) is queued with `call`
and runs on this thread between two iterations. Metrics are recorded here into `stats`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

import torch

from modelserve.builtin.adapters import Adapter, AdapterSet
from modelserve.builtin.handles import RequestHandle, deliver
from modelserve.builtin.kvbatch import BatchKV
from modelserve.builtin.loader import LoadedGenerator
from modelserve.builtin.metrics import GenerationStats
from modelserve.builtin.params import SamplingParams, StepOutput
from modelserve.builtin.prefill import PrefillJob
from modelserve.builtin.prefix_cache import PrefixCache
from modelserve.builtin.sequence import Seq, advance
from modelserve.errors import NotReady, Overloaded

log = logging.getLogger("modelserve.builtin")
T = TypeVar("T")

PREFILL_GROUP_TOKENS = 8192  # padded prompt tokens admitted into one prefill group


def _prefix_cache(m: LoadedGenerator, megabytes: int) -> PrefixCache | None:
    """A prefix cache holding about `megabytes` of keys/values, or None when off or unsupported."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    cfg = m.model.config
    layers = DynamicCache(config=cfg).layers
    if megabytes <= 0 or not layers or any(type(layer) is not DynamicLayer for layer in layers):
        return None  # sliding-window layers keep only part of the prompt: nothing to reuse
    heads = getattr(cfg, "num_attention_heads", 1)
    kv_heads = getattr(cfg, "num_key_value_heads", None) or heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // heads
    elem = torch.finfo(m.model.dtype).bits // 8
    per_token = 2 * len(layers) * kv_heads * head_dim * elem
    return PrefixCache(max(1, megabytes * 2**20 // per_token))


class GenerationScheduler:
    def __init__(
        self,
        loaded: LoadedGenerator,
        max_num_seqs: int,
        max_queue: int,
        prefill_chunk_tokens: int = 512,
        prefix_cache_mb: int = 256,
    ) -> None:
        self.m = loaded
        self.prefill_chunk_tokens = prefill_chunk_tokens
        self.max_num_seqs = max_num_seqs
        self.max_queue = max_queue
        self._waiting: deque[Seq] = deque()
        self._running: list[Seq] = []
        self._prefill: PrefillJob | None = None
        self.prefixes = _prefix_cache(loaded, prefix_cache_mb)
        self._kv = BatchKV()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="modelserve-generate", daemon=True)
        self._pad_id = int(loaded.tokenizer.pad_token_id or 0)
        self._ops: deque[tuple[Callable[[], Any], concurrent.futures.Future[Any]]] = deque()
        self.adapters = AdapterSet(loaded, {}, self._cond)
        self.stats = GenerationStats(loaded.max_model_len)
        self.aborted = 0  # sequences dropped because their client went away
        self.peak_running = 0  # the largest batch decoded so far

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=10)
        with self._cond:
            for _, fut in self._ops:
                fut.set_exception(NotReady("the engine is shutting down"))
            self._ops.clear()

    # ------------------------------------------------------------------ event-loop side
    def submit(self, items: list[tuple[list[int], SamplingParams]], adapter: str | None) -> RequestHandle:
        """Queue one request: its sequences (prompt ids, params), output index = position in `items`.

        Raises Overloaded when the waiting queue is full.
        """
        handle = RequestHandle(asyncio.get_running_loop(), len(items))
        seqs = [Seq.create(handle, i, ids, p, None, self.m) for i, (ids, p) in enumerate(items)]
        with self._cond:
            # The adapter's key is taken under the lock that also guards unloading: once queued,
            # the sequences hold the adapter's weights until they finish.
            key = self.adapters.key_for(adapter)
            for s in seqs:
                s.adapter = key
            if len(self._waiting) + len(seqs) > self.max_queue:
                self._purge_cancelled_waiting()
            if len(self._waiting) + len(seqs) > self.max_queue:
                raise Overloaded("the engine's request queue is full; retry later", retry_after=1)
            self._waiting.extend(seqs)
            self._cond.notify()
        return handle

    def _purge_cancelled_waiting(self) -> None:
        """Drop waiting sequences whose client left (caller holds the lock)."""
        self._abort([s for s in self._waiting if s.handle.cancelled])
        self._waiting = deque(s for s in self._waiting if not s.handle.cancelled)

    # ------------------------------------------------------------------ adapters (event-loop side)
    def call(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        """Run `fn` on the scheduler thread between two iterations; await the result (or its error)."""
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._cond:
            if self._stopping:
                raise NotReady("the engine is shutting down")
            self._ops.append((fn, fut))
            self._cond.notify()
        return asyncio.wrap_future(fut)

    async def load_adapter(self, name: str, path: str) -> Adapter:
        """Serve the LoRA adapter in folder `path` as model `name` (see AdapterSet.attach for errors)."""
        return await self.call(lambda: self.adapters.attach(name, path))

    async def unload_adapter(self, name: str) -> Adapter:
        """Stop serving adapter `name`; admitted requests finish with it (see AdapterSet.detach)."""
        return await self.call(lambda: self.adapters.detach(name))

    def adapter_names(self) -> tuple[str, ...]:
        with self._cond:
            return tuple(self.adapters.served)

    def adapter_path(self, name: str) -> str | None:
        with self._cond:
            adapter = self.adapters.served.get(name)
        return adapter.path if adapter is not None else None

    @property
    def load(self) -> tuple[int, int]:
        """(running, waiting) sequence counts; sequences being prefilled count as running."""
        job = self._prefill
        return len(self._running) + (len(job.seqs) if job else 0), len(self._waiting)

    # ------------------------------------------------------------------ scheduler thread
    def _run(self) -> None:
        torch.set_grad_enabled(False)
        with torch.inference_mode():
            while self._admit():
                self._run_ops()
                try:
                    self._iteration()
                except Exception as e:  # fail the batch, keep serving
                    log.exception("generation step failed")
                    self._fail_all(e)
                if self.adapters.retiring:
                    self._retire_adapters()

    def _run_ops(self) -> None:
        """Queued work that must not overlap a step (adapter loads), in arrival order."""
        while True:
            with self._cond:
                if not self._ops:
                    return
                fn, fut = self._ops.popleft()
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as exc:  # the caller awaits it; the scheduler keeps serving
                fut.set_exception(exc)

    def _retire_adapters(self) -> None:
        """Delete unloaded adapters once no admitted sequence uses them (and their cached prefixes)."""
        with self._cond:
            in_use = {s.adapter for s in self._waiting}
        in_use |= {s.adapter for s in self._running}
        if self._prefill is not None:
            in_use |= {s.adapter for s in self._prefill.seqs}
        for key in self.adapters.collect(in_use):
            if self.prefixes is not None:
                self.prefixes.forget(key)

    def _admit(self) -> bool:
        """Wait for work; start a prefill group from the waiting queue when none is running.

        Returns False when the scheduler is stopping."""
        with self._cond:
            while (
                not self._stopping
                and not self._running
                and not self._waiting
                and self._prefill is None
                and not self._ops
            ):
                self._cond.wait()
            if self._stopping:
                return False
            if self._prefill is not None:
                return True
            new: list[Seq] = []
            longest = 0
            while self._waiting and len(self._running) + len(new) < self.max_num_seqs:
                s = self._waiting[0]
                if s.handle.cancelled:
                    self._abort([self._waiting.popleft()])
                    continue
                longest_if = max(longest, len(s.prompt_ids))
                if new and longest_if * (len(new) + 1) > PREFILL_GROUP_TOKENS:
                    break
                longest = longest_if
                new.append(self._waiting.popleft())
        if new:
            self.stats.admitted(new, time.monotonic(), self.prefixes is not None)
            self._prefill = PrefillJob(new, self._pad_id, self.m.device, self.m.model.config)
            if self.prefixes is not None:
                self._prefill.reuse(self.prefixes)
        return True

    def _iteration(self) -> None:
        outputs: list[tuple[RequestHandle, StepOutput]] = []
        gone = [i for i, s in enumerate(self._running) if s.handle.cancelled]
        self._abort([self._running[i] for i in gone])
        self._drop(gone)
        if self._running:
            logits = self._decode_step()
            advance(self._running, logits, self.m, outputs)
            self.stats.next_tokens(self._running, time.monotonic())
        job = self._prefill
        if job is not None and all(s.handle.cancelled for s in job.seqs):
            self._abort(job.seqs)
            self._prefill = job = None
        if job is not None:
            last = job.step(self._forward, self.prefill_chunk_tokens)
            if last is not None:
                self._prefill = None
                if self.prefixes is not None:
                    job.remember(self.prefixes)
                self._kv.join(job.cache, job.mask)
                self._running.extend(job.seqs)
                self.peak_running = max(self.peak_running, len(self._running))
                advance(job.seqs, last, self.m, outputs)
                self.stats.first_tokens(job.seqs, time.monotonic())
        done = [i for i, s in enumerate(self._running) if s.finished]
        if done:
            self.stats.done([self._running[i] for i in done], time.monotonic())
        self._drop(done)
        deliver(outputs)

    def _forward(self, seqs: list[Seq], **kw: Any) -> Any:
        if self.m.fused is not None and all(s.adapter is None for s in seqs):
            return self.m.fused(**kw)
        if self.m.adapters:
            kw["adapter_names"] = [s.adapter or "__base__" for s in seqs]
        return self.m.model(use_cache=True, logits_to_keep=1, **kw)

    def _decode_step(self) -> torch.Tensor:
        dev = self.m.device
        ids = torch.tensor([[s.next_token] for s in self._running], dtype=torch.long, device=dev)
        pos = torch.tensor([[s.position] for s in self._running], dtype=torch.long, device=dev)
        mask = self._kv.step_mask()
        out = self._forward(
            self._running,
            input_ids=ids,
            attention_mask=mask,
            position_ids=pos,
            past_key_values=self._kv.cache,
        )
        self._kv.stepped(mask)
        for s in self._running:
            s.position += 1
        logits: torch.Tensor = out.logits[:, -1, :]
        return logits

    def _drop(self, rows: list[int]) -> None:
        if not rows:
            return
        gone = set(rows)
        keep = [i for i in range(len(self._running)) if i not in gone]
        self._kv.keep(keep)
        self._running = [self._running[i] for i in keep]

    def _abort(self, seqs: list[Seq]) -> None:
        """Sequences whose client left: count them and close their output streams ("abort")."""
        self.aborted += len(seqs)
        if seqs:
            self.stats.ended("abort", len(seqs))
        deliver(
            (s.handle, StepOutput(s.index, "", (), None, "abort", len(s.prompt_ids), len(s.output_ids)))
            for s in seqs
        )

    def _fail_all(self, exc: Exception) -> None:
        victims = self._running + (self._prefill.seqs if self._prefill else [])
        msg = f"generation failed: {type(exc).__name__}"
        self.stats.ended("error", len(victims))
        deliver(
            (
                s.handle,
                StepOutput(s.index, "", (), None, None, len(s.prompt_ids), len(s.output_ids), error=msg),
            )
            for s in victims
        )
        self._running = []
        self._prefill = None
        self._kv = BatchKV()
