"""Transformer on ONNX Runtime: TensorRT EP, then CUDA EP, then CPU EP, whichever this install has."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from image_service.backends.signature import OUTPUT_NAME, StandInTransformer
from servicekit.errors import FailedPrecondition

log = logging.getLogger("emoflux.image.ort")

PROVIDER_CHAIN: tuple[str, ...] = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
PROVIDER_NAMES = {
    "TensorrtExecutionProvider": "onnxruntime-tensorrt",
    "CUDAExecutionProvider": "onnxruntime-cuda",
    "CPUExecutionProvider": "onnxruntime-cpu",
}
_ORT_TO_NUMPY = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
}
_ORT_TO_TORCH = {
    "tensor(float)": torch.float32,
    "tensor(float16)": torch.float16,
    "tensor(bfloat16)": torch.bfloat16,
    "tensor(double)": torch.float64,
    "tensor(int64)": torch.int64,
}


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
    """A ``FluxTransformer2DModel`` stand-in computed by an ONNX Runtime session."""

    def __init__(self, session: Any, config: Any, dtype: torch.dtype, device: torch.device) -> None:
        super().__init__(config, dtype, device)
        self.session = session
        self.provider = session.get_providers()[0]
        self._input_types = {i.name: i.type for i in session.get_inputs()}
        self._use_binding = self.provider != "CPUExecutionProvider" and device.type == "cuda"

    @property
    def backend_name(self) -> str:
        """``onnxruntime-cpu`` / ``-cuda`` / ``-tensorrt`` after the provider that actually runs."""
        return PROVIDER_NAMES.get(self.provider, f"onnxruntime-{self.provider}")

    def run(self, feeds: dict[str, torch.Tensor]) -> torch.Tensor:
        """Run the session; on CUDA tensors stay on the device through I/O binding."""
        missing = set(self._input_types) - set(feeds)
        if missing:
            raise ValueError(f"onnx transformer: missing inputs {sorted(missing)}")
        if self._use_binding:
            return self._run_bound(feeds)
        arrays = {
            name: feeds[name].detach().to("cpu").numpy().astype(_ORT_TO_NUMPY[kind], copy=False)
            for name, kind in self._input_types.items()
        }
        (out,) = self.session.run([OUTPUT_NAME], arrays)
        return torch.from_numpy(np.ascontiguousarray(out)).to(device=self.device, dtype=self.dtype)

    def _run_bound(self, feeds: dict[str, torch.Tensor]) -> torch.Tensor:
        binding = self.session.io_binding()
        keep: list[torch.Tensor] = []  # inputs must outlive the run
        for name, kind in self._input_types.items():
            tensor = feeds[name].to(device=self.device, dtype=_ORT_TO_TORCH[kind]).contiguous()
            keep.append(tensor)
            binding.bind_input(
                name, "cuda", self.device.index or 0, _ORT_TO_NUMPY.get(kind, np.float16), tuple(tensor.shape),
                tensor.data_ptr(),
            )  # fmt: skip
        hidden = feeds["hidden_states"]
        out_channels = self.config.out_channels or self.config.in_channels
        out_kind = self.session.get_outputs()[0].type
        out = torch.empty(
            (hidden.shape[0], hidden.shape[1], out_channels), device=self.device, dtype=_ORT_TO_TORCH[out_kind]
        )
        binding.bind_output(
            OUTPUT_NAME, "cuda", self.device.index or 0, _ORT_TO_NUMPY.get(out_kind, np.float16), tuple(out.shape),
            out.data_ptr(),
        )  # fmt: skip
        torch.cuda.current_stream(self.device).synchronize()
        self.session.run_with_iobinding(binding)
        return out.to(self.dtype)
