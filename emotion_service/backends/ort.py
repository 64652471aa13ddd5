"""ONNX Runtime backend with the execution-provider chain chosen by ``--device``.

``auto`` = TensorRT EP (engine cache) -> CUDA EP -> CPU EP, keeping only the providers that
``onnxruntime.get_available_providers()`` offers. ONNX Runtime places each graph node on the first
provider of the chain that can run it, so the CPU EP is always last as the fallback. Precisions:
``fp32`` anywhere; ``int8`` (dynamic quantisation, CPU kernels) on the CPU EP only; ``fp16`` on GPU
providers only (the CPU EP would run it through slow fallbacks). With TensorRT first, ``fp16`` is
TensorRT's own fp16 mode on the fp32 graph (NVIDIA's recommended input: TensorRT picks the precision
per layer) and ``fp32`` keeps TensorRT in fp32.

After the session is created its ``get_providers()`` is compared with the chain asked for
(:func:`~emotion_service.backends.providers.check_providers`): a provider that could not load makes
start-up fail unless fallback is allowed, and then ``execution_provider``, ``providers`` and
``precision`` say what really runs. On GPU providers batches go through I/O binding (the input copied
to the device once, the output allocated there) and every batch size the batcher can form is warmed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from emotion_service.backends import warmup_batches
from emotion_service.backends.providers import (
    CPU,
    CUDA,
    TRT,
    binding_device,
    check_providers,
    default_trt_cache_dir,
    ensure_writable_dir,
    gpu_warmup_sizes,
    provider_chain,
)
from emotion_service.bundle import Bundle
from servicekit.errors import FailedPrecondition

__all__ = ["CPU", "CUDA", "TRT", "IoBindingRunner", "OrtBackend", "provider_chain"]


class IoBindingRunner:
    """Runs a session through I/O binding on ``device`` (``cuda`` on GPUs; ``cpu`` works too).

    The input is copied to the device once as an ``OrtValue`` and the output is allocated there by
    ONNX Runtime, so no pageable host buffer is staged per node; one binding per call keeps it thread-safe.
    """

    def __init__(self, session: Any, input_name: str, output_name: str, device: str, device_id: int = 0) -> None:
        self._session = session
        self._input = input_name
        self._output = output_name
        self.device = device
        self.device_id = device_id

    def run(self, pixels: np.ndarray) -> np.ndarray:
        """float32 ``[N, ...]`` on the host -> the first output, on the host."""
        binding = self._session.io_binding()
        value = ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(pixels), self.device, self.device_id)
        binding.bind_ortvalue_input(self._input, value)
        binding.bind_output(self._output, self.device, self.device_id)
        self._session.run_with_iobinding(binding)
        out: np.ndarray = binding.copy_outputs_to_cpu()[0]
        return out

    def run_tensor(self, batch: Any) -> np.ndarray:
        """A float32 torch tensor already on this runner's device -> the first output, on the host.

        The tensor's memory is bound in place (no copy); the caller has finished the work that wrote it.
        """
        if batch.dtype != _torch_float32() or not batch.is_contiguous():
            raise ValueError(f"expected a contiguous float32 tensor, got {batch.dtype}")
        if batch.device.type != self.device:
            raise ValueError(f"the tensor is on {batch.device}, this runner binds on {self.device}")
        binding = self._session.io_binding()
        binding.bind_input(
            self._input,
            device_type=self.device,
            device_id=batch.device.index or 0,
            element_type=np.float32,
            shape=tuple(batch.shape),
            buffer_ptr=batch.data_ptr(),
        )
        binding.bind_output(self._output, self.device, self.device_id)
        self._session.run_with_iobinding(binding)
        out: np.ndarray = binding.copy_outputs_to_cpu()[0]
        return out


def _torch_float32() -> Any:
    import torch

    return torch.float32


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
        warmup_sizes: Sequence[int] = (),
        allow_fallback: bool = False,
        allow_spinning: bool = False,
    ) -> None:
        prep = bundle.preprocessing
        self.input_shape = (3, prep.height, prep.width)
        self.num_labels = bundle.num_labels
        self.max_batch = max_batch
        chain = provider_chain(
            device,
            precision,
            ort.get_available_providers(),
            trt_cache_dir=trt_cache_dir or default_trt_cache_dir(),
            input_shape=self.input_shape,
            max_batch=max_batch,
            warmup_sizes=warmup_sizes,
        )
        on_trt = chain[0][0] == TRT
        if on_trt:
            ensure_writable_dir(Path(chain[0][1]["trt_engine_cache_path"]))
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
        running = check_providers(
            [name for name, _ in chain],
            self._session.get_providers(),
            precision=precision,
            file_precision=file_precision,
            allow_fallback=allow_fallback,
        )
        self.providers: tuple[str, ...] = running.running
        self.execution_provider = running.execution_provider
        self.precision = running.precision
        self.requested_precision = precision
        self.device = device
        self.threads = threads
        # Read back from the session, so what is reported is what ONNX Runtime was given.
        config = self._session.get_session_options()
        self.spinning = config.get_session_config_entry("session.intra_op.allow_spinning") != "0"
        self._input = self._session.get_inputs()[0].name
        self._output = self._session.get_outputs()[0].name
        bind_on = binding_device(self.execution_provider)
        self._bound = IoBindingRunner(self._session, self._input, self._output, bind_on) if bind_on else None

    def run(self, pixels: np.ndarray) -> np.ndarray:
        """float32 ``[N, 3, H, W]`` -> float32 logits ``[N, num_labels]``."""
        if pixels.dtype != np.float32 or pixels.ndim != 4 or tuple(pixels.shape[1:]) != self.input_shape:
            raise ValueError(
                f"expected float32 [N, {', '.join(map(str, self.input_shape))}], got {pixels.dtype} {pixels.shape}"
            )
        if pixels.shape[0] == 0:
            return np.zeros((0, self.num_labels), dtype=np.float32)
        if self._bound is not None:
            return self._bound.run(pixels).astype(np.float32, copy=False)
        out: np.ndarray = self._session.run([self._output], {self._input: np.ascontiguousarray(pixels)})[0]
        return out.astype(np.float32, copy=False)

    def run_device(self, batch: Any) -> np.ndarray:
        """A float32 torch tensor ``[N, 3, H, W]`` (GPU preprocessing) -> float32 logits on the host.

        On a GPU provider the device memory is bound in place; otherwise the tensor is viewed as numpy.
        """
        if self._bound is not None and batch.device.type == self._bound.device:
            if tuple(batch.shape[1:]) != self.input_shape:
                raise ValueError(f"expected [N, {', '.join(map(str, self.input_shape))}], got {tuple(batch.shape)}")
            return self._bound.run_tensor(batch.contiguous()).astype(np.float32, copy=False)
        return self.run(batch.detach().cpu().numpy())

    def warmup(self, batch_sizes: Sequence[int] = (1,)) -> float:
        """Run each batch size once (allocations, kernels, TensorRT engines); returns seconds.

        On a GPU provider every size 1..max_batch runs, whatever ``batch_sizes`` says.
        """
        sizes = gpu_warmup_sizes(self.execution_provider, batch_sizes, self.max_batch)
        return warmup_batches(self, self.input_shape, sizes)

    def __repr__(self) -> str:
        return f"OrtBackend(precision={self.precision!r}, providers={self.providers!r}, threads={self.threads})"
