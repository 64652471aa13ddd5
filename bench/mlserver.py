"""emoflux against MLServer on the same model, the same KServe v2 gRPC requests and the same client.

    python bench/mlserver.py [--seconds 8] [--clients 1,16,64]

MLServer (Seldon's Python inference server, ``mlserver==1.7.1``) is installed into a virtual environment of
its own (``build/mlserver-venv``, created on first use; it cannot share the project's: it pins other
protobuf and FastAPI versions) and serves the embedded tiny bundle's fp32 ONNX file through a small custom
runtime running ONNX Runtime on the CPU, with MLServer's adaptive batching on (up to 64 requests, 5 ms),
its default worker set-up otherwise. emoflux serves the same file with its defaults (max batch 64).

Both get ``ModelInfer`` with one raw FP32 ``[1, 3, 64, 64]`` tensor from the same closed-loop client at each
concurrency, one server after the other at each step, and the server process's CPU per request (its
worker processes included). Results: ``bench/results/mlserver.json``; the docs render them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO, RESULTS, log, machine, running, table
from bench.emotion_host import kserve_call, load_with_cpu
from emotion_service.bundle import Bundle, default_bundle_dir, load_bundle

MLSERVER = "mlserver==1.7.1"
# uvloop 0.22 and later raise in MLServer 1.7.1's worker start-up (asyncio.get_event_loop() without a loop).
MLSERVER_PINS = ("uvloop==0.21.0",)
VENV = REPO / "build" / "mlserver-venv"
MODEL = "emotion"

RUNTIME = '''
"""An MLServer runtime for an image classifier exported to ONNX: float32 pixels in, softmax out."""

import numpy as np
import onnxruntime as ort
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse


class OnnxClassifier(MLModel):
    async def load(self) -> bool:
        options = ort.SessionOptions()
        self._session = ort.InferenceSession(
            self.settings.parameters.uri, options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        pixels = NumpyCodec.decode_input(payload.inputs[0]).astype(np.float32)
        logits = self._session.run(None, {self._input: pixels})[0]
        shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
        probabilities = shifted / shifted.sum(axis=-1, keepdims=True)
        return InferenceResponse(
            model_name=self.name, outputs=[NumpyCodec.encode_output("probabilities", probabilities)]
        )
'''


def ensure_venv() -> Path:
    """The MLServer environment (created once; ``pip install`` of MLServer and the project's ONNX Runtime)."""
    python = VENV / "bin" / "python"
    marker = VENV / ".installed"
    import onnxruntime

    wanted = " ".join((MLSERVER, *MLSERVER_PINS, f"onnxruntime=={onnxruntime.__version__}"))
    if marker.exists() and marker.read_text() == wanted:
        return python
    log(f"creating {VENV} with {wanted}")
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *wanted.split(), "numpy"],
        check=True,
        timeout=900,
    )
    marker.write_text(wanted)
    return python


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_model_repository(root: Path, bundle: Bundle) -> None:
    """The model's model-settings.json and its runtime module, as ``mlserver start`` wants them."""
    model_dir = root / MODEL
    model_dir.mkdir(parents=True)
    (model_dir / "runtime.py").write_text(RUNTIME)
    settings = {
        "name": MODEL,
        "implementation": "runtime.OnnxClassifier",
        "max_batch_size": 64,
        "max_batch_time": 0.005,
        "parameters": {"uri": str(bundle.onnx_files["fp32"])},
    }
    (model_dir / "model-settings.json").write_text(json.dumps(settings))


