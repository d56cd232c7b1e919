"""The running batch's key/value cache: one left-padded DynamicCache shared by all sequences.

Sequences join (their prefill cache is left-padded to the common length and concatenated on the
batch dimension) and leave (rows selected away, then all-padding leading columns trimmed) between
decode steps. `mask` [B, T] marks real (1) versus padding (0) cache columns. Full-attention layers
are `GrowLayer`s: preallocated with headroom and written in place, so a decode step costs O(1)
copies instead of DynamicLayer's O(T) `torch.cat`. Scheduler thread only.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from transformers.cache_utils import DynamicLayer

HEADROOM = 64  # decode steps a layer can take before its buffer is reallocated


def _left_pad(t: torch.Tensor, length: int) -> torch.Tensor:
    """Pad dim -2 (time) of [B, H, T, D] on the left with zeros to `length`."""
    extra = length - t.shape[-2]
    return t if extra <= 0 else F.pad(t, (0, 0, extra, 0))


class GrowLayer(DynamicLayer):
    """A DynamicLayer backed by a buffer with spare time capacity; `keys`/`values` are views of it."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._kbuf = torch.empty(0)
        self._vbuf = torch.empty(0)
        self._len = 0

    def set(self, keys: torch.Tensor, values: torch.Tensor, headroom: int = HEADROOM) -> None:
        """Replace the contents with `keys`/`values` [B, H, T, D] (copied into a fresh buffer)."""
        b, h, t, d = keys.shape
        kbuf = keys.new_empty((b, h, t + headroom, d))
        vbuf = values.new_empty((b, h, t + headroom, values.shape[-1]))
        kbuf[:, :, :t].copy_(keys)
        vbuf[:, :, :t].copy_(values)
        self._kbuf, self._vbuf, self._len = kbuf, vbuf, t
        self.dtype, self.device = keys.dtype, keys.device
        self.is_initialized = True
        self._views()

    def _views(self) -> tuple[torch.Tensor, torch.Tensor]:
        k, v = self._kbuf[:, :, : self._len], self._vbuf[:, :, : self._len]
        self.keys, self.values = k, v
        return k, v

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.set(key_states, value_states)
            return self._views()
        n = key_states.shape[-2]
        end = self._len + n
        if end > self._kbuf.shape[-2]:
            k, v = self._views()
            self.set(k, v, headroom=max(HEADROOM, self._len // 2) + n)
        self._kbuf[:, :, self._len : end].copy_(key_states)
        self._vbuf[:, :, self._len : end].copy_(value_states)
        self._len = end
        return self._views()


def _as_grow(layer: Any) -> Any:
    if type(layer) is DynamicLayer and layer.is_initialized:
        plain: Any = layer
        g = GrowLayer()
        g.set(plain.keys, plain.values)
        return g
    return layer


def _assign(layer: Any, keys: torch.Tensor, values: torch.Tensor) -> None:
    if isinstance(layer, GrowLayer):
        layer.set(keys, values)
    else:
        layer.keys, layer.values = keys, values


class BatchKV:
    def __init__(self) -> None:
        self.cache: Any = None
        self.mask: torch.Tensor | None = None  # [B, T] long

    @property
    def rows(self) -> int:
        return 0 if self.mask is None else int(self.mask.shape[0])

    def step_mask(self) -> torch.Tensor:
        """The attention mask for one decode step: the cache columns plus the new token."""
        assert self.mask is not None
        ones = torch.ones((self.mask.shape[0], 1), dtype=self.mask.dtype, device=self.mask.device)
        return torch.cat([self.mask, ones], dim=1)

    def stepped(self, mask: torch.Tensor) -> None:
        """Record that a decode step appended one column (the forward already grew the cache)."""
        self.mask = mask

    def join(self, cache: Any, mask: torch.Tensor) -> None:
        """Append the rows of a freshly prefilled `cache` (with its [b, L] `mask`) to the batch."""
        if self.mask is None or self.rows == 0:
            cache.layers = [_as_grow(layer) for layer in cache.layers]
            self.cache, self.mask = cache, mask
            return
        length = max(self.mask.shape[1], mask.shape[1])
        for mine, theirs in zip(self.cache.layers, cache.layers):
            keys = torch.cat([_left_pad(mine.keys, length), _left_pad(theirs.keys, length)], dim=0)
            values = torch.cat([_left_pad(mine.values, length), _left_pad(theirs.values, length)], dim=0)
            _assign(mine, keys, values)
        self.mask = torch.cat(
            [F.pad(self.mask, (length - self.mask.shape[1], 0)), F.pad(mask, (length - mask.shape[1], 0))],
            dim=0,
        )

    def keep(self, rows: list[int]) -> None:
        """Keep only `rows` (in this order); drop leading columns that are padding for every row."""
        if self.mask is None:
            return
        if not rows:
            self.cache, self.mask = None, None
            return
        idx = torch.tensor(rows, dtype=torch.long, device=self.mask.device)
        mask = self.mask.index_select(0, idx)
        used = mask.any(dim=0).nonzero()
        start = int(used[0]) if used.numel() else 0
        for layer in self.cache.layers:
            _assign(
                layer,
                layer.keys.index_select(0, idx)[:, :, start:],
                layer.values.index_select(0, idx)[:, :, start:],
            )
        self.mask = mask[:, start:]
