"""ONNX Runtime backend with the execution-provider chain chosen by ``--device``.

``auto`` = TensorRT EP (engine cache) -> CUDA EP -> CPU EP, keeping only the providers that
``onnxruntime.get_available_providers()`` offers. ONNX Runtime places each graph node on the first
provider of the chain that can run it, so the CPU EP is always last as the fallback. Precisions:
``fp32`` anywhere; ``int8`` (dynamic quantisation, CPU kernels) on the CPU EP only; ``fp16`` on GPU
providers only (the CPU EP would run it through slow fallbacks). With TensorRT first, ``fp16`` is
TensorRT's own fp16 mode on the fp32 graph (NVIDIA's recommended input: TensorRT picks the precision
per layer) and ``fp32`` keeps TensorRT in fp32, so the reported precision is what actually runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from emotion_service.backends import warmup_batches
from emotion_service.bundle import Bundle
from servicekit.errors import FailedPrecondition

TRT = "TensorrtExecutionProvider"
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


def provider_chain(
    device: str,
    precision: str,
    available: Sequence[str],
    *,
    trt_cache_dir: Path,
    input_name: str = "pixel_values",
    input_shape: tuple[int, int, int] = (3, 224, 224),
    max_batch: int = 64,
) -> list[tuple[str, dict[str, Any]]]:
    """The (provider, options) list for ``device`` and ``precision`` given the ``available`` providers.

    Raises:
        FailedPrecondition: an explicitly requested provider is missing, or the precision cannot run on it.
    """
    have = set(available)
    shape = "x".join(str(d) for d in input_shape)
    trt_options: dict[str, Any] = {
        "trt_fp16_enable": precision == "fp16",
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": str(trt_cache_dir),
        "trt_timing_cache_enable": True,
        "trt_timing_cache_path": str(trt_cache_dir),
        # One optimisation profile covering the dynamic batch axis: no engine rebuild per batch size.
        "trt_profile_min_shapes": f"{input_name}:1x{shape}",
        "trt_profile_opt_shapes": f"{input_name}:{max(1, max_batch // 2)}x{shape}",
        "trt_profile_max_shapes": f"{input_name}:{max_batch}x{shape}",
    }
    cuda: tuple[str, dict[str, Any]] = (CUDA, {})
    cpu: tuple[str, dict[str, Any]] = (CPU, {})

    def missing(name: str) -> FailedPrecondition:
        return FailedPrecondition(
            f"device {device!r} needs {name}, which this onnxruntime does not offer (available: "
            f"{', '.join(available) or 'none'}); install onnxruntime-gpu (and TensorRT) or use --device cpu"
        )

    if precision == "int8":
        if device in ("cuda", "tensorrt"):
            raise FailedPrecondition(
                f"precision 'int8' is dynamic quantisation for the CPU EP; on device {device!r} use fp32 or fp16"
            )
        return [cpu]
    if precision == "fp16" and device == "cpu":
        raise FailedPrecondition("precision 'fp16' is for GPU providers; on device 'cpu' use fp32 or int8")
    if device == "cpu":
        return [cpu]
    if device == "cuda":
        if CUDA not in have:
            raise missing(CUDA)
        return [cuda, cpu]
    if device == "tensorrt":
        if TRT not in have:
            raise missing(TRT)
        return [(TRT, trt_options), *([cuda] if CUDA in have else []), cpu]
    if device != "auto":
        raise FailedPrecondition(f"device must be auto, cpu, cuda or tensorrt, got {device!r}")
    chain = [(TRT, trt_options)] if TRT in have else []
    chain += [cuda] if CUDA in have else []
    if precision == "fp16" and not chain:
        raise FailedPrecondition(
            f"precision 'fp16' needs a GPU provider; this onnxruntime offers {', '.join(available)}: use fp32 or int8"
        )
    return [*chain, cpu]


class OrtBackend:
    """An ``onnxruntime.InferenceSession`` over one of the bundle's ONNX files (``run`` is thread-safe)."""

    name = "onnxruntime"

    def __init__(
        self,
        bundle: Bundle,
        *,
        device: str = "auto",
        precision: str = "fp32",
        threads: int = 0,
        trt_cache_dir: Path | None = None,
        max_batch: int = 64,
        allow_spinning: bool = False,
    ) -> None:
        prep = bundle.preprocessing
        self.input_shape = (3, prep.height, prep.width)
        self.num_labels = bundle.num_labels
        chain = provider_chain(
            device,
            precision,
            ort.get_available_providers(),
            trt_cache_dir=trt_cache_dir or bundle.path / "trt_cache",
            input_shape=self.input_shape,
            max_batch=max_batch,
        )
        on_trt = chain[0][0] == TRT
        if on_trt:
            Path(chain[0][1]["trt_engine_cache_path"]).mkdir(parents=True, exist_ok=True)
        # TensorRT makes its own fp16 engine from the fp32 graph; every other provider runs the precision's file.
        file_precision = "fp32" if (on_trt and precision == "fp16") else precision
        if file_precision not in bundle.onnx_files:
            raise FailedPrecondition(
                f"precision {precision!r} needs the {file_precision} ONNX file, which the bundle at {bundle.path} "
                f"lacks (it has {', '.join(bundle.precisions)}); export it with --precision {file_precision}"
            )
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Spinning workers keep polling for work between operators and between runs: measured on the tiny
        # model, 2.5x the CPU per batch-1 run on 2 cores, CPU that the event loop and decoding need, and
        # idle burn that a CPU-based autoscaler reads as load (docs/emotion.md, "Host path"). Off by default.
        spin = "1" if allow_spinning else "0"
        options.add_session_config_entry("session.intra_op.allow_spinning", spin)
        options.add_session_config_entry("session.inter_op.allow_spinning", spin)
        try:
            self._session = ort.InferenceSession(
                str(bundle.onnx_files[file_precision]),
                options,
                providers=[name for name, _ in chain],
                provider_options=[opts for _, opts in chain],
            )
        except Exception as exc:  # onnxruntime raises its own error types (Fail, InvalidGraph, ...)
            raise FailedPrecondition(
                f"onnxruntime could not load {bundle.onnx_files[file_precision].name} on {[n for n, _ in chain]}: {exc}"
            ) from exc
        self.providers: tuple[str, ...] = tuple(self._session.get_providers())
        self.execution_provider = self.providers[0]
        self.precision = precision
        self.device = device
        self.threads = threads
        # Read back from the session, so what is reported is what ONNX Runtime was given.
        config = self._session.get_session_options()
        self.spinning = config.get_session_config_entry("session.intra_op.allow_spinning") != "0"
        self._input = self._session.get_inputs()[0].name
        self._output = self._session.get_outputs()[0].name

    def run(self, pixels: np.ndarray) -> np.ndarray:
        """float32 ``[N, 3, H, W]`` -> float32 logits ``[N, num_labels]``."""
        if pixels.dtype != np.float32 or pixels.ndim != 4 or tuple(pixels.shape[1:]) != self.input_shape:
            raise ValueError(
                f"expected float32 [N, {', '.join(map(str, self.input_shape))}], got {pixels.dtype} {pixels.shape}"
            )
        if pixels.shape[0] == 0:
            return np.zeros((0, self.num_labels), dtype=np.float32)
        out: np.ndarray = self._session.run([self._output], {self._input: np.ascontiguousarray(pixels)})[0]
        return out.astype(np.float32, copy=False)

    def warmup(self, batch_sizes: Sequence[int] = (1,)) -> float:
        """Run each batch size once (allocations, kernels, TensorRT engines); returns seconds."""
        return warmup_batches(self, self.input_shape, batch_sizes)

    def __repr__(self) -> str:
        return f"OrtBackend(precision={self.precision!r}, providers={self.providers!r}, threads={self.threads})"
