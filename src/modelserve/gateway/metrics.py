"""Prometheus metrics of the data plane, in a registry owned by one Gateway instance.

Names follow `modelserve_gateway_*`; `requests_active` is the gauge the autoscaler reads
(the analogue of KubeAI's `kubeai.inference.requests.active`). Label children are cached per
model and per (model, replica): a label lookup takes a lock each time, and this is on every request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
_TTFT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Tokens(Protocol):
    """What `observe` reads from a usage tap."""

    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class ModelMeters:
    """Children labelled by exposed model only."""

    active: Any
    upstream_latency: Any
    duration: Any
    hold_wait: Any


@dataclass(frozen=True)
class ReplicaMeters:
    """Children labelled by exposed model and replica."""

    ttft: Any
    prompt_tokens: Any
    completion_tokens: Any


class GatewayMetrics:
    """Counters, gauge and histograms; `registry` is what a /metrics endpoint exposes."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "modelserve_gateway_requests",
            "OpenAI requests answered by the gateway, by exposed model, replica and HTTP status.",
            ("model", "replica", "status"),
            registry=r,
        )
        self.active = Gauge(
            "modelserve_gateway_requests_active",
            "Requests accepted by the gateway and not yet finished (held ones included), by exposed model.",
            ("model",),
            registry=r,
        )
        self.upstream_errors = Counter(
            "modelserve_gateway_upstream_errors",
            "Upstream failures: connect (before a response), status (a retried 5xx), timeout, "
            "midstream (the body broke).",
            ("model", "replica", "kind"),
            registry=r,
        )
        self.retries = Counter(
            "modelserve_gateway_retries",
            "Requests retried on another replica, by exposed model and the replica that failed.",
            ("model", "replica"),
            registry=r,
        )
        self.upstream_latency = Histogram(
            "modelserve_gateway_upstream_first_byte_seconds",
            "Time from sending a request upstream to its response headers.",
            ("model",),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.duration = Histogram(
            "modelserve_gateway_request_duration_seconds",
            "Time from accepting a request to its last byte sent.",
            ("model",),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.hold_wait = Histogram(
            "modelserve_gateway_hold_wait_seconds",
            "Time requests were held waiting for a ready replica (scale from zero), by exposed model.",
            ("model",),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "modelserve_gateway_time_to_first_token_seconds",
            "Time from accepting a request to the first response body byte sent to the client "
            "(keep-alive comments excluded), by exposed model and replica.",
            ("model", "replica"),
            buckets=_TTFT_BUCKETS,
            registry=r,
        )
        self.prompt_tokens = Counter(
            "modelserve_gateway_prompt_tokens",
            "Prompt tokens reported by the engines' `usage`, by exposed model and replica.",
            ("model", "replica"),
            registry=r,
        )
        self.completion_tokens = Counter(
            "modelserve_gateway_generation_tokens",
            "Completion tokens reported by the engines' `usage`, by exposed model and replica.",
            ("model", "replica"),
            registry=r,
        )
        self._models: dict[str, ModelMeters] = {}
        self._replicas: dict[tuple[str, str], ReplicaMeters] = {}
        self._answered: dict[tuple[str, str, int], Any] = {}

    def meters(self, model: str) -> ModelMeters:
        m = self._models.get(model)
        if m is None:
            m = ModelMeters(
                self.active.labels(model),
                self.upstream_latency.labels(model),
                self.duration.labels(model),
                self.hold_wait.labels(model),
            )
            self._models[model] = m
        return m

    def replica_meters(self, model: str, replica: str) -> ReplicaMeters:
        key = (model, replica)
        m = self._replicas.get(key)
        if m is None:
            m = ReplicaMeters(
                self.ttft.labels(model, replica),
                self.prompt_tokens.labels(model, replica),
                self.completion_tokens.labels(model, replica),
            )
            self._replicas[key] = m
        return m

    def observe(
        self, model: str, replica: str, status: int, started: float, first_byte_at: float, tokens: Tokens
    ) -> None:
        """Record one finished request (`first_byte_at` 0: no body byte was sent)."""
        key = (model, replica, status)
        counter = self._answered.get(key)
        if counter is None:
            counter = self._answered[key] = self.requests.labels(model, replica, str(status))
        counter.inc()
        self.meters(model).duration.observe(time.perf_counter() - started)
        if not replica:
            return
        rm = self.replica_meters(model, replica)
        if first_byte_at and status < 400:
            rm.ttft.observe(first_byte_at - started)
        if tokens.prompt_tokens:
            rm.prompt_tokens.inc(tokens.prompt_tokens)
        if tokens.completion_tokens:
            rm.completion_tokens.inc(tokens.completion_tokens)
