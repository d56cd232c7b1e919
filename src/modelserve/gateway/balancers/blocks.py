"""Prompt blocks: a request rendered to text, cut into fixed-size blocks, each named by a hash of
everything up to and including it (so one block hash stands for a whole prefix, as in vLLM's
prefix cache); and `LruBlocks`, an estimate of one replica's cache of such blocks.

Pure; imports only the ring's hash.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from modelserve.gateway.balancers.prefix_hash import text_of
from modelserve.gateway.balancers.ring import hash64


def render(body: Mapping[str, Any]) -> str:
    """The conversation as the engine will see it, roughly: tools, then each message's role and
    text in order (chat), or the prompt (completions). Equal prefixes render to equal prefixes."""
    messages = body.get("messages")
    if isinstance(messages, list):
        parts: list[str] = []
        tools = body.get("tools")
        if tools:
            parts.append(json.dumps(tools, sort_keys=True, ensure_ascii=False))
        for m in messages:
            if not isinstance(m, dict):
                continue
            parts.append(f"\x1e{m.get('role', '')}\x1f")
            parts.append(text_of(m.get("content")))
            if m.get("tool_calls"):
                parts.append(json.dumps(m["tool_calls"], sort_keys=True, ensure_ascii=False))
        return "".join(parts)
    prompt = body.get("prompt")
    if isinstance(prompt, list):
        prompt = prompt[0] if prompt else ""
    return prompt if isinstance(prompt, str) else ""


def block_hashes(text: str, block_chars: int, seed: int = 0) -> list[int]:
    """Chained hashes of the full `block_chars`-byte blocks of `text` (UTF-8); a partial last block
    is left out, as engines cache only full blocks."""
    data = text.encode("utf-8", "surrogatepass")
    out: list[int] = []
    h = seed
    for start in range(0, len(data) - block_chars + 1, block_chars):
        h = hash64(data[start : start + block_chars], h)
        out.append(h)
    return out


class LruBlocks:
    """The blocks a replica probably still caches: least recently used evicted beyond `capacity`.

    A request's blocks are touched last-to-first, so its first block is the most recent and a
    prefix's tail is evicted before its head (as vLLM frees a finished request's blocks).
    """

    __slots__ = ("_blocks", "capacity")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._blocks: OrderedDict[int, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._blocks)

    def __contains__(self, block: int) -> bool:
        return block in self._blocks

    def match(self, blocks: Sequence[int]) -> int:
        """How many leading `blocks` are cached."""
        cached = self._blocks
        n = 0
        for b in blocks:
            if b not in cached:
                break
            n += 1
        return n

    def discard(self, blocks: Sequence[int]) -> None:
        """Forget `blocks` (those not cached are ignored)."""
        for b in blocks:
            self._blocks.pop(b, None)

    def touch(self, blocks: Sequence[int]) -> None:
        """Record that `blocks` were just used, evicting the least recently used beyond capacity."""
        cached = self._blocks
        for b in reversed(blocks):
            if b in cached:
                cached.move_to_end(b)
            else:
                cached[b] = None
        while len(cached) > self.capacity:
            cached.popitem(last=False)
