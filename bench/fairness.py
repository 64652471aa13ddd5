"""Fair share under overload: a flooding client beside a light one, with and without the per-client limits.

    python bench/fairness.py [--seconds 10] [--share 16] [--streams 16] [--deadline 0.5]

One emotion_service (the tiny bundle, KServe-free native Classify of a 64x64 face) is measured first alone,
without per-client limits (closed loop, its capacity C in requests/s). Then, on two separate connections at once:

* the flooder, a process of its own, keeps ``--flood-in-flight`` calls outstanding on one connection
  (re-sent as soon as answered or refused: an offered load far above C, about 10x on this machine);
* the light client, in this process, sends open-loop at 10 % of C, each call with a ``--deadline``.

The light client's success rate and p99 are the figures, for three servers: no per-client limit (the
defaults); ``--max-queue-per-client`` = ``--share`` (the batcher's queue share); and that plus
``--max-streams-per-connection`` = ``--streams`` (HTTP/2's limit on one connection's open calls, so the
flood's surplus waits in its own transport instead of the server's intake). Results:
bench/results/fairness.json.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing
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


async def _call(stub: Any, request: Any, deadline: float, times: list[float], codes: list[str]) -> None:
    started = time.monotonic()
    try:
        await stub.Classify(request, timeout=deadline)
        codes.append("OK")
    except grpc.aio.AioRpcError as exc:
        codes.append(exc.code().name)
    times.append(time.monotonic() - started)


def flood_process(address: str, in_flight: int, seconds: float) -> tuple[list[float], list[str]]:
    """The flooder, run in a process of its own: ``in_flight`` callers back to back on one connection."""

    async def flood() -> tuple[list[float], list[str]]:
        times: list[float] = []
        codes: list[str] = []
        request = emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=face_png())])
        stop = time.monotonic() + seconds
        async with channel(address) as flood_channel:
            stub = emotion_pb2_grpc.EmotionServiceStub(flood_channel)

            async def caller() -> None:
                while time.monotonic() < stop:
                    await _call(stub, request, 30.0, times, codes)

            await asyncio.gather(*(caller() for _ in range(in_flight)))
        return times, codes

    return asyncio.run(flood())


async def contest(
    address: str, request: emotion_pb2.ClassifyRequest, light_rate: float, args: argparse.Namespace
) -> dict[str, Any]:
    light_times: list[float] = []
    light_codes: list[str] = []
    loop = asyncio.get_running_loop()
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        flooding = loop.run_in_executor(
            None, pool.apply, flood_process, (address, args.flood_in_flight, args.seconds + 1.0)
        )
        await asyncio.sleep(1.0)  # the flood is under way before the light client starts
        stop = time.monotonic() + args.seconds
        async with channel(address) as light_channel:
            light = emotion_pb2_grpc.EmotionServiceStub(light_channel)
            pending: list[asyncio.Task[None]] = []
            next_at = time.monotonic()
            while next_at < stop:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                pending.append(asyncio.create_task(_call(light, request, args.deadline, light_times, light_codes)))
                next_at += 1.0 / light_rate
            await asyncio.gather(*pending)
        flood_times, flood_codes = await flooding
    return {"light": summary(light_times, light_codes), "flood": summary(flood_times, flood_codes)}


async def measure(args: argparse.Namespace, share: int, streams: int, known_capacity: float | None) -> dict[str, Any]:
    server_args = [
        "--bundle", str(default_bundle_dir()), "--precisions", "fp32", "--no-access-log", "--max-queue-size",
        str(args.max_queue_size), "--max-queue-per-client", str(share), "--max-streams-per-connection", str(streams),
    ]  # fmt: skip
    async with running("emotion_service", server_args) as server:
        request = emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=face_png())])
        # Capacity is measured once, on the server without per-client limits; every run offers the same load.
        measured = known_capacity or await capacity(server.address, request, args.capacity_seconds)
        log(
            f"share {share or 'off'}, streams {streams or 'off'}: capacity {measured:.0f} req/s; "
            f"light client at {0.1 * measured:.1f} req/s"
        )
        result = await contest(server.address, request, 0.1 * measured, args)
    return {
        "max_queue_per_client": share,
        "max_streams_per_connection": streams,
        "capacity_per_s": round(measured, 1),
        **result,
    }


def report(results: dict[str, Any]) -> str:
    rows = []
    for run in results["runs"]:
        share = run["max_queue_per_client"] or "off"
        streams = run.get("max_streams_per_connection") or "off"
        for who in ("light", "flood"):
            r = run[who]
            rows.append([share, streams, who, r["calls"], r["success_rate"], r["p50_ms"], r["p99_ms"], r["codes"]])
    header = ["queue share", "streams", "client", "calls", "success", "p50 ms (ok)", "p99 ms (ok)", "codes"]
    return table(rows, header)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--capacity-seconds", type=float, default=4.0)
    parser.add_argument("--share", type=int, default=16)
    parser.add_argument("--streams", type=int, default=16, help="--max-streams-per-connection of the third server")
    parser.add_argument("--max-queue-size", type=int, default=1024)
    parser.add_argument("--flood-in-flight", type=int, default=256)
    parser.add_argument("--deadline", type=float, default=0.5, help="the light client's per-call deadline, s")
    parser.add_argument("--out", type=Path, default=RESULTS / "fairness.json")
    args = parser.parse_args(argv)
    configs = ((0, 0), (args.share, 0), (args.share, args.streams))
    runs: list[dict[str, Any]] = []
    for share, streams in configs:
        known = runs[0]["capacity_per_s"] if runs else None
        runs.append(asyncio.run(measure(args, share, streams, known)))
    results = {
        "machine": machine(),
        "deadline_s": args.deadline,
        "light_client": "open loop at 10 % of capacity, in the bench process",
        "flooder": "a process of its own, one connection",
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
