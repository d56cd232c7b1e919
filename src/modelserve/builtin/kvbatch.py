"""The running batch's key/value cache: one left-padded DynamicCache shared by all sequences.

Sequences join (their prefill cache is left-padded to the common length and concatenated on the
batch dimension) and leave (rows selected away, then all-padding leading columns trimmed) between
decode steps. `mask` [B, T] marks real (1) versus padding (0) cache columns. Scheduler thread only.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F


def _left_pad(t: torch.Tensor, length: int) -> torch.Tensor:
    """Pad dim -2 (time) of [B, H, T, D] on the left with zeros to `length`."""
    extra = length - t.shape[-2]
    return t if extra <= 0 else F.pad(t, (0, 0, extra, 0))


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
            self.cache, self.mask = cache, mask
            return
        length = max(self.mask.shape[1], mask.shape[1])
        for mine, theirs in zip(self.cache.layers, cache.layers):
            mine.keys = torch.cat([_left_pad(mine.keys, length), _left_pad(theirs.keys, length)], dim=0)
            mine.values = torch.cat([_left_pad(mine.values, length), _left_pad(theirs.values, length)], dim=0)
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
            layer.keys = layer.keys.index_select(0, idx)[:, :, start:]
            layer.values = layer.values.index_select(0, idx)[:, :, start:]
        self.mask = mask[:, start:]
