"""Domain objects of one generation: validated parameters, the job in flight, progress events, results."""

from __future__ import annotations

import asyncio
import enum
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from servicekit.batching import Reservation

SEED_MODULUS = 1 << 64  # seeds are uint64 on the wire; image i of a request uses (seed + i) mod 2**64
_job_ids = itertools.count(1)


class ImageFormat(enum.Enum):
    """Encoding of returned images."""

    PNG = "png"
    JPEG = "jpeg"
    WEBP = "webp"


@dataclass(frozen=True)
class AdapterWeight:
    """A LoRA adapter applied to a generation and the scale its update is multiplied by."""

    name: str
    scale: float = 1.0

    def label(self) -> str:
        """``name:scale`` as PNG metadata and logs show it."""
        return f"{self.name}:{self.scale:g}"


@dataclass(frozen=True)
class GenerationParams:
    """A request after validation: every option resolved to the value that will be used."""

    variant: str
    prompt: str
    negative_prompt: str
    width: int
    height: int
    num_inference_steps: int
    guidance_scale: float
    seed: int
    num_images: int
    output_format: ImageFormat
    quality: int
    max_sequence_length: int
    prompt_tokens: int
    prompt_truncated: bool
    reference_count: int = 0
    # Inpainting: the request carries a mask; ``strength`` is the inpainting strength used.
    masked: bool = False
    strength: float | None = None
    adapters: tuple[AdapterWeight, ...] = ()

    def adapter_key(self) -> tuple[tuple[str, float], ...]:
        """The adapters as a batch-key part: order does not matter (LoRA updates add up)."""
        return tuple(sorted((a.name, a.scale) for a in self.adapters))

    def seeds(self) -> list[int]:
        """The seed of each image: ``seed + i`` (mod 2**64)."""
        return [(self.seed + i) % SEED_MODULUS for i in range(self.num_images)]

    def run_key(self) -> tuple[Any, ...]:
        """Requests with equal keys can share one pipeline call."""
        return (
            self.variant,
            self.width,
            self.height,
            self.num_inference_steps,
            self.guidance_scale,
            self.max_sequence_length,
            self.adapter_key(),
        )


@dataclass(frozen=True)
class Queued:
    """Waiting in the queue with ``position`` requests ahead."""

    position: int


@dataclass(frozen=True)
class Started:
    """The pipeline run including the request began."""

    batch_size: int
    total_steps: int


@dataclass(frozen=True)
class Step:
    """Denoising step ``step`` of ``total_steps`` finished ``elapsed_seconds`` after the run began."""

    step: int
    total_steps: int
    elapsed_seconds: float
    preview: bytes = b""


ProgressEvent = Queued | Started | Step


@dataclass(eq=False)
class Job:
    """One accepted request on its way through the queue and a pipeline run.

    ``cancelled`` is set (from the event loop) when the caller left or its deadline passed; the pipeline
    thread reads it between denoising steps. ``events`` is None for callers that do not stream.
    """

    params: GenerationParams
    references: list[Any] = field(default_factory=list)  # decoded PIL images
    mask: Any = None  # decoded PIL "L" image (white = repaint) for inpainting
    previews: bool = False
    preview_size: int = 128
    events: asyncio.Queue[ProgressEvent] | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    received: float = field(default_factory=time.monotonic)
    job_id: int = field(default_factory=lambda: next(_job_ids))
    run_started: float | None = None
    """When its pipeline run began (None while queued)."""
    position: int | None = None
    """The queue position last delivered, so an unchanged position is not sent twice."""
    reservation: Reservation | None = None
    """Queue room taken at admission, before any decoding (released when queued or abandoned)."""

    def batch_key(self) -> tuple[Any, ...]:
        """The batcher key: requests with reference images run alone (their images differ per request)."""
        key = self.params.run_key()
        return (*key, self.job_id) if self.references else key

    def deliver(self, event: ProgressEvent) -> None:
        """Hand ``event`` to the stream subscriber, if any (call on the event loop)."""
        if isinstance(event, Queued):
            if event.position == self.position:
                return
            self.position = event.position
        if self.events is not None:
            self.events.put_nowait(event)


@dataclass(frozen=True)
class RunOutput:
    """What one pipeline run produced for one job."""

    images: list[Any]  # uint8 HxWx3 numpy arrays, in seed order
    batch_requests: int
    run_seconds: float
    seconds_per_step: float
    started: float


@dataclass(frozen=True)
class EncodedImage:
    """One encoded output image."""

    data: bytes
    width: int
    height: int
    seed: int
    format: ImageFormat


@dataclass(frozen=True)
class Timings:
    """Server-side seconds of one generation."""

    queue_seconds: float
    run_seconds: float
    total_seconds: float
    seconds_per_step: float


@dataclass(frozen=True)
class GenerationResult:
    """The finished generation, as Generate returns it."""

    params: GenerationParams
    images: list[EncodedImage]
    backend: str
    weights_origin: str
    batch_size: int
    timings: Timings
