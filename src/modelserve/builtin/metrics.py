"""The engine's Prometheus `/metrics`, in the names and shapes of vLLM's `vllm:*` families.

Recording is split from exposition so the hot path stays cheap: the scheduler thread is the only
writer of a `GenerationStats` (plain ints and bucket lists, no locks, one bisect per observation,
one per group of rows that share a timestamp), and a collector turns it into metric families
when `/metrics` is scraped. The scrape reads bucket lists another thread writes; a list copy is
atomic under the GIL, so a scrape sees each histogram's buckets and count consistent with each
other (its sum may lag by an observation). Gauges (running, waiting) are read at scrape time.
Every family carries the label `model_name` (the served model name), as vLLM's do.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from fastapi import APIRouter, Request, Response

# vLLM's bucket bounds (seconds), with finer steps below 10 ms for small models on CPU.
TTFT_BUCKETS = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
)  # fmt: skip
ITL_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5,
    5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
)  # fmt: skip
REQUEST_BUCKETS = (
    0.01, 0.05, 0.1, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0,
    60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0,
)  # fmt: skip
FINISH_REASONS = ("stop", "length", "abort", "error")


def token_buckets(max_value: int) -> tuple[float, ...]:
    """1, 2, 5, 10, 20, 50, ... up to `max_value` (vLLM's `build_1_2_5_buckets`)."""
    out: list[float] = []
    exponent = 0
    while True:
        for mantissa in (1, 2, 5):
            value = mantissa * 10**exponent
            if value > max_value:
                return tuple(out)
            out.append(float(value))
        exponent += 1


class Histogram:
    """Bucket counts and a sum; single writer. `counts[i]` holds values <= bounds[i] (and > the
    previous bound); the last slot holds values above every bound."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float, n: int = 1) -> None:
        """Record `n` observations of `value` (one bisect whatever `n`)."""
        self.counts[bisect_left(self.bounds, value)] += n
        self.sum += value * n

    def cumulative(self) -> tuple[list[tuple[float, int]], int, float]:
        """([(upper bound, cumulative count)], total count, sum), from one snapshot of the counts."""
        counts, total_sum = list(self.counts), self.sum
        running, out = 0, []
        for bound, count in zip(self.bounds, counts):
            running += count
            out.append((bound, running))
        return out, running + counts[-1], total_sum


class GenerationStats:
    """What the generation scheduler has done since start. Written by the scheduler thread only,
    except the finish counts: a full queue also drops aborted requests from the event loop, so
    those few increments take a lock (once per finished request, never per token)."""

    def __init__(self, max_model_len: int) -> None:
        self._ended_lock = threading.Lock()
        self.prompt_tokens = 0
        self.generation_tokens = 0
        self.prefix_queries = 0  # prompt tokens looked up in the prefix cache
        self.finished = dict.fromkeys(FINISH_REASONS, 0)
        self.ttft = Histogram(TTFT_BUCKETS)
        self.itl = Histogram(ITL_BUCKETS)
        self.e2e = Histogram(REQUEST_BUCKETS)
        self.queue = Histogram(REQUEST_BUCKETS)
        self.request_prompt = Histogram(token_buckets(max_model_len))
        self.request_generation = Histogram(token_buckets(max_model_len))

    def admitted(self, seqs: Iterable[Any], now: float, prefix_cache: bool) -> None:
        """Sequences leaving the waiting queue for a prefill."""
        for s in seqs:
            self.queue.observe(now - s.arrival)
            if prefix_cache:
                self.prefix_queries += len(s.prompt_ids)

    def first_tokens(self, seqs: Iterable[Any], now: float) -> None:
        """Sequences whose prefill just produced their first token."""
        for s in seqs:
            self.ttft.observe(now - s.arrival)
            self.prompt_tokens += len(s.prompt_ids)
            self.generation_tokens += 1
            s.last_token_at = now

    def next_tokens(self, seqs: Sequence[Any], now: float) -> None:
        """One decode step gave every row of `seqs` a token: inter-token latency per row, grouped
        by the time of the row's previous token (rows of one step share it)."""
        self.generation_tokens += len(seqs)
        group_at, group_n = -1.0, 0
        for s in seqs:
            if s.last_token_at != group_at:
                if group_n:
                    self.itl.observe(now - group_at, group_n)
                group_at, group_n = s.last_token_at, 0
            group_n += 1
            s.last_token_at = now
        if group_n:
            self.itl.observe(now - group_at, group_n)

    def done(self, seqs: Iterable[Any], now: float) -> None:
        """Sequences that finished with a token (stop or length)."""
        for s in seqs:
            with self._ended_lock:  # `ended` may run on the event loop at the same time
                self.finished[s.finish_reason or "stop"] += 1
            self.e2e.observe(now - s.arrival)
            self.request_prompt.observe(len(s.prompt_ids))
            self.request_generation.observe(len(s.output_ids))

    def ended(self, reason: str, count: int) -> None:
        """Sequences that ended without finishing: `abort` (client left) or `error`."""
        with self._ended_lock:
            self.finished[reason] += count


# ---------------------------------------------------------------------------- exposition
def _histogram(name: str, doc: str, model: str, h: Histogram) -> Any:
    from prometheus_client.core import HistogramMetricFamily
    from prometheus_client.utils import floatToGoString

    buckets, count, total = h.cumulative()
    family = HistogramMetricFamily(name, doc, labels=["model_name"])
    family.add_metric(
        [model], [(floatToGoString(b), c) for b, c in buckets] + [("+Inf", count)], sum_value=total
    )
    return family


class EngineCollector:
    """Reads the engine's state at scrape time (event loop thread)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def _load(self) -> tuple[int, int]:
        gen, pooler = self.state.generator, self.state.pooler
        if gen is not None:
            running, waiting = gen.load
            return int(running), int(waiting)
        if pooler is not None:
            return 0, int(pooler.pending)
        return 0, 0

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        model = self.state.cfg.served_model_name
        running, waiting = self._load()
        for name, doc, value in (
            ("vllm:num_requests_running", "Number of requests in model execution batches.", running),
            ("vllm:num_requests_waiting", "Number of requests waiting to be processed.", waiting),
        ):
            gauge = GaugeMetricFamily(name, doc, labels=["model_name"])
            gauge.add_metric([model], value)
            yield gauge
        gen = self.state.generator
        if gen is None:
            return
        stats: GenerationStats = gen.stats
        prefixes = gen.prefixes
        for name, doc, value in (
            ("vllm:prompt_tokens", "Number of prefill tokens processed.", stats.prompt_tokens),
            ("vllm:generation_tokens", "Number of generation tokens processed.", stats.generation_tokens),
            ("vllm:prefix_cache_queries", "Prompt tokens looked up in the prefix cache.", stats.prefix_queries),
            ("vllm:prefix_cache_hits", "Prompt tokens found in the prefix cache.",
             prefixes.hit_tokens if prefixes is not None else 0),
        ):  # fmt: skip
            counter = CounterMetricFamily(name, doc, labels=["model_name"])
            counter.add_metric([model], value)
            yield counter
        success = CounterMetricFamily(
            "vllm:request_success", "Count of processed requests by finish reason.",
            labels=["model_name", "finished_reason"],
        )  # fmt: skip
        for reason, value in list(stats.finished.items()):
            success.add_metric([model, reason], value)
        yield success
        yield _histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
                         model, stats.ttft)  # fmt: skip
        yield _histogram("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.",
                         model, stats.itl)  # fmt: skip
        yield _histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.",
                         model, stats.e2e)  # fmt: skip
        yield _histogram("vllm:request_queue_time_seconds",
                         "Histogram of time spent in WAITING phase for request.", model, stats.queue)  # fmt: skip
        yield _histogram("vllm:request_prompt_tokens", "Number of prefill tokens processed per request.",
                         model, stats.request_prompt)  # fmt: skip
        yield _histogram("vllm:request_generation_tokens", "Number of generation tokens processed per request.",
                         model, stats.request_generation)  # fmt: skip


def build_registry(state: Any) -> Any:
    """A registry of its own (never the process-global one): the engine's families plus process metrics."""
    from prometheus_client import CollectorRegistry, ProcessCollector

    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(state))
    ProcessCollector(registry=registry)
    return registry


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format; answered while the model loads too (with zero values)."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    app_state = request.app.state
    registry = getattr(app_state, "metrics_registry", None)
    if registry is None:
        registry = app_state.metrics_registry = build_registry(app_state.engine)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
