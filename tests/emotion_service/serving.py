"""Helpers for emotion-service tests: a real server on port 0 with the tiny bundle, images, a slow backend."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

from emotion_service.backends import Backend
from emotion_service.bundle import Bundle
from emotion_service.component import EmotionComponent
from emotion_service.loading import BackendFactory
from emotion_service.runtime import DevicePreprocessorFactory
from emotion_service.settings import EmotionSettings
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2 as pb
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2_grpc as pb_grpc
from servicekit.pb.inference import grpc_service_pb2_grpc as kpb_grpc
from servicekit.server import ServiceHost

REPO = Path(__file__).resolve().parents[2]
TINY_BUNDLE = REPO / "build" / "models" / "emotion" / "tiny"
_build_lock = threading.Lock()


def ensure_tiny_bundle() -> Path:
    """Build the tiny bundle (fp32 + int8) as ``make setup`` does; a no-op (~1 s) when it is up to date."""
    with _build_lock:
        subprocess.run(
            [
                sys.executable, "-m", "emotion_service.build.export", "--source", "tiny", "--out", str(TINY_BUNDLE),
                "--precision", "fp32,int8", "--if-missing",
            ],
            check=True,
            cwd=REPO,
            timeout=900,
        )  # fmt: skip
    return TINY_BUNDLE


def settings_for(bundle: Path, **overrides: Any) -> EmotionSettings:
    """Settings for a test server: port 0, free metrics port, quiet access log, fp32 + int8."""
    base: dict[str, Any] = {
        "bundle": bundle,
        "port": 0,
        "metrics_port": 0,
        "access_log": False,
        "precisions": ("fp32", "int8"),
        "warmup_batch_sizes": (1,),
        "max_batch_size": 16,
        "max_queue_delay_ms": 2.0,
        "grace_seconds": 1.0,
    }
    base.update(overrides)
    settings = EmotionSettings(**base)
    settings.validate()
    return settings


@dataclass
class Served:
    """A running server and stubs on one channel."""

    host: ServiceHost
    component: EmotionComponent
    channel: grpc.aio.Channel
    stub: pb_grpc.EmotionServiceStub
    kserve: kpb_grpc.GRPCInferenceServiceStub

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.host.port}"

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float:
        """A sample of the server's registry (0 when absent)."""
        value = self.component.registry.get_sample_value(name, labels or {})
        return float(value or 0.0)

    def dropped(self) -> float:
        """Items dropped before compute, every batcher and reason."""
        total = 0.0
        for metric in self.component.registry.collect():
            for sample in metric.samples:
                if sample.name == "emoflux_emotion_dropped_items_total":
                    total += sample.value
        return total

    async def health(self, service: str = "") -> int:
        response = await health_pb2_grpc.HealthStub(self.channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5
        )
        return int(response.status)


@asynccontextmanager
async def serve(
    settings: EmotionSettings,
    *,
    backend_factory: BackendFactory | None = None,
    device_preprocessor: tuple[str, DevicePreprocessorFactory] | None = None,
    wait: bool = True,
) -> AsyncIterator[Served]:
    """Start a real server on port 0; wait until it is SERVING unless ``wait`` is False."""
    component = EmotionComponent(settings, backend_factory=backend_factory, device_preprocessor=device_preprocessor)
    host = ServiceHost(settings, component, component.registry)
    await host.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{host.port}")
    try:
        if wait:
            await host.wait_ready(120)
        yield Served(
            host, component, channel, pb_grpc.EmotionServiceStub(channel), kpb_grpc.GRPCInferenceServiceStub(channel)
        )
    finally:
        await channel.close()
        await host.stop(grace=0)


# -- images ----------------------------------------------------------------------------------------------
def encode(rgb: np.ndarray, fmt: str = "PNG") -> bytes:
    """Encode a uint8 RGB array."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format=fmt)
    return buffer.getvalue()


def astronaut() -> np.ndarray:
    """skimage's astronaut (512x512 RGB, one real face)."""
    from skimage import data

    return np.asarray(data.astronaut(), dtype=np.uint8)


def distinct_image(seed: int, size: int = 48) -> np.ndarray:
    """A small RGB image unlike those of other seeds: a random gradient plus noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    channels = [rng.uniform(0, 255) * xx + rng.uniform(0, 255) * yy for _ in range(3)]
    image = np.stack(channels, axis=-1) / 2 + rng.normal(0, 40, (size, size, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def raw_image(rgb: np.ndarray) -> pb.Image:
    """A RawImage message from a uint8 RGB array."""
    height, width = rgb.shape[:2]
    return pb.Image(raw=pb.RawImage(width=width, height=height, rgb=np.ascontiguousarray(rgb).tobytes()))


def png_header_bomb(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels but whose payload is a few bytes."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def scores_by_label(face: pb.Face) -> dict[str, float]:
    return {s.label: s.score for s in face.scores}


def probabilities(face: pb.Face, labels: Sequence[str]) -> np.ndarray:
    """A face's scores in label-id order (needs all labels returned)."""
    out = np.full(len(labels), np.nan, dtype=np.float64)
    for s in face.scores:
        out[s.label_id] = s.score
    return out


# -- a slow backend --------------------------------------------------------------------------------------
class SlowBackend:
    """A real backend that sleeps before each batch and counts the rows it computed after start-up."""

    def __init__(self, inner: Backend, delay: float) -> None:
        self.inner = inner
        self.delay = delay
        self.name = inner.name
        self.execution_provider = inner.execution_provider
        self.providers = inner.providers
        self.precision = inner.precision
        self.rows = 0
        self.batches: list[int] = []
        self.running = threading.Event()
        # Cleared, it holds every batch inside run() until set again: a test can keep the backend busy.
        self.gate = threading.Event()
        self.gate.set()
        self._lock = threading.Lock()

    def run(self, pixels: np.ndarray) -> np.ndarray:
        self.running.set()
        self.gate.wait(60)
        time.sleep(self.delay)
        with self._lock:
            self.rows += len(pixels)
            self.batches.append(len(pixels))
        return self.inner.run(pixels)

    def warmup(self, batch_sizes: Sequence[int] = (1,)) -> float:
        return self.inner.warmup(batch_sizes)


def slow_factory(delay: float, made: list[SlowBackend]) -> BackendFactory:
    """A backend factory wrapping the real ONNX Runtime backend in :class:`SlowBackend`."""
    from emotion_service.backends import create_backend

    def factory(bundle: Bundle, precision: str) -> Backend:
        backend = SlowBackend(create_backend(bundle, kind="onnxruntime", device="cpu", precision=precision), delay)
        made.append(backend)
        return backend

    return factory


async def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``condition`` until it holds (fails the test after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


def replace(settings: EmotionSettings, **changes: Any) -> EmotionSettings:
    new = dataclasses.replace(settings, **changes)
    new.validate()
    return new
