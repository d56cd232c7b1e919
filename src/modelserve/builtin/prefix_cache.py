"""Automatic prefix caching: the key/value states of recent prompts, reused by later prompts that
start with the same tokens (a shared system prompt, a growing chat history).

Entries are per adapter (a LoRA changes the keys and values), kept in LRU order within a budget of
cached tokens. A hit lets a prefill start past the shared prefix. Scheduler thread only.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch

Key = tuple[str | None, tuple[int, ...]]


@dataclass(frozen=True)
class CachedPrefix:
    ids: tuple[int, ...]
    layers: tuple[tuple[torch.Tensor, torch.Tensor], ...]  # per layer (keys, values) [H, n, D]


def _common_prefix(a: tuple[int, ...], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class PrefixCache:
    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens
        self._entries: OrderedDict[Key, CachedPrefix] = OrderedDict()
        self._tokens = 0
        self.hit_tokens = 0  # prompt tokens whose prefill was skipped, since start

    def lookup(self, adapter: str | None, ids: list[int]) -> tuple[int, CachedPrefix | None]:
        """The longest cached prefix of `ids` (leaving at least one token to compute)."""
        best, best_entry, best_key = 0, None, None
        for key, entry in self._entries.items():
            if key[0] != adapter:
                continue
            n = min(_common_prefix(entry.ids, ids), len(ids) - 1)
            if n > best:
                best, best_entry, best_key = n, entry, key
        if best_key is not None:
            self._entries.move_to_end(best_key)
        return best, best_entry

    def store(
        self, adapter: str | None, ids: list[int], layers: list[tuple[torch.Tensor, torch.Tensor]]
    ) -> None:
        """Keep the prompt `ids` with its per-layer (keys, values) [H, len(ids), D] (copied)."""
        n = len(ids)
        if n == 0 or n > self.max_tokens:
            return
        key: Key = (adapter, tuple(ids))
        for other_key, other in list(self._entries.items()):
            if other_key[0] != adapter:
                continue
            if _common_prefix(other.ids, ids) == n:  # already covered by a longer (or equal) entry
                self._entries.move_to_end(other_key)
                return
            if _common_prefix(other.ids, ids) == len(other.ids):  # the new prompt extends it
                self._remove(other_key)
        while self._entries and self._tokens + n > self.max_tokens:
            self._remove(next(iter(self._entries)))
        copies = tuple((k.clone(), v.clone()) for k, v in layers)
        self._entries[key] = CachedPrefix(key[1], copies)
        self._tokens += n

    def forget(self, adapter: str | None) -> None:
        """Drop every entry made with `adapter` (its weights were unloaded)."""
        for key in [k for k in self._entries if k[0] == adapter]:
            self._remove(key)

    def _remove(self, key: Key) -> None:
        entry = self._entries.pop(key)
        self._tokens -= len(entry.ids)

    @property
    def tokens(self) -> int:
        return self._tokens
