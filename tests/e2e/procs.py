"""The emoflux services as real subprocesses on free loopback ports, for end-to-end and fault tests.

Processes are started the way ``make demo`` starts them (:class:`ranker.demo.Service`: ``python -m
MODULE --port P --metrics-port M``, ports found by binding 127.0.0.1:0, log to a file), and waited on
through the standard gRPC health service. This module adds what the tests need on top: SIGKILL and
SIGTERM without waiting, the exit code, the full log, and scrapes of the process's /metrics.
"""

from __future__ import annotations

import contextlib
import signal
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from ranker.demo import Service, free_port, wait_serving

REPO = Path(__file__).resolve().parents[2]
EMOTION_HEALTH = "emoflux.emotion.v1.EmotionService"
IMAGE_HEALTH = "emoflux.image.v1.ImageService"
RANKER_HEALTH = "emoflux.ranker.v1.RankerService"
IMAGE_MODELS = REPO / "build" / "models" / "image"


@lru_cache(maxsize=1)
def tiny_bundle() -> Path:
    """The tiny emotion bundle (fp32 + int8), built once per session if missing."""
    from tests.emotion_service.serving import ensure_tiny_bundle

    return ensure_tiny_bundle()


def dead_address() -> str:
    """A loopback address nothing listens on (the port was free a moment ago)."""
    return f"127.0.0.1:{free_port()}"


@dataclass
class Scrape:
    """One scrape of a /metrics endpoint: every sample with its labels."""

    samples: list[tuple[str, dict[str, str], float]]

    def value(self, name: str, **labels: str) -> float:
        """Sum of the samples called ``name`` whose labels include ``labels`` (0 when there are none)."""
        return sum(v for n, ls, v in self.samples if n == name and all(ls.get(k) == want for k, want in labels.items()))

    def names(self) -> set[str]:
        """Every sample name in the scrape."""
        return {n for n, _, _ in self.samples}


def scrape(port: int, timeout: float = 5.0) -> Scrape:
    """GET http://127.0.0.1:PORT/metrics and parse it."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as reply:
        text = reply.read().decode()
    families = text_string_to_metric_families(text)
    return Scrape([(s.name, dict(s.labels), float(s.value)) for family in families for s in family.samples])


@dataclass
class ServiceProcess(Service):
    """A service subprocess with signals, exit code, log and metrics access."""

    def send(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the process (no wait)."""
        assert self.process is not None, "start() first"
        self.process.send_signal(sig)

    def kill(self) -> int:
        """SIGKILL the process and reap it; return its exit code (``-9``)."""
        assert self.process is not None, "start() first"
        self.process.kill()
        return self.process.wait(10)

    def wait_exit(self, timeout: float) -> int:
        """Wait for the process to exit; return its exit code."""
        assert self.process is not None, "start() first"
        return self.process.wait(timeout)

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        """The whole log so far."""
        if self.log is not None:
            self.log.flush()
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def metrics(self) -> Scrape:
        """A scrape of the process's /metrics."""
        return scrape(self.metrics_port)


async def health_status(address: str, service: str = "", timeout: float = 3.0) -> int:
    """The health status of ``service`` at ``address`` (``-1`` when nobody answers)."""
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.aio.AioRpcError:
            return -1
    return int(reply.status)


class Launcher:
    """Starts service subprocesses and stops every one of them at the end (SIGTERM, then SIGKILL)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.started: list[ServiceProcess] = []

    def start(self, name: str, module: str, health_name: str, extra: Sequence[str] = ()) -> ServiceProcess:
        """Start ``python -m module`` on free ports, logging to ``log_dir/name.log`` (no wait)."""
        process = ServiceProcess(name, module, health_name, extra=list(extra))
        process.start(self.log_dir)
        self.started.append(process)
        return process

    def restart(self, old: ServiceProcess, name: str) -> ServiceProcess:
        """Start the same service again (same flags, fresh ports) under a new log name."""
        return self.start(name, old.module, old.health_name, old.extra)

    def emotion(self, name: str = "emotion", extra: Sequence[str] = ()) -> ServiceProcess:
        """emotion_service on the tiny bundle, fp32 only unless ``extra`` says otherwise."""
        flags = ["--bundle", str(tiny_bundle()), "--precisions", "fp32", "--grace-seconds", "5", *extra]
        return self.start(name, "emotion_service", EMOTION_HEALTH, flags)

    def image(self, name: str = "image", extra: Sequence[str] = ()) -> ServiceProcess:
        """image_service on the embedded tiny-flux (torch, CPU, one thread: the machine is shared)."""
        flags = ["--models-dir", str(IMAGE_MODELS), "--device", "cpu", "--torch-threads", "1", "--no-warmup"]
        return self.start(name, "image_service", IMAGE_HEALTH, [*flags, "--grace-seconds", "5", *extra])

    def ranker(
        self, db_path: Path, emotion: str, image: str, name: str = "ranker", extra: Sequence[str] = ()
    ) -> ServiceProcess:
        """The ranker with its store at ``db_path``, probing the given (comma-separated) addresses."""
        flags = [
            "--db-path", str(db_path), "--emotion-addresses", emotion, "--image-addresses", image,
            "--bootstrap-samples", "200", "--grace-seconds", "5",
        ]  # fmt: skip
        return self.start(name, "ranker", RANKER_HEALTH, [*flags, *extra])

    async def serving(self, *processes: ServiceProcess, timeout: float = 120.0) -> None:
        """Wait until every process answers health SERVING; fail naming the one that did not, with its log."""
        await wait_serving(processes, timeout)
        for process in processes:
            if process.problem:
                raise AssertionError(f"{process.name}: {process.problem}\n{process.log_tail(30)}")

    def stop_all(self) -> None:
        """Stop every process still running (SIGTERM with a short drain, then SIGKILL)."""
        for process in reversed(self.started):
            with contextlib.suppress(Exception):
                process.stop(grace=10)


@contextlib.contextmanager
def launched(log_dir: Path) -> Iterator[Launcher]:
    """A :class:`Launcher` whose processes are all stopped on exit."""
    launcher = Launcher(log_dir)
    try:
        yield launcher
    finally:
        launcher.stop_all()


def wait_until(condition: Callable[[], object], timeout: float, what: str = "condition", every: float = 0.25) -> None:
    """Poll ``condition`` until it returns a truthy value (AssertionError after ``timeout``)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            last = condition()
            if last:
                return
        time.sleep(every)
    raise AssertionError(f"{what} not reached within {timeout:.0f} s (last value {last!r})")


def assert_healthy(process: ServiceProcess, health_name: str) -> None:
    """The process runs, health says SERVING, and no RPC ended INTERNAL or UNKNOWN (by its /metrics and log)."""
    assert process.alive, process.log_tail(30)
    with grpc.insecure_channel(process.address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=health_name), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    scrape = process.metrics()
    faults = {code: scrape.value("grpc_server_handled_total", grpc_code=code) for code in ("INTERNAL", "UNKNOWN")}
    assert not any(faults.values()), faults
    # servicekit's error mapper logs this for every exception it had to turn into INTERNAL.
    assert "unhandled error" not in process.log_text(), process.log_tail(30)
