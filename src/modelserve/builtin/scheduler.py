"""Continuous (iteration-level) batching for generation, on one worker thread.

Each iteration: drop cancelled sequences, run ONE batched decode step for every running sequence,
prefill the newcomers together (left-padded) and merge their cache into the batch, sample, detokenize,
emit, and drop finished sequences at once. A new request therefore joins at the next step.
The waiting queue is bounded: `submit` raises `Overloaded` (429 + Retry-After) when it is full.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from typing import Any

import torch

from modelserve.builtin.handles import RequestHandle, deliver
from modelserve.builtin.kvbatch import BatchKV
from modelserve.builtin.loader import LoadedGenerator
from modelserve.builtin.params import SamplingParams, StepOutput
from modelserve.builtin.sequence import Seq, advance
from modelserve.errors import Overloaded

log = logging.getLogger("modelserve.builtin")

PREFILL_TOKEN_BUDGET = 4096  # padded prompt tokens per prefill forward


class GenerationScheduler:
    def __init__(self, loaded: LoadedGenerator, max_num_seqs: int, max_queue: int) -> None:
        self.m = loaded
        self.max_num_seqs = max_num_seqs
        self.max_queue = max_queue
        self._waiting: deque[Seq] = deque()
        self._running: list[Seq] = []
        self._kv = BatchKV()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="modelserve-generate", daemon=True)
        self._pad_id = int(loaded.tokenizer.pad_token_id or 0)
        self.aborted = 0  # sequences dropped because their client went away
        self.peak_running = 0  # the largest batch decoded so far

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=10)

    # ------------------------------------------------------------------ event-loop side
    def submit(self, items: list[tuple[list[int], SamplingParams]], adapter: str | None) -> RequestHandle:
        """Queue one request: its sequences (prompt ids, params), output index = position in `items`.

        Raises Overloaded when the waiting queue is full.
        """
        handle = RequestHandle(asyncio.get_running_loop(), len(items))
        seqs = [Seq.create(handle, i, ids, p, adapter, self.m) for i, (ids, p) in enumerate(items)]
        with self._cond:
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

    @property
    def load(self) -> tuple[int, int]:
        """(running, waiting) sequence counts."""
        return len(self._running), len(self._waiting)

    # ------------------------------------------------------------------ scheduler thread
    def _run(self) -> None:
        torch.set_grad_enabled(False)
        with torch.inference_mode():
            while True:
                newcomers = self._admit()
                if newcomers is None:
                    return
                try:
                    self._iteration(newcomers)
                except Exception as e:  # fail the batch, keep serving
                    log.exception("generation step failed")
                    self._fail_all(newcomers, e)

    def _admit(self) -> list[Seq] | None:
        with self._cond:
            while not self._stopping and not self._running and not self._waiting:
                self._cond.wait()
            if self._stopping:
                return None
            new: list[Seq] = []
            longest = 0
            while self._waiting and len(self._running) + len(new) < self.max_num_seqs:
                s = self._waiting[0]
                if s.handle.cancelled:
                    self._abort([self._waiting.popleft()])
                    continue
                longest_if = max(longest, len(s.prompt_ids))
                if new and longest_if * (len(new) + 1) > PREFILL_TOKEN_BUDGET:
                    break
                longest = longest_if
                new.append(self._waiting.popleft())
            return new

    def _iteration(self, newcomers: list[Seq]) -> None:
        outputs: list[tuple[RequestHandle, StepOutput]] = []
        gone = [i for i, s in enumerate(self._running) if s.handle.cancelled]
        self._abort([self._running[i] for i in gone])
        self._drop(gone)
        if self._running:
            logits = self._decode_step()
            advance(self._running, logits, self.m, outputs)
        if newcomers:
            cache, mask, logits = self._prefill(newcomers)
            self._kv.join(cache, mask)
            self._running.extend(newcomers)
            self.peak_running = max(self.peak_running, len(self._running))
            advance(newcomers, logits, self.m, outputs)
        self._drop([i for i, s in enumerate(self._running) if s.finished])
        deliver(outputs)

    def _forward(self, seqs: list[Seq], **kw: Any) -> Any:
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

    def _prefill(self, seqs: list[Seq]) -> tuple[Any, torch.Tensor, torch.Tensor]:
        from transformers import DynamicCache

        dev = self.m.device
        length = max(len(s.prompt_ids) for s in seqs)
        ids = torch.full((len(seqs), length), self._pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), length), dtype=torch.long)
        for i, s in enumerate(seqs):
            n = len(s.prompt_ids)
            ids[i, length - n :] = torch.tensor(s.prompt_ids, dtype=torch.long)
            mask[i, length - n :] = 1
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        ids, mask, pos = ids.to(dev), mask.to(dev), pos.to(dev)
        cache = DynamicCache(config=self.m.model.config)
        out = self._forward(seqs, input_ids=ids, attention_mask=mask, position_ids=pos, past_key_values=cache)
        for s in seqs:
            s.position = len(s.prompt_ids)
        return cache, mask, out.logits[:, -1, :]

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
        deliver(
            (s.handle, StepOutput(s.index, "", (), None, "abort", len(s.prompt_ids), len(s.output_ids)))
            for s in seqs
        )

    def _fail_all(self, newcomers: list[Seq], exc: Exception) -> None:
        victims = {id(s): s for s in self._running + newcomers}.values()
        msg = f"generation failed: {type(exc).__name__}"
        deliver(
            (
                s.handle,
                StepOutput(s.index, "", (), None, None, len(s.prompt_ids), len(s.output_ids), error=msg),
            )
            for s in victims
        )
        self._running = []
        self._kv = BatchKV()
