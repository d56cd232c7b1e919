"""Prometheus metrics of the data plane, in a registry owned by one Gateway instance.

Names follow `modelserve_gateway_*`; `requests_active` is the gauge the autoscaler reads
(the analogue of KubeAI's `kubeai.inference.requests.active`).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


class GatewayMetrics:
    """Counters, gauge and histograms; `registry` is what a /metrics endpoint exposes."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "modelserve_gateway_requests",
            "OpenAI requests answered by the gateway, by exposed model, replica and HTTP status.",
            ("model", "replica", "status"),
            registry=self.registry,
        )
        self.active = Gauge(
            "modelserve_gateway_requests_active",
            "Requests accepted by the gateway and not yet finished, by exposed model.",
            ("model",),
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "modelserve_gateway_upstream_errors",
            "Upstream failures: connect (before a response), timeout, midstream (after the first byte).",
            ("model", "replica", "kind"),
            registry=self.registry,
        )
        self.upstream_latency = Histogram(
            "modelserve_gateway_upstream_first_byte_seconds",
            "Time from sending a request upstream to its response headers.",
            ("model",),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.duration = Histogram(
            "modelserve_gateway_request_duration_seconds",
            "Time from accepting a request to its last byte sent.",
            ("model",),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
