"""Emotion serving benchmark on ViT-B/16 (random weights): raw ONNX Runtime, served over gRPC, naive baseline.

    python bench/emotion.py            # the full run (~10 min on 2 cores), table + bench/results/emotion.json
    python bench/emotion.py --quick    # short windows, to check that everything runs

Measures
  (a) raw ONNX Runtime in-process images/s at batch 1/8/32, fp32 and int8 (CPU EP, all cores);
  (b) served over gRPC (the real server as a subprocess), 32 concurrent closed-loop clients sending one
      JPEG each, FACE_MODE_WHOLE, batching on and off, fp32 and int8;
  (c) the naive baseline a user would write: transformers ``pipeline("image-classification")`` with the
      PyTorch model, eager, one image at a time;
  (d) p50/p99 latency at ~50 % of the measured served capacity, open loop with Poisson arrivals;
  (e) requests/s of the tiny model served the same way;
  and, where torch sees a CUDA GPU, the PyTorch CUDA backend in fp16 at batch 1..256.

The two ratios (``served_over_raw``, ``int8_served_over_naive``) divide a served figure by the mean of
its reference measured before and again after the served runs, which brackets them in time.

Served ViT-B runs ``--concurrent-batches <cores> --threads 1`` (one single-threaded model instance per
core); with batching on, each precision gets ``--max-batch-size`` = the batch size (1, 2, 4 or 8) that
was fastest in-process in that layout (on a CPU, larger batches are not always faster). Speed does not depend on the
weights, so random weights are fine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import emotion_host
from bench.common import RESULTS, closed_loop, log, machine, open_loop, parallel_loop, running, table, timed_loop
from emotion_service.build.export import ensure_bundle, stderr_progress
from emotion_service.bundle import Bundle, default_bundle_dir

MODELS = default_bundle_dir().parent
RAW_BATCHES = (1, 8, 32)
CLIENTS = 32
# Served ViT-B runs one single-threaded batch per core (Triton's "instance group"): on a small CPU that
# beats one batch on every core, whose threads synchronise at each operator (docs/emotion.md).
INSTANCES = os.cpu_count() or 1
INSTANCE_BATCHES = (1, 2, 4, 8)
BARS = {"served_over_raw": 0.95, "int8_served_over_raw": 0.95, "int8_served_over_naive": 2.5}


def workload_jpeg() -> bytes:
    """The request image: skimage's astronaut as a 256x256 JPEG (decoded and resized by the server)."""
    from skimage import data

    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).resize((256, 256), Image.Resampling.BILINEAR).save(buf, "JPEG", quality=90)
    return buf.getvalue()


# -- (a) raw ----------------------------------------------------------------------------------------------
def _raw_precision(
    bundle: Bundle, precision: str, seconds: float, batches: tuple[int, ...] = RAW_BATCHES
) -> dict[str, float]:
    from emotion_service.backends.ort import OrtBackend

    prep = bundle.preprocessing
    backend = OrtBackend(bundle, device="cpu", precision=precision, threads=0)
    out: dict[str, float] = {}
    for batch in batches:
        pixels = np.random.default_rng(batch).uniform(-1, 1, (batch, 3, prep.height, prep.width)).astype(np.float32)
        backend.run(pixels)  # warm-up at this shape

        def step(p: np.ndarray = pixels) -> int:
            return len(backend.run(p))

        r = timed_loop(step, seconds=seconds, min_runs=2)
        out[str(batch)] = round(r["items_per_s"], 3)
        log(f"raw ORT {precision} batch {batch}: {r['items_per_s']:.2f} images/s ({r['runs']} runs)")
    return out


def measure_raw(bundle: Bundle, seconds: float) -> dict[str, dict[str, float]]:
    out = {precision: _raw_precision(bundle, precision, seconds) for precision in ("fp32", "int8")}
    gc.collect()  # the sessions are gone before the next stage
    return out


