"""Consistent hashing with bounded loads (CHWBL), KubeAI's ring: each replica sits on the ring
`replication` times at `hash64(f"{replica}{i}")`; a key starts at the first point >= its hash and
walks clockwise to the first replica whose load passes the bound.

Also `hash64`: xxHash64 (KubeAI's hash) when the `xxhash` package is installed, else the first 8
bytes of BLAKE2b; every gateway replica of a deployment must use the same one. Imports only
gateway.table.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Callable, Iterator, Mapping, Sequence

from modelserve.gateway.table import Endpoint

try:
    import xxhash
except ImportError:  # pragma: no cover - depends on the environment

    def hash64(data: bytes, seed: int = 0) -> int:
        """A stable 64-bit hash of `data` (BLAKE2b; `xxhash` is not installed)."""
        key = seed.to_bytes(8, "little") if seed else b""
        return int.from_bytes(hashlib.blake2b(data, digest_size=8, key=key).digest(), "little")

else:
    hash64 = xxhash.xxh64_intdigest  # (data, seed=0) -> int, KubeAI's cespare/xxhash Sum64

LoadOk = Callable[[int, int, int, float], bool]  # (load, total load, replicas, factor) -> passes


def kubeai_load_ok(load: int, total: int, n: int, factor: float) -> bool:
    """KubeAI's bound (`chwblLoadOK`): anything goes while nothing is in flight; else
    `load + 1 <= (total + 1) / n * factor`."""
    if total == 0:
        return True
    return load + 1 <= (total + 1) / n * factor


def ceil_load_ok(load: int, total: int, n: int, factor: float) -> bool:
    """The bound of the CHWBL paper: after this request no replica holds more than
    `ceil(factor * mean)` (so with few requests in flight an idle replica always passes)."""
    return load + 1 <= math.ceil((total + 1) / n * factor)


class HashRing:
    """The ring of one set of replicas. Immutable; build one per distinct replica set."""

    def __init__(self, replicas: Sequence[str], replication: int) -> None:
        points = sorted(
            (hash64(f"{name}{i}".encode()), name) for name in replicas for i in range(replication)
        )
        self._hashes = [h for h, _ in points]
        self._names = [name for _, name in points]
        self._distinct = len(set(replicas))

    def walk(self, key: int) -> Iterator[str]:
        """Replica names clockwise from `key`, each once (revisiting one cannot change its verdict)."""
        if not self._hashes:
            return
        size = len(self._hashes)
        start = bisect.bisect_left(self._hashes, key) % size
        seen: set[str] = set()
        for step in range(size):
            name = self._names[(start + step) % size]
            if name not in seen:
                seen.add(name)
                yield name
                if len(seen) == self._distinct:
                    return

    def pick(
        self,
        key: int,
        candidates: Sequence[Endpoint],
        inflight: Mapping[Endpoint, int],
        factor: float,
        load_ok: LoadOk = kubeai_load_ok,
    ) -> Endpoint:
        """The first replica clockwise from `key` that passes `load_ok`; the first one met when
        none does (KubeAI's default endpoint). `candidates` must all be on the ring."""
        by_name = {ep.replica: ep for ep in candidates}
        total = sum(inflight.get(ep, 0) for ep in candidates)
        n = len(candidates)
        first: Endpoint | None = None
        for name in self.walk(key):
            ep = by_name.get(name)
            if ep is None:
                continue
            if first is None:
                first = ep
            if load_ok(inflight.get(ep, 0), total, n, factor):
                return ep
        return first if first is not None else candidates[0]


class RingCache:
    """Rings by replica set, a few kept (the set changes when replicas come and go, or on retries)."""

    def __init__(self, replication: int, keep: int = 8) -> None:
        self._replication = replication
        self._keep = keep
        self._rings: dict[tuple[str, ...], HashRing] = {}

    def ring(self, candidates: Sequence[Endpoint]) -> HashRing:
        names = tuple(ep.replica for ep in candidates)
        ring = self._rings.get(names)
        if ring is None:
            if len(self._rings) >= self._keep:
                self._rings.pop(next(iter(self._rings)))
            ring = self._rings[names] = HashRing(names, self._replication)
        return ring
