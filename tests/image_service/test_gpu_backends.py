"""GPU decisions of the image backends, on CPU.

ONNX Runtime: a real session over a small bf16 graph with the transformer's signature runs through
``OrtTransformer`` (I/O binding on the host, the same code the CUDA provider uses). TensorRT cannot load
here: a stand-in ``tensorrt`` module (the vendor boundary) records what the engine builder is asked, with
the API surface of TensorRT 10 (weak-typing flags deprecated) or 11 (``BuilderFlag.FP16``/``BF16`` gone).
"""

from __future__ import annotations

import enum
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper

from image_service.backends.ort_backend import OrtTransformer, bind_device, element_types
from image_service.backends.signature import BASE_INPUTS, OUTPUT_NAME
from image_service.backends.trt_backend import (
    ShapeProfile,
    TrtTransformer,
    build_engine,
    check_version,
    engine_cache_key,
    network_flags,
)
from image_service.settings import ImageSettings
from servicekit.errors import FailedPrecondition, InvalidInput

CHANNELS = 4
CONFIG = SimpleNamespace(
    in_channels=CHANNELS, out_channels=None, joint_attention_dim=8, pooled_projection_dim=8, guidance_embeds=False
)
PROFILE = ShapeProfile(batch=(1, 2, 4), img_seq=(16, 64, 256), txt_seq=(8, 8, 16))


