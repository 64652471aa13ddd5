"""Prometheus metric declarations shared by all services, and the /metrics HTTP endpoint.

Each service owns one :class:`prometheus_client.CollectorRegistry` (so several services can live in one
process, as they do in tests), with prometheus_client's process and platform collectors added. Project
metrics share one prefix per service: ``emoflux_emotion_*``, ``emoflux_image_*``, ``emoflux_ranker_*``,
``emoflux_gateway_*``. Names follow Prometheus conventions: base units (seconds, bytes), counters
end in ``_total``. RPC metrics use the widely known ``grpc_server_*`` names so existing dashboards work.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    start_http_server,
)

# 15 ms is MLPerf's ResNet-50 server-scenario p99 bound; keep a bucket edge on it.
LATENCY_BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.075, 0.1,
    0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip
BATCH_SIZE_BUCKETS: tuple[float, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256)


@dataclass
class RpcMetrics:
    """Per-RPC counters and latency, filled by :class:`servicekit.interceptors.MetricsHook`."""

    registry: CollectorRegistry
    started: Counter = field(init=False)
    handled: Counter = field(init=False)
    handling_seconds: Histogram = field(init=False)
    in_flight: Gauge = field(init=False)

    def __post_init__(self) -> None:
        labels = ("grpc_service", "grpc_method", "grpc_type")
        self.started = Counter("grpc_server_started", "RPCs started on the server.", labels, registry=self.registry)
        self.handled = Counter(
            "grpc_server_handled",
            "RPCs completed on the server, by status code.",
            (*labels, "grpc_code"),
            registry=self.registry,
        )
        self.handling_seconds = Histogram(
            "grpc_server_handling_seconds",
            "Time from RPC start to its status, in seconds.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "grpc_server_in_flight_rpcs", "RPCs being handled now.", ("grpc_service",), registry=self.registry
        )


@dataclass
class BatcherMetrics:
    """Dynamic-batcher metrics, labelled by batcher name; implements the batcher's observer protocol."""

    registry: CollectorRegistry
    prefix: str
    batch_size: Histogram = field(init=False)
    queue_wait_seconds: Histogram = field(init=False)
    compute_seconds: Histogram = field(init=False)
    queue_depth: Gauge = field(init=False)
    dropped: Counter = field(init=False)
    rejected: Counter = field(init=False)

    def __post_init__(self) -> None:
        p = self.prefix
        self.batch_size = Histogram(
            f"{p}_batch_size",
            "Items per executed batch.",
            ("batcher",),
            buckets=BATCH_SIZE_BUCKETS,
            registry=self.registry,
        )
        self.queue_wait_seconds = Histogram(
            f"{p}_queue_wait_seconds",
            "Time an item waited in the queue before its batch started, in seconds.",
            ("batcher",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.compute_seconds = Histogram(
            f"{p}_batch_compute_seconds",
            "Time to execute one batch, in seconds.",
            ("batcher",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            f"{p}_queue_depth", "Items waiting in the queue.", ("batcher",), registry=self.registry
        )
        self.dropped = Counter(
            f"{p}_dropped_items",
            "Queued items dropped before compute, by reason (deadline, cancelled).",
            ("batcher", "reason"),
            registry=self.registry,
        )
        self.rejected = Counter(
            f"{p}_rejected_items", "Items refused because the queue was full.", ("batcher",), registry=self.registry
        )

    # -- servicekit.batching.BatchObserver ---------------------------------------------------------------
    def on_queue_depth(self, batcher: str, depth: int) -> None:
        """Record the current queue depth."""
        self.queue_depth.labels(batcher).set(depth)

    def on_batch(self, batcher: str, size: int, queue_waits: Sequence[float], compute_seconds: float) -> None:
        """Record one executed batch."""
        self.batch_size.labels(batcher).observe(size)
        for wait in queue_waits:
            self.queue_wait_seconds.labels(batcher).observe(wait)
        self.compute_seconds.labels(batcher).observe(compute_seconds)

    def on_drop(self, batcher: str, reason: str) -> None:
        """Record an item dropped before compute."""
        self.dropped.labels(batcher, reason).inc()

    def on_reject(self, batcher: str) -> None:
        """Record an item refused at admission."""
        self.rejected.labels(batcher).inc()


def standard_collectors(registry: CollectorRegistry) -> None:
    """Add prometheus_client's process, platform and GC collectors to a service's own registry.

    They are the series every Prometheus user expects (``process_cpu_seconds_total``,
    ``process_resident_memory_bytes``, ``python_info``, ``python_gc_*``). The collectors only read
    /proc and the interpreter, so one instance serves every registry of the process.
    """
    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(collector)


def model_info(registry: CollectorRegistry, name: str, labels: dict[str, str]) -> Info:
    """Expose static facts about the loaded model as an ``<name>_info`` series."""
    info = Info(name, "Static facts about the served model.", registry=registry)
    info.info(labels)
    return info


class MetricsServer:
    """The /metrics HTTP endpoint for one registry: prometheus_client's own server, on its own thread.

    Scrapes never touch the event loop; the exposition (text or OpenMetrics by ``Accept``, gzip, ``?name[]=``
    filters, ``/-/healthy``) is prometheus_client's.
    """

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        self._registry = registry
        self._host = host
        self._requested_port = port
        self._httpd: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when started on port 0); 0 before :meth:`start`."""
        return int(self._httpd.server_address[1]) if self._httpd is not None else 0

    def start(self) -> None:
        """Bind and start serving in the background."""
        self._httpd, self._thread = start_http_server(self._requested_port, self._host, self._registry)

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
