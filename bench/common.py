"""Helpers shared by the benchmarks: timing loops, rates, percentiles, servers as subprocesses, tables."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    """What the numbers were measured on, including how busy the machine was (other jobs share the CPU)."""
    load = os.getloadavg()
    return {
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "loadavg_1_5_15": [round(v, 2) for v in load],
    }


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def completion_rate(times: Sequence[float], cluster_s: float = 0.05) -> float:
    """Completions per second from completion timestamps, robust to bursts.

    With dynamic batching, completions arrive in bursts (a whole batch at once). Counting completions in a
    fixed window then over- or under-counts by up to a burst. Instead: rate = completions after the first
    burst / (last completion - first completion), where the first burst is every completion within
    ``cluster_s`` of the first. With evenly spaced completions this is the usual (n - 1) / span.
    """
    ordered = sorted(times)
    if len(ordered) < 2:
        return float("nan")
    first = sum(1 for t in ordered if t - ordered[0] <= cluster_s)
    span = ordered[-1] - ordered[0]
    if span <= cluster_s or first == len(ordered):
        return float("nan")
    return (len(ordered) - first) / span


def timed_loop(fn: Callable[[], int], *, seconds: float, min_runs: int = 2) -> dict[str, float]:
    """Call ``fn`` (returns items done) until ``seconds`` passed and at least ``min_runs`` calls; items/s."""
    items, runs = 0, 0
    start = time.perf_counter()
    while runs < min_runs or time.perf_counter() - start < seconds:
        items += fn()
        runs += 1
    elapsed = time.perf_counter() - start
    return {"items_per_s": items / elapsed, "runs": runs, "items": items, "seconds": elapsed}


def parallel_loop(fn: Callable[[], int], *, workers: int, seconds: float) -> dict[str, float]:
    """``fn`` called in a loop on ``workers`` threads at once for ``seconds`` (each at least once); items/s."""
    done = [0] * workers
    deadline = time.perf_counter() + seconds

    def worker(i: int) -> None:
        while time.perf_counter() < deadline or done[i] == 0:
            done[i] += fn()

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return {"items_per_s": sum(done) / elapsed, "items": sum(done), "seconds": elapsed}


@dataclass
class LoadResult:
    """Outcome of a closed- or open-loop run."""

    completions: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    sent: int = 0

    def error(self, exc: BaseException) -> None:
        code = exc.code().name if isinstance(exc, grpc.aio.AioRpcError) else type(exc).__name__
        self.errors[code] = self.errors.get(code, 0) + 1

    def summary(self, items_per_request: int = 1) -> dict[str, Any]:
        rate = completion_rate(self.completions)
        return {
            "requests_per_s": round(rate, 3),
            "items_per_s": round(rate * items_per_request, 3),
            "completed": len(self.completions),
            "sent": self.sent,
            "errors": self.errors,
            "latency_p50_ms": round(1000 * percentile(self.latencies, 50), 1),
            "latency_p99_ms": round(1000 * percentile(self.latencies, 99), 1),
            "latency_samples": len(self.latencies),
        }


async def closed_loop(
    call: Callable[[], Awaitable[Any]], *, clients: int, warmup_s: float, seconds: float
) -> LoadResult:
    """``clients`` tasks each calling ``call`` back to back; results recorded after ``warmup_s``."""
    result = LoadResult()
    start = time.perf_counter()
    measure_from, stop_at = start + warmup_s, start + warmup_s + seconds

    async def client() -> None:
        while time.perf_counter() < stop_at:
            sent = time.perf_counter()
            try:
                await call()
            except Exception as exc:  # recorded, not fatal: the bench reports errors per status code
                result.error(exc)
                continue
            done = time.perf_counter()
            if sent >= measure_from:
                result.sent += 1
                result.completions.append(done)
                result.latencies.append(done - sent)

    await asyncio.gather(*(client() for _ in range(clients)))
    return result


async def open_loop(call: Callable[[], Awaitable[Any]], *, rate: float, seconds: float, seed: int = 0) -> LoadResult:
    """Poisson arrivals at ``rate`` per second for ``seconds``, each request independent of the others."""
    result = LoadResult()
    rng = random.Random(seed)
    tasks: list[asyncio.Task[None]] = []

    async def one(sent: float) -> None:
        try:
            await call()
        except Exception as exc:
            result.error(exc)
            return
        done = time.perf_counter()
        result.completions.append(done)
        result.latencies.append(done - sent)

    start = time.perf_counter()
    next_at = start
    while True:
        next_at += rng.expovariate(rate)
        if next_at - start > seconds:
            break
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        # latency counts from the scheduled arrival: a late sender must not hide queueing
        tasks.append(asyncio.create_task(one(next_at)))
        result.sent += 1
    await asyncio.gather(*tasks)
    return result


class ServerProcess:
    """A service started as ``python -m MODULE --port 0 ...``; the port is read from its start-up log line."""

    LISTENING = re.compile(r"listening on [^:\s]+:(\d+)")

    def __init__(
        self, module: str, args: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path = REPO
    ) -> None:
        self.module = module
        self.args = list(args)
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd  # another checkout serves its own code (a before/after pair)
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.log_tail: list[str] = []
        self._port_ready = threading.Event()

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log_tail = [*self.log_tail[-40:], line.rstrip()]
            match = self.LISTENING.search(line)
            if match and not self._port_ready.is_set():
                self.port = int(match.group(1))
                self._port_ready.set()

    def start(self, timeout: float = 120.0) -> None:
        cmd = [sys.executable, "-m", self.module, "--port", "0", "--metrics-port", "-1", *self.args]
        log("starting " + " ".join(cmd[2:]))
        self.proc = subprocess.Popen(
            cmd, cwd=self.cwd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        threading.Thread(target=self._pump, daemon=True).start()
        if not self._port_ready.wait(timeout) or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError(f"{self.module} did not start:\n" + "\n".join(self.log_tail))

    async def wait_serving(self, timeout: float = 600.0) -> float:
        """Wait until health says SERVING (model loaded and warmed); returns seconds waited."""
        start = time.perf_counter()
        async with grpc.aio.insecure_channel(self.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while time.perf_counter() - start < timeout:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(f"{self.module} exited:\n" + "\n".join(self.log_tail))
                with contextlib.suppress(grpc.aio.AioRpcError):
                    reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=2)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return time.perf_counter() - start
                await asyncio.sleep(0.2)
        raise TimeoutError(f"{self.module} not SERVING after {timeout} s:\n" + "\n".join(self.log_tail))

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.asynccontextmanager
async def running(module: str, args: Sequence[str], **kwargs: Any) -> AsyncIterator[ServerProcess]:
    """A started, SERVING server process, stopped on exit."""
    server = ServerProcess(module, args, **kwargs)
    server.start()
    try:
        waited = await server.wait_serving()
        log(f"{module} SERVING on {server.address} after {waited:.1f} s")
        yield server
    finally:
        server.stop()


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """A Markdown table."""
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def process_cpu_seconds(*pids: int) -> float:
    """User + system CPU seconds the processes have used so far (Linux ``/proc``; every thread included).

    A process that has ended counts as 0 (a server's worker processes may come and go).
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15 of stat)
    return total