def raw_configurations(results: dict[str, Any], precision: str) -> dict[tuple[str, int], float]:
    """Every in-process configuration of ``precision`` measured in this run: (layout, batch) -> images/s."""
    configs = {("all_cores", int(b)): v for b, v in results["raw_ort"][precision].items()}
    configs.update({("instances", int(b)): v for b, v in results["instances_in_process"][precision].items()})
    return configs


def best_configuration(results: dict[str, Any], precision: str) -> tuple[str, int]:
    """The (layout, batch) of ``precision`` with the most images/s in this run: the raw reference."""
    configs = raw_configurations(results, precision)
    return max(configs, key=lambda c: configs[c])


def describe_configuration(layout: str, batch: int) -> str:
    """A configuration in words, as the report and the JSON name it."""
    if layout == "all_cores":
        return f"one session on all cores, batch {batch}"
    return f"{INSTANCES} x 1-thread instances, batch {batch}"


def measure_configuration(bundle: Bundle, precision: str, layout: str, batch: int, seconds: float) -> float:
    """images/s of one in-process configuration, measured again."""
    if layout == "all_cores":
        return _raw_precision(bundle, precision, seconds, (batch,))[str(batch)]
    return measure_instances(bundle, seconds, (precision,), (batch,))[precision][str(batch)]


def measure_instances(
    bundle: Bundle,
    seconds: float,
    precisions: tuple[str, ...] = ("fp32", "int8"),
    batches: tuple[int, ...] = INSTANCE_BATCHES,
) -> dict[str, dict[str, float]]:
    """In-process images/s in the served layout: INSTANCES threads, each running one-thread batches.

    This picks each precision's served ``--max-batch-size``: a batch on one core has one core's cache.
    """
    from emotion_service.backends.ort import OrtBackend

    prep = bundle.preprocessing
    out: dict[str, dict[str, float]] = {}
    for precision in precisions:
        backend = OrtBackend(bundle, device="cpu", precision=precision, threads=1)
        out[precision] = {}
        for batch in batches:
            pixels = np.random.default_rng(batch).uniform(-1, 1, (batch, 3, prep.height, prep.width))
            pixels = pixels.astype(np.float32)
            backend.run(pixels)
            r = parallel_loop(lambda b=backend, p=pixels: len(b.run(p)), workers=INSTANCES, seconds=seconds)
            out[precision][str(batch)] = round(r["items_per_s"], 3)
            log(f"{INSTANCES} instances x 1 thread, {precision} batch {batch}: {out[precision][str(batch)]} images/s")
    gc.collect()
    return out


# -- (c) naive --------------------------------------------------------------------------------------------
def measure_naive(bundle: Bundle, jpeg: bytes, seconds: float) -> dict[str, Any]:
    import torch
    from transformers import pipeline

    assert bundle.hf_dir is not None
    classifier = pipeline("image-classification", model=str(bundle.hf_dir), device="cpu")

    def one() -> int:
        classifier(Image.open(io.BytesIO(jpeg)))
        return 1

    one()
    one()
    r = timed_loop(one, seconds=seconds, min_runs=3)
    log(f"naive transformers pipeline (PyTorch eager, batch 1): {r['items_per_s']:.2f} images/s")
    return {"images_per_s": round(r["items_per_s"], 3), "images": r["items"], "torch_threads": torch.get_num_threads()}


# -- (b), (d), (e) served -----------------------------------------------------------------------------------
def server_args(
    bundle: Bundle, *, batching: bool, max_batch: int, precisions: str = "fp32,int8", instances: int = 1
) -> list[str]:
    """Server flags; ``instances`` > 1 runs that many batches at once with one intra-op thread each."""
    threads = ["--concurrent-batches", str(instances), "--threads", "1"] if instances > 1 else []
    return [
        "--bundle", str(bundle.path),
        "--precisions", precisions,
        "--batching" if batching else "--no-batching",
        "--max-batch-size", str(max_batch),
        *threads,
        "--max-queue-delay-ms", "5",
        "--max-queue-size", "1024",
        "--warmup-batch-sizes", "1",
        "--no-access-log",
        "--log-level", "INFO",  # the start-up line carries the port
    ]  # fmt: skip


