"""Transformer on a native TensorRT engine built from the exported ONNX with dynamic-shape profiles.

Needs the ``tensorrt`` package and a CUDA device; without them :func:`check_available` raises
FailedPrecondition with the reason. Engines are cached next to the ONNX file, keyed by the profile.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from image_service.backends.signature import OUTPUT_NAME, StandInTransformer, input_names
from servicekit.errors import FailedPrecondition

log = logging.getLogger("emoflux.image.tensorrt")


@dataclass(frozen=True)
class ShapeProfile:
    """Min / optimal / max of the dynamic dimensions (batch counts images, doubled for true CFG)."""

    batch: tuple[int, int, int]
    img_seq: tuple[int, int, int]
    txt_seq: tuple[int, int, int]

    def shapes(self, name: str, config: Any) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """(min, opt, max) shapes of input ``name``."""
        fixed = {
            "hidden_states": (config.in_channels,),
            "encoder_hidden_states": (config.joint_attention_dim,),
            "pooled_projections": (config.pooled_projection_dim,),
            "img_ids": (3,),
            "txt_ids": (3,),
        }.get(name, ())
        leading = {
            "hidden_states": (self.batch, self.img_seq),
            "encoder_hidden_states": (self.batch, self.txt_seq),
            "img_ids": (self.img_seq,),
            "txt_ids": (self.txt_seq,),
        }.get(name, (self.batch,))
        low, opt, high = (tuple(axis[i] for axis in leading) + fixed for i in range(3))
        return low, opt, high


def check_available(device: torch.device) -> Any:
    """Return the ``tensorrt`` module, or raise FailedPrecondition saying what is missing."""
    if device.type != "cuda" or not torch.cuda.is_available():
        raise FailedPrecondition("tensorrt backend needs a CUDA device (set --device cuda on a machine with a GPU)")
    try:
        import tensorrt as trt
    except ImportError as exc:
        raise FailedPrecondition(
            "tensorrt backend needs the tensorrt package (pip install 'emoflux[gpu]'); use --backend onnx or torch"
        ) from exc
    return trt


def build_engine(trt: Any, onnx_path: Path, profile: ShapeProfile, config: Any, engine_dir: Path, fp16: bool) -> bytes:
    """Build (or load from ``engine_dir``) a serialized engine for ``onnx_path`` and ``profile``."""
    key = hashlib.sha256(
        json.dumps({"onnx": onnx_path.stat().st_size, "mtime": onnx_path.stat().st_mtime_ns, "profile": asdict(profile),
                    "fp16": fp16, "trt": trt.__version__}, sort_keys=True).encode()
    ).hexdigest()[:16]  # fmt: skip
    engine_path = engine_dir / f"transformer-{key}.plan"
    if engine_path.is_file():
        return engine_path.read_bytes()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise FailedPrecondition(f"tensorrt could not parse {onnx_path}: {errors}")
    builder_config = builder.create_builder_config()
    if fp16:
        builder_config.set_flag(trt.BuilderFlag.FP16)
    opt_profile = builder.create_optimization_profile()
    for index in range(network.num_inputs):
        name = network.get_input(index).name
        opt_profile.set_shape(name, *profile.shapes(name, config))
    builder_config.add_optimization_profile(opt_profile)
    serialized = builder.build_serialized_network(network, builder_config)
    if serialized is None:
        raise FailedPrecondition(f"tensorrt failed to build an engine from {onnx_path}")
    engine_dir.mkdir(parents=True, exist_ok=True)
    data = bytes(serialized)
    engine_path.write_bytes(data)
    log.info("built tensorrt engine %s", engine_path)
    return data


class TrtTransformer(StandInTransformer):
    """A ``FluxTransformer2DModel`` stand-in computed by a TensorRT execution context on CUDA tensors."""

    backend_name = "tensorrt"

    def __init__(self, trt: Any, engine_bytes: bytes, config: Any, dtype: torch.dtype, device: torch.device) -> None:
        super().__init__(config, dtype, device)
        self._runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        self._engine = self._runtime.deserialize_cuda_engine(engine_bytes)
        self._context = self._engine.create_execution_context()
        self._torch_dtypes = {
            name: _torch_dtype(trt, self._engine.get_tensor_dtype(name))
            for name in (*input_names(bool(config.guidance_embeds)), OUTPUT_NAME)
        }

    def run(self, feeds: dict[str, torch.Tensor]) -> torch.Tensor:
        """Bind device pointers, set the input shapes, enqueue on the current stream and wait."""
        keep: list[torch.Tensor] = []
        for name in input_names(bool(self.config.guidance_embeds)):
            tensor = feeds[name].to(device=self.device, dtype=self._torch_dtypes[name]).contiguous()
            keep.append(tensor)
            self._context.set_input_shape(name, tuple(tensor.shape))
            self._context.set_tensor_address(name, tensor.data_ptr())
        hidden = feeds["hidden_states"]
        out_channels = self.config.out_channels or self.config.in_channels
        out = torch.empty(
            (hidden.shape[0], hidden.shape[1], out_channels), device=self.device, dtype=self._torch_dtypes[OUTPUT_NAME]
        )
        self._context.set_tensor_address(OUTPUT_NAME, out.data_ptr())
        stream = torch.cuda.current_stream(self.device)
        if not self._context.execute_async_v3(stream.cuda_stream):
            raise RuntimeError("tensorrt execution failed")
        stream.synchronize()
        return out.to(self.dtype)


def _torch_dtype(trt: Any, dtype: Any) -> torch.dtype:
    table = {trt.float32: torch.float32, trt.float16: torch.float16, trt.int64: torch.int64, trt.int32: torch.int32}
    if hasattr(trt, "bfloat16"):
        table[trt.bfloat16] = torch.bfloat16
    return table[dtype]
