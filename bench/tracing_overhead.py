"""What tracing costs a request: the same server with tracing off and on, alternated, side by side.

    python bench/tracing_overhead.py [--rounds 3] [--seconds 5] [--clients 16]

emotion_service on the tiny bundle serves native Classify (one 64x64 face) to a closed loop of clients,
once per configuration and round, alternating: ``--trace-exporter none`` (the default: no interceptor, no
spans) and ``console`` (every span built and written as a JSON line, to /dev/null here). The spread
between the rounds with tracing off is the noise band: an "off" overhead smaller than it cannot be
measured. Results: bench/results/tracing.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS, log, machine, running, table
from bench.fairness import capacity, face_png
from emotion_service.bundle import default_bundle_dir
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2

ROOT = Path(__file__).resolve().parents[1]


async def one_run(exporter: str, args: argparse.Namespace) -> float:
    server_args = [
        "--bundle", str(default_bundle_dir()), "--precisions", "fp32", "--no-access-log", "--trace-exporter", exporter,
    ]  # fmt: skip
    async with running("emotion_service", server_args) as server:
        request = emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=face_png())])
        return await capacity(server.address, request, args.seconds, args.clients)


def report(results: dict[str, Any]) -> str:
    rows = [[r["round"], r["trace_exporter"], r["requests_per_s"]] for r in results["runs"]]
    text = table(rows, ["round", "trace exporter", "requests/s"]) + "\n"
    s = results["summary"]
    return (
        text + f"\n- on / off (median of rounds) = {s['on_over_off']:.3f}"
        f"\n- off-round spread (max/min - 1, the noise band) = {s['off_spread']:.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--out", type=Path, default=RESULTS / "tracing.json")
    args = parser.parse_args(argv)
    runs = []
    for round_number in range(1, args.rounds + 1):
        for exporter in ("none", "console"):
            rate = asyncio.run(one_run(exporter, args))
            log(f"round {round_number}, tracing {exporter}: {rate:.0f} req/s")
            runs.append({"round": round_number, "trace_exporter": exporter, "requests_per_s": round(rate, 1)})
    off = [r["requests_per_s"] for r in runs if r["trace_exporter"] == "none"]
    on = [r["requests_per_s"] for r in runs if r["trace_exporter"] == "console"]
    results = {
        "machine": machine(),
        "clients": args.clients,
        "seconds": args.seconds,
        "runs": runs,
        "summary": {
            "on_over_off": round(statistics.median(on) / statistics.median(off), 3),
            "off_spread": round(max(off) / min(off) - 1, 3),
        },
    }
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