def classify_call(address: str, jpeg: bytes, precision: str) -> tuple[Any, Any]:
    import grpc

    from servicekit.pb.emoflux.emotion.v1 import emotion_pb2 as pb
    from servicekit.pb.emoflux.emotion.v1 import emotion_pb2_grpc as pb_grpc

    channel = grpc.aio.insecure_channel(address)
    stub = pb_grpc.EmotionServiceStub(channel)
    request = pb.ClassifyRequest(images=[pb.Image(data=jpeg)], face_mode=pb.FACE_MODE_WHOLE, precision=precision)

    async def call() -> Any:
        response = await stub.Classify(request, timeout=300)
        assert len(response.results[0].faces) == 1
        return response

    return channel, call


async def served_closed(
    address: str, jpeg: bytes, precision: str, *, round_s: float, seconds: float, max_window: float
) -> dict[str, Any]:
    """32 closed-loop clients: warm-up one round (every client served once), then >= 4 rounds, capped."""
    channel, call = classify_call(address, jpeg, precision)
    warmup = min(round_s, max_window / 2)
    window = min(max(seconds, 4 * round_s), max_window)
    async with channel:
        result = await closed_loop(call, clients=CLIENTS, warmup_s=warmup, seconds=window)
    return {"warmup_s": round(warmup, 1), "window_s": round(window, 1), **result.summary()}


async def served_open(address: str, jpeg: bytes, precision: str, *, rate: float, seconds: float) -> dict[str, Any]:
    channel, call = classify_call(address, jpeg, precision)
    async with channel:
        await call()  # connection set up outside the measurement
        result = await open_loop(call, rate=rate, seconds=seconds)
    return {"offered_requests_per_s": round(rate, 3), **result.summary()}


async def measure_served(
    bundle: Bundle,
    tiny: Bundle,
    jpeg: bytes,
    raw: dict[str, dict[str, float]],
    layout: dict[str, dict[str, float]],
    seconds: float,
    max_window: float,
) -> dict[str, Any]:
    # Batching on: each precision on a server tuned for it (max batch = fastest in the served layout).
    max_batch = {p: max(INSTANCE_BATCHES, key=lambda b, p=p: layout[p][str(b)]) for p in ("fp32", "int8")}
    out: dict[str, Any] = {"max_batch_size": max_batch, "clients": CLIENTS, "instances": INSTANCES}
    rounds = {p: CLIENTS / max(raw[p].values()) for p in ("fp32", "int8")}  # seconds to serve every client once
    latency: dict[str, Any] = {}
    for precision in ("fp32", "int8"):
        args = server_args(
            bundle, batching=True, max_batch=max_batch[precision], precisions=precision, instances=INSTANCES
        )
        async with running("emotion_service", args) as server:
            r = await served_closed(
                server.address, jpeg, precision, round_s=rounds[precision], seconds=seconds, max_window=max_window
            )
            out[f"{precision}_batching"] = r
            log(
                f"served {precision} batching on (max batch {max_batch[precision]}): {r['items_per_s']:.2f} "
                f"images/s, p99 {r['latency_p99_ms']} ms"
            )
            rate = 0.5 * r["requests_per_s"]
            r = await served_open(server.address, jpeg, precision, rate=rate, seconds=1.5 * seconds)
            latency[precision] = r
            log(
                f"open loop {precision} at {rate:.2f} req/s: p50 {r['latency_p50_ms']} ms, "
                f"p99 {r['latency_p99_ms']} ms ({r['latency_samples']} requests)"
            )
    out["latency_at_half_capacity"] = latency

    unbatched = server_args(bundle, batching=False, max_batch=1, instances=INSTANCES)
    async with running("emotion_service", unbatched) as server:
        for precision in ("fp32", "int8"):
            r = await served_closed(
                server.address, jpeg, precision, round_s=rounds[precision], seconds=seconds, max_window=max_window
            )
            out[f"{precision}_no_batching"] = r
            log(f"served {precision} batching off: {r['items_per_s']:.2f} images/s")

    async with running("emotion_service", server_args(tiny, batching=True, max_batch=32)) as server:
        for precision in ("fp32", "int8"):
            r = await served_closed(
                server.address, jpeg, precision, round_s=1.0, seconds=seconds / 2, max_window=max_window
            )
            out[f"tiny_{precision}_batching"] = r
            log(f"served tiny {precision}: {r['requests_per_s']:.1f} requests/s")
    return out


