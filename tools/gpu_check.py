#!/usr/bin/env python3
"""One GPU check: everything a GPU machine can tell about emoflux, as one JSON and one markdown table.

    python3 tools/gpu_check.py --out build/gpu-check [--wheels build/gpu-wheels] [--budget-s 480]
    python3 tools/gpu_check.py --smoke --out /tmp/gpu-check      # CPU, tiny sizes, under 2 minutes

Each section runs in its own process with its own time limit (a section that overruns is killed and
reported as such; GPU memory is freed between sections), in order of value, within one total budget:

* environment - GPU, driver, CUDA, torch, cuDNN, ONNX Runtime (providers, distributions), TensorRT,
  torchvision, diffusers, transformers;
* emotion_bundle - the ViT-B/16 random-weight bundle built by ``emotion_service.build.export`` (smoke: tiny);
* emotion_raw - raw img/s per batch size, torch fp16 and bf16 on CUDA (smoke: fp32 on CPU), and ONNX
  Runtime's CUDA / TensorRT EP when this onnxruntime offers them;
* emotion_served - img/s through emotion_service's dynamic batcher at 64 and 256 concurrent clients
  (client processes apart from the server), KServe raw tensors and native JPEG, beside raw img/s;
* preprocess - CPU decode+preprocess vs nvJPEG + tensor preprocessing (torchvision), img/s and the
  numerical difference to the CPU path (pixels and classifier probabilities);
* flux_step - the FLUX.1-dev transformer architecture (random bf16 weights) step time at 1024x1024, eager;
* flux_pipeline - the whole 28-step FluxPipeline at 1024x1024 (random T5-XXL, CLIP-L, VAE, transformer);
* image_served - the tiny FLUX pipeline served end to end by image_service;
* flux_compiled - the step time with ``torch.compile``.

What is absent (no CUDA, no diffusers, no onnxruntime-gpu, no TensorRT, no torchvision) is skipped with the
reason. ``--wheels DIR`` puts the pure-Python wheels of DIR (tools/gpu_wheels.sh downloads them) on the
path first. Published anchor: xDiT on one H100, FLUX.1-dev, 28 steps at 1024x1024: 6.71 s eager, 4.30 s
with torch.compile.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ANCHORS = {"xdit_h100_flux1_dev_28_steps_1024_eager_s": 6.71, "xdit_h100_flux1_dev_28_steps_1024_compiled_s": 4.30}


class Skip(Exception):
    """A section that cannot run here; the message says why."""


# -- sizes -----------------------------------------------------------------------------------------------
def sizes(smoke: bool) -> dict[str, Any]:
    """Everything that differs between the smoke run (CPU, tiny) and the real one (GPU, full size)."""
    if smoke:
        return {
            "bundle_source": "tiny-random",
            "batches": [1, 4],
            "measure_s": 0.3,
            "served_concurrency": [4],
            "served_s": 1.0,
            "client_processes": 1,
            "max_batch": 8,
            "preprocess_images": 8,
            "flux": "tiny",
            "flux_size": 64,
            "flux_steps": 2,
            "image_requests": 2,
            "image_size": 64,
            "image_steps": 2,
        }
    return {
        "bundle_source": "vit-base-random",
        "batches": [1, 8, 32, 64, 128, 256],
        "measure_s": 1.5,
        "served_concurrency": [64, 256],
        "served_s": 6.0,
        "client_processes": 8,
        "max_batch": 256,
        "preprocess_images": 256,
        "flux": "flux.1-dev",
        "flux_size": 1024,
        "flux_steps": 28,
        "image_requests": 8,
        "image_size": 256,
        "image_steps": 8,
    }


# Per-section time limits (s) for the real run; the smoke run gives each 60 s at most.
LIMITS = {
    "environment": 30,
    "emotion_bundle": 90,
    "emotion_raw": 60,
    "emotion_served": 100,
    "preprocess": 45,
    "flux_step": 75,
    "flux_pipeline": 90,
    "image_served": 45,
    "flux_compiled": 150,
}


def add_wheels(wheel_dir: Path) -> list[str]:
    """Unpack the pure-Python wheels of ``wheel_dir`` into ``wheel_dir/site`` once and put it first on the path."""
    site = wheel_dir / "site"
    names = []
    for wheel in sorted(wheel_dir.glob("*.whl")):
        marker = site / f".unpacked-{wheel.name}"
        if not marker.exists():
            site.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(site)
            marker.touch()
        names.append(wheel.name)
    if names:
        sys.path.insert(0, str(site))
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    return names


def cuda_device() -> Any:
    import torch

    return torch.device("cuda") if torch.cuda.is_available() else None


def sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def rate(fn: Callable[[], int], seconds: float, warmup: int = 2) -> dict[str, float]:
    """Items per second of ``fn`` (which returns the items it processed), after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    sync()
    items, calls, start = 0, 0, time.perf_counter()
    while True:
        items += fn()
        calls += 1
        sync()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and calls >= 3:
            return {"per_s": items / elapsed, "ms_per_call": 1000 * elapsed / calls, "calls": calls}


