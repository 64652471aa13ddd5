"""Transformer on a native TensorRT engine built from the exported ONNX with dynamic-shape profiles.

Needs the ``tensorrt`` package (10 or 11) and a CUDA device; without them :func:`check_available` raises
FailedPrecondition with the reason. Networks are strongly typed: the engine runs in the exported dtype.
Engines are cached in the engine directory, keyed by the ONNX file, the profile, TensorRT's version and
the GPU's compute capability.
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
from servicekit.errors import FailedPrecondition, InvalidInput

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


SUPPORTED_TRT_MAJORS: tuple[int, ...] = (10, 11)


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
    check_version(trt)
    return trt


def check_version(trt: Any) -> int:
    """The TensorRT major version, when it is one this backend builds for (10 or 11).

    Raises:
        FailedPrecondition: another major version, or a build without strongly typed networks.
    """
    version = str(getattr(trt, "__version__", "0"))
    major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
    if major not in SUPPORTED_TRT_MAJORS:
        raise FailedPrecondition(
            f"tensorrt {version} is not supported: the backend builds strongly typed networks with TensorRT "
            f"{' or '.join(map(str, SUPPORTED_TRT_MAJORS))} (see the version matrix in docs/deploy.md)"
        )
    if not hasattr(trt.NetworkDefinitionCreationFlag, "STRONGLY_TYPED"):
        raise FailedPrecondition(f"tensorrt {version} has no strongly typed networks (NetworkDefinitionCreationFlag)")
    return major


def network_flags(trt: Any) -> int:
    """``create_network`` flags: strongly typed, so every layer runs in the dtype the ONNX graph declares.

    TensorRT 10 deprecated and TensorRT 11 removed the weak-typing builder flags (``BuilderFlag.FP16`` /
    ``BF16``); with a strongly typed network a bf16 export builds a bf16 engine and an fp16 export an fp16
    one, with no flag to get wrong. ``EXPLICIT_BATCH`` is implied since TensorRT 10 and is not set.
    """
    return 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)


def compute_capability(device: torch.device) -> str:
    """``sm_XY`` of ``device``: an engine only runs on the architecture it was built for."""
    major, minor = torch.cuda.get_device_capability(device)
    return f"sm_{major}{minor}"


def engine_cache_key(onnx_path: Path, profile: ShapeProfile, *, trt_version: str, compute_capability: str) -> str:
    """Key of a cached engine: the ONNX file (size, mtime), the profile, TensorRT's version and the GPU."""
    stat = onnx_path.stat()
    payload = {
        "onnx": [stat.st_size, stat.st_mtime_ns],
        "profile": asdict(profile),
        "trt": trt_version,
        "gpu": compute_capability,
        "typing": "strong",
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def build_engine(
    trt: Any, onnx_path: Path, profile: ShapeProfile, config: Any, engine_dir: Path, *, compute_capability: str
) -> bytes:
    """Build (or load from ``engine_dir``) a serialized, strongly typed engine for ``onnx_path`` and ``profile``.

    The engine's precision is the exported graph's dtype (export in bfloat16 for a bf16 engine).
    """
    key = engine_cache_key(onnx_path, profile, trt_version=str(trt.__version__), compute_capability=compute_capability)
    engine_path = engine_dir / f"transformer-{compute_capability}-{key}.plan"
    if engine_path.is_file():
        return engine_path.read_bytes()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(network_flags(trt))
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise FailedPrecondition(f"tensorrt could not parse {onnx_path}: {errors}")
    builder_config = builder.create_builder_config()
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
        if self._engine is None:
            # A plan from another TensorRT version or GPU architecture deserialises to None, not an error.
            raise FailedPrecondition(
                "tensorrt could not deserialize the cached engine (built by another TensorRT version or for "
                "another GPU?); delete it from the engine directory to rebuild"
            )
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
            if not self._context.set_input_shape(name, tuple(tensor.shape)):
                raise InvalidInput(
                    f"tensorrt: input {name} of shape {tuple(tensor.shape)} lies outside the engine's "
                    f"optimisation profile (see --max-batch-images and the variant's sizes)"
                )
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
