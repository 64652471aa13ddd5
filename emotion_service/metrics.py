"""Prometheus metrics of the emotion service (all named ``emoflux_emotion_*``).

Batching metrics (batch sizes, queue wait, batch compute time, queue depth, dropped and rejected
items) come from servicekit's :class:`~servicekit.metrics.BatcherMetrics`, labelled by precision.
RPC counts and latencies by status code come from servicekit's interceptor (``grpc_server_*``): the
request time is ``grpc_server_handling_seconds``, so this module does not time requests again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, Info

from servicekit.errors import status_for
from servicekit.metrics import LATENCY_BUCKETS, BatcherMetrics, model_info

PREFIX = "emoflux_emotion"
FACES_BUCKETS: tuple[float, ...] = (0, 1, 2, 3, 4, 6, 8, 12, 16, 32)


def failure_reason(exc: BaseException) -> str:
    """The label a failure is counted under: its gRPC status code in lower case (e.g. ``invalid_argument``)."""
    code, _ = status_for(exc)
    return str(code.name).lower()


@dataclass
class EmotionMetrics:
    """Request, failure, face and preprocessing metrics plus the shared batcher metrics."""

    registry: CollectorRegistry
    batcher: BatcherMetrics = field(init=False)
    requests: Counter = field(init=False)
    failures: Counter = field(init=False)
    images: Counter = field(init=False)
    faces_per_image: Histogram = field(init=False)
    preprocess_seconds: Histogram = field(init=False)
    decoded_images: Counter = field(init=False)
    info: Info | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        registry = self.registry
        self.batcher = BatcherMetrics(registry, PREFIX)
        self.requests = Counter(
            f"{PREFIX}_requests",
            "Classification requests received, by API (native, kserve).",
            ("api",),
            registry=registry,
        )
        self.failures = Counter(
            f"{PREFIX}_request_failures",
            "Classification requests that failed, by API and reason (the status code, e.g. invalid_argument).",
            ("api", "reason"),
            registry=registry,
        )
        self.images = Counter(f"{PREFIX}_images", "Images classified (native API).", registry=registry)
        self.faces_per_image = Histogram(
            f"{PREFIX}_faces_per_image",
            "Faces classified per image (native API; 1 in whole-image mode).",
            buckets=FACES_BUCKETS,
            registry=registry,
        )
        self.preprocess_seconds = Histogram(
            f"{PREFIX}_preprocess_seconds",
            "Time to decode one image, detect its faces and preprocess the crops, in seconds.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.decoded_images = Counter(
            f"{PREFIX}_decoded_images",
            "Images prepared, by decoder: cpu (PIL, or raw pixels) or nvjpeg (the GPU path, --gpu-preprocess).",
            ("decoder",),
            registry=registry,
        )

    def set_model_info(self, labels: dict[str, str]) -> None:
        """Publish static facts about the loaded model as ``emoflux_emotion_model_info``."""
        if self.info is None:
            self.info = model_info(self.registry, f"{PREFIX}_model", labels)
        else:
            self.info.info(labels)

    @contextmanager
    def track(self, api: str) -> Iterator[None]:
        """Count one request of ``api`` and, when the block raises, one failure under its reason."""
        self.requests.labels(api).inc()
        try:
            yield
        except BaseException as exc:
            self.failures.labels(api, failure_reason(exc)).inc()
            raise