# -- 4. ONNX Runtime binds with the ONNX element type -----------------------------------------------------
def bf16_transformer_graph() -> bytes:
    """sample = 2 * hidden_states, in bfloat16 end to end; the other inputs are declared like the export's."""
    bf16, i64 = TensorProto.BFLOAT16, TensorProto.INT64
    inputs = [
        helper.make_tensor_value_info("hidden_states", bf16, ["b", "s", CHANNELS]),
        helper.make_tensor_value_info("encoder_hidden_states", bf16, ["b", "t", 8]),
        helper.make_tensor_value_info("pooled_projections", bf16, ["b", 8]),
        helper.make_tensor_value_info("timestep", bf16, ["b"]),
        helper.make_tensor_value_info("img_ids", i64, ["s", 3]),
        helper.make_tensor_value_info("txt_ids", i64, ["t", 3]),
    ]
    nodes = [
        helper.make_node("Cast", ["hidden_states"], ["h32"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["h32", "h32"], ["y32"]),
        helper.make_node("Cast", ["y32"], [OUTPUT_NAME], to=bf16),
    ]
    output = helper.make_tensor_value_info(OUTPUT_NAME, bf16, ["b", "s", CHANNELS])
    model = helper.make_model(
        helper.make_graph(nodes, "bf16", inputs, [output]), opset_imports=[helper.make_opsetid("", 20)]
    )
    model.ir_version = 10
    return model.SerializeToString()


def feeds(batch: int = 2, img_seq: int = 16, txt_seq: int = 8) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(5)
    return {
        "hidden_states": torch.randn(batch, img_seq, CHANNELS, generator=gen, dtype=torch.float32).bfloat16(),
        "encoder_hidden_states": torch.randn(batch, txt_seq, 8, generator=gen).bfloat16(),
        "pooled_projections": torch.randn(batch, 8, generator=gen).bfloat16(),
        "timestep": torch.rand(batch, generator=gen).bfloat16(),
        "img_ids": torch.zeros(img_seq, 3),
        "txt_ids": torch.zeros(txt_seq, 3),
    }


def test_a_bf16_graph_runs_with_bf16_bindings() -> None:
    session = ort.InferenceSession(bf16_transformer_graph(), providers=["CPUExecutionProvider"])
    standin = OrtTransformer(session, CONFIG, torch.bfloat16, torch.device("cpu"))
    inputs = feeds()
    out = standin.run(inputs)
    assert out.dtype == torch.bfloat16 and out.shape == inputs["hidden_states"].shape
    assert torch.equal(out, inputs["hidden_states"] * 2)  # exact: doubling is exact in bf16
    # the pipeline's float32 latents are converted to the graph's bf16 and back
    float_standin = OrtTransformer(session, CONFIG, torch.float32, torch.device("cpu"))
    assert torch.equal(float_standin.run(inputs), (inputs["hidden_states"] * 2).float())


def test_element_types_and_binding_device() -> None:
    assert element_types("tensor(bfloat16)") == (TensorProto.BFLOAT16, torch.bfloat16)
    assert element_types("tensor(float16)") == (TensorProto.FLOAT16, torch.float16)
    assert element_types("tensor(int64)") == (TensorProto.INT64, torch.int64)
    with pytest.raises(FailedPrecondition, match=r"unsupported tensor type tensor\(string\)"):
        element_types("tensor(string)")
    assert bind_device("CUDAExecutionProvider", torch.device("cuda", 1)) == torch.device("cuda", 1)
    assert bind_device("TensorrtExecutionProvider", torch.device("cuda")) == torch.device("cuda", 0)
    assert bind_device("CPUExecutionProvider", torch.device("cuda")) == torch.device("cpu")
    assert bind_device("CUDAExecutionProvider", torch.device("cpu")) == torch.device("cpu")


# -- 3. TensorRT: strongly typed networks on 10 and 11 ------------------------------------------------------
class FakeTrt:
    """The parts of the ``tensorrt`` module the engine builder touches; records the calls."""

    def __init__(self, version: str, *, weak_typing_flags: bool, build_fails: bool = False) -> None:
        self.__version__ = version
        typed = {"STRONGLY_TYPED": 1} if int(version.split(".")[0]) >= 10 else {"EXPLICIT_BATCH": 0}
        self.NetworkDefinitionCreationFlag = enum.IntEnum("NetworkDefinitionCreationFlag", typed)
        flags = {"TF32": 7, "FP16": 0, "BF16": 17} if weak_typing_flags else {"TF32": 7}
        self.BuilderFlag = enum.IntEnum("BuilderFlag", flags)
        self.calls: list[tuple[str, Any]] = []
        self.build_fails = build_fails
        fake = self

        class Logger:
            WARNING = 2

            def __init__(self, level: int) -> None:
                pass

        class Network:
            num_inputs = len(BASE_INPUTS)

            def get_input(self, index: int) -> Any:
                return SimpleNamespace(name=BASE_INPUTS[index])

        class Config:
            def set_flag(self, flag: Any) -> None:
                fake.calls.append(("set_flag", flag))

            def add_optimization_profile(self, profile: Any) -> None:
                fake.calls.append(("profile", dict(profile.shapes)))

        class Profile:
            def __init__(self) -> None:
                self.shapes: dict[str, Any] = {}

            def set_shape(self, name: str, low: Any, opt: Any, high: Any) -> None:
                self.shapes[name] = (low, opt, high)

        class Builder:
            def __init__(self, logger: Any) -> None:
                pass

            def create_network(self, flags: int) -> Network:
                fake.calls.append(("create_network", flags))
                return Network()

            def create_builder_config(self) -> Config:
                return Config()

            def create_optimization_profile(self) -> Profile:
                return Profile()

            def build_serialized_network(self, network: Any, config: Any) -> bytes | None:
                fake.calls.append(("build", None))
                return None if fake.build_fails else b"plan"

        class OnnxParser:
            num_errors = 0

            def __init__(self, network: Any, logger: Any) -> None:
                pass

            def parse_from_file(self, path: str) -> bool:
                return True

        self.Logger, self.Builder, self.OnnxParser = Logger, Builder, OnnxParser


@pytest.fixture
def onnx_file(tmp_path: Path) -> Path:
    path = tmp_path / "transformer.onnx"
    path.write_bytes(b"graph")
    return path


@pytest.mark.parametrize("version", ["10.13.3", "11.4.0"])
def test_engines_are_strongly_typed_without_precision_flags(version: str, onnx_file: Path, tmp_path: Path) -> None:
    trt = FakeTrt(version, weak_typing_flags=version.startswith("10"))
    assert check_version(trt) == int(version.split(".")[0])
    plan = build_engine(trt, onnx_file, PROFILE, CONFIG, tmp_path / "engines", compute_capability="sm_90")
    assert plan == b"plan"
    assert ("create_network", 1 << 1) in trt.calls  # STRONGLY_TYPED, the exported dtype decides
    assert not [c for c in trt.calls if c[0] == "set_flag"]  # no FP16/BF16 flag: a bf16 export stays bf16
    (_, shapes), *_ = [c for c in trt.calls if c[0] == "profile"]
    assert shapes["hidden_states"] == ((1, 16, CHANNELS), (2, 64, CHANNELS), (4, 256, CHANNELS))
    # the second build is a cache hit
    trt.calls.clear()
    assert build_engine(trt, onnx_file, PROFILE, CONFIG, tmp_path / "engines", compute_capability="sm_90") == plan
    assert trt.calls == []
    (engine,) = (tmp_path / "engines").iterdir()
    assert engine.name.startswith("transformer-sm_90-")


def test_unsupported_tensorrt_versions_are_refused() -> None:
    with pytest.raises(FailedPrecondition, match=r"tensorrt 8.6.1 is not supported.*10 or 11"):
        check_version(FakeTrt("8.6.1", weak_typing_flags=True))
    with pytest.raises(FailedPrecondition, match=r"tensorrt 12\.0\.0 is not supported"):
        check_version(FakeTrt("12.0.0", weak_typing_flags=False))
    assert network_flags(FakeTrt("11.4.0", weak_typing_flags=False)) == 2


def test_engine_cache_key_names_the_gpu_and_tensorrt(onnx_file: Path) -> None:
    key = engine_cache_key(onnx_file, PROFILE, trt_version="11.4.0", compute_capability="sm_90")
    assert key != engine_cache_key(onnx_file, PROFILE, trt_version="11.4.0", compute_capability="sm_89")
    assert key != engine_cache_key(onnx_file, PROFILE, trt_version="10.13.3", compute_capability="sm_90")
    other = ShapeProfile(batch=(1, 2, 8), img_seq=PROFILE.img_seq, txt_seq=PROFILE.txt_seq)
    assert key != engine_cache_key(onnx_file, other, trt_version="11.4.0", compute_capability="sm_90")
    assert key == engine_cache_key(onnx_file, PROFILE, trt_version="11.4.0", compute_capability="sm_90")


def test_a_failed_build_is_a_clear_error(onnx_file: Path, tmp_path: Path) -> None:
    trt = FakeTrt("11.4.0", weak_typing_flags=False, build_fails=True)
    with pytest.raises(FailedPrecondition, match="failed to build an engine"):
        build_engine(trt, onnx_file, PROFILE, CONFIG, tmp_path, compute_capability="sm_90")


class FakeRuntime:
    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def deserialize_cuda_engine(self, data: bytes) -> Any:
        return self.engine


def _trt_with_runtime(engine: Any) -> Any:
    trt = FakeTrt("11.4.0", weak_typing_flags=False)
    trt.Runtime = lambda logger: FakeRuntime(engine)  # type: ignore[attr-defined]
    trt.float32, trt.float16, trt.bfloat16, trt.int64, trt.int32 = "f32", "f16", "bf16", "i64", "i32"  # type: ignore[attr-defined]
    return trt


def test_an_engine_that_does_not_deserialize_is_a_clear_error() -> None:
    with pytest.raises(FailedPrecondition, match="could not deserialize the cached engine"):
        TrtTransformer(_trt_with_runtime(None), b"stale", CONFIG, torch.bfloat16, torch.device("cpu"))


def test_a_shape_outside_the_profile_is_invalid_input() -> None:
    shapes_set: list[str] = []

    class Context:
        def set_input_shape(self, name: str, shape: tuple[int, ...]) -> bool:
            shapes_set.append(name)
            return shape[0] <= 4  # the engine's profile stops at batch 4

        def set_tensor_address(self, name: str, address: int) -> None:
            pass

    engine = SimpleNamespace(create_execution_context=Context, get_tensor_dtype=lambda name: "bf16")
    standin = TrtTransformer(_trt_with_runtime(engine), b"plan", CONFIG, torch.bfloat16, torch.device("cpu"))
    with pytest.raises(InvalidInput, match=r"input hidden_states of shape \(8, 16, 4\) lies outside"):
        standin.run(feeds(batch=8))
    assert shapes_set == ["hidden_states"]


# -- engine cache directory of the image service ---------------------------------------------------------
def test_engine_cache_dir_setting_moves_engines_off_the_export(tmp_path: Path) -> None:
    from image_service.component import backend_options
    from image_service.sources import resolve
    from tests.image_service.conftest import MODELS_DIR, server_settings

    settings = server_settings(backend="onnx")
    source = resolve(settings.default_variant, {}, MODELS_DIR)
    assert backend_options(settings, source).engine_dir == MODELS_DIR / f"{source.spec.name}-onnx" / "engines"
    cached = server_settings(backend="onnx", engine_cache_dir=tmp_path / "engines")
    assert backend_options(cached, source).engine_dir == tmp_path / "engines" / source.spec.name
    loaded = ImageSettings.load([], {"IMAGE_ENGINE_CACHE_DIR": "/var/cache/emoflux/image-engines"})
    assert loaded.engine_cache_dir == Path("/var/cache/emoflux/image-engines")
