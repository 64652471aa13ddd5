"""The image service component: loads variants, warms them up, serves ImageService on servicekit's host."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import torch
from prometheus_client import CollectorRegistry

from image_service.adapters import AdapterInfo, inspect_all, load_adapters
from image_service.backends import BackendKind, BackendOptions
from image_service.backends.signature import ONNX_FILE
from image_service.generation import run_batch
from image_service.jobs import GenerationParams, ImageFormat, Job, ProgressEvent
from image_service.metrics import ImageMetrics
from image_service.pipeline import LoadedVariant, load_variant, resolve_device, resolve_dtype
from image_service.runtime import GenerationRuntime
from image_service.service import SERVICE_NAME, ImageServicer
from image_service.settings import ImageSettings
from image_service.sources import VariantSource, parse_pairs, resolve
from image_service.variants import (
    PUBLISHED_VARIANTS,
    TINY_FLUX,
    Capability,
    VariantSpec,
    build_tiny_spec,
    image_tokens,
)
from servicekit.batching import BatchPolicy
from servicekit.errors import FailedPrecondition
from servicekit.pb.emoflux.image.v1 import image_pb2_grpc
from servicekit.server import ServicerRegistration
from servicekit.settings import ServerSettings, settings_as

log = logging.getLogger("emoflux.image")

WARMUP_STEPS = 2


def initial_specs() -> dict[str, VariantSpec]:
    """Specs known before anything is loaded (tiny-flux's is refined once its directory is resolved)."""
    specs = {spec.name: spec for spec in PUBLISHED_VARIANTS}
    specs[TINY_FLUX] = build_tiny_spec()
    return specs


def batch_policy(settings: ImageSettings) -> BatchPolicy:
    """The generation queue's policy: image counts, one run at a time per device."""
    return BatchPolicy(
        max_batch_size=settings.max_batch_images,
        max_queue_delay_s=settings.batch_delay_ms / 1000.0,
        max_queue_size=settings.max_queue_images,
        max_concurrent_batches=1,
        work_conserving=settings.work_conserving,
        max_queue_per_client=settings.max_queue_images_per_client,
    )


def shape_profile(spec: VariantSpec, max_batch: int) -> object:
    """TensorRT min/opt/max dimensions covering every request the spec admits."""
    from image_service.backends.trt_backend import ShapeProfile

    lim, d = spec.limits, spec.defaults
    factor = 2 if spec.supports(Capability.IMAGE_EDITING) else 1  # Kontext appends the reference's tokens
    seq = d.max_sequence_length
    return ShapeProfile(
        batch=(1, max_batch, max_batch),
        img_seq=(
            image_tokens(lim.min_width, lim.min_height),
            image_tokens(d.width, d.height),
            factor * lim.max_pixels // 256,
        ),
        txt_seq=(seq, seq, seq),
    )


def backend_options(settings: ImageSettings, source: VariantSource) -> BackendOptions:
    """Backend options for ``source``; exports the embedded variant's ONNX on first use."""
    device = resolve_device(settings.device)
    dtype = resolve_dtype(settings.dtype, device)
    kind = BackendKind(settings.backend)
    name = source.spec.name
    onnx_path = None
    engine_dir = None
    if kind is not BackendKind.TORCH:
        onnx_dirs = parse_pairs(settings.onnx_dir, "onnx_dir")
        out_dir = onnx_dirs.get(name, settings.models_dir / f"{name}-onnx")
        if source.spec.embedded:
            # The tiny transformer exports in seconds, in float32 on the CPU (the stand-in casts). Only this
            # case reaches build-time code from the serving path, so it is imported here, on demand.
            from image_service.build.export import ensure_export

            onnx_path = ensure_export(source, out_dir, device=torch.device("cpu"), dtype=torch.float32)
        else:
            onnx_path = out_dir / ONNX_FILE
            if not onnx_path.is_file():
                raise FailedPrecondition(
                    f"variant {name!r}: no ONNX export at {onnx_path}; run python -m image_service.build.export "
                    f"--variant {name} --out {out_dir} --device cuda --dtype float16"
                )
        engine_dir = settings.engine_cache_dir / name if settings.engine_cache_dir else out_dir / "engines"
    return BackendOptions(
        kind=kind,
        device=device,
        dtype=dtype,
        onnx_path=onnx_path,
        torch_compile=settings.torch_compile,
        ort_threads=settings.ort_threads,
        engine_dir=engine_dir,
        profile=shape_profile(source.spec, settings.max_batch_images) if kind is BackendKind.TENSORRT else None,
    )


def load(settings: ImageSettings, name: str) -> LoadedVariant:
    """Resolve and load variant ``name`` as ``settings`` configure (blocking; run off the event loop)."""
    if settings.torch_threads > 0:
        # Set on the calling thread (the pipeline thread): OpenMP thread counts are per thread.
        torch.set_num_threads(settings.torch_threads)
    source = resolve(name, parse_pairs(settings.variant_dir, "variant_dir"), settings.models_dir)
    return load_variant(source, backend=backend_options(settings, source), cpu_offload=settings.cpu_offload)


def warm_up(loaded: LoadedVariant) -> None:
    """One small generation at the default size, so the first request does not pay for lazy set-up."""
    spec = loaded.spec
    params = GenerationParams(
        variant=spec.name,
        prompt="warm-up",
        negative_prompt="",
        width=spec.defaults.width,
        height=spec.defaults.height,
        num_inference_steps=min(WARMUP_STEPS, spec.defaults.num_inference_steps),
        guidance_scale=spec.defaults.guidance_scale,
        seed=0,
        num_images=1,
        output_format=ImageFormat.PNG,
        quality=90,
        max_sequence_length=spec.defaults.max_sequence_length,
        prompt_tokens=0,
        prompt_truncated=False,
    )
    run_batch(loaded, [Job(params=params)], _ignore_progress)


def _ignore_progress(job: Job, event: ProgressEvent) -> None:
    """Progress sink for runs nobody watches."""


class ImageComponent:
    """ImageService with its runtime; start() loads and warms the configured variants."""

    name = "image_service"

    def __init__(self, settings: ImageSettings, registry: CollectorRegistry) -> None:
        self.settings = settings
        self.metrics = ImageMetrics(registry)
        self.runtime = GenerationRuntime(
            batch_policy(settings), self.metrics, initial_specs(), compute_nice=settings.compute_nice
        )
        self.servicer = ImageServicer(self.runtime, settings.default_variant, settings.backend)

    def registrations(self) -> Sequence[ServicerRegistration]:
        """The ImageService."""
        return [
            ServicerRegistration(
                SERVICE_NAME, image_pb2_grpc.add_ImageServiceServicer_to_server, self.servicer, ImageServicer.ACCESS
            )
        ]

    def variants_to_load(self) -> list[str]:
        """The default variant first, then the extra ones, without repeats."""
        names = [self.settings.default_variant, *self.settings.load_variants]
        return list(dict.fromkeys(n.strip() for n in names if n.strip()))

    def adapters_by_variant(self) -> dict[str, dict[str, AdapterInfo]]:
        """The configured LoRA adapters grouped by base variant; FailedPrecondition if a base is not loaded."""
        paths = parse_pairs(self.settings.lora, "lora")
        grouped: dict[str, dict[str, AdapterInfo]] = {}
        for name, info in inspect_all(paths, self.settings.default_variant).items():
            grouped.setdefault(info.base_variant, {})[name] = info
        missing = sorted(set(grouped) - set(self.variants_to_load()))
        if missing:
            raise FailedPrecondition(
                f"lora: adapters for {', '.join(missing)}, which this server does not load (--load-variants)"
            )
        return grouped

    async def start(self) -> None:
        """Load and warm every configured variant on the pipeline thread, then accept requests."""
        loop = asyncio.get_running_loop()
        executor = self.runtime.executor
        adapters = self.adapters_by_variant()
        for name in self.variants_to_load():
            loaded = await loop.run_in_executor(executor, load, self.settings, name)
            await loop.run_in_executor(executor, load_adapters, loaded, adapters.get(name, {}))
            if self.settings.warmup:
                await loop.run_in_executor(executor, warm_up, loaded)
            self.runtime.add_variant(loaded)
            log.info(
                "variant %s ready (backend %s, weights %s)", name, loaded.backend, loaded.spec.weights_origin.value
            )
        self.runtime.batcher.start()
        self.runtime.ready = True

    async def stop(self) -> None:
        """Cancel queued work and release the pipeline thread."""
        await self.runtime.close()


def build_component(settings: ServerSettings, registry: CollectorRegistry) -> ImageComponent:
    """The component for :func:`servicekit.server.run_service`."""
    return ImageComponent(settings_as(settings, ImageSettings), registry)
