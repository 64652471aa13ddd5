"""What a refusal costs under overload: N concurrent Classify calls against a small queue.

    python bench/refusal.py [--calls 200] [--max-queue-size 8] [--source vit-base-random] [--label after]
                            [--server-repo DIR]   # serve another checkout's code (a before/after pair)

Each call sends one 224x224 JPEG. The server admits what fits in ``--max-queue-size`` faces and refuses the
rest with RESOURCE_EXHAUSTED. The table gives the latency of refusals and of admitted calls; a refusal
that costs almost nothing answers in milliseconds whatever the load. Results are merged into
bench/results/refusal.json under ``--label``, so two runs (two checkouts) sit side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS, log, machine, percentile, running, table
from emotion_service.build.export import ensure_bundle, stderr_progress
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2, emotion_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "build" / "models" / "emotion"


def jpeg(seed: int, size: int = 224) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def milliseconds(values: list[float], q: float) -> float:
    return round(percentile(values, q) * 1000, 1)


async def fire(address: str, calls: int) -> dict[str, Any]:
    images = [jpeg(i) for i in range(calls)]
    async with grpc.aio.insecure_channel(address) as channel:
        stub = emotion_pb2_grpc.EmotionServiceStub(channel)
        await stub.GetModelInfo(emotion_pb2.GetModelInfoRequest(), timeout=30)

        async def one(data: bytes) -> tuple[str, float]:
            started = time.monotonic()
            try:
                await stub.Classify(emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=data)]), timeout=120)
                code = "OK"
            except grpc.aio.AioRpcError as exc:
                code = exc.code().name
            return code, time.monotonic() - started

        outcomes = await asyncio.gather(*(one(data) for data in images))
    by_code: dict[str, list[float]] = {}
    for code, seconds in outcomes:
        by_code.setdefault(code, []).append(seconds)
    return {
        code: {
            "calls": len(times),
            "p50_ms": milliseconds(times, 50),
            "p99_ms": milliseconds(times, 99),
            "max_ms": round(max(times) * 1000, 1),
        }
        for code, times in sorted(by_code.items())
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--max-queue-size", type=int, default=8)
    parser.add_argument("--source", default="vit-base-random", help="emotion bundle source (tiny for a quick run)")
    parser.add_argument("--label", default="current")
    parser.add_argument("--server-repo", type=Path, default=ROOT, help="checkout whose emotion_service serves")
    parser.add_argument("--out", type=Path, default=RESULTS / "refusal.json")
    args = parser.parse_args(argv)
    bundle = ensure_bundle(args.source, MODELS / args.source, precisions=("fp32",), progress=stderr_progress("bundle"))
    server_args = [
        "--bundle", str(bundle.path), "--precisions", "fp32", "--max-batch-size", "8", "--max-queue-size",
        str(args.max_queue_size), "--no-access-log",
    ]  # fmt: skip
    env = {"PYTHONPATH": str(args.server_repo)}

    async def measured() -> dict[str, Any]:
        async with running("emotion_service", server_args, env=env, cwd=args.server_repo) as server:
            log(f"firing {args.calls} concurrent Classify calls ({args.label})")
            return await fire(server.address, args.calls)

    outcome = asyncio.run(measured())
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results[args.label] = {
        "machine": machine(),
        "model": args.source,
        "calls": args.calls,
        "max_queue_size": args.max_queue_size,
        "server_repo_commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=args.server_repo, capture_output=True, text=True
        ).stdout.strip(),
        "by_code": outcome,
    }
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))
    return 0


def report(results: dict[str, Any]) -> str:
    """One row per run and status code."""
    rows = []
    for label, run in results.items():
        for code, r in run["by_code"].items():
            rows.append(
                [f"{label} ({run['server_repo_commit']})", code, r["calls"], r["p50_ms"], r["p99_ms"], r["max_ms"]]
            )
    return table(rows, ["run", "status", "calls", "p50 ms", "p99 ms", "max ms"])


if __name__ == "__main__":
    raise SystemExit(main())
