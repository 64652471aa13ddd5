"""Inference backends behind one small interface.

A backend turns a float32 batch ``[N, 3, H, W]`` (already preprocessed) into float32 logits
``[N, num_labels]``. ``run`` is thread-safe, so one backend serves every executor thread. Batches
preprocessed on the GPU arrive as torch tensors on the device: :func:`run_stacked` hands them to the
backend's ``run_device`` (I/O binding of the device pointer, or the torch model itself), so they never
cross to the host.

* ``onnxruntime`` (:mod:`.ort`): the serving backend. ``device`` picks the execution-provider chain:
  ``auto`` = TensorRT EP (fp16, engine cache) -> CUDA EP -> CPU EP, keeping only the providers this
  onnxruntime build offers; ``cpu``, ``cuda`` and ``tensorrt`` ask for one explicitly.
* ``torch`` (:mod:`.pytorch`): the PyTorch reference on the bundle's Hugging Face directory; CUDA when
  present (fp16 there), CPU otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from emotion_service.bundle import PRECISIONS, Bundle
from servicekit.errors import FailedPrecondition

BACKEND_KINDS: tuple[str, ...] = ("onnxruntime", "torch")
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda", "tensorrt")


@runtime_checkable
class Backend(Protocol):
    """What the serving runtime needs from a model backend."""

    name: str
    execution_provider: str
    providers: tuple[str, ...]
    precision: str

    def run(self, pixels: np.ndarray) -> np.ndarray:
        """float32 ``[N, 3, H, W]`` -> float32 logits ``[N, num_labels]``; thread-safe."""
        ...

    def warmup(self, batch_sizes: Sequence[int] = (1,)) -> float:
        """Run each batch size once (builds kernels, TensorRT engines); returns the seconds it took."""
        ...


def create_backend(
    bundle: Bundle,
    *,
    kind: str = "onnxruntime",
    device: str = "auto",
    precision: str = "fp32",
    threads: int = 0,
    trt_cache_dir: Path | None = None,
    max_batch: int = 64,
    warmup_sizes: Sequence[int] = (),
    allow_fallback: bool = False,
    spinning: bool = False,
) -> Backend:
    """Build the backend ``kind`` for ``bundle``.

    Args:
        bundle: a loaded bundle.
        kind: ``onnxruntime`` or ``torch``.
        device: ``auto``, ``cpu``, ``cuda`` or ``tensorrt`` (``tensorrt`` is onnxruntime only).
        precision: ``fp32``, ``int8`` or ``fp16``; onnxruntime needs that file in the bundle.
        threads: intra-op threads (0 = the library's default).
        trt_cache_dir: TensorRT engine cache (default: the user's cache, see
            :func:`~emotion_service.backends.providers.default_trt_cache_dir`); must be writable.
        max_batch: the largest batch the batcher forms (the TensorRT profile covers 1..max_batch).
        warmup_sizes: batch sizes warmed at start (the TensorRT profile's optimum is the largest).
        allow_fallback: start even when a GPU provider could not load, reporting what really runs.
        spinning: let ONNX Runtime's CPU worker threads spin-wait between operators (onnxruntime only).

    Raises:
        FailedPrecondition: the kind, device or precision is unavailable here, with the reason.
    """
    if kind not in BACKEND_KINDS:
        raise FailedPrecondition(f"backend must be one of {BACKEND_KINDS}, got {kind!r}")
    if device not in DEVICES:
        raise FailedPrecondition(f"device must be one of {DEVICES}, got {device!r}")
    if threads < 0:
        raise FailedPrecondition(f"threads must be >= 0, got {threads}")
    if precision not in PRECISIONS:
        raise FailedPrecondition(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if kind == "onnxruntime":
        from emotion_service.backends.ort import OrtBackend

        return OrtBackend(
            bundle,
            device=device,
            precision=precision,
            threads=threads,
            trt_cache_dir=trt_cache_dir,
            max_batch=max_batch,
            warmup_sizes=warmup_sizes,
            allow_fallback=allow_fallback,
            allow_spinning=spinning,
        )
    from emotion_service.backends.pytorch import TorchBackend

    return TorchBackend(bundle, device=device, precision=precision, threads=threads)


def stack_rows(rows: Sequence[Any]) -> Any:
    """One batch from ``[3, H, W]`` rows: a numpy array, or a torch tensor on the device of the device rows.

    Rows from the CPU path (numpy) and from the GPU path (device tensors) may share a batch; the numpy rows
    are copied to the device then.
    """
    if all(isinstance(row, np.ndarray) for row in rows):
        return np.stack(rows)
    import torch

    device = next(row.device for row in rows if not isinstance(row, np.ndarray))
    return torch.stack([torch.from_numpy(row).to(device) if isinstance(row, np.ndarray) else row for row in rows])


def run_stacked(backend: Backend, batch: Any) -> np.ndarray:
    """Run a batch from :func:`stack_rows`: numpy through ``run``, a torch tensor through ``run_device``.

    A backend without ``run_device`` gets the tensor copied to the host.
    """
    if isinstance(batch, np.ndarray):
        return backend.run(batch)
    run_device = getattr(backend, "run_device", None)
    if run_device is not None:
        out: np.ndarray = run_device(batch)
        return out
    return backend.run(batch.detach().cpu().numpy())


def warmup_batches(backend: Backend, input_shape: tuple[int, int, int], batch_sizes: Sequence[int]) -> float:
    """Shared warm-up: run zeros of each batch size through ``backend``; returns elapsed seconds."""
    import time

    start = time.monotonic()
    for n in batch_sizes:
        if n < 1:
            raise ValueError(f"warm-up batch sizes must be >= 1, got {n}")
        backend.run(np.zeros((n, *input_shape), dtype=np.float32))
    return time.monotonic() - start
