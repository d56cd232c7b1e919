"""Prefix-aware routing, replayed: a multi-tenant chat workload over simulated replicas.

    .venv/bin/python benchmarks/routing/bench_routing.py [--replicas 8] [--cache-blocks 128,256,512,1024,2048]
        [--tenants 24] [--conversations 20] [--seeds 1,2,3]

A discrete-event simulation (no HTTP): tenants with long system prompts, many conversations each,
several turns each, every request carrying the whole history. Each replica has an LRU prefix cache
of a fixed number of blocks (the same `block_chars`-character blocks PrefixCache estimates); a
request occupies its replica for a time that grows with its uncached part (prefill) and its reply
(decode). Requests are routed by the real strategy classes (`pick(candidates, inflight, request)`
with the simulated in-flight counts): LeastLoad, PrefixHash (KubeAI's CHWBL), PrefixCache; against
round robin and an oracle that reads every replica's true cache. Prints machine, command and a
Markdown table: prefix-cache hit rate (cached prompt blocks / prompt blocks), its ratio to the
oracle's, max/mean requests per replica, mean prefill seconds.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import os
import platform
import random
import shlex
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelserve.gateway import Endpoint
from modelserve.gateway.balancers import BalanceRequest, PrefixCache, make_balancer
from modelserve.gateway.balancers.blocks import LruBlocks, block_hashes, render

BLOCK_CHARS = 128
PREFILL_S_PER_BLOCK = 0.008  # ~32 tokens a block at ~4k prompt tokens/s
DECODE_S_PER_CHAR = 0.0025  # ~100 tokens/s at ~4 characters a token
BASE_S = 0.05
WORDS = [
    "the",
    "a",
    "order",
    "plan",
    "price",
    "account",
    "invoice",
    "refund",
    "shipping",
    "delivery",
    "model",
    "latency",
    "token",
]


@dataclass
class Conversation:
    tenant: int
    system: str
    turns: list[tuple[str, str]]  # (user message, assistant reply)
    done: int = 0

    def request(self) -> dict[str, Any]:
        """The body of the next turn: system prompt and the whole history so far."""
        messages = [{"role": "system", "content": self.system}]
        for user, reply in self.turns[: self.done]:
            messages += [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]
        messages.append({"role": "user", "content": self.turns[self.done][0]})
        return {"model": "m", "messages": messages}


def _text(rng: random.Random, chars: int, tag: str) -> str:
    words = [tag]
    while sum(len(w) + 1 for w in words) < chars:
        words.append(rng.choice(WORDS) + str(rng.randrange(1000)))
    return " ".join(words)


def workload(args: argparse.Namespace) -> list[tuple[float, Conversation]]:
    """(start time, conversation), tenants of Zipf-like popularity, Poisson conversation starts."""
    rng = random.Random(args.seed)
    systems = [_text(rng, rng.randrange(3000, 8000), f"tenant{t}") for t in range(args.tenants)]
    weights = [1 / (rank + 1) ** 0.8 for rank in range(args.tenants)]
    convs: list[tuple[float, Conversation]] = []
    now = 0.0
    for i in range(args.tenants * args.conversations):
        tenant = rng.choices(range(args.tenants), weights)[0]
        turns = [
            (
                _text(rng, rng.randrange(80, 600), f"c{i}u{k}"),
                _text(rng, rng.randrange(200, 1000), f"c{i}a{k}"),
            )
            for k in range(rng.randrange(3, 9))
        ]
        now += rng.expovariate(args.rate)
        convs.append((now, Conversation(tenant, systems[tenant], turns)))
    return convs


class Replica:
    def __init__(self, endpoint: Endpoint, capacity: int) -> None:
        self.endpoint = endpoint
        self.cache = LruBlocks(capacity)
        self.served = 0


Picker = Callable[[Sequence[Endpoint], Mapping[Endpoint, int], BalanceRequest], Endpoint]


class RoundRobin:
    def __init__(self) -> None:
        self._next = itertools.count()

    def pick(self, c: Sequence[Endpoint], inflight: Mapping[Endpoint, int], r: BalanceRequest) -> Endpoint:
        return c[next(self._next) % len(c)]


class Oracle(PrefixCache):
    """PrefixCache's own rule (longest prefix within the load bound, consistent hashing for new
    prefixes) reading every replica's true cache instead of an estimate."""

    def __init__(self, replicas: dict[Endpoint, Replica]) -> None:
        super().__init__(block_chars=BLOCK_CHARS)
        self._replicas = replicas

    def cached(self, endpoint: Endpoint) -> LruBlocks | None:
        return self._replicas[endpoint].cache

    def record(self, endpoint: Endpoint, request: BalanceRequest, blocks: list[int]) -> None:
        pass  # the simulation fills the true caches


@dataclass
class Result:
    hit_blocks: int = 0
    prompt_blocks: int = 0
    prefill_s: list[float] = field(default_factory=list)
    served: list[int] = field(default_factory=list)
    pick_us: float = 0.0


