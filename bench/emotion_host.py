"""Host-path rows of the emotion benchmark: what a request costs beyond the model, on the tiny model.

Where the model is cheap (the tiny 64x64 model here, any model on a GPU) the server's own work decides
throughput. Measured side by side in one run, on the same machine:

* raw ONNX Runtime on the tiny fp32 file, in-process: batch 1 (images/s, p50 latency) and batch 64, with
  the library's thread count and with one thread; the best of these is the reference;
* the served model over KServe ModelInfer with raw FP32 tensors (``raw_input_contents``) at 1, 16 and 64
  closed-loop clients, and over the native Classify with the bench's 256x256 JPEG at 1 and 64 clients:
  requests/s, p50, and the server process's CPU seconds per request (``/proc``, every thread);
* the same server with the previous defaults (a 5 ms batching delay on an idle slot, spinning ONNX Runtime
  workers), so the before/after ratios come from the same run;
* the bare gRPC floor (:mod:`bench.grpc_floor`: a grpc.aio server answering ModelInfer with a constant, no
  model, no servicekit) with the same client at 1 and 64 clients: what Python gRPC itself costs here. With
  the model's raw best, it bounds what any Python gRPC server can serve on these cores: one request costs
  the floor's CPU plus the model's, so ``floor_bound = 1 / (1/floor + 1/raw_best)`` requests/s.

The clients run on the same cores as the server (a shared 2-core machine): figures are ratios.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import closed_loop, log, percentile, process_cpu_seconds, running, timed_loop
from emotion_service.bundle import Bundle

KSERVE_CLIENTS = (1, 16, 64)
CLASSIFY_CLIENTS = (1, 64)
MAX_BATCH = 64
# The defaults before work-conserving batching and quiet ONNX Runtime workers: the "before" rows.
PREVIOUS_DEFAULTS = ("--no-work-conserving", "--max-queue-delay-ms", "5", "--spinning")


def measure_raw(tiny: Bundle, seconds: float) -> dict[str, Any]:
    """Raw ONNX Runtime on the tiny fp32 model: each (threads, batch) configuration, and the best."""
    from emotion_service.backends.ort import OrtBackend

    prep = tiny.preprocessing
    configs: dict[str, Any] = {}
    for threads in (0, 1):
        backend = OrtBackend(tiny, device="cpu", precision="fp32", threads=threads)
        for batch in (1, MAX_BATCH):
            pixels = np.random.default_rng(batch).uniform(-1, 1, (batch, 3, prep.height, prep.width))
            pixels = pixels.astype(np.float32)
            for _ in range(10):
                backend.run(pixels)
            latencies: list[float] = []

            def step(p: np.ndarray = pixels, b: OrtBackend = backend, lat: list[float] = latencies) -> int:
                started = time.perf_counter()
                n = len(b.run(p))
                lat.append(time.perf_counter() - started)
                return n

            cpu = time.process_time()
            r = timed_loop(step, seconds=seconds, min_runs=5)
            cpu = time.process_time() - cpu
            label = f"{'library default' if threads == 0 else '1'} thread(s), batch {batch}"
            configs[label] = {
                "threads": threads,
                "batch": batch,
                "images_per_s": round(r["items_per_s"], 1),
                "latency_p50_ms": round(1000 * percentile(latencies, 50), 3),
                "cpu_ms_per_image": round(1000 * cpu / r["items"], 3),
            }
            log(
                f"host raw ORT tiny {label}: {r['items_per_s']:.0f} images/s, p50 {configs[label]['latency_p50_ms']} ms"
            )
    best = max(configs, key=lambda k: configs[k]["images_per_s"])
    batch1 = min((k for k in configs if configs[k]["batch"] == 1), key=lambda k: configs[k]["latency_p50_ms"])
    return {
        "configs": configs,
        "best": best,
        "best_images_per_s": configs[best]["images_per_s"],
        "batch1_best_latency": batch1,
        "batch1_latency_p50_ms": configs[batch1]["latency_p50_ms"],
    }


def kserve_call(address: str, tiny: Bundle) -> tuple[Any, Callable[[], Awaitable[Any]]]:
    """A channel and one ModelInfer call with a raw FP32 [1, 3, H, W] tensor; checks one output per label."""
    import grpc

    from servicekit.pb.inference import grpc_service_pb2 as kpb
    from servicekit.pb.inference import grpc_service_pb2_grpc as kpb_grpc

    prep = tiny.preprocessing
    pixels = np.random.default_rng(0).uniform(-1, 1, (1, 3, prep.height, prep.width)).astype("<f4")
    request = kpb.ModelInferRequest(model_name="emotion")
    request.inputs.add(name="pixel_values", datatype="FP32", shape=list(pixels.shape))
    request.raw_input_contents.append(pixels.tobytes())
    channel = grpc.aio.insecure_channel(address)
    stub = kpb_grpc.GRPCInferenceServiceStub(channel)

    async def call() -> Any:
        response = await stub.ModelInfer(request, timeout=60)
        # emoflux answers in raw_output_contents, other servers (MLServer) in typed contents.
        values = (
            len(response.raw_output_contents[0]) // 4
            if response.raw_output_contents
            else len(response.outputs[0].contents.fp32_contents)
        )
        assert values == tiny.num_labels, values
        return response

    return channel, call


def classify_call(address: str, jpeg: bytes) -> tuple[Any, Callable[[], Awaitable[Any]]]:
    """A channel and one native Classify call with the JPEG, FACE_MODE_WHOLE."""
    import grpc

    from servicekit.pb.emoflux.emotion.v1 import emotion_pb2 as pb
    from servicekit.pb.emoflux.emotion.v1 import emotion_pb2_grpc as pb_grpc

    channel = grpc.aio.insecure_channel(address)
    stub = pb_grpc.EmotionServiceStub(channel)
    request = pb.ClassifyRequest(images=[pb.Image(data=jpeg)], face_mode=pb.FACE_MODE_WHOLE)

    async def call() -> Any:
        response = await stub.Classify(request, timeout=60)
        assert len(response.results[0].faces) == 1
        return response

    return channel, call


async def load_with_cpu(
    pids: Callable[[], Sequence[int]],
    channel: Any,
    call: Callable[[], Awaitable[Any]],
    *,
    clients: int,
    seconds: float,
) -> dict[str, Any]:
    """Closed loop at ``clients``; requests/s and latency from the window, server CPU per request overall.

    ``pids`` names the server's processes (read once the connection is up: worker processes included).
    """
    done = 0

    async def counted() -> Any:
        nonlocal done
        response = await call()
        done += 1
        return response

    async with channel:
        await call()  # the connection is set up outside the measurement
        watched = pids()
        cpu = process_cpu_seconds(*watched)
        result = await closed_loop(counted, clients=clients, warmup_s=min(1.0, seconds / 4), seconds=seconds)
        cpu = process_cpu_seconds(*watched) - cpu
    summary = result.summary()
    return {
        "clients": clients,
        "requests_per_s": summary["requests_per_s"],
        "latency_p50_ms": summary["latency_p50_ms"],
        "latency_p99_ms": summary["latency_p99_ms"],
        "server_cpu_ms_per_request": round(1000 * cpu / max(done, 1), 3),
        "requests": done,
        "errors": summary["errors"],
    }


def server_args(tiny: Bundle, extra: tuple[str, ...] = ()) -> list[str]:
    """The tiny model, fp32, max batch 64, every other setting at its default unless ``extra`` says otherwise."""
    return [
        "--bundle", str(tiny.path), "--precisions", "fp32", "--max-batch-size", str(MAX_BATCH),
        "--warmup-batch-sizes", "1", "--no-access-log", "--log-level", "INFO", *extra,
    ]  # fmt: skip


async def measure_floor(tiny: Bundle, seconds: float) -> dict[str, Any]:
    """KServe ModelInfer at 1 and the most clients against the bare gRPC floor server."""
    out: dict[str, Any] = {"server": "bench/grpc_floor.py"}
    async with running("bench.grpc_floor", []) as server:
        assert server.proc is not None
        pid = server.proc.pid
        for clients in (1, max(KSERVE_CLIENTS)):
            channel, call = kserve_call(server.address, tiny)
            r = await load_with_cpu(lambda: [pid], channel, call, clients=clients, seconds=seconds)
            out[f"kserve_{clients}"] = r
            rate, p50 = r["requests_per_s"], r["latency_p50_ms"]
            log(f"host gRPC floor KServe {clients} clients: {rate:.0f} req/s, p50 {p50} ms")
    return out


async def measure_served(tiny: Bundle, jpeg: bytes, seconds: float, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """KServe raw tensors at each of KSERVE_CLIENTS and Classify at each of CLASSIFY_CLIENTS on one server."""
    out: dict[str, Any] = {"server_flags": list(extra)}
    async with running("emotion_service", server_args(tiny, extra)) as server:
        assert server.proc is not None
        pid = server.proc.pid
        loads = [("kserve", "KServe", c, kserve_call(server.address, tiny)) for c in KSERVE_CLIENTS] + [
            ("classify", "Classify", c, classify_call(server.address, jpeg)) for c in CLASSIFY_CLIENTS
        ]
        for key, api, clients, (channel, call) in loads:
            r = await load_with_cpu(lambda: [pid], channel, call, clients=clients, seconds=seconds)
            out[f"{key}_{clients}"] = r
            log(
                f"host served {api} {clients} clients {extra or 'defaults'}: {r['requests_per_s']:.0f} req/s, "
                f"p50 {r['latency_p50_ms']} ms, CPU {r['server_cpu_ms_per_request']} ms/request"
            )
    return out


def floor_ratios(raw: dict[str, Any], served: dict[str, Any], floor: dict[str, Any]) -> dict[str, float]:
    """The served figures against what the bare gRPC floor and the raw model allow together."""
    top = max(KSERVE_CLIENTS)
    best = raw["best_images_per_s"]
    bound = 1.0 / (1.0 / floor[f"kserve_{top}"]["requests_per_s"] + 1.0 / best)
    return {
        "floor_bound_requests_per_s": round(bound, 1),
        "floor_bound_over_raw_best": round(bound / best, 3),
        "kserve_64_over_floor_bound": round(served[f"kserve_{top}"]["requests_per_s"] / bound, 3),
        "floor_p50_1_client_ms": floor["kserve_1"]["latency_p50_ms"],
        "kserve_p50_1_client_beyond_raw_and_floor_ms": round(
            served["kserve_1"]["latency_p50_ms"] - raw["batch1_latency_p50_ms"] - floor["kserve_1"]["latency_p50_ms"],
            3,
        ),
    }


def ratios(raw: dict[str, Any], served: dict[str, Any]) -> dict[str, float]:
    """The issue's goals as ratios of one run's figures."""
    best = raw["best_images_per_s"]
    top = max(KSERVE_CLIENTS)
    return {
        "kserve_64_over_raw_best": round(served[f"kserve_{top}"]["requests_per_s"] / best, 3),
        "classify_64_over_raw_best": round(served[f"classify_{max(CLASSIFY_CLIENTS)}"]["requests_per_s"] / best, 3),
        "kserve_p50_1_client_minus_raw_batch1_ms": round(
            served["kserve_1"]["latency_p50_ms"] - raw["batch1_latency_p50_ms"], 3
        ),
        "kserve_cpu_1_client_over_64": round(
            served["kserve_1"]["server_cpu_ms_per_request"] / served[f"kserve_{top}"]["server_cpu_ms_per_request"], 3
        ),
    }


BARS = {
    "kserve_64_over_raw_best": (">=", 0.65),
    "classify_64_over_raw_best": (">=", 0.5),
    "kserve_p50_1_client_minus_raw_batch1_ms": ("<=", 1.0),
    "kserve_cpu_1_client_over_64": ("<=", 2.0),
}


def measure_jpeg_draft(tiny: Bundle, jpeg: bytes, seconds: float) -> dict[str, Any]:
    """What libjpeg's DCT scaling (Pillow's ``draft``) would save on the request JPEG, and what it changes.

    The served path decodes at full size and resizes as the model's processor does; a draft decode at
    ``factor`` x the model size skips most of the decode and resize, but the model sees other pixels.
    """
    import io

    from PIL import Image

    from emotion_service.backends.ort import OrtBackend
    from emotion_service.preprocess import ImageLimits, decode_rgb, softmax, to_model_input

    prep = tiny.preprocessing
    limits = ImageLimits()
    backend = OrtBackend(tiny, device="cpu", precision="fp32", threads=1)

    def full() -> np.ndarray:
        return to_model_input(decode_rgb(jpeg, index=0, limits=limits), prep)

    def draft(factor: int) -> np.ndarray:
        with Image.open(io.BytesIO(jpeg)) as img:
            img.draft("RGB", (prep.width * factor, prep.height * factor))
            return to_model_input(img.convert("RGB"), prep)

    def per_image_ms(decode: Callable[[], np.ndarray]) -> float:
        r = timed_loop(lambda: len(decode()[None]), seconds=seconds)
        return round(1000 * r["seconds"] / r["items"], 3)

    reference = full()
    expected = softmax(backend.run(reference[None]))
    out: dict[str, Any] = {"full_decode_ms": per_image_ms(full)}
    for factor in (1, 2):
        pixels = draft(factor)
        out[f"draft_{factor}x"] = {
            "ms": per_image_ms(lambda f=factor: draft(f)),  # type: ignore[misc]
            "max_abs_input_diff": round(float(np.abs(pixels - reference).max()), 4),
            "max_abs_prob_diff": round(float(np.abs(softmax(backend.run(pixels[None])) - expected).max()), 4),
        }
    log(f"host JPEG draft decode: {out}")
    return out


async def measure(tiny: Bundle, jpeg: bytes, seconds: float) -> dict[str, Any]:
    """Raw, served with the current defaults, served with the previous defaults, then raw again."""
    raw_before = measure_raw(tiny, seconds / 4)
    now = await measure_served(tiny, jpeg, seconds)
    floor = await measure_floor(tiny, seconds)
    before = await measure_served(tiny, jpeg, seconds, PREVIOUS_DEFAULTS)
    raw_after = measure_raw(tiny, seconds / 4)
    # The reference is the better of the two raw runs of each configuration that bracket the served runs.
    raw = raw_before if raw_before["best_images_per_s"] >= raw_after["best_images_per_s"] else raw_after
    out_ratios = ratios(raw, now)
    return {
        "model_id": tiny.model_id,
        "raw": raw_before,
        "raw_after_served": raw_after,
        "reference": "raw_before" if raw is raw_before else "raw_after_served",
        "served": now,
        "served_previous_defaults": before,
        "ratios": out_ratios,
        "ratios_previous_defaults": ratios(raw, before),
        "grpc_floor": floor,
        "floor": floor_ratios(raw, now, floor),
        "jpeg_draft": measure_jpeg_draft(tiny, jpeg, seconds / 4),
        "bars": {
            name: {"bar": f"{op} {bar}", "met": (out_ratios[name] >= bar) if op == ">=" else (out_ratios[name] <= bar)}
            for name, (op, bar) in BARS.items()
        },
    }


def plot(host: dict[str, Any], out: Path) -> None:
    """Closed-loop latency against throughput at 1, 16 and 64 clients, current and previous defaults."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=120)
    for key, title, style in (("served", "defaults", "o-"), ("served_previous_defaults", "previous defaults", "s--")):
        rows = [host[key][f"kserve_{c}"] for c in KSERVE_CLIENTS]
        ax.plot([r["requests_per_s"] for r in rows], [r["latency_p50_ms"] for r in rows], style,
                label=f"KServe raw tensors, p50, {title}")  # fmt: skip
        for r in rows:
            ax.annotate(str(r["clients"]), (r["requests_per_s"], r["latency_p50_ms"]), fontsize=7,
                        textcoords="offset points", xytext=(3, 4))  # fmt: skip
    raw = host["raw"]
    ax.axvline(raw["best_images_per_s"], color="tab:gray", linestyle=":", label=f"raw ORT best ({raw['best']})")
    if "floor" in host:
        ax.axvline(host["floor"]["floor_bound_requests_per_s"], color="tab:red", linestyle="-.",
                   label="bound: raw best + bare gRPC floor on the same cores")  # fmt: skip
    ax.axhline(raw["batch1_latency_p50_ms"], color="tab:green", linestyle=":", label="raw ORT batch-1 p50")
    ax.set_yscale("log")
    ax.set_xlabel("requests/s (closed loop; labels: clients)")
    ax.set_ylabel("p50 latency (ms)")
    ax.set_title(f"{host['model_id']}: served over KServe vs raw ONNX Runtime (2 shared CPU cores)", fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def report_rows(host: dict[str, Any]) -> list[list[Any]]:
    """Table rows for the host-path section."""
    rows: list[list[Any]] = []
    for key, when in (("raw", "before"), ("raw_after_served", "after")):
        used = " (the reference)" if host["reference"] == key else ""
        for label, r in host[key]["configs"].items():
            rows.append(
                [
                    f"(h) raw ORT tiny, {label}, {when} the served runs{used}",
                    r["images_per_s"],
                    f"p50 {r['latency_p50_ms']} ms",
                    f"{r['cpu_ms_per_image']} ms CPU/image",
                ]
            )
    served = [("served", "defaults"), ("served_previous_defaults", "previous defaults")]
    if "grpc_floor" in host:
        served.append(("grpc_floor", "bare gRPC floor"))
    for key, title in served:
        for name, r in host[key].items():
            if name in ("server_flags", "server"):
                continue
            api, clients = name.split("_")
            what = f"(h) bare gRPC floor {api}" if key == "grpc_floor" else f"(h) served tiny {api}"
            rows.append(
                [
                    f"{what}, {clients} clients, {title} (req/s)",
                    r["requests_per_s"],
                    f"p50 {r['latency_p50_ms']} / p99 {r['latency_p99_ms']} ms",
                    f"{r['server_cpu_ms_per_request']} ms CPU/request",
                ]
            )
    return rows