def version(module: str) -> str | None:
    try:
        imported = __import__(module)
    except Exception:
        return None
    return str(getattr(imported, "__version__", "present"))


# -- sections (each runs in a child process) --------------------------------------------------------------
def section_environment(ctx: dict[str, Any]) -> dict[str, Any]:
    import torch

    env: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "cuda_available": torch.cuda.is_available(),
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "packages": {m: version(m) for m in ("transformers", "diffusers", "onnx", "onnxruntime", "tensorrt",
                                               "torchvision", "grpc", "numpy", "PIL", "cv2", "onnxscript")},
    }  # fmt: skip
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        env["gpu"] = {
            "name": props.name,
            "memory_gib": round(props.total_memory / 2**30, 1),
            "capability": f"sm_{props.major}{props.minor}",
            "count": torch.cuda.device_count(),
        }
        try:
            smi = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True, text=True, timeout=10, check=False,
            )  # fmt: skip
            env["driver"] = smi.stdout.strip() or None
        except OSError:
            env["driver"] = None
    try:
        import onnxruntime as ort

        from emotion_service.backends.providers import installed_onnxruntimes

        env["onnxruntime_providers"] = ort.get_available_providers()
        env["onnxruntime_distributions"] = installed_onnxruntimes()
    except Exception as exc:
        env["onnxruntime_providers"] = f"unavailable: {exc}"
    return env


def _bundle_dir(ctx: dict[str, Any]) -> Path:
    return Path(ctx["bundle"]) if ctx.get("bundle") else Path(ctx["out"]) / "bundles" / ctx["sizes"]["bundle_source"]


def section_emotion_bundle(ctx: dict[str, Any]) -> dict[str, Any]:
    s = ctx["sizes"]
    if ctx.get("bundle"):
        return {"bundle": ctx["bundle"], "built": False}
    out = _bundle_dir(ctx)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "emotion_service.build.export", "--source", s["bundle_source"], "--out", str(out),
         "--precision", "fp32", "--if-missing"],
        check=True, cwd=ROOT, timeout=LIMITS["emotion_bundle"],
    )  # fmt: skip
    return {"bundle": str(out), "seconds": round(time.perf_counter() - started, 1)}


def _bundle(ctx: dict[str, Any]) -> Any:
    from emotion_service.bundle import load_bundle

    path = _bundle_dir(ctx)
    if not path.is_dir():
        raise Skip("the emotion bundle was not built (see emotion_bundle)")
    return load_bundle(path)


