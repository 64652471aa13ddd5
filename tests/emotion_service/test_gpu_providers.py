"""GPU decisions of the ONNX Runtime backend, on CPU.

The only thing faked is the vendor boundary that cannot exist here: ``onnxruntime.get_available_providers``
claiming TensorRT and CUDA, as onnxruntime-gpu does on a machine whose CUDA libraries do not load. The
session itself is the real CPU onnxruntime, which then really falls back to the CPU EP.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from emotion_service.backends import create_backend
from emotion_service.backends.ort import IoBindingRunner
from emotion_service.backends.providers import (
    CPU,
    CUDA,
    TRT,
    binding_device,
    check_providers,
    cuda_options,
    default_trt_cache_dir,
    ensure_writable_dir,
    gpu_warmup_sizes,
    preprocess_plan,
    provider_chain,
    trt_profile,
)
from emotion_service.bundle import Bundle, load_bundle
from emotion_service.settings import EmotionSettings
from servicekit.errors import FailedPrecondition
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2 as pb
from servicekit.pb.inference import grpc_service_pb2 as kpb
from tests.emotion_service.serving import encode, serve, settings_for

GPU_BUILD = [TRT, CUDA, CPU]


@pytest.fixture(scope="module")
def bundle(tiny_bundle: Path) -> Bundle:
    return load_bundle(tiny_bundle)


@pytest.fixture
def gpu_build_without_libraries(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """onnxruntime claims TensorRT and CUDA (as onnxruntime-gpu does); sessions record their options."""
    monkeypatch.setattr(ort, "get_available_providers", lambda: list(GPU_BUILD))
    made: list[dict[str, Any]] = []
    real = ort.InferenceSession

    def recording(path: str, options: Any = None, **kwargs: Any) -> Any:
        made.append(kwargs)
        return real(path, options, **kwargs)

    monkeypatch.setattr(ort, "InferenceSession", recording)
    return made


# -- 1. engine cache directory ---------------------------------------------------------------------------
def test_default_engine_cache_is_the_users_cache_not_the_bundle() -> None:
    assert default_trt_cache_dir({"XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"}) == Path("/x/cache/emoflux/tensorrt")
    assert default_trt_cache_dir({"HOME": "/home/u"}) == Path("/home/u/.cache/emoflux/tensorrt")
    assert "emoflux" in default_trt_cache_dir({}).parts


def test_unwritable_engine_cache_fails_with_the_setting_named(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(FailedPrecondition, match=r"not-a-dir/tensorrt is not writable.*EMOTION_TRT_CACHE_DIR"):
        ensure_writable_dir(blocker / "tensorrt")
    assert ensure_writable_dir(tmp_path / "a" / "b").is_dir()
    assert list((tmp_path / "a" / "b").iterdir()) == []  # the probe file is gone


def test_tensorrt_start_checks_the_cache_dir_before_loading(
    bundle: Bundle, tmp_path: Path, gpu_build_without_libraries: list[dict[str, Any]]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(FailedPrecondition, match="is not writable"):
        create_backend(bundle, device="tensorrt", trt_cache_dir=blocker / "engines", allow_fallback=True)
    assert gpu_build_without_libraries == []  # refused before any session was made


def test_cache_dir_setting_is_a_flag_and_an_env_variable() -> None:
    from_env = EmotionSettings.load([], {"EMOTION_TRT_CACHE_DIR": "/var/cache/emoflux/tensorrt"})
    assert from_env.trt_cache_dir == Path("/var/cache/emoflux/tensorrt")
    from_flag = EmotionSettings.load(["--trt-cache-dir", "/c", "--allow-provider-fallback"], {})
    assert from_flag.trt_cache_dir == Path("/c") and from_flag.allow_provider_fallback is True
    assert EmotionSettings.load([], {}).allow_provider_fallback is False


# -- 2. silent provider fallback -------------------------------------------------------------------------
def test_fallback_is_detected_and_the_real_precision_reported() -> None:
    asked = [TRT, CUDA, CPU]
    with pytest.raises(FailedPrecondition, match=r"could not use TensorrtExecutionProvider.*allow-provider-fallback"):
        check_providers(asked, [CPU], precision="fp16", file_precision="fp32", allow_fallback=False)
    running = check_providers(asked, [CUDA, CPU], precision="fp16", file_precision="fp32", allow_fallback=True)
    assert running.fell_back and running.execution_provider == CUDA and running.precision == "fp32"
    on_trt = check_providers(asked, asked, precision="fp16", file_precision="fp32", allow_fallback=False)
    assert not on_trt.fell_back and on_trt.precision == "fp16"
    fp16_file = check_providers([CUDA, CPU], [CPU], precision="fp16", file_precision="fp16", allow_fallback=True)
    assert fp16_file.precision == "fp16"  # the fp16 graph itself runs, only slower


def test_a_real_session_that_falls_back_refuses_to_start(
    bundle: Bundle, tmp_path: Path, gpu_build_without_libraries: list[dict[str, Any]]
) -> None:
    for device in ("tensorrt", "cuda", "auto"):
        with pytest.raises(FailedPrecondition, match=r"could not use .*the session runs on \['CPUExecutionProvider'\]"):
            create_backend(bundle, device=device, precision="fp32", trt_cache_dir=tmp_path)


def test_an_allowed_fallback_reports_what_runs(
    bundle: Bundle, tmp_path: Path, gpu_build_without_libraries: list[dict[str, Any]]
) -> None:
    backend = create_backend(bundle, device="tensorrt", precision="fp16", trt_cache_dir=tmp_path, allow_fallback=True)
    assert (backend.execution_provider, backend.providers, backend.precision) == (CPU, (CPU,), "fp32")
    prep = bundle.preprocessing
    assert backend.run(np.zeros((2, 3, prep.height, prep.width), np.float32)).shape == (2, bundle.num_labels)


async def test_served_after_an_allowed_fallback_everything_says_cpu_fp32(
    tiny_bundle: Path, tmp_path: Path, gpu_build_without_libraries: list[dict[str, Any]]
) -> None:
    settings = settings_for(
        tiny_bundle,
        device="tensorrt",
        precisions=("fp16",),
        trt_cache_dir=tmp_path,
        allow_provider_fallback=True,
        max_batch_size=8,
    )
    async with serve(settings) as served:
        info = await served.stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=10)
        assert list(info.execution_providers) == [CPU]
        rgb = np.full((32, 32, 3), 120, np.uint8)
        request = pb.ClassifyRequest(images=[pb.Image(data=encode(rgb))])
        response = await served.stub.Classify(request, timeout=10)
        assert (response.execution_provider, response.precision) == (CPU, "fp32")
        prep = load_bundle(tiny_bundle).preprocessing
        pixels = np.zeros((1, 3, prep.height, prep.width), "<f4")
        infer = kpb.ModelInferRequest(model_name=settings.kserve_model_name)
        infer.inputs.add(name="pixel_values", datatype="FP32", shape=list(pixels.shape))
        infer.raw_input_contents.append(pixels.tobytes())
        result = await served.kserve.ModelInfer(infer, timeout=10)
        assert result.parameters["precision"].string_param == "fp32"
        labels = {"execution_provider": CPU, "running_precisions": "fp32", "precisions": "fp16"}
        assert any(
            sample.labels.items() >= labels.items()
            for metric in served.component.registry.collect()
            for sample in metric.samples
            if sample.name == "emoflux_emotion_model_info"
        )


# -- 5. the TensorRT profile covers the batcher's batches ------------------------------------------------
def test_profile_covers_every_batch_the_batcher_forms() -> None:
    profile = trt_profile(256, [1, 128, 256])
    assert all(profile.covers(n) for n in range(1, 257)) and not profile.covers(257)
    assert profile.opt_batch == 256
    with pytest.raises(FailedPrecondition, match=r"outside the TensorRT profile 1..64"):
        trt_profile(64, [128])
    (_, options), *_ = provider_chain("tensorrt", "fp16", GPU_BUILD, trt_cache_dir=Path("/c"), max_batch=256)
    assert options["trt_profile_max_shapes"] == "pixel_values:256x3x224x224"


async def test_the_server_passes_its_max_batch_to_the_tensorrt_profile(
    tiny_bundle: Path, tmp_path: Path, gpu_build_without_libraries: list[dict[str, Any]]
) -> None:
    settings = settings_for(
        tiny_bundle,
        device="tensorrt",
        precisions=("fp32",),
        trt_cache_dir=tmp_path,
        allow_provider_fallback=True,
        max_batch_size=200,
        max_queue_size=400,
        warmup_batch_sizes=(1, 100),
    )
    async with serve(settings):
        (made,) = gpu_build_without_libraries
        trt_opts = made["provider_options"][made["providers"].index(TRT)]
        assert trt_opts["trt_profile_max_shapes"].startswith("pixel_values:200x")
        assert trt_opts["trt_profile_opt_shapes"].startswith("pixel_values:200x")
        assert trt_opts["trt_engine_cache_path"] == str(tmp_path)


# -- 6. CUDA options, I/O binding, warm-up of every batch size -------------------------------------------
def test_cuda_provider_gets_serving_options() -> None:
    options = cuda_options(1)
    assert options["device_id"] == 1
    assert options["cudnn_conv_algo_search"] == "EXHAUSTIVE"
    assert options["arena_extend_strategy"] == "kSameAsRequested"
    (name, chained), _ = provider_chain("cuda", "fp32", GPU_BUILD, trt_cache_dir=Path("/c"))
    assert name == CUDA and chained == cuda_options(0)


def test_gpu_providers_warm_every_batch_size_and_bind_io() -> None:
    assert gpu_warmup_sizes(CUDA, [1, 8], 8) == list(range(1, 9))
    assert gpu_warmup_sizes(TRT, [4], 4) == [1, 2, 3, 4]
    assert gpu_warmup_sizes(CPU, [8, 1, 8], 8) == [1, 8]
    assert binding_device(CUDA) == "cuda" and binding_device(TRT) == "cuda" and binding_device(CPU) is None


def test_io_binding_runner_matches_plain_run(bundle: Bundle) -> None:
    session = ort.InferenceSession(str(bundle.onnx_files["fp32"]), providers=[CPU])
    prep = bundle.preprocessing
    pixels = np.random.default_rng(3).uniform(-1, 1, (5, 3, prep.height, prep.width)).astype(np.float32)
    name_in, name_out = session.get_inputs()[0].name, session.get_outputs()[0].name
    (expected,) = session.run([name_out], {name_in: pixels})
    bound = IoBindingRunner(session, name_in, name_out, "cpu").run(pixels)
    assert bound.shape == expected.shape and np.abs(bound - expected).max() <= 1e-6


# -- --gpu-preprocess: where images are decoded ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "provider", "cuda", "tv_error", "device", "reason"),
    [
        ("auto", CUDA, "cuda:0", None, "cuda:0", "nvJPEG decode and tensor preprocessing on cuda:0"),
        ("auto", TRT, "cuda:0", None, "cuda:0", "nvJPEG"),
        ("auto", "cuda", "cuda:0", None, "cuda:0", "nvJPEG"),  # the torch backend's name for its device
        ("auto", CPU, None, None, None, "CPU (the model runs on CPUExecutionProvider, not a GPU)"),
        ("auto", CUDA, None, None, None, "torch sees no CUDA device"),
        ("auto", CUDA, "cuda:0", "ImportError: no torchvision", None, "not importable: ImportError: no torchvision"),
        ("off", CUDA, "cuda:0", None, None, "off (--gpu-preprocess off)"),
    ],
)
def test_preprocess_plan(
    mode: str, provider: str, cuda: str | None, tv_error: str | None, device: str | None, reason: str
) -> None:
    plan = preprocess_plan(mode, provider, cuda_device=cuda, torchvision_error=tv_error)
    assert plan.device == device
    assert reason in plan.reason


def test_preprocess_plan_on_refuses_what_it_cannot_do() -> None:
    with pytest.raises(FailedPrecondition, match="--gpu-preprocess on needs the GPU path, but the model runs on"):
        preprocess_plan("on", CPU, cuda_device=None, torchvision_error=None)
    with pytest.raises(FailedPrecondition, match="torchvision"):
        preprocess_plan("on", CUDA, cuda_device="cuda:0", torchvision_error="RuntimeError: operator nms")
    assert preprocess_plan("on", CUDA, cuda_device="cuda:0", torchvision_error=None).device == "cuda:0"
    with pytest.raises(FailedPrecondition, match="gpu_preprocess must be one of"):
        preprocess_plan("maybe", CUDA, cuda_device="cuda:0", torchvision_error=None)


async def test_gpu_preprocess_on_without_a_gpu_fails_at_start(tiny_bundle: Path) -> None:
    settings = settings_for(tiny_bundle, precisions=("fp32",), device="cpu", gpu_preprocess="on")
    async with serve(settings, wait=False) as served:
        with pytest.raises(Exception, match="failed to start"):
            await served.host.wait_ready(60)
        error = served.host.startup_error
        assert isinstance(error, FailedPrecondition)
        assert "--gpu-preprocess on needs the GPU path" in str(error)
