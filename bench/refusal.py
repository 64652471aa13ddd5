"""What a refusal costs under overload: N concurrent Classify calls against a small queue.

    python bench/refusal.py [--calls 200] [--max-queue-size 8] [--source vit-base-random] [--label after]
                            [--server-repo DIR]   # serve another checkout's code (a before/after pair)
    python bench/refusal.py --alternate 5 --against DIR   # 5 pairs, DIR then this checkout, medians

Each call sends one 224x224 JPEG. The server admits what fits in ``--max-queue-size`` faces and refuses the
rest with RESOURCE_EXHAUSTED. The table gives the latency of refusals and of admitted calls; a refusal
that costs almost nothing answers in milliseconds whatever the load. Results are merged into
bench/results/refusal.json under ``--label``, so two runs (two checkouts) sit side by side.

Every run also fires the same calls at :mod:`bench.grpc_floor` (a bare gRPC server that refuses every call
at once, no model loaded) and records it under ``floor``: with the client on the same cores, that is the
least a refusal can cost on this machine, the denominator of ``refusal_p99_over_floor``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
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
    parser.add_argument("--alternate", type=int, default=0, help="pairs of runs alternating --against and this tree")
    parser.add_argument("--against", type=Path, help="the checkout the alternating pairs compare with")
    args = parser.parse_args(argv)
    if args.alternate:
        if args.against is None:
            parser.error("--alternate needs --against DIR")
        return alternate(args)
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

    async def floor() -> dict[str, Any]:
        async with running("bench.grpc_floor", []) as server:
            log(f"firing {args.calls} concurrent Classify calls at the bare gRPC floor")
            return await fire(server.address, args.calls)

    outcome = asyncio.run(measured())
    floor_outcome = asyncio.run(floor())
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results["floor"] = {
        "machine": machine(),
        "server": "bench/grpc_floor.py: a bare grpc.aio server refusing every call at once, no model",
        "calls": args.calls,
        "server_repo_commit": "-",
        "by_code": floor_outcome,
    }
    refused = outcome.get("RESOURCE_EXHAUSTED")
    results[args.label] = {
        "machine": machine(),
        "model": args.source,
        "calls": args.calls,
        "max_queue_size": args.max_queue_size,
        "server_repo_commit": commit_of(args.server_repo),
        "by_code": outcome,
        "refusal_p99_over_floor": (
            round(refused["p99_ms"] / floor_outcome["RESOURCE_EXHAUSTED"]["p99_ms"], 2) if refused else None
        ),
    }
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))
    return 0


def commit_of(repo: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True, check=False
    ).stdout.strip()


def alternate(args: argparse.Namespace) -> int:
    """``--alternate`` pairs: the other checkout, then this one, each on a fresh server; medians of the series.

    One run is noisy on a shared machine (the refusal p99 moves by tens of ms between identical runs); the
    alternating series puts both checkouts under the same drift.
    """
    bundle = ensure_bundle(args.source, MODELS / args.source, precisions=("fp32",), progress=stderr_progress("bundle"))
    server_args = [
        "--bundle", str(bundle.path), "--precisions", "fp32", "--max-batch-size", "8", "--max-queue-size",
        str(args.max_queue_size), "--no-access-log",
    ]  # fmt: skip
    series: dict[str, dict[str, list[float]]] = {}

    async def once(repo: Path) -> dict[str, Any]:
        env = {"PYTHONPATH": str(repo)}
        async with running("emotion_service", server_args, env=env, cwd=repo) as server:
            return await fire(server.address, args.calls)

    for _ in range(args.alternate):
        for name, repo in (("against", args.against), ("current", ROOT)):
            outcome = asyncio.run(once(repo))
            runs = series.setdefault(name, {"refusal_p50_ms": [], "refusal_p99_ms": [], "accepted_p50_ms": []})
            runs["refusal_p50_ms"].append(outcome["RESOURCE_EXHAUSTED"]["p50_ms"])
            runs["refusal_p99_ms"].append(outcome["RESOURCE_EXHAUSTED"]["p99_ms"])
            runs["accepted_p50_ms"].append(outcome["OK"]["p50_ms"] if "OK" in outcome else float("nan"))
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results["alternating"] = {
        "machine": machine(),
        "model": args.source,
        "calls": args.calls,
        "pairs": args.alternate,
        "against_commit": commit_of(args.against),
        "current_commit": commit_of(ROOT),
        "series": series,
        "medians": {
            name: {key: round(statistics.median(values), 1) for key, values in runs.items()}
            for name, runs in series.items()
        },
    }
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))
    return 0


def report(results: dict[str, Any]) -> str:
    """One row per run and status code."""
    rows = []
    for label, run in results.items():
        if label == "alternating":
            continue
        for code, r in run["by_code"].items():
            over = run.get("refusal_p99_over_floor") if code == "RESOURCE_EXHAUSTED" else None
            rows.append([
                f"{label} ({run['server_repo_commit']})", code, r["calls"], r["p50_ms"], r["p99_ms"], r["max_ms"],
                over if over is not None else "",
            ])  # fmt: skip
    text = table(rows, ["run", "status", "calls", "p50 ms", "p99 ms", "max ms", "p99 / floor p99"])
    alt = results.get("alternating")
    if alt:
        pairs = [
            [f"{name} ({alt[f'{name}_commit']})", m["refusal_p50_ms"], m["refusal_p99_ms"], m["accepted_p50_ms"]]
            for name, m in alt["medians"].items()
        ]
        text += f"\n\nMedians of {alt['pairs']} alternating pairs of runs ({alt['calls']} calls each):\n\n"
        text += table(pairs, ["server", "refusal p50 ms", "refusal p99 ms", "accepted p50 ms"])
    return text


if __name__ == "__main__":
    raise SystemExit(main())