def section_emotion_raw(ctx: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    import onnxruntime as ort
    import torch
    from transformers import ViTForImageClassification

    s, bundle = ctx["sizes"], _bundle(ctx)
    prep = bundle.preprocessing
    device = cuda_device()
    results: dict[str, Any] = {"model": bundle.model_id, "input": f"{prep.height}x{prep.width}", "torch": {}, "ort": {}}
    model = ViTForImageClassification.from_pretrained(bundle.hf_dir).eval()
    dtypes = {"fp16": torch.float16, "bf16": torch.bfloat16} if device is not None else {"fp32": torch.float32}
    for name, dtype in dtypes.items():
        placed = model.to(device=device or "cpu", dtype=dtype)
        per_batch = {}
        for batch in s["batches"]:
            x = torch.randn(batch, 3, prep.height, prep.width, device=device or "cpu", dtype=dtype)

            def step(x: Any = x, batch: int = batch, placed: Any = placed) -> int:
                with torch.inference_mode():
                    placed(pixel_values=x)
                return batch

            per_batch[str(batch)] = round(rate(step, s["measure_s"])["per_s"], 1)
        results["torch"][f"{'cuda' if device is not None else 'cpu'}-{name}"] = per_batch
    del model
    available = ort.get_available_providers()
    from emotion_service.backends.ort import OrtBackend

    for ep_device, provider, precision in (("cuda", "CUDAExecutionProvider", "fp32"),
                                           ("tensorrt", "TensorrtExecutionProvider", "fp16"),
                                           ("cpu", "CPUExecutionProvider", "fp32")):  # fmt: skip
        if provider not in available:
            results["ort"][ep_device] = f"skipped: {provider} not offered by this onnxruntime ({', '.join(available)})"
            continue
        if ep_device == "cpu" and device is not None:
            results["ort"][ep_device] = "skipped: CPU EP not measured on a GPU machine"
            continue
        backend = OrtBackend(
            bundle, device=ep_device, precision=precision, max_batch=max(s["batches"]),
            trt_cache_dir=Path(ctx["out"]) / "trt-cache",
        )  # fmt: skip
        backend.warmup(s["batches"])
        per_batch = {}
        for batch in s["batches"]:
            pixels = np.random.default_rng(0).standard_normal((batch, 3, prep.height, prep.width), dtype=np.float32)
            timing = rate(lambda p=pixels, b=batch, run=backend.run: (run(p), b)[1], s["measure_s"])
            per_batch[str(batch)] = round(timing["per_s"], 1)
        results["ort"][f"{ep_device}-{backend.precision}"] = per_batch
    return results


def _client_process(args: tuple[str, str, int, float, bytes, list[int], str]) -> dict[str, Any]:
    """One client process: ``concurrency`` calls in flight for ``seconds``; returns counts and latencies."""
    import asyncio

    import grpc

    from servicekit.pb.emoflux.emotion.v1 import emotion_pb2, emotion_pb2_grpc
    from servicekit.pb.inference import grpc_service_pb2, grpc_service_pb2_grpc

    address, kind, concurrency, seconds, payload, shape, model = args

    async def main() -> dict[str, Any]:
        latencies: list[float] = []
        errors = 0
        async with grpc.aio.insecure_channel(address) as channel:
            if kind == "kserve":
                stub: Any = grpc_service_pb2_grpc.GRPCInferenceServiceStub(channel)
                request: Any = grpc_service_pb2.ModelInferRequest(model_name=model)
                request.inputs.add(name="pixel_values", datatype="FP32", shape=shape)
                request.raw_input_contents.append(payload)
                call = stub.ModelInfer
            else:
                stub = emotion_pb2_grpc.EmotionServiceStub(channel)
                request = emotion_pb2.ClassifyRequest(
                    images=[emotion_pb2.Image(data=payload)], face_mode=emotion_pb2.FACE_MODE_WHOLE
                )
                call = stub.Classify
            end = time.perf_counter() + seconds

            async def worker() -> None:
                nonlocal errors
                while time.perf_counter() < end:
                    start = time.perf_counter()
                    try:
                        await call(request, timeout=30)
                        latencies.append(time.perf_counter() - start)
                    except grpc.aio.AioRpcError:
                        errors += 1

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return {"done": len(latencies), "errors": errors, "latencies": latencies}

    return asyncio.run(main())


def _jpeg_photos(count: int, width: int = 640, height: int = 480) -> list[bytes]:
    """Photo-like JPEGs (smooth gradients, shapes and noise), quality 90."""
    import io

    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(11)
    photos = []
    y, x = np.mgrid[0:height, 0:width]
    for i in range(count):
        base = np.stack([(x * (i + 1)) % 256, (y * 2 + i * 17) % 256, ((x + y) // 3 + i * 5) % 256], axis=-1)
        noisy = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
        img = Image.fromarray(noisy)
        draw = ImageDraw.Draw(img)
        draw.ellipse((width // 4, height // 6, 3 * width // 4, 5 * height // 6), fill=(200, 160, 130))
        out = io.BytesIO()
        img.save(out, format="JPEG", quality=90)
        photos.append(out.getvalue())
    return photos


def section_emotion_served(ctx: dict[str, Any]) -> dict[str, Any]:
    import asyncio
    import dataclasses
    import multiprocessing

    import numpy as np

    from emotion_service.backends.providers import preprocess_plan
    from emotion_service.component import EmotionComponent
    from emotion_service.loading import torchvision_import_error
    from emotion_service.settings import EmotionSettings
    from servicekit.server import ServiceHost

    s, bundle = ctx["sizes"], _bundle(ctx)
    prep = bundle.preprocessing
    on_gpu = cuda_device() is not None
    settings = EmotionSettings(
        bundle=bundle.path, port=0, metrics_port=-1, access_log=False,
        backend="torch" if on_gpu else "onnxruntime", device="cuda" if on_gpu else "cpu",
        precisions=("fp16",) if on_gpu else ("fp32",), max_batch_size=s["max_batch"],
        max_queue_size=4 * max(s["served_concurrency"]) + s["max_batch"], max_queue_delay_ms=2.0,
        warmup_batch_sizes=(1,), prep_workers=max(2, (os.cpu_count() or 2) - s["client_processes"]),
        max_images_per_request=4, gpu_preprocess="off",
    )  # fmt: skip
    settings.validate()
    pixels = np.random.default_rng(1).standard_normal((1, 3, prep.height, prep.width), dtype=np.float32)
    jpeg = _jpeg_photos(1)[0]
    results: dict[str, Any] = {"backend": f"{settings.backend} {settings.device} {settings.precisions[0]}", "runs": []}
    # The same server with --gpu-preprocess on, when this machine has what it needs (else the reason).
    servers: list[tuple[EmotionSettings, tuple[tuple[str, str, bytes, list[int]], ...]]] = [
        (settings, (("kserve", "KServe raw FP32", pixels.tobytes(), list(pixels.shape)),
                    ("jpeg", "native JPEG 640x480, CPU decode", jpeg, [])))
    ]  # fmt: skip
    try:
        preprocess_plan(
            "on", "cuda" if on_gpu else "cpu", cuda_device="cuda:0" if on_gpu else None,
            torchvision_error=torchvision_import_error(),
        )  # fmt: skip
        gpu_decode = dataclasses.replace(settings, gpu_preprocess="on")
        servers.append((gpu_decode, (("jpeg", "native JPEG 640x480, GPU decode", jpeg, []),)))
    except Exception as exc:  # FailedPrecondition naming what is missing
        results["gpu_decode_served"] = f"not measured: {exc}"

    async def serve_and_load(
        server_settings: EmotionSettings, loads: tuple[tuple[str, str, bytes, list[int]], ...]
    ) -> None:
        component = EmotionComponent(server_settings)
        host = ServiceHost(server_settings, component, component.registry)
        await host.start()
        try:
            await host.wait_ready(120)
            address = f"127.0.0.1:{host.port}"
            loop = asyncio.get_running_loop()
            ctx_mp = multiprocessing.get_context("spawn")
            with ctx_mp.Pool(s["client_processes"]) as pool:
                for kind, label, payload, shape in loads:
                    for concurrency in s["served_concurrency"]:
                        per = max(1, concurrency // s["client_processes"])
                        jobs = [
                            (address, kind, per, s["served_s"], payload, shape, server_settings.kserve_model_name)
                        ] * (s["client_processes"])
                        started = time.perf_counter()
                        parts = await loop.run_in_executor(None, pool.map, _client_process, jobs)
                        elapsed = time.perf_counter() - started
                        latencies = sorted(x for p in parts for x in p["latencies"])
                        done = sum(p["done"] for p in parts)
                        results["runs"].append({
                            "input": label,
                            "clients": per * s["client_processes"],
                            "img_per_s": round(done / s["served_s"], 1),
                            "p50_ms": round(1000 * latencies[len(latencies) // 2], 2) if latencies else None,
                            "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 2) if latencies else None,
                            "errors": sum(p["errors"] for p in parts),
                            "wall_s": round(elapsed, 1),
                        })  # fmt: skip
        finally:
            await host.stop(grace=0)

    for server_settings, loads in servers:
        asyncio.run(serve_and_load(server_settings, loads))
    return results


def section_preprocess(ctx: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    import torch

    from emotion_service.backends.gpu_preprocess import GpuPreprocessor
    from emotion_service.preprocess import ImageLimits, decode_image, to_model_input

    s, bundle = ctx["sizes"], _bundle(ctx)
    prep, limits = bundle.preprocessing, ImageLimits()
    photos = _jpeg_photos(s["preprocess_images"])

    def cpu_path() -> int:
        for i, data in enumerate(photos):
            to_model_input(decode_image(data, index=i, limits=limits), prep)
        return len(photos)

    results: dict[str, Any] = {"images": f"{len(photos)} JPEG 640x480 q90", "input": f"{prep.height}x{prep.width}"}
    results["cpu_one_thread_img_per_s"] = round(rate(cpu_path, s["measure_s"], warmup=1)["per_s"], 1)
    device = cuda_device()
    if device is None:
        results["gpu"] = "skipped: no CUDA device"
        return results
    try:
        pre = GpuPreprocessor(prep, limits, device="cuda")
    except ImportError as exc:
        results["gpu"] = f"skipped: torchvision (nvJPEG) is not importable ({exc})"
        return results
    results["gpu_img_per_s"] = round(rate(lambda: int(pre(photos).shape[0]), s["measure_s"])["per_s"], 1)
    results["routes"] = sorted({r.reason for r in pre.routes})
    gpu = pre(photos).float().cpu().numpy()
    cpu = np.stack([to_model_input(decode_image(d, index=i, limits=limits), prep) for i, d in enumerate(photos)])
    diff = np.abs(gpu - cpu)
    level = prep.rescale_factor / min(prep.image_std)
    results["pixels_max_abs_diff"] = float(diff.max())
    results["pixels_mean_abs_diff"] = float(diff.mean())
    results["pixels_max_diff_in_8bit_levels"] = round(float(diff.max()) / level, 2)
    results["processor_parity_tolerance"] = 1e-3
    from transformers import ViTForImageClassification

    model = ViTForImageClassification.from_pretrained(bundle.hf_dir).eval().to(device)
    with torch.inference_mode():
        p_gpu = model(pixel_values=torch.from_numpy(gpu).to(device)).logits.softmax(-1)
        p_cpu = model(pixel_values=torch.from_numpy(cpu).to(device)).logits.softmax(-1)
    results["probabilities_max_abs_diff"] = float((p_gpu - p_cpu).abs().max())
    results["top1_agreement"] = float((p_gpu.argmax(-1) == p_cpu.argmax(-1)).float().mean())
    return results


FLUX_DEV = {
    "patch_size": 1, "in_channels": 64, "num_layers": 19, "num_single_layers": 38, "attention_head_dim": 128,
    "num_attention_heads": 24, "joint_attention_dim": 4096, "pooled_projection_dim": 768, "guidance_embeds": True,
    "axes_dims_rope": (16, 56, 56),
}  # fmt: skip


def _need_diffusers() -> None:
    try:
        import diffusers  # noqa: F401
    except ImportError as exc:
        raise Skip(f"diffusers is not importable ({exc}); carry its wheel (tools/gpu_wheels.sh)") from exc


def _flux_transformer(ctx: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(transformer, device, dtype): the FLUX.1-dev architecture with random bf16 weights on the GPU, or tiny on CPU."""
    import torch
    from diffusers import FluxTransformer2DModel

    device = cuda_device()
    if ctx["sizes"]["flux"] == "tiny" or device is None:
        if not ctx["smoke"]:
            raise Skip("no CUDA device: the full-size FLUX transformer needs a GPU")
        from image_service.build.tinyflux import TinyFluxConfig, build_transformer

        return build_transformer(TinyFluxConfig()).eval(), torch.device("cpu"), torch.float32
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device(device):  # allocate and initialise on the GPU: 11.9 B parameters
            model = FluxTransformer2DModel(**FLUX_DEV).eval()
    finally:
        torch.set_default_dtype(previous)
    return model, device, torch.bfloat16


def _flux_inputs(model: Any, size: int, txt: int, device: Any, dtype: Any) -> dict[str, Any]:
    import torch

    cfg = model.config
    tokens = (size // 16) ** 2
    inputs = {
        "hidden_states": torch.randn(1, tokens, cfg.in_channels, device=device, dtype=dtype),
        "encoder_hidden_states": torch.randn(1, txt, cfg.joint_attention_dim, device=device, dtype=dtype),
        "pooled_projections": torch.randn(1, cfg.pooled_projection_dim, device=device, dtype=dtype),
        "timestep": torch.full((1,), 0.5, device=device, dtype=dtype),
        "img_ids": torch.zeros(tokens, 3, device=device, dtype=dtype),
        "txt_ids": torch.zeros(txt, 3, device=device, dtype=dtype),
        "return_dict": False,
    }
    if cfg.guidance_embeds:
        inputs["guidance"] = torch.full((1,), 3.5, device=device, dtype=dtype)
    return inputs


def _step_time(model: Any, inputs: dict[str, Any], seconds: float) -> float:
    import torch

    def step() -> int:
        with torch.inference_mode():
            model(**inputs)
        return 1

    return 1 / rate(step, seconds)["per_s"]


def section_flux_step(ctx: dict[str, Any]) -> dict[str, Any]:
    _need_diffusers()
    s = ctx["sizes"]
    started = time.perf_counter()
    model, device, dtype = _flux_transformer(ctx)
    build_s = time.perf_counter() - started
    params = sum(p.numel() for p in model.parameters())
    txt = 512 if s["flux"] != "tiny" else 16
    inputs = _flux_inputs(model, s["flux_size"], txt, device, dtype)
    step = _step_time(model, inputs, s["measure_s"] * 2)
    return {
        "architecture": "FLUX.1-dev transformer" if s["flux"] != "tiny" else "tiny FLUX transformer",
        "parameters_b": round(params / 1e9, 3),
        "dtype": str(dtype).removeprefix("torch."),
        "size": f"{s['flux_size']}x{s['flux_size']}",
        "text_tokens": txt,
        "build_s": round(build_s, 1),
        "eager_step_s": round(step, 4),
        "eager_28_steps_s": round(28 * step, 2),
        "anchors": ANCHORS,
    }


def section_flux_compiled(ctx: dict[str, Any]) -> dict[str, Any]:
    _need_diffusers()
    if ctx["smoke"]:
        raise Skip("smoke mode: torch.compile is measured on the GPU only")
    import torch

    s = ctx["sizes"]
    model, device, dtype = _flux_transformer(ctx)
    inputs = _flux_inputs(model, s["flux_size"], 512, device, dtype)
    compiled = torch.compile(model)
    started = time.perf_counter()
    with torch.inference_mode():
        compiled(**inputs)
    sync()
    compile_s = time.perf_counter() - started
    step = _step_time(compiled, inputs, s["measure_s"] * 2)
    return {"compile_s": round(compile_s, 1), "compiled_step_s": round(step, 4),
            "compiled_28_steps_s": round(28 * step, 2), "anchors": ANCHORS}  # fmt: skip


def section_flux_pipeline(ctx: dict[str, Any]) -> dict[str, Any]:
    _need_diffusers()
    import torch
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxPipeline
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    from image_service.build.tinyflux import build_random_pipeline, build_tokenizers

    s = ctx["sizes"]
    device = cuda_device()
    if s["flux"] == "tiny":
        pipe = build_random_pipeline(seed=0)
        dtype, txt = torch.float32, 16
        pipe.to("cpu")
    else:
        if device is None:
            raise Skip("no CUDA device")
        tokenizer, tokenizer_2 = build_tokenizers()
        previous = torch.get_default_dtype()
        torch.set_default_dtype(torch.bfloat16)
        try:
            with torch.device(device):
                transformer, _, _ = _flux_transformer(ctx)
                clip = CLIPTextModel(
                    CLIPTextConfig(
                        hidden_size=768,
                        intermediate_size=3072,
                        num_hidden_layers=12,
                        num_attention_heads=12,
                        vocab_size=49408,
                        projection_dim=768,
                        eos_token_id=tokenizer.eos_token_id or 1,
                    )
                ).eval()
                t5 = T5EncoderModel(
                    T5Config(
                        d_model=4096,
                        d_ff=10240,
                        num_layers=24,
                        num_heads=64,
                        d_kv=64,
                        vocab_size=32128,
                        feed_forward_proj="gated-gelu",
                    )
                ).eval()
                vae = AutoencoderKL(
                    in_channels=3,
                    out_channels=3,
                    latent_channels=16,
                    block_out_channels=(128, 256, 512, 512),
                    down_block_types=("DownEncoderBlock2D",) * 4,
                    up_block_types=("UpDecoderBlock2D",) * 4,
                    layers_per_block=2,
                    use_quant_conv=False,
                    use_post_quant_conv=False,
                    shift_factor=0.1159,
                    scaling_factor=0.3611,
                ).eval()
        finally:
            torch.set_default_dtype(previous)
        scheduler = FlowMatchEulerDiscreteScheduler(
            shift=3.0,
            use_dynamic_shifting=True,
            base_shift=0.5,
            max_shift=1.15,
            base_image_seq_len=256,
            max_image_seq_len=4096,
        )
        pipe = FluxPipeline(scheduler=scheduler, vae=vae, text_encoder=clip, tokenizer=tokenizer,
                            text_encoder_2=t5, tokenizer_2=tokenizer_2, transformer=transformer)  # fmt: skip
        dtype, txt = torch.bfloat16, 512

    def run() -> float:
        started = time.perf_counter()
        with torch.inference_mode():
            pipe(prompt="a surprised face", height=s["flux_size"], width=s["flux_size"],
                 num_inference_steps=s["flux_steps"], guidance_scale=3.5, max_sequence_length=txt,
                 output_type="np", generator=torch.Generator("cpu").manual_seed(0))  # fmt: skip
        sync()
        return time.perf_counter() - started

    first = run()
    second = run()
    return {
        "pipeline": "FluxPipeline, FLUX.1-dev architecture, random bf16 weights" if s["flux"] != "tiny" else "tiny",
        "size": f"{s['flux_size']}x{s['flux_size']}",
        "steps": s["flux_steps"],
        "dtype": str(dtype).removeprefix("torch."),
        "first_call_s": round(first, 2),
        "pipeline_s": round(second, 2),
        "anchors": ANCHORS,
    }


def section_image_served(ctx: dict[str, Any]) -> dict[str, Any]:
    _need_diffusers()
    import asyncio

    import grpc
    from prometheus_client import CollectorRegistry

    from image_service.component import ImageComponent
    from image_service.settings import ImageSettings
    from servicekit.pb.emoflux.image.v1 import image_pb2, image_pb2_grpc
    from servicekit.server import ServiceHost

    s = ctx["sizes"]
    on_gpu = cuda_device() is not None
    settings = ImageSettings(
        port=0, metrics_port=-1, access_log=False, device="cuda" if on_gpu else "cpu",
        models_dir=Path(ctx["out"]) / "image-models", max_batch_images=4, max_queue_images=16,
    )  # fmt: skip
    settings.validate()
    timings: list[float] = []

    async def main() -> None:
        registry = CollectorRegistry()
        host = ServiceHost(settings, ImageComponent(settings, registry), registry)
        await host.start()
        try:
            await host.wait_ready(120)
            async with grpc.aio.insecure_channel(f"127.0.0.1:{host.port}") as channel:
                stub = image_pb2_grpc.ImageServiceStub(channel)
                for i in range(s["image_requests"]):
                    started = time.perf_counter()
                    await stub.Generate(
                        image_pb2.GenerateRequest(prompt="a happy face", width=s["image_size"], height=s["image_size"],
                                                  num_inference_steps=s["image_steps"], seed=i), timeout=120,
                    )  # fmt: skip
                    timings.append(time.perf_counter() - started)
        finally:
            await host.stop(grace=0)

    asyncio.run(main())
    return {
        "variant": "tiny FLUX (embedded)",
        "device": settings.device,
        "request": f"{s['image_size']}x{s['image_size']}, {s['image_steps']} steps, 1 image",
        "first_request_s": round(timings[0], 3),
        "median_request_s": round(sorted(timings[1:] or timings)[len(timings[1:] or timings) // 2], 3),
    }


SECTIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "environment": section_environment,
    "emotion_bundle": section_emotion_bundle,
    "emotion_raw": section_emotion_raw,
    "emotion_served": section_emotion_served,
    "preprocess": section_preprocess,
    "flux_step": section_flux_step,
    "flux_pipeline": section_flux_pipeline,
    "image_served": section_image_served,
    "flux_compiled": section_flux_compiled,
}


# -- driver ----------------------------------------------------------------------------------------------
def run_child(name: str, ctx: dict[str, Any]) -> None:
    """Child process (or inline): run one section and write its JSON (status ok / skipped / failed)."""
    path = Path(ctx["out"]) / "sections" / f"{name}.json"
    started = time.perf_counter()
    try:
        record: dict[str, Any] = {"status": "ok", "result": SECTIONS[name](ctx)}
    except Skip as exc:
        record = {"status": "skipped", "reason": str(exc)}
    except Exception as exc:
        record = {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"[-2000:]}
    record["seconds"] = round(time.perf_counter() - started, 1)
    path.write_text(json.dumps(record, indent=2, default=str))


def run_isolated(command: list[str], *, env: dict[str, str], limit: float) -> None:
    """Run ``command`` in its own process group; past ``limit`` the whole group (exports included) is killed."""
    child = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        child.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        raise


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.out)
    (out / "sections").mkdir(parents=True, exist_ok=True)
    wheels = add_wheels(Path(args.wheels)) if args.wheels else []
    smoke = args.smoke
    ctx = {"out": str(out.resolve()), "smoke": smoke, "sizes": sizes(smoke), "bundle": args.emotion_bundle}
    inline = args.inline or (smoke and not args.isolate)
    (out / "context.json").write_text(json.dumps(ctx))
    deadline = time.monotonic() + args.budget_s
    report: dict[str, Any] = {"mode": "smoke" if smoke else "gpu", "budget_s": args.budget_s, "wheels": wheels,
                              "isolation": "inline" if inline else "process per section",
                              "sections": {}}  # fmt: skip
    chosen = args.sections.split(",") if args.sections else list(SECTIONS)
    for name in chosen:
        left = deadline - time.monotonic()
        limit = min(LIMITS[name] if not smoke else 60, left)
        if limit < 5:
            report["sections"][name] = {"status": "skipped", "reason": "the total time budget is spent"}
            continue
        (out / "sections" / f"{name}.json").unlink(missing_ok=True)
        started = time.monotonic()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}  # fmt: skip
        try:
            if inline:
                os.environ.update({k: env[k] for k in ("HF_HUB_OFFLINE", "TOKENIZERS_PARALLELISM")})
                run_child(name, ctx)
            else:
                run_isolated([sys.executable, __file__, "--child", name, "--context", str(out / "context.json")],
                             env=env, limit=limit)  # fmt: skip
            path = out / "sections" / f"{name}.json"
            record = json.loads(path.read_text()) if path.exists() else {"status": "failed", "reason": "no output"}
        except subprocess.TimeoutExpired:
            record = {"status": "timeout", "reason": f"killed after its {limit:.0f} s limit"}
        record["wall_s"] = round(time.monotonic() - started, 1)
        report["sections"][name] = record
        print(f"{name}: {record['status']} in {record['wall_s']} s", file=sys.stderr, flush=True)
    report["served_over_raw"] = served_over_raw(report)
    (out / "gpu_check.json").write_text(json.dumps(report, indent=2, default=str))
    (out / "gpu_check.md").write_text(markdown(report))
    return report


def served_over_raw(report: dict[str, Any]) -> dict[str, float] | None:
    """Served img/s over the best raw img/s of the same backend (torch fp16 on GPU, ORT CPU in smoke)."""
    raw = report["sections"].get("emotion_raw", {}).get("result")
    served = report["sections"].get("emotion_served", {}).get("result")
    if not raw or not served:
        return None
    family = raw["torch"].get("cuda-fp16") or raw["ort"].get("cpu-fp32")
    if not isinstance(family, dict) or not family:
        return None
    best = max(family.values())
    return {f"{r['input']} @ {r['clients']}": round(r["img_per_s"] / best, 3) for r in served["runs"]}


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# GPU check ({report['mode']})", "", "| section | status | seconds | result |", "|---|---|---|---|"]
    for name, record in report["sections"].items():
        detail = record.get("reason") or json.dumps(record.get("result"), default=str)
        lines.append(f"| {name} | {record['status']} | {record.get('wall_s', '')} | {detail.replace('|', '/')} |")
    if report.get("served_over_raw"):
        lines += ["", "Served / raw img/s: " + ", ".join(f"{k}: {v}" for k, v in report["served_over_raw"].items())]
    lines += ["", "Anchors (xDiT, one H100, FLUX.1-dev 28 steps 1024x1024): 6.71 s eager, 4.30 s compiled.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", default=str(ROOT / "build" / "gpu-check"), help="output directory")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes on CPU (the test suite runs this)")
    parser.add_argument("--wheels", default="", help="directory of pure-Python wheels to put on the path")
    parser.add_argument("--budget-s", type=float, default=480.0, help="total time budget in seconds")
    parser.add_argument("--sections", default="", help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--emotion-bundle", default="", help="use this emotion bundle instead of exporting one")
    parser.add_argument("--inline", action="store_true", help="run sections in this process (the smoke default)")
    parser.add_argument("--isolate", action="store_true", help="one process per section even in smoke mode")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--context", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.child:
        run_child(args.child, json.loads(Path(args.context).read_text()))
        return 0
    report = run_all(args)
    failed = [n for n, r in report["sections"].items() if r["status"] in ("failed", "timeout")]
    print(f"wrote {args.out}/gpu_check.json and gpu_check.md; failed: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
