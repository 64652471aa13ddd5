"""Prometheus metrics of the image service (``emoflux_image_*``).

The generation queue's metrics come from servicekit's :class:`BatcherMetrics` (queue depth, queue wait,
images per batch, rejections, drops); this adds what is specific to diffusion runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from servicekit.metrics import BATCH_SIZE_BUCKETS, LATENCY_BUCKETS, BatcherMetrics

PREFIX = "emoflux_image"
RUN_BUCKETS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)


@dataclass
class ImageMetrics:
    """All image-service metrics on one registry."""

    registry: CollectorRegistry
    queue: BatcherMetrics = field(init=False)
    step_seconds: Histogram = field(init=False)
    run_seconds: Histogram = field(init=False)
    runs: Counter = field(init=False)
    requests_per_run: Histogram = field(init=False)
    images: Counter = field(init=False)
    steps: Counter = field(init=False)
    cancellations: Counter = field(init=False)
    interrupted_runs: Counter = field(init=False)
    loaded: Gauge = field(init=False)

    def __post_init__(self) -> None:
        r = self.registry
        vb = ("variant", "backend")
        self.queue = BatcherMetrics(r, PREFIX)
        self.step_seconds = Histogram(
            f"{PREFIX}_step_seconds",
            "Time of one denoising step (steps 2..n; step 1 also carries text encoding), in seconds.",
            vb,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.run_seconds = Histogram(
            f"{PREFIX}_run_seconds", "Time of one pipeline run, in seconds.", vb, buckets=RUN_BUCKETS, registry=r
        )
        self.runs = Counter(f"{PREFIX}_pipeline_runs", "Pipeline runs started.", vb, registry=r)
        self.requests_per_run = Histogram(
            f"{PREFIX}_requests_per_run",
            "Requests sharing one pipeline run.",
            ("variant",),
            buckets=BATCH_SIZE_BUCKETS,
            registry=r,
        )
        self.images = Counter(f"{PREFIX}_images_generated", "Images generated and returned.", vb, registry=r)
        self.steps = Counter(f"{PREFIX}_denoising_steps", "Denoising steps run.", vb, registry=r)
        self.cancellations = Counter(
            f"{PREFIX}_cancellations",
            "Requests abandoned before completion, by stage (queued, running) and reason (cancelled, deadline).",
            ("variant", "stage", "reason"),
            registry=r,
        )
        self.interrupted_runs = Counter(
            f"{PREFIX}_interrupted_runs", "Pipeline runs stopped early because all their requests left.", vb, registry=r
        )
        self.loaded = Gauge(
            f"{PREFIX}_variant_loaded",
            "1 for each loaded variant, with its backend and weights origin.",
            ("variant", "backend", "weights"),
            registry=r,
        )
