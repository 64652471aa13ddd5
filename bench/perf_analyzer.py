"""NVIDIA perf_analyzer against the emotion service's KServe v2 endpoint, at a few concurrencies.

    python bench/perf_analyzer.py                       # concurrency 1, 4, 16; table + JSON
    python bench/perf_analyzer.py --concurrency 1,2,8 --batch 4 --streaming
    python bench/perf_analyzer.py --quick               # short measurement windows

perf_analyzer comes from ``tools/perf_analyzer.sh`` (installed there when missing). It drives the
``emotion`` model over gRPC (ModelInfer, or ModelStreamInfer with ``--streaming``) with random input
tensors of the model's shape, closed loop at each concurrency, and measures until three windows in a row
agree within the stability percentage. The server is ``python -m emotion_service`` on the tiny bundle
(fp32), started on a free loopback port. Results: ``bench/results/load_perf_analyzer.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO, RESULTS, log, machine, running, table

MODEL = "emotion"


def install() -> str:
    """The perf_analyzer wrapper (tools/perf_analyzer.sh installs it when missing)."""
    done = subprocess.run(
        ["bash", str(REPO / "tools" / "perf_analyzer.sh")], capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"perf_analyzer cannot be installed here: {done.stderr.strip()[-800:]}")
    return done.stdout.strip().splitlines()[-1]


def measure(binary: str, address: str, concurrency: int, args: argparse.Namespace) -> dict[str, Any]:
    """perf_analyzer at ``concurrency``; its CSV row as numbers (latencies in ms).

    When the windows do not agree (a shared machine), the run is repeated once with windows twice as long.
    """
    interval = args.interval_ms
    for attempt in (1, 2):
        try:
            row = _measure_once(binary, address, concurrency, interval, args)
        except UnstableError:
            if attempt == 2:
                raise
            log(f"concurrency {concurrency}: not stable with {interval} ms windows; again with {2 * interval} ms")
            interval *= 2
            continue
        row.update(attempts=attempt, measurement_interval_ms=interval)
        return row
    raise AssertionError("unreachable")


class UnstableError(RuntimeError):
    """perf_analyzer found no stable measurement within its trials."""


def _measure_once(
    binary: str, address: str, concurrency: int, interval_ms: int, args: argparse.Namespace
) -> dict[str, Any]:
    report = Path(args.out_dir) / f".perf_analyzer_c{concurrency}.csv"
    argv = [
        binary, "-m", MODEL, "-u", address, "-i", "grpc", "-b", str(args.batch),
        "--concurrency-range", str(concurrency), "-s", str(args.stability),
        "--measurement-interval", str(interval_ms), "--max-trials", str(args.max_trials),
        "-f", str(report),
    ]  # fmt: skip
    if args.streaming:
        argv.append("--streaming")
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=args.run_timeout_s, check=False)
    if "Failed to obtain stable measurement" in done.stdout + done.stderr:
        raise UnstableError(f"concurrency {concurrency}: no stable measurement in {args.max_trials} windows")
    if done.returncode != 0:
        raise RuntimeError(f"perf_analyzer failed at concurrency {concurrency}:\n{done.stdout[-2000:]}{done.stderr}")
    text = report.read_text()
    report.unlink()
    (row,) = list(csv.DictReader(io.StringIO(text)))
    us = 1000.0
    return {
        "concurrency": concurrency,
        "inferences_per_s": float(row["Inferences/Second"]),
        "requests_per_s": float(row["Inferences/Second"]) / args.batch,
        "latency_p50_ms": float(row["p50 latency"]) / us,
        "latency_p90_ms": float(row["p90 latency"]) / us,
        "latency_p95_ms": float(row["p95 latency"]) / us,
        "latency_p99_ms": float(row["p99 latency"]) / us,
        # perf_analyzer's breakdown of the average request, from the server's statistics extension.
        "server_queue_ms": float(row.get("Server Queue") or 0) / us,
        "server_compute_infer_ms": float(row.get("Server Compute Infer") or 0) / us,
        "network_and_server_io_ms": float(row.get("Network+Server Send/Recv") or 0) / us,
        "wall_s": round(time.monotonic() - started, 1),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from emotion_service.build.export import ensure_bundle
    from emotion_service.bundle import default_bundle_dir

    binary = install()
    bundle = ensure_bundle("tiny", default_bundle_dir(), precisions=("fp32", "int8"))
    server_args = ["--bundle", str(bundle.path), "--precisions", "fp32", "--no-access-log"]
    Path(args.out_dir).mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    async with running("emotion_service", server_args) as server:
        for concurrency in args.concurrency:
            row = await asyncio.to_thread(measure, binary, server.address, concurrency, args)
            log(
                f"concurrency {concurrency}: {row['inferences_per_s']:.1f} infer/s, p50 {row['latency_p50_ms']:.1f} ms,"
                f" p99 {row['latency_p99_ms']:.1f} ms"
            )
            rows.append(row)
    result = {
        "benchmark": "perf_analyzer",
        "endpoint": "KServe v2 gRPC (inference.GRPCInferenceService), model 'emotion', tiny ViT fp32",
        "mode": "ModelStreamInfer" if args.streaming else "ModelInfer",
        "batch_size": args.batch,
        "settings": {
            "stability_percentage": args.stability,
            "measurement_interval_ms": args.interval_ms,
            "max_trials": args.max_trials,
            "server_args": server_args,
        },
        "rows": rows,
        "machine": machine(),
        "notes": ["perf_analyzer and the server share the same 2 CPU cores, with other jobs on the machine."],
    }
    out = Path(args.out_dir) / "load_perf_analyzer.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n## perf_analyzer, {result['mode']}, batch {args.batch}\n")
    cells = [
        (r["concurrency"], f"{r['inferences_per_s']:.1f}", f"{r['latency_p50_ms']:.1f}", f"{r['latency_p90_ms']:.1f}",
         f"{r['latency_p99_ms']:.1f}", f"{r['server_queue_ms']:.2f}", f"{r['server_compute_infer_ms']:.2f}",
         r["measurement_interval_ms"])
        for r in rows
    ]  # fmt: skip
    header = ["concurrency", "infer/s", "p50 ms", "p90 ms", "p99 ms", "server queue ms", "server infer ms", "window ms"]
    print(table(cells, header))
    print(f"wrote {out}")
    return result


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--concurrency", type=lambda t: [int(x) for x in t.split(",")], default=[1, 4, 16])
    parser.add_argument("--batch", type=int, default=1, help="rows per ModelInfer request (-b)")
    parser.add_argument("--streaming", action="store_true", help="use ModelStreamInfer")
    parser.add_argument("--stability", type=int, default=50, help="stability percentage (-s); 2 cores are noisy")
    parser.add_argument("--interval-ms", type=int, default=3000, help="measurement window, ms")
    parser.add_argument("--max-trials", type=int, default=8)
    parser.add_argument("--run-timeout-s", type=float, default=180.0, help="longest one perf_analyzer run may take")
    parser.add_argument("--quick", action="store_true", help="1.5 s windows, at most 6 trials")
    parser.add_argument("--out-dir", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.quick:
        args.interval_ms, args.max_trials = 1500, 6
    return args


def main(argv: Sequence[str] | None = None) -> int:
    asyncio.run(run(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
