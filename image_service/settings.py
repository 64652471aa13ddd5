"""Settings of the image service: every field is a ``--flag`` and an ``IMAGE_*`` environment variable."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from image_service.variants import DEFAULT_VARIANT
from servicekit.settings import ServerSettings, setting


@dataclass(frozen=True)
class ImageSettings(ServerSettings):
    """FLUX text-to-image gRPC service (emoflux.image.v1.ImageService)."""

    env_prefix: ClassVar[str] = "IMAGE_"
    program: ClassVar[str] = "python -m image_service"

    port: int = setting(50052, "gRPC port (0 picks a free port).")
    metrics_port: int = setting(9102, "Port of the Prometheus /metrics endpoint (0 picks a free port, -1 disables).")
    default_variant: str = setting(DEFAULT_VARIANT, "Variant used when a request names none; always loaded.")
    load_variants: tuple[str, ...] = setting(
        (), "Comma-separated variants to load at start besides the default (others are listed as not loaded)."
    )
    variant_dir: tuple[str, ...] = setting(
        (), "Comma-separated NAME=PATH pairs: load variant NAME from a local diffusers directory instead of its hub id."
    )
    models_dir: Path = setting(
        Path("build/models/image"), "Where built models (random tiny pipeline, ONNX exports) live."
    )
    backend: str = setting("torch", "Transformer backend.", choices=("torch", "onnx", "tensorrt"))
    onnx_dir: tuple[str, ...] = setting(
        (),
        "Comma-separated NAME=PATH pairs: exported ONNX transformer of variant NAME "
        "(default MODELS_DIR/NAME-onnx; exported there on first use for the embedded variant).",
    )
    lora: tuple[str, ...] = setting(
        (),
        "Comma-separated NAME=PATH pairs: LoRA adapter NAME (a .safetensors file in the diffusers/peft, kohya or "
        "XLabs layout, or a directory holding one) for the variant its adapter_manifest.json names (the default "
        "variant otherwise); requests apply it by name. Needs --backend torch.",
    )
    torch_compile: bool = setting(False, "With --backend torch, compile the transformer with torch.compile.")
    device: str = setting("auto", "Device: auto (first GPU, else CPU), cpu, cuda or cuda:N.")
    dtype: str = setting(
        "auto",
        "Weights dtype: auto (bfloat16 on GPU, float32 on CPU).",
        choices=("auto", "float32", "bfloat16", "float16"),
    )
    cpu_offload: bool = setting(False, "On CUDA, keep idle pipeline components on the CPU (less GPU memory, slower).")
    max_batch_images: int = setting(4, "Most images in one pipeline run (and per request).")
    max_queue_images: int = setting(32, "Most images waiting in the queue; beyond it requests get RESOURCE_EXHAUSTED.")
    compute_nice: int = setting(
        10,
        "Niceness added to the pipeline thread (and the torch threads it starts), so that under CPU saturation "
        "the gRPC event loop runs first: progress events, refusals and health checks answer promptly while the "
        "pipeline gets every cycle the loop does not use. 0 keeps the process's priority (Linux only).",
    )
    max_queue_images_per_client: int = setting(
        0,
        "Most images one client may have queued (a token or certificate identity, else one connection); beyond it "
        "that client gets RESOURCE_EXHAUSTED while others keep their room, and runs take clients in turn. 0: no "
        "per-client limit.",
    )
    work_conserving: bool = setting(
        True,
        "Start a queued request as soon as the device is idle; compatible requests gather into one run only while "
        "a run is in progress. false: wait up to --batch-delay-ms for compatible ones even on an idle device.",
    )
    batch_delay_ms: float = setting(
        10.0, "With --no-work-conserving: how long the oldest queued request waits for compatible ones, in ms."
    )
    torch_threads: int = setting(
        0, "PyTorch intra-op threads (0 = PyTorch's default); 1 avoids thread thrashing on a shared, busy CPU."
    )
    ort_threads: int = setting(0, "ONNX Runtime intra-op threads (0 = ONNX Runtime's default).")
    engine_cache_dir: Path | None = setting(
        None,
        "Directory for TensorRT engines (native and ONNX Runtime's TensorRT EP), one subdirectory per variant; "
        "empty: next to the ONNX export. Containers with a read-only root: a mounted volume.",
    )
    warmup: bool = setting(True, "Run one small generation per variant before reporting SERVING.")

    def validate(self) -> None:
        """Check queue and batch bounds on top of the server checks."""
        super().validate()
        if self.max_batch_images < 1:
            raise SystemExit(f"max_batch_images must be >= 1, got {self.max_batch_images}")
        if self.max_queue_images < self.max_batch_images:
            raise SystemExit(
                f"max_queue_images ({self.max_queue_images}) must be >= max_batch_images ({self.max_batch_images})"
            )
        if not 0 <= self.compute_nice <= 19:
            raise SystemExit(f"compute_nice must lie in 0..19, got {self.compute_nice}")
        if not 0 <= self.max_queue_images_per_client <= self.max_queue_images:
            raise SystemExit(
                f"max_queue_images_per_client must lie in 0..max_queue_images ({self.max_queue_images}), "
                f"got {self.max_queue_images_per_client}"
            )
        if self.batch_delay_ms < 0:
            raise SystemExit(f"batch_delay_ms must be >= 0, got {self.batch_delay_ms}")
        for field in ("variant_dir", "onnx_dir", "lora"):
            for pair in getattr(self, field):
                if "=" not in pair:
                    raise SystemExit(f"{field}: expected NAME=PATH, got {pair!r}")
