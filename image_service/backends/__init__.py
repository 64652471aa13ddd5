"""Runtimes for the FLUX transformer behind one interface: torch, ONNX Runtime, TensorRT.

Text encoders, scheduler and VAE stay in diffusers; only the transformer (where the time goes) moves.
A backend's :meth:`TransformerBackend.install` puts its transformer into a loaded pipeline, and
``name`` is what responses report (``torch``, ``torch-compile``, ``onnxruntime-cpu``, ...).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

from servicekit.errors import FailedPrecondition


class BackendKind(enum.Enum):
    """The transformer runtimes a server can be configured with."""

    TORCH = "torch"
    ONNX = "onnx"
    TENSORRT = "tensorrt"


class TransformerBackend(Protocol):
    """Puts a runtime's transformer into a pipeline."""

    name: str

    def install(self, pipe: Any) -> None:
        """Replace or prepare ``pipe.transformer``; afterwards ``name`` says what runs it."""
        ...


@dataclass(frozen=True)
class BackendOptions:
    """What the backends need besides the pipeline."""

    kind: BackendKind
    device: torch.device
    dtype: torch.dtype
    onnx_path: Path | None = None
    torch_compile: bool = False
    ort_threads: int = 0
    engine_dir: Path | None = None
    profile: Any = None  # trt_backend.ShapeProfile for TensorRT


class OnnxBackend:
    """Runs the exported transformer with ONNX Runtime (TensorRT EP -> CUDA EP -> CPU EP)."""

    def __init__(self, options: BackendOptions) -> None:
        self.options = options
        self.name = "onnxruntime"

    def install(self, pipe: Any) -> None:
        """Open the session and swap the pipeline's transformer for the stand-in."""
        from image_service.backends.ort_backend import OrtTransformer, create_session

        opts = self.options
        assert opts.onnx_path is not None
        session = create_session(opts.onnx_path, opts.device, threads=opts.ort_threads, trt_cache_dir=opts.engine_dir)
        standin = OrtTransformer(session, pipe.transformer.config, opts.dtype, opts.device)
        pipe.transformer = standin
        self.name = standin.backend_name


class TensorRTBackend:
    """Runs a native TensorRT engine built from the exported ONNX (GPU and the tensorrt package only)."""

    name = "tensorrt"

    def __init__(self, options: BackendOptions) -> None:
        from image_service.backends.trt_backend import check_available

        self.options = options
        self._trt = check_available(options.device)

    def install(self, pipe: Any) -> None:
        """Build or load the engine and swap the pipeline's transformer for the stand-in."""
        from image_service.backends.trt_backend import TrtTransformer, build_engine, compute_capability

        opts = self.options
        assert opts.onnx_path is not None and opts.engine_dir is not None and opts.profile is not None
        config = pipe.transformer.config
        # Strongly typed: the engine's precision is the exported graph's dtype, no builder flag.
        engine = build_engine(
            self._trt,
            opts.onnx_path,
            opts.profile,
            config,
            opts.engine_dir,
            compute_capability=compute_capability(opts.device),
        )
        pipe.transformer = TrtTransformer(self._trt, engine, config, opts.dtype, opts.device)


def create_backend(options: BackendOptions, transformer_class: str) -> TransformerBackend:
    """The backend for ``options.kind``; FailedPrecondition when it cannot run this transformer here."""
    from image_service.backends.torch_backend import TorchBackend

    if options.kind is BackendKind.TORCH:
        return TorchBackend(compile=options.torch_compile)
    if transformer_class != "FluxTransformer2DModel":
        raise FailedPrecondition(
            f"backend {options.kind.value}: only FluxTransformer2DModel is exported; "
            f"{transformer_class} needs --backend torch"
        )
    if options.onnx_path is None:
        raise FailedPrecondition(f"backend {options.kind.value} needs an exported ONNX transformer (--onnx-dir)")
    if options.kind is BackendKind.ONNX:
        return OnnxBackend(options)
    return TensorRTBackend(options)
