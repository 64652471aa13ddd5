"""Prometheus metrics of the gateway, served on its own ``/metrics`` route."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from servicekit.metrics import LATENCY_BUCKETS


@dataclass
class HttpMetrics:
    """Requests by route, method and status; latency by route; requests in flight."""

    registry: CollectorRegistry
    requests: Counter = field(init=False)
    seconds: Histogram = field(init=False)
    in_flight: Gauge = field(init=False)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "emoflux_gateway_http_requests",
            "HTTP requests answered, by route, method and status code.",
            ("route", "method", "code"),
            registry=self.registry,
        )
        self.seconds = Histogram(
            "emoflux_gateway_http_request_seconds",
            "Time from receiving an HTTP request to its answer, in seconds.",
            ("route",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "emoflux_gateway_http_in_flight_requests", "HTTP requests being handled now.", registry=self.registry
        )
