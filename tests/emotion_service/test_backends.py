"""ONNX Runtime and PyTorch backends on a real bundle: agreement, provider selection, thread safety."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from emotion_service.backends import Backend, create_backend
from emotion_service.backends.ort import CPU, CUDA, TRT, OrtBackend, provider_chain
from emotion_service.build.onnx_convert import DEFAULT_TOLERANCES
from emotion_service.bundle import Bundle, load_bundle
from emotion_service.preprocess import softmax
from servicekit.errors import FailedPrecondition


@pytest.fixture(scope="module")
def bundle(tiny_bundle: Path) -> Bundle:
    return load_bundle(tiny_bundle)


@pytest.fixture(scope="module")
def pixels(bundle: Bundle) -> np.ndarray:
    prep = bundle.preprocessing
    return np.random.default_rng(7).uniform(-1, 1, (6, 3, prep.height, prep.width)).astype(np.float32)


@pytest.fixture(scope="module")
def torch_backend(bundle: Bundle) -> Backend:
    return create_backend(bundle, kind="torch", device="cpu")


def test_onnxruntime_fp32_matches_torch(bundle: Bundle, pixels: np.ndarray, torch_backend: Backend) -> None:
    backend = create_backend(bundle, device="cpu", precision="fp32", threads=1)
    assert isinstance(backend, Backend)
    assert (backend.name, backend.execution_provider, backend.providers, backend.precision) == (
        "onnxruntime",
        CPU,
        (CPU,),
        "fp32",
    )
    assert (torch_backend.name, torch_backend.execution_provider, torch_backend.precision) == ("torch", "cpu", "fp32")
    ours, reference = backend.run(pixels), torch_backend.run(pixels)
    assert ours.shape == (6, bundle.num_labels) and ours.dtype == np.float32
    assert np.abs(ours - reference).max() <= 1e-4
    # batch 1 gives the same answer as inside a batch
    assert np.abs(backend.run(pixels[2:3]) - ours[2:3]).max() <= 1e-5


def test_onnxruntime_int8_is_close_to_torch(bundle: Bundle, pixels: np.ndarray, torch_backend: Backend) -> None:
    backend = create_backend(bundle, device="auto", precision="int8")
    assert backend.providers == (CPU,) and backend.precision == "int8"
    diff = np.abs(softmax(backend.run(pixels)) - softmax(torch_backend.run(pixels))).max()
    assert 0 < diff <= (DEFAULT_TOLERANCES["int8"].max_abs_prob_diff or 0)


def test_auto_on_a_cpu_only_build_is_the_cpu_ep(bundle: Bundle) -> None:
    backend = create_backend(bundle)  # device auto, fp32
    assert backend.providers[-1] == CPU
    if CUDA not in ort.get_available_providers():
        assert backend.providers == (CPU,)


def test_backends_are_thread_safe(bundle: Bundle, pixels: np.ndarray) -> None:
    backend = create_backend(bundle, device="cpu", threads=1)
    inputs = [pixels[i : i + 1 + i % 3] for i in range(6)] * 3
    serial = [backend.run(x) for x in inputs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(backend.run, inputs))
    for a, b in zip(serial, parallel, strict=True):
        assert a.shape == b.shape and np.abs(a - b).max() <= 1e-5


def test_warmup_and_input_checks(bundle: Bundle, torch_backend: Backend) -> None:
    backend = create_backend(bundle, device="cpu")
    assert backend.warmup([1, 4]) > 0
    assert torch_backend.warmup([2]) > 0
    prep = bundle.preprocessing
    empty = backend.run(np.zeros((0, 3, prep.height, prep.width), np.float32))
    assert empty.shape == (0, bundle.num_labels)
    with pytest.raises(ValueError, match="expected float32"):
        backend.run(np.zeros((1, 3, prep.height + 1, prep.width), np.float32))
    with pytest.raises(ValueError, match="expected float32"):
        backend.run(np.zeros((1, 3, prep.height, prep.width), np.float64))
    with pytest.raises(ValueError, match="batch sizes must be >= 1"):
        backend.warmup([0])


@pytest.mark.skipif(CUDA in ort.get_available_providers(), reason="this onnxruntime has CUDA")
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"device": "cuda"}, "needs CUDAExecutionProvider, which this onnxruntime does not offer"),
        ({"device": "tensorrt"}, "needs TensorrtExecutionProvider"),
        ({"device": "cpu", "precision": "fp16"}, "fp16' is for GPU providers"),
        ({"device": "cuda", "precision": "int8"}, "int8.*CPU EP"),
        ({"precision": "bf16"}, "precision must be one of"),
        ({"kind": "tensorflow"}, "backend must be one of"),
        ({"device": "tpu"}, "device must be one of"),
        ({"threads": -1}, "threads must be >= 0"),
    ],
)
def test_unavailable_configurations_are_refused(bundle: Bundle, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(FailedPrecondition, match=message):
        create_backend(bundle, **kwargs)  # type: ignore[arg-type]


def test_missing_precision_file_is_named(bundle: Bundle) -> None:
    fp32_only = dataclasses.replace(bundle, onnx_files={"fp32": bundle.onnx_files["fp32"]})
    with pytest.raises(FailedPrecondition, match=r"needs the int8 ONNX file.*export it with --precision int8"):
        create_backend(fp32_only, precision="int8")


def test_fp16_file_refused_on_a_cpu_only_build(bundle: Bundle) -> None:
    with_fp16 = dataclasses.replace(bundle, onnx_files={**bundle.onnx_files, "fp16": bundle.onnx_files["fp32"]})
    if CUDA not in ort.get_available_providers():
        with pytest.raises(FailedPrecondition, match="fp16' needs a GPU provider"):
            OrtBackend(with_fp16, device="auto", precision="fp16")
    with pytest.raises(FailedPrecondition, match="fp16' is for GPU providers"):
        OrtBackend(with_fp16, device="cpu", precision="fp16")


@pytest.mark.skipif(torch.cuda.is_available(), reason="torch has CUDA here")
def test_torch_backend_refusals(bundle: Bundle) -> None:
    with pytest.raises(FailedPrecondition, match="no CUDA device"):
        create_backend(bundle, kind="torch", device="cuda")
    with pytest.raises(FailedPrecondition, match="needs CUDA"):
        create_backend(bundle, kind="torch", device="auto", precision="fp16")
    with pytest.raises(FailedPrecondition, match="fp32 or fp16"):
        create_backend(bundle, kind="torch", precision="int8")
    with pytest.raises(FailedPrecondition, match="onnxruntime provider"):
        create_backend(bundle, kind="torch", device="tensorrt")
    with pytest.raises(FailedPrecondition, match="no HF directory"):
        create_backend(dataclasses.replace(bundle, hf_dir=None), kind="torch")


# --- provider chains (pure) ----------------------------------------------------------------------

ALL = [TRT, CUDA, CPU]


def chain(device: str, precision: str, available: list[str]) -> list[str]:
    return [name for name, _ in provider_chain(device, precision, available, trt_cache_dir=Path("/cache"))]


def test_auto_prefers_tensorrt_then_cuda_then_cpu() -> None:
    assert chain("auto", "fp32", ALL) == [TRT, CUDA, CPU]
    assert chain("auto", "fp32", [CUDA, CPU]) == [CUDA, CPU]
    assert chain("auto", "fp32", ["AzureExecutionProvider", CPU]) == [CPU]
    assert chain("auto", "fp16", [CUDA, CPU]) == [CUDA, CPU]
    assert chain("auto", "int8", ALL) == [CPU]  # dynamic int8 kernels are CPU kernels
    assert chain("tensorrt", "fp32", [TRT, CPU]) == [TRT, CPU]
    assert chain("cuda", "fp16", ALL) == [CUDA, CPU]
    assert chain("cpu", "fp32", ALL) == [CPU]


def test_tensorrt_options_enable_fp16_and_an_engine_cache() -> None:
    (name, options), *_ = provider_chain(
        "auto", "fp32", ALL, trt_cache_dir=Path("/cache"), input_shape=(3, 64, 64), max_batch=32
    )
    assert name == TRT
    assert options["trt_fp16_enable"] is False  # fp32 asked: TensorRT stays in fp32
    (_, fp16_options), *_ = provider_chain("auto", "fp16", ALL, trt_cache_dir=Path("/cache"))
    assert fp16_options["trt_fp16_enable"] is True
    assert options["trt_engine_cache_enable"] is True and options["trt_engine_cache_path"] == "/cache"
    assert options["trt_profile_min_shapes"] == "pixel_values:1x3x64x64"
    assert options["trt_profile_max_shapes"] == "pixel_values:32x3x64x64"


def test_explicit_gpu_devices_need_their_provider() -> None:
    with pytest.raises(FailedPrecondition, match="needs CUDAExecutionProvider"):
        chain("cuda", "fp32", [CPU])
    with pytest.raises(FailedPrecondition, match="needs TensorrtExecutionProvider"):
        chain("tensorrt", "fp32", [CUDA, CPU])
    with pytest.raises(FailedPrecondition, match="fp16' needs a GPU provider"):
        chain("auto", "fp16", [CPU])


def test_cpu_workers_do_not_spin_unless_asked(bundle: Bundle, pixels: np.ndarray) -> None:
    """Spinning is off by default (idle burn, docs/emotion.md) and the setting reaches the ONNX Runtime session."""
    from emotion_service.loading import settings_backend_factory
    from emotion_service.settings import EmotionSettings

    quiet = create_backend(bundle, device="cpu", threads=2)
    assert isinstance(quiet, OrtBackend) and quiet.spinning is False
    spinning = create_backend(bundle, device="cpu", threads=2, spinning=True)
    assert isinstance(spinning, OrtBackend) and spinning.spinning is True
    np.testing.assert_array_equal(quiet.run(pixels), spinning.run(pixels))  # same kernels, same numbers
    for flag, expected in (("--no-spinning", False), ("--spinning", True)):
        settings = EmotionSettings.load(["--bundle", str(bundle.path), flag, "--device", "cpu"], env={})
        backend = settings_backend_factory(settings)(bundle, "fp32")
        assert isinstance(backend, OrtBackend) and backend.spinning is expected