# -- GPU ----------------------------------------------------------------------------------------------------
def measure_gpu(bundle: Bundle, seconds: float) -> dict[str, float] | None:
    import torch

    if not torch.cuda.is_available():
        log("no CUDA device: PyTorch CUDA fp16 sweep skipped")
        return None
    from emotion_service.backends.pytorch import TorchBackend

    backend = TorchBackend(bundle, device="cuda", precision="fp16")
    prep = bundle.preprocessing
    out: dict[str, float] = {"device": torch.cuda.get_device_name(0)}  # type: ignore[dict-item]
    for batch in (1, 2, 4, 8, 16, 32, 64, 128, 256):
        pixels = np.random.default_rng(0).uniform(-1, 1, (batch, 3, prep.height, prep.width)).astype(np.float32)
        backend.run(pixels)
        r = timed_loop(lambda p=pixels: len(backend.run(p)), seconds=seconds / 4, min_runs=3)
        out[str(batch)] = round(r["items_per_s"], 1)
        log(f"torch CUDA fp16 batch {batch}: {r['items_per_s']:.1f} images/s")
    return out


# -- report -------------------------------------------------------------------------------------------------
def report(results: dict[str, Any]) -> str:
    """The whole Markdown report: the ViT-B serving table and ratios, then the host path."""
    return serving_report(results) + "\n\n" + host_report(results["host_path"])


def serving_report(results: dict[str, Any]) -> str:
    """The ViT-B serving table (raw, in-process, served, naive, open loop, tiny) and its ratios."""
    raw, served, naive = results["raw_ort"], results["served"], results["naive"]
    rows: list[list[Any]] = []
    for precision in ("fp32", "int8"):
        for batch in RAW_BATCHES:
            rows.append([f"(a) raw ORT {precision}, batch {batch}", raw[precision][str(batch)], ""])
    for precision, by_batch in results["instances_in_process"].items():
        for batch, ips in by_batch.items():
            rows.append(
                [f"(a) in-process, {served['instances']} x 1-thread instances, {precision} batch {batch}", ips, ""]
            )
    instances = f"{served['instances']} instance(s)"
    mb = served["max_batch_size"]
    for key, label in (
        ("fp32_batching", f"(b) served fp32, batching on (max batch {mb['fp32']}, {instances})"),
        ("fp32_no_batching", f"(b) served fp32, batching off ({instances})"),
        ("int8_batching", f"(b) served int8, batching on (max batch {mb['int8']}, {instances})"),
        ("int8_no_batching", f"(b) served int8, batching off ({instances})"),
    ):
        r = served[key]
        rows.append([label, r["items_per_s"], f"p50 {r['latency_p50_ms']} / p99 {r['latency_p99_ms']} ms"])
    rows.append(["(c) naive pipeline, PyTorch eager, batch 1", naive["images_per_s"], ""])
    after = results["references_after_served"]
    for precision, ref in after["raw_best"].items():
        rows.append([f"(a) raw best {precision} ({ref['configuration']}), again after (b)", ref["after"], ""])
    rows.append(["(c) naive pipeline, again after (b)", after["naive"], ""])
    for precision, r in served["latency_at_half_capacity"].items():
        rows.append(
            [
                f"(d) open loop {precision} at {r['offered_requests_per_s']} req/s",
                r["items_per_s"],
                f"p50 {r['latency_p50_ms']} / p99 {r['latency_p99_ms']} ms (n={r['latency_samples']})",
            ]
        )
    for precision in ("fp32", "int8"):
        r = served[f"tiny_{precision}_batching"]
        rows.append(
            [f"(e) tiny model served {precision} (req/s)", r["requests_per_s"], f"p99 {r['latency_p99_ms']} ms"]
        )
    if results.get("gpu_torch_fp16"):
        for batch, ips in results["gpu_torch_fp16"].items():
            if batch != "device":
                rows.append([f"torch CUDA fp16 batch {batch}", ips, results["gpu_torch_fp16"]["device"]])
    text = table(rows, [f"measurement ({results['model']['model_id']} unless noted)", "images/s", "latency"]) + "\n"
    for name, bar in BARS.items():
        value = results[name]
        reference = results.get(f"{name}_reference")
        against = f", raw reference: {reference}" if reference else ""
        text += f"\n- {name} = {value:.3f} (bar >= {bar}: {'met' if value >= bar else 'NOT MET'}{against})"
    return text


