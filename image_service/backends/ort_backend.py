"""Transformer on ONNX Runtime: TensorRT EP, then CUDA EP, then CPU EP, whichever this install has."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from onnx import TensorProto

from image_service.backends.signature import OUTPUT_NAME, StandInTransformer
from servicekit.errors import FailedPrecondition

log = logging.getLogger("emoflux.image.ort")

PROVIDER_CHAIN: tuple[str, ...] = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
PROVIDER_NAMES = {
    "TensorrtExecutionProvider": "onnxruntime-tensorrt",
    "CUDAExecutionProvider": "onnxruntime-cuda",
    "CPUExecutionProvider": "onnxruntime-cpu",
}
# ONNX element types by onnxruntime's type string. I/O binding takes these integers, so bfloat16 (which
# numpy has no type for) is bound as bfloat16, never reinterpreted as float16.
_ONNX_ELEMENT = {
    "tensor(float)": TensorProto.FLOAT,
    "tensor(float16)": TensorProto.FLOAT16,
    "tensor(bfloat16)": TensorProto.BFLOAT16,
    "tensor(double)": TensorProto.DOUBLE,
    "tensor(int64)": TensorProto.INT64,
    "tensor(int32)": TensorProto.INT32,
}
_ORT_TO_TORCH = {
    "tensor(float)": torch.float32,
    "tensor(float16)": torch.float16,
    "tensor(bfloat16)": torch.bfloat16,
    "tensor(double)": torch.float64,
    "tensor(int64)": torch.int64,
    "tensor(int32)": torch.int32,
}


def element_types(ort_type: str) -> tuple[int, torch.dtype]:
    """(ONNX element type, torch dtype) of an onnxruntime type string such as ``tensor(bfloat16)``.

    Raises:
        FailedPrecondition: a type the transformer's graph should not have.
    """
    if ort_type not in _ONNX_ELEMENT:
        raise FailedPrecondition(f"onnx transformer: unsupported tensor type {ort_type}")
    return _ONNX_ELEMENT[ort_type], _ORT_TO_TORCH[ort_type]


def bind_device(provider: str, device: torch.device) -> torch.device:
    """Where the bound tensors live: the pipeline's CUDA device on a GPU provider, else the host."""
    if provider != "CPUExecutionProvider" and device.type == "cuda":
        return torch.device("cuda", device.index or 0)
    return torch.device("cpu")


def provider_chain(available: list[str], device: torch.device) -> list[str]:
    """The providers to try, best first: GPU ones only when the pipeline runs on a CUDA device."""
    wanted = PROVIDER_CHAIN if device.type == "cuda" else ("CPUExecutionProvider",)
    chain = [p for p in wanted if p in available]
    if not chain:
        raise FailedPrecondition(f"onnx backend: none of {list(wanted)} is available (have {available})")
    return chain


def create_session(
    onnx_path: Path, device: torch.device, *, threads: int = 0, trt_cache_dir: Path | None = None
) -> Any:
    """An ``InferenceSession`` for ``onnx_path`` on the best available provider for ``device``."""
    import onnxruntime as ort

    if not onnx_path.is_file():
        raise FailedPrecondition(f"onnx backend: {onnx_path} does not exist; run python -m image_service.build.export")
    chain = provider_chain(ort.get_available_providers(), device)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads > 0:
        options.intra_op_num_threads = threads
    providers: list[Any] = []
    for name in chain:
        if name == "TensorrtExecutionProvider":
            trt_options: dict[str, Any] = {"trt_fp16_enable": True}
            if trt_cache_dir is not None:
                trt_cache_dir.mkdir(parents=True, exist_ok=True)
                trt_options |= {"trt_engine_cache_enable": True, "trt_engine_cache_path": str(trt_cache_dir)}
            providers.append((name, trt_options))
        elif name == "CUDAExecutionProvider":
            providers.append((name, {"device_id": device.index or 0}))
        else:
            providers.append(name)
    session = ort.InferenceSession(str(onnx_path), sess_options=options, providers=providers)
    log.info("onnx transformer %s on %s", onnx_path, session.get_providers())
    return session


class OrtTransformer(StandInTransformer):
    """A ``FluxTransformer2DModel`` stand-in computed by an ONNX Runtime session.

    Every call goes through I/O binding with each tensor bound under its ONNX element type (bf16 stays
    bf16: numpy has no bfloat16, so no ``.numpy()`` round trip): on a GPU provider the pipeline's CUDA
    tensors are bound in place, on the CPU EP host tensors are.
    """

    def __init__(self, session: Any, config: Any, dtype: torch.dtype, device: torch.device) -> None:
        super().__init__(config, dtype, device)
        self.session = session
        self.provider = session.get_providers()[0]
        self._input_types = {i.name: element_types(i.type) for i in session.get_inputs()}
        self._output_type = element_types(session.get_outputs()[0].type)
        self._bind_on = bind_device(self.provider, device)

    @property
    def backend_name(self) -> str:
        """``onnxruntime-cpu`` / ``-cuda`` / ``-tensorrt`` after the provider that actually runs."""
        return PROVIDER_NAMES.get(self.provider, f"onnxruntime-{self.provider}")

    def run(self, feeds: dict[str, torch.Tensor]) -> torch.Tensor:
        """Bind the inputs and a preallocated output on the binding device, run, return in the pipeline's dtype."""
        missing = set(self._input_types) - set(feeds)
        if missing:
            raise ValueError(f"onnx transformer: missing inputs {sorted(missing)}")
        where = self._bind_on
        binding = self.session.io_binding()
        keep: list[torch.Tensor] = []  # inputs must outlive the run
        for name, (element, torch_type) in self._input_types.items():
            tensor = feeds[name].detach().to(device=where, dtype=torch_type).contiguous()
            keep.append(tensor)
            binding.bind_input(name, where.type, where.index or 0, element, tuple(tensor.shape), tensor.data_ptr())
        hidden = feeds["hidden_states"]
        out_channels = self.config.out_channels or self.config.in_channels
        element, torch_type = self._output_type
        out = torch.empty((hidden.shape[0], hidden.shape[1], out_channels), device=where, dtype=torch_type)
        binding.bind_output(OUTPUT_NAME, where.type, where.index or 0, element, tuple(out.shape), out.data_ptr())
        if where.type == "cuda":
            torch.cuda.current_stream(where).synchronize()  # the inputs were written on torch's stream
        self.session.run_with_iobinding(binding)
        return out.to(device=self.device, dtype=self.dtype)