def simulate(
    convs: list[tuple[float, Conversation]],
    picker_for: Callable[[dict[Endpoint, Replica]], Any],
    args: argparse.Namespace,
    capacity: int,
) -> Result:
    endpoints = [Endpoint(f"sim-{i}", f"http://127.0.0.1:{20000 + i}") for i in range(args.replicas)]
    replicas = {ep: Replica(ep, capacity) for ep in endpoints}
    picker = picker_for(replicas)
    inflight: dict[Endpoint, int] = {}
    seq = itertools.count()
    events: list[tuple[float, int, str, Any]] = [(t, next(seq), "arrive", c) for t, c in convs]
    heapq.heapify(events)
    rng = random.Random(args.seed + 1)
    out = Result()
    picking = 0.0
    while events:
        now, _, kind, payload = heapq.heappop(events)
        if kind == "arrive":
            conv: Conversation = payload
            body = conv.request()
            t0 = time.perf_counter()
            ep = picker.pick(endpoints, inflight, BalanceRequest("m", None, body))
            picking += time.perf_counter() - t0
            rep = replicas[ep]
            blocks = block_hashes(render(body), BLOCK_CHARS)
            hit = rep.cache.match(blocks)
            rep.cache.touch(blocks)
            rep.served += 1
            out.hit_blocks += hit
            out.prompt_blocks += len(blocks)
            prefill = (len(blocks) - hit) * PREFILL_S_PER_BLOCK
            out.prefill_s.append(prefill)
            reply = conv.turns[conv.done][1]
            inflight[ep] = inflight.get(ep, 0) + 1
            finish = now + BASE_S + prefill + len(reply) * DECODE_S_PER_CHAR
            heapq.heappush(
                events, (finish, next(seq), "done", (conv, ep, render(body) + f"\x1eassistant\x1f{reply}"))
            )
        else:
            conv, ep, generated = payload
            inflight[ep] -= 1
            if not inflight[ep]:
                del inflight[ep]
            replicas[ep].cache.touch(block_hashes(generated, BLOCK_CHARS))  # the reply's KV is cached too
            conv.done += 1
            if conv.done < len(conv.turns):
                heapq.heappush(events, (now + rng.expovariate(1 / args.think_s), next(seq), "arrive", conv))
    out.served = [replicas[ep].served for ep in endpoints]
    out.pick_us = picking / max(1, len(out.prefill_s)) * 1e6
    return out


def strategies(capacity: int) -> dict[str, Callable[[dict[Endpoint, Replica]], Any]]:
    return {
        "round robin": lambda _: RoundRobin(),
        "LeastLoad": lambda _: make_balancer("LeastLoad", {}),
        "PrefixHash (KubeAI CHWBL)": lambda _: make_balancer("PrefixHash", {}),
        "PrefixCache": lambda _: make_balancer(
            "PrefixCache", {"block_chars": BLOCK_CHARS, "cache_blocks": capacity}
        ),
        "oracle (true caches)": lambda reps: Oracle(reps),
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replicas", type=int, default=8)
    parser.add_argument("--cache-blocks", default="128,256,512,1024,2048")
    parser.add_argument("--tenants", type=int, default=24)
    parser.add_argument("--conversations", type=int, default=20, help="per tenant")
    parser.add_argument("--rate", type=float, default=3.0, help="new conversations per second")
    parser.add_argument("--think-s", type=float, default=3.0)
    parser.add_argument("--seeds", default="1,2,3", help="workloads replayed per cell (results summed)")
    args = parser.parse_args()
    rows = []
    summary = []
    seeds = [int(x) for x in args.seeds.split(",")]
    requests = 0
    for capacity in [int(c) for c in args.cache_blocks.split(",")]:
        totals: dict[str, Result] = {}
        balance: dict[str, float] = {}
        for seed in seeds:
            args.seed = seed
            for name, factory in strategies(capacity).items():
                r = simulate(workload(args), factory, args, capacity)  # fresh conversations per run
                t = totals.setdefault(name, Result())
                t.hit_blocks += r.hit_blocks
                t.prompt_blocks += r.prompt_blocks
                t.prefill_s += r.prefill_s
                t.pick_us += r.pick_us / len(seeds)
                balance[name] = max(balance.get(name, 0.0), max(r.served) * len(r.served) / sum(r.served))
        requests = len(totals["oracle (true caches)"].prefill_s)
        oracle = totals["oracle (true caches)"]
        oracle_rate = oracle.hit_blocks / oracle.prompt_blocks
        for name, r in totals.items():
            rate = r.hit_blocks / r.prompt_blocks
            rows.append(
                f"| {capacity} | {name} | {rate:.1%} | {rate / oracle_rate:.0%} | {balance[name]:.2f} "
                f"| {sum(r.prefill_s) / len(r.prefill_s):.3f} | {r.pick_us:.0f} |"
            )
            if name == "PrefixCache":
                summary.append((capacity, rate / oracle_rate, balance[name]))
        print(*rows[-len(totals) :], sep="\n", file=sys.stderr, flush=True)
    command = "python " + " ".join(shlex.quote(a) for a in [str(Path(sys.argv[0])), *sys.argv[1:]])
    print(f"- machine: {cpu_model()}, {os.cpu_count()} CPUs, python {platform.python_version()}")
    print(f"- command: `{command}`")
    print(
        f"- workload: {args.tenants} tenants (system prompts 3–8k chars, Zipf-like popularity), "
        f"{args.tenants * args.conversations} conversations of 3–8 turns per seed, seeds {args.seeds}, "
        f"{requests} requests in all, "
        f"{args.replicas} replicas, blocks of {BLOCK_CHARS} chars"
    )
    print()
    print(
        "| cache blocks / replica | strategy | hit rate | vs oracle | max/mean requests (worst seed) "
        "| mean prefill s | pick µs |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    ok = all(ratio >= 0.9 and balance <= 1.25 for _, ratio, balance in summary)
    print(
        f"PrefixCache goal (>= 90% of the oracle's hit rate, max/mean <= 1.25 at every size): {'met' if ok else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
