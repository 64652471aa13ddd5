"""``make demo``: start the three services, rank what they serve, print the comparison, write the report.

Steps: start the emotion, image and ranker services as subprocesses on free loopback ports (their
embedded defaults, logs under ``build/demo/logs``); wait until each reports health SERVING; show what
the served models see (the astronaut photo, unseen synthetic faces, one generated face per emotion
judged by the classifier); run one evaluation round through the ranker's Evaluate stream with a
progress bar; print the comparison of the two reference models and of the two served models; write
the report (Markdown + HTML) and print where; stop everything it started, also on Ctrl-C, SIGTERM or
an error. A service package that is missing or fails to start is named plainly, and the round goes on
without it (its probes are recorded as unavailable).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

import grpc
from tqdm import tqdm

from ranker.catalog import load_catalog
from ranker.cli import format_table
from ranker.engine import Ranker
from ranker.evidence import EvidenceStore
from ranker.report import REFERENCE_PAIR, build_report, write_report
from ranker.showcase import run as showcase
from servicekit.channels import address_is_serving
from servicekit.pb.emoflux.ranker.v1 import ranker_pb2, ranker_pb2_grpc

REPO = Path(__file__).resolve().parents[1]
EMOTION_EXTRA = ["--precisions", "fp32,int8"]


def free_port() -> int:
    """A loopback port that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """A service subprocess the demo manages."""

    name: str
    module: str
    health_name: str
    port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    extra: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    log: IO[bytes] | None = None
    problem: str = ""

    @property
    def address(self) -> str:
        """host:port of the gRPC server."""
        return f"127.0.0.1:{self.port}"

    def available(self) -> bool:
        """True when the service's package can be imported."""
        return importlib.util.find_spec(self.module) is not None and (
            importlib.util.find_spec(f"{self.module}.__main__") is not None
        )

    def start(self, log_dir: Path) -> None:
        """Start the subprocess, logging to ``log_dir/<name>.log``."""
        self.log_path = log_dir / f"{self.name}.log"
        self.log = self.log_path.open("wb")
        command = [
            sys.executable, "-m", self.module, "--port", str(self.port), "--metrics-port", str(self.metrics_port),
            *self.extra,
        ]  # fmt: skip
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(command, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def log_tail(self, lines: int = 8) -> str:
        """The last lines of the log."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM, wait up to ``grace`` seconds for the drain, then SIGKILL."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.log is not None:
            self.log.close()
            self.log = None


async def wait_serving(services: Sequence[Service], timeout: float) -> None:
    """Wait until each started service answers health SERVING (or exits, or the time runs out)."""
    deadline = time.monotonic() + timeout
    pending = [s for s in services if s.process is not None]
    with tqdm(total=len(pending), desc="waiting for health SERVING", unit="service", file=sys.stderr) as bar:
        while pending and time.monotonic() < deadline:
            for service in list(pending):
                assert service.process is not None
                if service.process.poll() is not None:
                    service.problem = f"exited with code {service.process.returncode} during start-up"
                    pending.remove(service)
                    bar.update(1)
                    continue
                if await _serving(service):
                    pending.remove(service)
                    bar.update(1)
                    bar.set_postfix_str(f"{service.name} up")
            await asyncio.sleep(0.5)
    for service in pending:
        service.problem = f"not SERVING after {timeout:.0f} s"


async def _serving(service: Service) -> bool:
    return await address_is_serving(service.address, service.health_name)


async def evaluate(ranker_address: str, deadline_seconds: float) -> ranker_pb2.EvaluateResponse.Finished:
    """Run one Evaluate round through the ranker, with a progress bar; return its summary."""
    finished = None
    bar: tqdm[Any] | None = None
    async with grpc.aio.insecure_channel(ranker_address) as channel:
        stub = ranker_pb2_grpc.RankerServiceStub(channel)
        request = ranker_pb2.EvaluateRequest(include_match=True)
        request.deadline.FromSeconds(int(deadline_seconds))
        async for event in stub.Evaluate(request, timeout=deadline_seconds + 60):
            kind = event.WhichOneof("event")
            if kind == "progress":
                p = event.progress
                if bar is None and p.total:
                    bar = tqdm(total=p.total, desc="evaluating", unit="probe", file=sys.stderr)
                if not p.probe:
                    (bar.write if bar else print)(f"note: {p.message}")
                elif p.message == "started":
                    if bar is not None:
                        bar.set_postfix_str(f"{p.probe} on {p.model_id}")
                else:
                    line = f"  {p.probe:<32} {p.model_id:<30} {p.message}"
                    if bar is not None:
                        bar.update(p.done - bar.n)
                        bar.write(line)
                    else:
                        print(line)
            elif kind == "finished":
                finished = event.finished
    if bar is not None:
        bar.close()
    assert finished is not None, "the Evaluate stream ended without a Finished event"
    result: ranker_pb2.EvaluateResponse.Finished = finished
    return result


async def compare(ranker_address: str, model_a: str, model_b: str) -> str:
    """The comparison of two models, from the ranker's Compare RPC, as text."""
    async with grpc.aio.insecure_channel(ranker_address) as channel:
        stub = ranker_pb2_grpc.RankerServiceStub(channel)
        reply = await stub.Compare(ranker_pb2.CompareRequest(model_a=model_a, model_b=model_b), timeout=30)
        names = {}
        for model_id in (model_a, model_b):
            card = await stub.GetModel(ranker_pb2.GetModelRequest(model_id=model_id), timeout=30)
            names[model_id] = card.model.display_name
    rows = [
        (r.name, r.value_a, r.value_b, r.leader == ranker_pb2.LEADER_A, r.leader == ranker_pb2.LEADER_B)
        for r in reply.rows
    ]
    table = format_table(reply.headline, (names[model_a], names[model_b]), rows)
    return f"{table}\n\nVerdict: {reply.verdict}"


def served_pair(scores: Sequence[ranker_pb2.Score]) -> tuple[str, str] | None:
    """(classifier, generator) among the evaluated models, if both were evaluated."""
    catalog = load_catalog()
    evaluated = [s.model_id for s in scores]
    by_service: dict[str, str] = {}
    for model_id in evaluated:
        card = catalog.get(model_id)
        if card is not None and card.served_by is not None:
            by_service.setdefault(card.served_by.service, model_id)
    if "emotion" in by_service and "image" in by_service:
        return by_service["emotion"], by_service["image"]
    return None


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options of the demo."""
    parser = argparse.ArgumentParser(prog="python -m ranker.demo", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/report"), help="report folder (default build/report)")
    parser.add_argument(
        "--work", type=Path, default=Path("build/demo"), help="evidence store and logs (default build/demo)"
    )
    parser.add_argument("--start-timeout", type=float, default=600.0, help="seconds to wait for health SERVING")
    parser.add_argument("--deadline", type=float, default=900.0, help="time budget of the evaluation round, seconds")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; return the exit code."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    work = (REPO / args.work).resolve() if not args.work.is_absolute() else args.work
    out = (REPO / args.out).resolve() if not args.out.is_absolute() else args.out
    log_dir = work / "logs"
    shutil.rmtree(work, ignore_errors=True)  # a fresh evidence store: the demo shows one round
    log_dir.mkdir(parents=True)
    db_path = work / "evidence.sqlite3"

    # The embedded bundle ships an int8 copy too: loading it lets the int8-agreement probe run.
    emotion = Service("emotion", "emotion_service", "emoflux.emotion.v1.EmotionService", extra=EMOTION_EXTRA)
    image = Service("image", "image_service", "emoflux.image.v1.ImageService")
    upstreams = ["--emotion-addresses", emotion.address, "--image-addresses", image.address]
    # A local demo on loopback: authorisation off (the ranker logs it loudly) so the round needs no token.
    ranker_flags = [*upstreams, "--db-path", str(db_path), "--auth-mode", "off"]
    ranker = Service("ranker", "ranker", "emoflux.ranker.v1.RankerService", extra=ranker_flags)
    services = [emotion, image, ranker]
    missing = [s for s in services if not s.available()]
    for service in missing:
        service.problem = f"package {service.module} is not installed or has no __main__ (not built yet)"
    code = 0
    try:
        print(f"starting services (logs in {log_dir})")
        for service in services:
            if not service.problem:
                service.start(log_dir)
                print(f"  {service.name:<8} {service.address}  metrics :{service.metrics_port}")
        asyncio.run(wait_serving([s for s in services if not s.problem], args.start_timeout))
        for service in services:
            if service.problem:
                print(f"MISSING: {service.name} service: {service.problem}")
                tail = service.log_tail()
                if tail:
                    print("    " + tail.replace("\n", "\n    "))
        if ranker.problem:
            print("The ranker itself is not running, so there is nothing to evaluate.")
            return 1
        if emotion.problem or image.problem:
            print("The round goes on: probes of the missing services are recorded as 'unavailable'.")

        if not (emotion.problem or image.problem):
            print("\n== what the served models see ==")
            print("\n".join(asyncio.run(showcase(emotion.address, image.address, out))))

        print("\n== evaluation round ==")
        finished = asyncio.run(evaluate(ranker.address, args.deadline))
        print(
            f"probes run {finished.probes_run}, failed {finished.probes_failed}, skipped {finished.probes_skipped};"
            f" {finished.evidence_recorded} evidence records"
        )
        for score in finished.scores:
            print(f"  {score.model_id:<28} {score.score:5.1f}/100  (95 % interval {score.low:.1f}-{score.high:.1f})")

        print("\n== the two reference models ==")
        print(asyncio.run(compare(ranker.address, *REFERENCE_PAIR)))
        # The ranker scores this pair as of the page's date (from the catalog), the served models as of today.
        page_date = load_catalog().read_on(REFERENCE_PAIR)
        print(f"(scored as of {page_date.isoformat()}, the day the reference page was read)")
        pair = served_pair(finished.scores)
        if pair is not None:
            print("\n== the two models served here ==")
            print(asyncio.run(compare(ranker.address, *pair)))

        local = Ranker(load_catalog(), EvidenceStore(db_path))
        try:
            pairs = [REFERENCE_PAIR, *([pair] if pair else [])]
            note = "Evaluated by make demo against the services' embedded defaults."
            if emotion.problem or image.problem:
                note += " Missing: " + "; ".join(f"{s.name} ({s.problem})" for s in (emotion, image) if s.problem) + "."
            md_path, html_path = write_report(build_report(local, pairs, note=note), out)
        finally:
            local.store.close()
        print(f"\nreport written:\n  {md_path}\n  {html_path}")
        if emotion.problem or image.problem:
            code = 1
    except KeyboardInterrupt:
        print("\ninterrupted: stopping the services")
        code = 130
    finally:
        for service in reversed(services):
            service.stop()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