class MLServerProcess:
    """``mlserver start`` on free ports, stopped on exit; ``pids`` lists it and its worker processes."""

    def __init__(self, python: Path, repository: Path) -> None:
        self.python = python
        self.repository = repository
        self.grpc_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "MLSERVER_GRPC_PORT": str(self.grpc_port),
            "MLSERVER_HTTP_PORT": str(free_port()),
            "MLSERVER_METRICS_PORT": str(free_port()),
            "MLSERVER_DEBUG": "false",
        }
        mlserver = self.python.parent / "mlserver"
        self.proc = subprocess.Popen(
            [str(mlserver), "start", str(self.repository)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    async def wait_ready(self, timeout: float = 180.0) -> float:
        import grpc

        from servicekit.pb.inference import grpc_service_pb2 as kpb
        from servicekit.pb.inference import grpc_service_pb2_grpc as kpb_grpc

        started = time.monotonic()
        async with grpc.aio.insecure_channel(self.address) as channel:
            stub = kpb_grpc.GRPCInferenceServiceStub(channel)
            while time.monotonic() - started < timeout:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError("mlserver exited during start-up")
                try:
                    reply = await stub.ModelReady(kpb.ModelReadyRequest(name=MODEL), timeout=2)
                    if reply.ready:
                        return time.monotonic() - started
                except grpc.aio.AioRpcError:
                    pass
                await asyncio.sleep(0.5)
        raise TimeoutError(f"mlserver not ready after {timeout} s")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def pids(self) -> list[int]:
        """The server and its children (MLServer runs inference in worker processes)."""
        assert self.proc is not None
        out = subprocess.run(["pgrep", "-g", str(self.proc.pid)], capture_output=True, text=True, check=False)
        return [int(p) for p in out.stdout.split()] or [self.proc.pid]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    bundle = load_bundle(default_bundle_dir())
    python = ensure_venv()
    repository = Path(tempfile.mkdtemp(prefix="mlserver-models-"))
    write_model_repository(repository, bundle)
    mlserver = MLServerProcess(python, repository)
    emoflux_args = [
        "--bundle", str(bundle.path), "--precisions", "fp32", "--max-batch-size", "64", "--no-access-log",
    ]  # fmt: skip
    rows: dict[str, list[dict[str, Any]]] = {"emoflux": [], "mlserver": []}
    mlserver.start()
    try:
        log(f"mlserver ready after {await mlserver.wait_ready():.1f} s")
        async with running("emotion_service", emoflux_args) as emoflux:
            assert emoflux.proc is not None
            emoflux_pid = emoflux.proc.pid
            servers = {
                "emoflux": (emoflux.address, lambda: [emoflux_pid]),
                "mlserver": (mlserver.address, mlserver.pids),
            }
            for clients in args.clients:
                for name, (address, pids) in servers.items():
                    channel, call = kserve_call(address, bundle)
                    r = await load_with_cpu(pids, channel, call, clients=clients, seconds=args.seconds)
                    rows[name].append(r)
                    log(f"{name} {clients} clients: {r['requests_per_s']:.0f} req/s, p50 {r['latency_p50_ms']} ms")
    finally:
        mlserver.stop()
        shutil.rmtree(repository, ignore_errors=True)
    ratios = {
        str(e["clients"]): round(e["requests_per_s"] / m["requests_per_s"], 3)
        for e, m in zip(rows["emoflux"], rows["mlserver"], strict=True)
    }
    return {
        "machine": machine(),
        "model": f"{bundle.model_id} fp32 ONNX ({bundle.preprocessing.height}x{bundle.preprocessing.width})",
        "mlserver": f"{MLSERVER}, custom ONNX Runtime CPU runtime, adaptive batching 64 / 5 ms",
        "emoflux": "python -m emotion_service, defaults, --max-batch-size 64",
        "seconds": args.seconds,
        "rows": rows,
        "emoflux_over_mlserver": ratios,
        "emoflux_at_least_mlserver_everywhere": all(v >= 1.0 for v in ratios.values()),
    }


def report(results: dict[str, Any]) -> str:
    """One row per server and concurrency, and emoflux / MLServer in requests/s."""
    rows = []
    for name in ("emoflux", "mlserver"):
        for r in results["rows"][name]:
            rows.append([
                name, r["clients"], r["requests_per_s"], r["latency_p50_ms"], r["latency_p99_ms"],
                r["server_cpu_ms_per_request"],
            ])  # fmt: skip
    text = table(rows, ["server", "clients", "requests/s", "p50 ms", "p99 ms", "server CPU ms/request"])
    ratios = ", ".join(f"{c} clients {v}" for c, v in results["emoflux_over_mlserver"].items())
    return text + f"\n\nemoflux / MLServer requests/s: {ratios}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=lambda s: [int(c) for c in s.split(",")], default=[1, 16, 64])
    parser.add_argument("--out", type=Path, default=RESULTS / "mlserver.json")
    args = parser.parse_args(argv)
    results = asyncio.run(measure(args))
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
