"""Building the served model from the settings: the bundle's backends, warmed up, and the facts to publish.

:func:`settings_backend_factory` is the one place a backend is constructed from the settings, so what a
backend needs from them (batch sizes, cache directories) is passed here and nowhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from emotion_service.backends import Backend, create_backend
from emotion_service.backends.providers import PreprocessPlan, preprocess_plan, runs_on_gpu
from emotion_service.bundle import Bundle
from emotion_service.settings import EmotionSettings

log = logging.getLogger("emoflux.emotion")

BackendFactory = Callable[[Bundle, str], Backend]
"""Builds the backend of one precision for a bundle (the default uses the settings' backend and device)."""


def settings_backend_factory(settings: EmotionSettings) -> BackendFactory:
    """The backend factory the settings describe (kind, device, threads)."""

    def build(bundle: Bundle, precision: str) -> Backend:
        s = settings
        return create_backend(
            bundle,
            kind=s.backend,
            device=s.device,
            precision=precision,
            threads=s.threads,
            spinning=s.spinning,
            # GPU readiness: the TensorRT profile covers every batch the batcher forms; cache dir; fallback policy.
            trt_cache_dir=s.trt_cache_dir,
            max_batch=s.max_batch_size,
            warmup_sizes=warmup_sizes(s),
            allow_fallback=s.allow_provider_fallback,
        )

    return build


def warmup_sizes(settings: EmotionSettings) -> list[int]:
    """Batch sizes run once at start: the configured ones and the largest batch."""
    return sorted({*settings.warmup_batch_sizes, settings.max_batch_size})


def load_backends(bundle: Bundle, settings: EmotionSettings, factory: BackendFactory) -> dict[str, Backend]:
    """One warmed-up backend per configured precision, in the settings' order (blocking)."""
    sizes = warmup_sizes(settings)
    backends: dict[str, Backend] = {}
    for precision in settings.precisions:
        backend = factory(bundle, precision)
        seconds = backend.warmup(sizes)
        log.info(
            "loaded %s %s on %s (%s), warm-up %s in %.2f s",
            bundle.model_id,
            precision,
            backend.name,
            backend.execution_provider,
            sizes,
            seconds,
        )
        backends[precision] = backend
    return backends


def plan_preprocessing(settings: EmotionSettings, backend: Backend) -> PreprocessPlan:
    """Where images are preprocessed (``--gpu-preprocess``); torch and torchvision are probed only on a GPU."""
    provider = backend.execution_provider
    cuda_device: str | None = None
    torchvision_error: str | None = None
    if settings.gpu_preprocess != "off" and runs_on_gpu(provider):
        import torch

        cuda_device = "cuda:0" if torch.cuda.is_available() else None
        torchvision_error = torchvision_import_error()
    plan = preprocess_plan(
        settings.gpu_preprocess, provider, cuda_device=cuda_device, torchvision_error=torchvision_error
    )
    log.info("image preprocessing: %s", plan.reason)
    return plan


def torchvision_import_error() -> str | None:
    """Why ``torchvision.io.decode_jpeg`` (nvJPEG) cannot be imported here, or None when it can."""
    try:
        from torchvision.io import decode_jpeg  # noqa: F401
    except Exception as exc:  # ImportError, or torchvision built against another torch (RuntimeError)
        return f"{type(exc).__name__}: {exc}"
    return None


def model_info_labels(
    bundle: Bundle, backends: dict[str, Backend], settings: EmotionSettings, preprocess_device: str = "cpu"
) -> dict[str, str]:
    """The static facts published as ``emoflux_emotion_model_info``."""
    default = backends[settings.resolved_default_precision]
    return {
        "model": bundle.model_id,
        "backend": default.name,
        "execution_provider": default.execution_provider,
        "precisions": ",".join(backends),
        # What really runs: differs from the requested precision after an allowed provider fallback.
        "running_precisions": ",".join(b.precision for b in backends.values()),
        "default_precision": settings.resolved_default_precision,
        "weights_origin": bundle.weights_origin,
        "labels": ",".join(bundle.labels),
        "input": f"{bundle.preprocessing.height}x{bundle.preprocessing.width}",
        "batching": str(settings.batching).lower(),
        "max_batch_size": str(settings.max_batch_size),
        "preprocess_device": preprocess_device,
    }
