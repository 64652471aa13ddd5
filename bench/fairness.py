"""Fair share under overload: a flooding client beside a light one, with and without a per-client queue share.

    python bench/fairness.py [--seconds 10] [--share 32] [--deadline 1.0]

One emotion_service (the tiny bundle, KServe-free native Classify of a 64x64 face) is measured first alone
(closed loop, its capacity C in requests/s). Then, on two separate connections at once:

* the flooder keeps ``--flood-in-flight`` calls outstanding (re-sent as soon as answered or refused: an
  offered load far above C, about 10x on this machine);
* the light client sends open-loop at 10 % of C, each call with a ``--deadline``.

The light client's success rate and p99 are the figures: with no per-client limit (the default), then
with ``--max-queue-per-client`` set to ``--share``. Results: bench/results/fairness.json.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
import time
from pathlib import Path
from typing import Any

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import synthfaces
from bench.common import RESULTS, log, machine, percentile, running, table
from emotion_service.bundle import default_bundle_dir
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2, emotion_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
SERVICE = "emoflux.emotion.v1.EmotionService"


def face_png() -> bytes:
    buffer = io.BytesIO()
    synthfaces.render("happy", 3, size=64).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def channel(address: str) -> grpc.aio.Channel:
    # A connection of its own: channels of one process otherwise share the first one's connection.
    return grpc.aio.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])


def summary(times: list[float], codes: list[str]) -> dict[str, Any]:
    ok = [t for t, c in zip(times, codes, strict=True) if c == "OK"]
    counts: dict[str, int] = {}
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
    return {
        "calls": len(codes),
        "success_rate": round(len(ok) / len(codes), 4) if codes else float("nan"),
        "p50_ms": round(percentile(ok, 50) * 1000, 1) if ok else None,
        "p99_ms": round(percentile(ok, 99) * 1000, 1) if ok else None,
        "codes": counts,
    }


async def capacity(address: str, request: emotion_pb2.ClassifyRequest, seconds: float, clients: int = 32) -> float:
    """Requests/s of a closed loop of ``clients`` callers on one connection, after a short warm-up."""
    async with channel(address) as ch:
        stub = emotion_pb2_grpc.EmotionServiceStub(ch)
        done = 0
        for _ in range(20):  # warm the connection and the model
            await stub.Classify(request, timeout=30)
        stop = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < stop:
                await stub.Classify(request, timeout=30)
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return done / (time.monotonic() - started)


async def contest(
    address: str, request: emotion_pb2.ClassifyRequest, light_rate: float, args: argparse.Namespace
) -> dict[str, Any]:
    stop = time.monotonic() + args.seconds
    flood_times: list[float] = []
    flood_codes: list[str] = []
    light_times: list[float] = []
    light_codes: list[str] = []

    async def call(stub: Any, deadline: float, times: list[float], codes: list[str]) -> None:
        started = time.monotonic()
        try:
            await stub.Classify(request, timeout=deadline)
            codes.append("OK")
        except grpc.aio.AioRpcError as exc:
            codes.append(exc.code().name)
        times.append(time.monotonic() - started)

    async with channel(address) as flood_channel, channel(address) as light_channel:
        flood = emotion_pb2_grpc.EmotionServiceStub(flood_channel)
        light = emotion_pb2_grpc.EmotionServiceStub(light_channel)

        async def flooder() -> None:
            while time.monotonic() < stop:
                await call(flood, 30.0, flood_times, flood_codes)

        async def light_client() -> None:
            pending: list[asyncio.Task[None]] = []
            next_at = time.monotonic()
            while next_at < stop:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                pending.append(asyncio.create_task(call(light, args.deadline, light_times, light_codes)))
                next_at += 1.0 / light_rate
            await asyncio.gather(*pending)

        await asyncio.gather(light_client(), *(flooder() for _ in range(args.flood_in_flight)))
    return {"light": summary(light_times, light_codes), "flood": summary(flood_times, flood_codes)}


async def measure(args: argparse.Namespace, share: int) -> dict[str, Any]:
    server_args = [
        "--bundle", str(default_bundle_dir()), "--precisions", "fp32", "--no-access-log", "--max-queue-size",
        str(args.max_queue_size), "--max-queue-per-client", str(share),
    ]  # fmt: skip
    async with running("emotion_service", server_args) as server:
        request = emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=face_png())])
        measured = await capacity(server.address, request, args.capacity_seconds)
        log(f"share {share or 'off'}: capacity {measured:.0f} req/s; light client at {0.1 * measured:.1f} req/s")
        result = await contest(server.address, request, 0.1 * measured, args)
    return {"max_queue_per_client": share, "capacity_per_s": round(measured, 1), **result}


def report(results: dict[str, Any]) -> str:
    rows = []
    for run in results["runs"]:
        share = run["max_queue_per_client"] or "off"
        for who in ("light", "flood"):
            r = run[who]
            rows.append([share, who, r["calls"], r["success_rate"], r["p50_ms"], r["p99_ms"], r["codes"]])
    header = ["queue share", "client", "calls", "success", "p50 ms (ok)", "p99 ms (ok)", "codes"]
    return table(rows, header)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--capacity-seconds", type=float, default=4.0)
    parser.add_argument("--share", type=int, default=32)
    parser.add_argument("--max-queue-size", type=int, default=1024)
    parser.add_argument("--flood-in-flight", type=int, default=256)
    parser.add_argument("--deadline", type=float, default=1.0, help="the light client's per-call deadline, s")
    parser.add_argument("--out", type=Path, default=RESULTS / "fairness.json")
    args = parser.parse_args(argv)
    runs = [asyncio.run(measure(args, share)) for share in (0, args.share)]
    results = {
        "machine": machine(),
        "deadline_s": args.deadline,
        "flood_in_flight": args.flood_in_flight,
        "max_queue_size": args.max_queue_size,
        "seconds": args.seconds,
        "runs": runs,
    }
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
