"""Chunked prefill of a group of new sequences (left-padded to a common length).

The group's prompts run through the model a few hundred tokens at a time, one chunk per scheduler
iteration, so a long prompt delays the running streams by one chunk per step instead of stalling
them for the whole prompt. When the last chunk is done the group's cache joins the running batch.
Scheduler thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from modelserve.builtin.prefix_cache import PrefixCache
from modelserve.builtin.sequence import Seq


class PrefillJob:
    def __init__(self, seqs: list[Seq], pad_id: int, device: Any, model_config: Any) -> None:
        from transformers import DynamicCache

        self.seqs = seqs
        length = max(len(s.prompt_ids) for s in seqs)
        ids = torch.full((len(seqs), length), pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), length), dtype=torch.long)
        for i, s in enumerate(seqs):
            n = len(s.prompt_ids)
            ids[i, length - n :] = torch.tensor(s.prompt_ids, dtype=torch.long)
            mask[i, length - n :] = 1
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        self.ids, self.mask, self.pos = ids.to(device), mask.to(device), pos.to(device)
        self.cache = DynamicCache(config=model_config)
        self.length = length
        self.done = 0
        self._starts = [length - len(s.prompt_ids) for s in seqs]  # first real column of each row

    def reuse(self, prefixes: PrefixCache) -> None:
        """Skip the leading columns that every row has either as padding or in the prefix cache."""
        hits = [prefixes.lookup(s.adapter, s.prompt_ids) for s in self.seqs]
        c0 = min(start + n for start, (n, _) in zip(self._starts, hits))
        if c0 <= 0:
            return
        rows = len(self.seqs)
        cache_layers: list[Any] = list(self.cache.layers)
        for li, layer in enumerate(cache_layers):
            ref = next(e for _, e in hits if e is not None).layers[li]
            k = ref[0].new_zeros((rows, ref[0].shape[0], c0, ref[0].shape[-1]))
            v = ref[1].new_zeros((rows, ref[1].shape[0], c0, ref[1].shape[-1]))
            for i, (start, (_, entry)) in enumerate(zip(self._starts, hits)):
                if entry is not None and start < c0:
                    k[i, :, start:c0] = entry.layers[li][0][:, : c0 - start]
                    v[i, :, start:c0] = entry.layers[li][1][:, : c0 - start]
            layer.update(k, v)
        prefixes.hit_tokens += sum(max(0, c0 - start) for start in self._starts)
        self.done = c0

    def remember(self, prefixes: PrefixCache) -> None:
        """Offer every row's prompt keys/values to the prefix cache (after the last chunk)."""
        cache_layers: list[Any] = list(self.cache.layers)
        for i, (s, start) in enumerate(zip(self.seqs, self._starts)):
            layers = [(layer.keys[i, :, start:], layer.values[i, :, start:]) for layer in cache_layers]
            prefixes.store(s.adapter, s.prompt_ids, layers)

    @property
    def finished(self) -> bool:
        return self.done >= self.length

    def step(self, forward: Callable[..., Any], chunk_tokens: int) -> torch.Tensor | None:
        """Run the next chunk; returns the last position's logits [rows, V] once the prompts are done."""
        cols = max(1, chunk_tokens // len(self.seqs))
        start, end = self.done, min(self.length, self.done + cols)
        out = forward(
            self.seqs,
            input_ids=self.ids[:, start:end],
            attention_mask=self.mask[:, :end],
            position_ids=self.pos[:, start:end],
            past_key_values=self.cache,
        )
        self.done = end
        if not self.finished:
            return None
        for s in self.seqs:
            s.position = len(s.prompt_ids)
        logits: torch.Tensor = out.logits[:, -1, :]
        return logits