def host_report(host: dict[str, Any]) -> str:
    """The host-path table and its ratios."""
    text = table(emotion_host.report_rows(host), ["host path (tiny model)", "per s", "latency", "server CPU"]) + "\n"
    for name, value in host["ratios"].items():
        bar = host["bars"][name]
        before = host["ratios_previous_defaults"][name]
        text += (
            f"\n- {name} = {value} (previous defaults {before}; bar {bar['bar']}: {'met' if bar['met'] else 'NOT MET'})"
        )
    for name, value in host.get("floor", {}).items():
        text += f"\n- {name} = {value}"
    return text


async def measure_host(tiny: Bundle, jpeg: bytes, seconds: float) -> dict[str, Any]:
    """The host-path section (bench/emotion_host.py), with the machine's load before and after it."""
    before = machine()
    host = await emotion_host.measure(tiny, jpeg, seconds / 2)
    return {"machine_before": before, **host, "machine_after": machine()}


def plot_host(host: dict[str, Any], results_file: Path) -> Path:
    """The host-path latency/throughput PNG next to the results file."""
    png = results_file.with_name(results_file.stem + "_host.png")
    emotion_host.plot(host, png)
    return png


async def run(args: argparse.Namespace) -> dict[str, Any]:
    start = time.monotonic()
    results: dict[str, Any] = {"machine_before": machine()}
    vit = ensure_bundle(
        args.source, MODELS / args.source, precisions=("fp32", "int8"), progress=stderr_progress(args.source)
    )
    tiny = ensure_bundle("tiny", default_bundle_dir(), precisions=("fp32", "int8"), progress=stderr_progress("tiny"))
    results["model"] = {
        "bundle": str(vit.path),
        "model_id": vit.model_id,
        "weights_origin": vit.weights_origin,
        "parameters": vit.manifest["architecture"]["parameters"],
        "input": vit.manifest["input"]["shape"],
        "tiny_model_id": tiny.model_id,
    }
    jpeg = workload_jpeg()
    results["workload"] = {"image": "skimage astronaut, 256x256 JPEG q90", "bytes": len(jpeg), "face_mode": "WHOLE"}
    results["raw_ort"] = measure_raw(vit, args.seconds / 2)
    results["naive"] = measure_naive(vit, jpeg, args.seconds)
    results["instances_in_process"] = measure_instances(vit, args.seconds / 4)
    results["served"] = await measure_served(
        vit, tiny, jpeg, results["raw_ort"], results["instances_in_process"], args.seconds, args.max_window
    )
    # The references again, after the served runs: the ratios divide by the mean of before and after,
    # so a shared machine that got busier or quieter during the run does not tilt them. The raw reference
    # of each precision is the best in-process configuration of this run (any layout, any batch): dividing
    # by a slower one would flatter the server.
    references: dict[str, Any] = {}
    for precision in ("fp32", "int8"):
        configs = raw_configurations(results, precision)
        layout, batch = best_configuration(results, precision)
        again = measure_configuration(vit, precision, layout, batch, args.seconds / 2)
        references[precision] = {
            "configuration": describe_configuration(layout, batch),
            "layout": layout,
            "batch": batch,
            "before": configs[(layout, batch)],
            "after": again,
            "mean": round((configs[(layout, batch)] + again) / 2, 3),
        }
        ref = references[precision]
        log(f"raw reference {precision}: {ref['configuration']} ({ref['mean']} images/s)")
    naive_after = measure_naive(vit, jpeg, args.seconds)["images_per_s"]
    naive = (results["naive"]["images_per_s"] + naive_after) / 2
    results["references_after_served"] = {"raw_best": references, "naive": naive_after}
    results["gpu_torch_fp16"] = measure_gpu(vit, args.seconds)
    served = results["served"]
    results["served_over_raw"] = round(served["fp32_batching"]["items_per_s"] / references["fp32"]["mean"], 3)
    results["served_over_raw_reference"] = references["fp32"]["configuration"]
    results["int8_served_over_raw"] = round(served["int8_batching"]["items_per_s"] / references["int8"]["mean"], 3)
    results["int8_served_over_raw_reference"] = references["int8"]["configuration"]
    results["int8_served_over_naive"] = round(served["int8_batching"]["items_per_s"] / naive, 3)
    results["host_path"] = await measure_host(tiny, jpeg, args.seconds)
    results["bars"] = {name: {"bar": bar, "met": results[name] >= bar} for name, bar in BARS.items()}
    results["machine_after"] = machine()
    results["wall_seconds"] = round(time.monotonic() - start, 1)
    results["note"] = (
        "2-core machine shared with other jobs; loadavg before/after shows how busy it was. Served runs "
        "include gRPC, JPEG decode and preprocessing; raw runs are the model alone on preprocessed tensors."
    )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="base measurement window per setting")
    parser.add_argument("--quick", action="store_true", help="4 s windows: check that everything runs")
    parser.add_argument("--out", type=Path, default=RESULTS / "emotion.json")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a bar is not met")
    parser.add_argument("--max-window", type=float, default=60.0, help="cap of one served measurement window, s")
    parser.add_argument(
        "--source", default="vit-base-random", help="embedded model to measure (tiny-random: a fast smoke test)"
    )
    parser.add_argument(
        "--host-only",
        action="store_true",
        help="run only the host-path section (tiny model) and replace it in the existing --out file",
    )
    parser.add_argument(
        "--print-report", action="store_true", help="print the Markdown report of the existing --out file and exit"
    )
    args = parser.parse_args(argv)
    if args.print_report:
        print(report(json.loads(args.out.read_text())))
        return 0
    if args.quick:
        args.seconds = 4.0
    if args.host_only:
        return host_only(args)
    results = asyncio.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    plot_host(results["host_path"], args.out)
    print(report(results))
    print(f"\nwrote {args.out} ({results['wall_seconds']} s)")
    return 1 if args.strict and not all(b["met"] for b in results["bars"].values()) else 0


def host_only(args: argparse.Namespace) -> int:
    """The host-path section alone, written into the existing results (its ratios are all from this run)."""
    tiny = ensure_bundle("tiny", default_bundle_dir(), precisions=("fp32", "int8"), progress=stderr_progress("tiny"))
    host = asyncio.run(measure_host(tiny, workload_jpeg(), args.seconds))
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results["host_path"] = host
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    plot_host(host, args.out)
    print(host_report(host))
    print(f"\nwrote the host_path section of {args.out}")
    return 1 if args.strict and not all(b["met"] for b in host["bars"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
