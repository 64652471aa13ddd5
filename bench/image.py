"""Image-service benchmark: tiny-flux at 256x256, 4 steps, on this machine's CPU.

Measures, with medians over interleaved repetitions (the machine is shared, so figures are noisy):
* the plain in-process diffusers call (+ PNG encoding) vs the same generation served over gRPC
  (``served_over_inprocess``, bar <= 1.05);
* per-step time of the transformer on torch vs on ONNX Runtime (CPU EP), in process;
* 4 compatible requests sent at once (batched into one run) vs the same 4 sent one after another;
* the queue-to-first-step overhead at one client: time from sending a GenerateStream request to its first
  ``step`` event, minus the in-process time from the diffusers call to its first step callback.

Prints a table and writes bench/results/image.json. Run: ``make bench-image`` or ``.venv/bin/python bench/image.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from prometheus_client import CollectorRegistry  # noqa: E402

from image_service.backends import BackendKind, BackendOptions  # noqa: E402
from image_service.build.export import ensure_export  # noqa: E402
from image_service.component import ImageComponent  # noqa: E402
from image_service.encoding import encode_image, to_uint8  # noqa: E402
from image_service.generation import run_batch  # noqa: E402
from image_service.jobs import ImageFormat, Job  # noqa: E402
from image_service.pipeline import LoadedVariant, load_variant  # noqa: E402
from image_service.settings import ImageSettings  # noqa: E402
from image_service.sources import resolve  # noqa: E402
from image_service.validation import RequestOptions, validate  # noqa: E402
from image_service.variants import TINY_FLUX  # noqa: E402
from servicekit.channels import open_channel  # noqa: E402
from servicekit.pb.emoflux.image.v1 import image_pb2, image_pb2_grpc  # noqa: E402
from servicekit.server import ServiceHost  # noqa: E402

MODELS_DIR = REPO / "build" / "models" / "image"
SIZE, STEPS = 256, 4
BAR = 1.05
CPU = torch.device("cpu")


def job(loaded: LoadedVariant, seed: int, prompt: str = "a happy face") -> Job:
    options = RequestOptions(prompt=prompt, width=SIZE, height=SIZE, num_inference_steps=STEPS, seed=seed)
    return Job(params=validate(options, loaded.spec.with_max_images(8), loaded.count_tokens, lambda: 0))


def in_process(loaded: LoadedVariant, seed: int) -> tuple[float, float]:
    """Seconds for one pipeline call plus PNG encoding, and its mean step time."""
    started = time.perf_counter()
    report = run_batch(loaded, [job(loaded, seed)], lambda _j, _e: None)
    assert report.outputs is not None
    encode_image(report.outputs[0].images[0], ImageFormat.PNG, 90, {"prompt": "a happy face"})
    return time.perf_counter() - started, report.outputs[0].seconds_per_step


def raw_pipeline(loaded: LoadedVariant, seed: int) -> float:
    """Seconds for the plain diffusers call a notebook would make, plus PNG encoding (the served work)."""
    spec = loaded.spec
    started = time.perf_counter()
    with torch.inference_mode():
        images = loaded.pipe(
            prompt="a happy face", width=SIZE, height=SIZE, num_inference_steps=STEPS,
            guidance_scale=spec.defaults.guidance_scale, max_sequence_length=spec.defaults.max_sequence_length,
            generator=torch.Generator("cpu").manual_seed(seed), output_type="np",
        ).images  # fmt: skip
    encode_image(to_uint8(images[0]), ImageFormat.PNG, 90, {"prompt": "a happy face"})
    return time.perf_counter() - started


def raw_first_step(loaded: LoadedVariant, seed: int) -> float:
    """Seconds from the plain diffusers call to the end of its first denoising step (its step callback)."""
    spec = loaded.spec
    first: list[float] = []

    def on_step_end(pipe: object, step: int, timestep: object, kwargs: dict[str, object]) -> dict[str, object]:
        if not first:
            first.append(time.perf_counter())
        return kwargs

    started = time.perf_counter()
    with torch.inference_mode():
        loaded.pipe(
            prompt="a happy face", width=SIZE, height=SIZE, num_inference_steps=STEPS,
            guidance_scale=spec.defaults.guidance_scale, max_sequence_length=spec.defaults.max_sequence_length,
            generator=torch.Generator("cpu").manual_seed(seed), output_type="np", callback_on_step_end=on_step_end,
        )  # fmt: skip
    return first[0] - started


async def served_first_step(stub: image_pb2_grpc.ImageServiceStub, request: image_pb2.GenerateRequest) -> float:
    """Seconds from sending a GenerateStream request to receiving its first step event (the stream is drained)."""
    started = time.perf_counter()
    first = 0.0
    async for event in stub.GenerateStream(image_pb2.GenerateStreamRequest(request=request)):
        if not first and event.WhichOneof("event") == "step":
            first = time.perf_counter() - started
    assert first, "the stream sent no step event"
    return first


def median(values: list[float]) -> float:
    return statistics.median(values)


async def measure(args: argparse.Namespace) -> dict[str, object]:
    torch.set_num_threads(args.threads)
    source = resolve(TINY_FLUX, {}, MODELS_DIR)
    torch_opts = BackendOptions(kind=BackendKind.TORCH, device=CPU, dtype=torch.float32)
    onnx_path = ensure_export(source, MODELS_DIR / "tiny-flux-onnx", device=CPU, dtype=torch.float32)
    onnx_opts = replace(torch_opts, kind=BackendKind.ONNX, onnx_path=onnx_path, ort_threads=args.threads)
    eager = load_variant(source, backend=torch_opts)
    onnx = load_variant(source, backend=onnx_opts)

    settings = ImageSettings(port=0, metrics_port=-1, models_dir=MODELS_DIR, device="cpu", torch_threads=args.threads,
                             ort_threads=args.threads, access_log=False, batch_delay_ms=args.delay_ms)  # fmt: skip
    registry = CollectorRegistry()
    host = ServiceHost(settings, ImageComponent(settings, registry), registry)
    await host.start()
    await host.wait_ready(600)
    channel = open_channel(f"127.0.0.1:{host.port}")
    stub = image_pb2_grpc.ImageServiceStub(channel)

    def req(seed: int, prompt: str = "a happy face") -> image_pb2.GenerateRequest:
        return image_pb2.GenerateRequest(prompt=prompt, width=SIZE, height=SIZE, num_inference_steps=STEPS, seed=seed)

    for backend in (eager, onnx):  # warm-up outside the measurements
        in_process(backend, 0)
    await stub.Generate(req(0))

    inproc, served, torch_steps, onnx_steps = [], [], [], []
    inproc_first, served_first = [], []
    for rep in range(args.reps):  # interleaved, so drift of the shared machine hits both sides alike
        inproc.append(raw_pipeline(eager, rep))
        started = time.perf_counter()
        await stub.Generate(req(rep))
        served.append(time.perf_counter() - started)
        inproc_first.append(raw_first_step(eager, rep))
        served_first.append(await served_first_step(stub, req(rep)))
        torch_steps.append(in_process(eager, rep)[1])
        onnx_steps.append(in_process(onnx, rep)[1])

    prompts = ["a happy face", "a sad face", "an angry face", "a surprised face"]
    batched, sequential, batch_sizes = [], [], []
    for rep in range(args.batch_reps):
        started = time.perf_counter()
        replies = await asyncio.gather(*(stub.Generate(req(rep * 4 + i, p)) for i, p in enumerate(prompts)))
        batched.append(time.perf_counter() - started)
        batch_sizes.extend(r.batch_size for r in replies)
        started = time.perf_counter()
        for i, p in enumerate(prompts):
            await stub.Generate(req(rep * 4 + i, p))
        sequential.append(time.perf_counter() - started)
    await channel.close()
    await host.stop(grace=0)

    inproc_s, served_s = median(inproc), median(served)
    torch_step, onnx_step = median(torch_steps), median(onnx_steps)
    batched_s, sequential_s = median(batched), median(sequential)
    return {
        "benchmark": "image_service tiny-flux",
        "workload": {"variant": TINY_FLUX, "width": SIZE, "height": SIZE, "steps": STEPS,
                     "weights": eager.spec.weights_origin.value, "dtype": "float32", "device": "cpu"},
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__,
                    "threads": args.threads, "note": "shared CPU: other jobs ran at the same time; figures are noisy"},
        "repetitions": {"single": args.reps, "batch": args.batch_reps},
        "inprocess_seconds": inproc_s,
        "served_seconds": served_s,
        "served_over_inprocess": served_s / inproc_s,
        "served_over_inprocess_paired_median": median([s / i for s, i in zip(served, inproc, strict=True)]),
        "served_over_inprocess_bar": BAR,
        "served_over_inprocess_ok": served_s / inproc_s <= BAR,
        "first_step": {
            "inprocess_seconds": median(inproc_first),
            "served_seconds": median(served_first),
            "queue_to_first_step_overhead_ms": 1000 * (median(served_first) - median(inproc_first)),
            "paired_overhead_median_ms": 1000
            * median([s - i for s, i in zip(served_first, inproc_first, strict=True)]),
        },
        "batch_delay_ms": args.delay_ms,
        "work_conserving": settings.work_conserving,
        "per_step_seconds": {"torch": torch_step, onnx.backend: onnx_step},
        "onnx_over_torch_step": onnx_step / torch_step,
        "four_requests": {"batched_seconds": batched_s, "sequential_seconds": sequential_s,
                          "speedup": sequential_s / batched_s, "batch_sizes_seen": sorted(set(batch_sizes))},
        "raw": {"inprocess": inproc, "served": served, "torch_step": torch_steps, "onnx_step": onnx_steps,
                "batched": batched, "sequential": sequential, "inprocess_first_step": inproc_first,
                "served_first_step": served_first},
        "gpu": None,
        "gpu_note": "no GPU on this machine: the full-size FLUX.1 step-time comparison (eager vs torch.compile) "
                    "was not run",
    }  # fmt: skip


def table(result: dict[str, object]) -> str:
    steps = result["per_step_seconds"]
    four = result["four_requests"]
    assert isinstance(steps, dict) and isinstance(four, dict)
    rows = [
        ("in-process pipeline + PNG (s)", f"{result['inprocess_seconds']:.4f}"),
        ("served over gRPC (s)", f"{result['served_seconds']:.4f}"),
        ("served_over_inprocess (bar <= 1.05)", f"{result['served_over_inprocess']:.3f}"),
        ("  median of paired ratios", f"{result['served_over_inprocess_paired_median']:.3f}"),
        *(
            [
                ("queue-to-first-step overhead, 1 client (ms)", f"{first['queue_to_first_step_overhead_ms']:.1f}"),
                ("  median of paired differences (ms)", f"{first['paired_overhead_median_ms']:.1f}"),
            ]
            if isinstance(first := result.get("first_step"), dict)
            else []
        ),
        *((f"per-step {name} (s)", f"{value:.4f}") for name, value in steps.items()),
        ("onnx / torch per-step", f"{result['onnx_over_torch_step']:.3f}"),
        ("4 requests at once, batched (s)", f"{four['batched_seconds']:.4f}"),
        ("4 requests one after another (s)", f"{four['sequential_seconds']:.4f}"),
        ("batched speed-up", f"{four['speedup']:.2f}x (batch sizes seen {four['batch_sizes_seen']})"),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"tiny-flux {SIZE}x{SIZE}, {STEPS} steps, CPU ({result['machine']['threads']} thread(s))"]  # type: ignore[index]
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=60, help="repetitions of the single-request measurements")
    parser.add_argument("--batch-reps", type=int, default=5, help="repetitions of the 4-request measurements")
    parser.add_argument("--threads", type=int, default=1, help="torch / ONNX Runtime intra-op threads")
    parser.add_argument(
        "--delay-ms",
        type=float,
        default=10.0,
        help="server batch delay (its default; used with --no-work-conserving)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "image.json")
    args = parser.parse_args()
    result = asyncio.run(measure(args))
    print(table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
