"""PrefixCache: route to the replica that most probably caches the longest prefix of the request.

The gateway keeps, per replica, an estimate of the prompt blocks it served (`LruBlocks`, sized to
the replica's cache: `cache_blocks` blocks of `block_chars` characters of the rendered
conversation, system prompt and history included). A request goes to the replica with the longest
matching prefix among those within the load bound (no replica above `ceil(mean * factor)`
in flight); a prefix no replica has seen goes by consistent hashing on its first block, so every
gateway replica sends a new prefix to the same place.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from modelserve.gateway.balancers.base import BalanceRequest
from modelserve.gateway.balancers.blocks import LruBlocks, block_hashes, render
from modelserve.gateway.balancers.params import int_param
from modelserve.gateway.balancers.prefix_hash import text_of
from modelserve.gateway.balancers.ring import RingCache, ceil_load_ok, hash64
from modelserve.gateway.table import Endpoint

DEFAULT_BLOCK_CHARS = 128  # about 32 tokens of English text
DEFAULT_CACHE_BLOCKS = 8192  # about 1M characters, 256k tokens: one large GPU's KV cache
REPLY_AVERAGE_WEIGHT = 0.05


class PrefixCache:
    """Longest estimated cached prefix within the load bound; consistent hashing for new prefixes."""

    def __init__(
        self,
        mean_load_factor: int = 125,
        replication: int = 256,
        block_chars: int = DEFAULT_BLOCK_CHARS,
        cache_blocks: int = DEFAULT_CACHE_BLOCKS,
    ) -> None:
        self.factor = mean_load_factor / 100
        self.block_chars = block_chars
        self.cache_blocks = cache_blocks
        self._rings = RingCache(replication)
        self._caches: dict[Endpoint, LruBlocks] = {}
        # The reply of a request fills its replica's cache too, but the gateway sees it only when
        # the conversation comes back; until then it is modelled by placeholder blocks as long as
        # the replies seen so far (a moving average), so the estimate evicts about when the cache
        # does. When the conversation comes back to that replica its real blocks replace them.
        self._reply_chars = 0.0
        self._replies = 0
        self._placeholders = itertools.count(-1, -1)  # negative: never a block hash
        self._pending: OrderedDict[tuple[Endpoint, int], list[int]] = OrderedDict()

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> PrefixCache:
        """From `{"mean_load_factor", "replication", "block_chars", "cache_blocks"}` (others
        ignored); ValueError when bad."""
        return cls(
            mean_load_factor=int_param(params, "mean_load_factor", 125, 100),
            replication=int_param(params, "replication", 256, 1),
            block_chars=int_param(params, "block_chars", DEFAULT_BLOCK_CHARS, 1),
            cache_blocks=int_param(params, "cache_blocks", DEFAULT_CACHE_BLOCKS, 1),
        )

    def blocks(self, request: BalanceRequest) -> list[int]:
        """The request's prompt block hashes (the adapter seeds the chain: its KV differs)."""
        seed = hash64(request.adapter.encode()) if request.adapter else 0
        return block_hashes(render(request.body), self.block_chars, seed)

    def estimate(self, endpoint: Endpoint) -> LruBlocks:
        """The estimated cache of `endpoint` (empty for a replica not seen before)."""
        cache = self._caches.get(endpoint)
        if cache is None:
            cache = self._caches[endpoint] = LruBlocks(self.cache_blocks)
        return cache

    def pick(
        self,
        candidates: Sequence[Endpoint],
        inflight: Mapping[Endpoint, int],
        request: BalanceRequest,
    ) -> Endpoint:
        blocks = self.blocks(request)
        chosen = self._longest(candidates, inflight, blocks) if len(candidates) > 1 else candidates[0]
        if chosen is None:
            key = blocks[0] if blocks else hash64(render(request.body).encode("utf-8", "surrogatepass"))
            chosen = self._rings.ring(candidates).pick(key, candidates, inflight, self.factor, ceil_load_ok)
        self.record(chosen, request, blocks)
        self._forget_departed(candidates)
        return chosen

    def cached(self, endpoint: Endpoint) -> LruBlocks | None:
        """What `endpoint` is believed to cache (None: nothing known)."""
        return self._caches.get(endpoint)

    def record(self, endpoint: Endpoint, request: BalanceRequest, blocks: list[int]) -> None:
        """Note that `endpoint` now serves `request` (its prompt blocks, and room for its reply)."""
        self._learn_reply(request.body)
        cache = self.estimate(endpoint)
        pending = self._pending
        for b in blocks:  # the earlier turns this request continues on this replica
            stale = pending.pop((endpoint, b), None)
            if stale:
                cache.discard(stale)
        reply = [next(self._placeholders) for _ in range(round(self._reply_chars / self.block_chars))]
        cache.touch(blocks + reply)
        if blocks and reply:
            pending[(endpoint, blocks[-1])] = reply
            while len(pending) > self.cache_blocks:
                pending.popitem(last=False)

    def _learn_reply(self, body: Mapping[str, Any]) -> None:
        """Fold the length of the last assistant message (a reply the engine generated) into the average."""
        messages = body.get("messages")
        if not isinstance(messages, list):
            return
        for m in reversed(messages):
            if isinstance(m, dict) and m.get("role") == "assistant":
                size = len(text_of(m.get("content")))
                self._replies += 1  # a plain mean over the first replies, then a moving average
                weight = max(REPLY_AVERAGE_WEIGHT, 1 / self._replies)
                self._reply_chars += weight * (size - self._reply_chars)
                return

    def _longest(
        self, candidates: Sequence[Endpoint], inflight: Mapping[Endpoint, int], blocks: list[int]
    ) -> Endpoint | None:
        """The in-bound candidate with the longest cached prefix (fewest in flight on a tie), or
        None when no in-bound candidate caches even the first block."""
        if not blocks:
            return None
        loads = [inflight.get(ep, 0) for ep in candidates]
        total, n = sum(loads), len(candidates)
        best: Endpoint | None = None
        best_rank = (0, 0)
        for ep, load in zip(candidates, loads):
            cache = self.cached(ep)
            if cache is None or blocks[0] not in cache or not ceil_load_ok(load, total, n, self.factor):
                continue
            rank = (cache.match(blocks), -load)
            if rank > best_rank:
                best, best_rank = ep, rank
        return best

    def _forget_departed(self, candidates: Sequence[Endpoint]) -> None:
        """Drop estimates of replicas that left (a restarted replica has a new URL and an empty cache)."""
        if len(self._caches) > 2 * len(candidates) + 8:
            keep = set(candidates)
            self._caches = {ep: c for ep, c in self._caches.items() if ep in keep}
