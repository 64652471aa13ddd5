"""Settings of the emotion service: every field is a ``--flag`` and an ``EMOTION_*`` environment variable."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import ClassVar

from emotion_service.backends import BACKEND_KINDS, DEVICES
from emotion_service.backends.providers import GPU_PREPROCESS_MODES
from emotion_service.bundle import PRECISIONS
from servicekit.settings import ServerSettings, setting


@dataclasses.dataclass(frozen=True)
class EmotionSettings(ServerSettings):
    """Facial-emotion recognition over gRPC (native EmotionService and KServe v2)."""

    env_prefix: ClassVar[str] = "EMOTION_"
    program: ClassVar[str] = "python -m emotion_service"

    port: int = setting(50051, "gRPC port (0 picks a free port).")
    metrics_port: int = setting(
        9101, "Port of the Prometheus /metrics HTTP endpoint (0 picks a free port, -1 disables)."
    )

    # -- model -----------------------------------------------------------------------------------------
    bundle: Path | None = setting(
        None,
        "Model bundle directory (built by `python -m emotion_service.build.export`); empty uses the embedded "
        "default bundle (build/models/emotion/tiny).",
    )
    backend: str = setting("onnxruntime", "Inference runtime.", choices=BACKEND_KINDS)
    device: str = setting(
        "auto",
        "Where to run: auto (TensorRT, then CUDA, then CPU, whichever is present), cpu, cuda or tensorrt.",
        choices=DEVICES,
    )
    precisions: tuple[str, ...] = setting(
        ("fp32",),
        "Comma-separated precisions to load (fp32, fp16, int8); requests pick one with `precision`. "
        "Each needs a matching file in the bundle (int8 is CPU-only, fp16 needs a GPU).",
    )
    default_precision: str = setting(
        "",
        "Precision used when a request leaves `precision` empty; empty means the first of --precisions.",
    )
    threads: int = setting(0, "Intra-op threads of the inference runtime (0 lets the runtime choose).")
    trt_cache_dir: Path | None = setting(
        None,
        "TensorRT engine and timing cache directory; must be writable (start-up fails otherwise). Empty: "
        "$XDG_CACHE_HOME/emoflux/tensorrt, else ~/.cache/emoflux/tensorrt. Containers: a mounted volume.",
    )
    allow_provider_fallback: bool = setting(
        False,
        "Start even when ONNX Runtime falls back from the provider asked for (TensorRT or CUDA could not "
        "load), reporting the provider and precision that really run. Off: such a start fails.",
    )
    gpu_preprocess: str = setting(
        "auto",
        "Decode JPEGs with nvJPEG and resize on the GPU for whole-image requests: auto (when the model runs on "
        "a GPU and torchvision is installed), on (start-up fails without them) or off. Other formats, EXIF-rotated "
        "JPEGs and face detection take the CPU path.",
        choices=GPU_PREPROCESS_MODES,
    )
    spinning: bool = setting(
        False,
        "Let ONNX Runtime's CPU worker threads spin-wait for work between operators and runs: a little lower "
        "latency on a dedicated machine, but the spinning burns CPU while idle (an autoscaler on CPU sees it as "
        "load) and takes cores from decoding and the gRPC loop.",
    )
    compute_nice: int = setting(
        10,
        "Niceness added to the threads that decode and run the model (ONNX Runtime's pool included), so that "
        "under CPU saturation the gRPC event loop runs first: refusals and health checks answer promptly while the "
        "model gets every cycle the loop does not use. 0 keeps every thread at the process's priority (Linux only).",
    )
    warmup_batch_sizes: tuple[int, ...] = setting(
        (1,),
        "Batch sizes run once at start-up before health turns SERVING (the maximum batch size is always added).",
    )

    # -- batching --------------------------------------------------------------------------------------
    batching: bool = setting(
        True,
        "Group faces of concurrent requests into shared model calls. Off: each request's faces run as "
        "their own batch (queue limits, deadlines and metrics still apply).",
    )
    max_batch_size: int = setting(32, "Most faces (or KServe rows) in one model call.")
    work_conserving: bool = setting(
        True,
        "Run queued faces as soon as a batch slot is idle; faces gather into fuller batches only while every "
        "slot is busy, so batching adds no latency at low load. false: Triton's dynamic batcher with a delay "
        "(a batch short of --max-batch-size waits up to --max-queue-delay-ms for more, even on an idle slot).",
    )
    max_queue_delay_ms: float = setting(
        5.0,
        "With --no-work-conserving: longest time the oldest queued face waits for more faces before its "
        "batch runs anyway, in ms (unused when work-conserving).",
    )
    max_queue_size: int = setting(
        1024, "Most faces waiting in the queue of one precision; beyond it requests get RESOURCE_EXHAUSTED at once."
    )
    max_queue_per_client: int = setting(
        0,
        "Most faces one client may have queued (a token or certificate identity, else one connection); beyond it "
        "that client gets RESOURCE_EXHAUSTED while others keep their room. 0: no per-client limit.",
    )
    preferred_batch_sizes: tuple[int, ...] = setting(
        (),
        "Comma-separated batch sizes to prefer: a batch of the largest one goes at once; after the delay, "
        "the largest preferred size that is available goes.",
    )
    concurrent_batches: int = setting(
        1,
        "Batches that may run at once per precision. On a CPU, N batches with --threads 1 keep N cores busy "
        "with less synchronisation than one batch on N threads: more throughput, slower single requests.",
    )
    prep_workers: int = setting(
        2, "Threads that decode images, detect faces and preprocess crops (never the event loop)."
    )

    # -- request limits --------------------------------------------------------------------------------
    max_images_per_request: int = setting(16, "Most images in one ClassifyRequest.")
    max_pixels_per_image: int = setting(
        16_777_216, "Most pixels (width x height) per image, checked from the header before decoding."
    )
    max_request_bytes: int = setting(
        32 * 1024 * 1024, "Most image bytes (encoded or raw) in one ClassifyRequest, summed over its images."
    )

    # -- faces -----------------------------------------------------------------------------------------
    face_scale_factor: float = setting(1.1, "Haar detector: scale step between detection window sizes (> 1).")
    face_min_neighbors: int = setting(5, "Haar detector: overlapping detections needed to accept a face.")
    face_min_size: int = setting(24, "Haar detector: smallest face side searched for, in pixels.")
    face_max_faces: int = setting(16, "Most faces classified per image (largest first); the rest are ignored.")
    face_margin: float = setting(
        0.2, "Margin added around each detected face box before cropping, as a fraction of the box side."
    )

    # -- KServe v2 -------------------------------------------------------------------------------------
    kserve: bool = setting(True, "Also serve the KServe v2 inference.GRPCInferenceService.")
    kserve_model_name: str = setting("emotion", "Model name under which KServe v2 serves the classifier.")

    @property
    def max_queue_delay_s(self) -> float:
        """The queue delay in seconds."""
        return self.max_queue_delay_ms / 1000.0

    @property
    def effective_queue_delay_s(self) -> float:
        """The longest a face waits for batch-mates while a slot is idle: 0 unless batching waits for a delay."""
        return self.max_queue_delay_s if self.batching and not self.work_conserving else 0.0

    @property
    def resolved_default_precision(self) -> str:
        """The precision used when a request names none."""
        return self.default_precision or self.precisions[0]

    def validate(self) -> None:
        """Check the model, batching, limit and face settings, naming the offending field."""
        super().validate()
        if not self.precisions:
            raise SystemExit("precisions must name at least one of fp32, fp16, int8")
        for precision in self.precisions:
            if precision not in PRECISIONS:
                raise SystemExit(f"precisions: {precision!r} is not one of {list(PRECISIONS)}")
        if len(set(self.precisions)) != len(self.precisions):
            raise SystemExit(f"precisions lists a precision twice: {list(self.precisions)}")
        if self.default_precision and self.default_precision not in self.precisions:
            raise SystemExit(
                f"default_precision {self.default_precision!r} is not among precisions {list(self.precisions)}"
            )
        positive = {
            "max_batch_size": self.max_batch_size,
            "max_queue_size": self.max_queue_size,
            "concurrent_batches": self.concurrent_batches,
            "prep_workers": self.prep_workers,
            "max_images_per_request": self.max_images_per_request,
            "max_pixels_per_image": self.max_pixels_per_image,
            "max_request_bytes": self.max_request_bytes,
            "face_min_neighbors": self.face_min_neighbors,
            "face_min_size": self.face_min_size,
            "face_max_faces": self.face_max_faces,
        }
        for name, value in positive.items():
            if value < 1:
                raise SystemExit(f"{name} must be >= 1, got {value}")
        if self.threads < 0:
            raise SystemExit(f"threads must be >= 0, got {self.threads}")
        if not (math.isfinite(self.max_queue_delay_ms) and self.max_queue_delay_ms >= 0):
            raise SystemExit(f"max_queue_delay_ms must be a finite number >= 0, got {self.max_queue_delay_ms}")
        if self.max_queue_size < self.max_batch_size:
            raise SystemExit(
                f"max_queue_size ({self.max_queue_size}) must be >= max_batch_size ({self.max_batch_size})"
            )
        if not 0 <= self.compute_nice <= 19:
            raise SystemExit(f"compute_nice must lie in 0..19, got {self.compute_nice}")
        if not 0 <= self.max_queue_per_client <= self.max_queue_size:
            raise SystemExit(
                f"max_queue_per_client must lie in 0..max_queue_size ({self.max_queue_size}), "
                f"got {self.max_queue_per_client}"
            )
        for size in (*self.preferred_batch_sizes, *self.warmup_batch_sizes):
            if not 1 <= size <= self.max_batch_size:
                raise SystemExit(
                    f"preferred_batch_sizes and warmup_batch_sizes must lie in 1..max_batch_size "
                    f"({self.max_batch_size}), got {size}"
                )
        if not self.face_scale_factor > 1.0:
            raise SystemExit(f"face_scale_factor must be > 1, got {self.face_scale_factor}")
        if not 0.0 <= self.face_margin <= 2.0:
            raise SystemExit(f"face_margin must lie in [0, 2], got {self.face_margin}")
        if not self.kserve_model_name.strip():
            raise SystemExit("kserve_model_name must not be empty")
