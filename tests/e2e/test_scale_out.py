"""Scale-out: the ranker balances its classifier probes round-robin over two emotion replicas, rides out
a kill -9 of one of them (round_robin skips the dead address, the retry policy re-sends UNAVAILABLE
calls), and records the failure as "unavailable" evidence once no replica is left."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest

from servicekit.pb.emoflux.ranker.v1 import ranker_pb2, ranker_pb2_grpc
from tests.e2e.procs import EMOTION_HEALTH, Launcher, ServiceProcess, dead_address, health_status

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PROBE = "classifier.p99-latency"
LOAD_REQUESTS = 40
LOAD_RATE = 20.0
# The probe sends one request before its timed load (see ranker.probes.classifier.p99_latency).
CLASSIFY_PER_ROUND = LOAD_REQUESTS + 1
RANKER_FLAGS = [
    "--load-requests", str(LOAD_REQUESTS), "--load-rate-per-second", str(LOAD_RATE),
    "--p99-bound-seconds", "5", "--rpc-timeout-seconds", "10", "--probe-timeout-seconds", "60",
    "--auth-mode", "off",  # a local round on loopback, as `make demo` runs it
]  # fmt: skip


def classify_ok(replica: ServiceProcess) -> float:
    """Classify calls the replica answered OK, from its own /metrics."""
    return replica.metrics().value(
        "grpc_server_handled_total", grpc_service=EMOTION_HEALTH, grpc_method="Classify", grpc_code="OK"
    )


async def evaluate(
    stub: ranker_pb2_grpc.RankerServiceStub, *, on_start: asyncio.Event | None = None
) -> tuple[ranker_pb2.EvaluateResponse.Finished, list[ranker_pb2.Evidence], list[str]]:
    """One round of the p99 probe; sets ``on_start`` when the probe starts. Returns (finished, records, notes)."""
    request = ranker_pb2.EvaluateRequest(probes=[PROBE])
    records: list[ranker_pb2.Evidence] = []
    notes: list[str] = []
    finished = None
    async for event in stub.Evaluate(request, timeout=120):
        kind = event.WhichOneof("event")
        if kind == "progress":
            notes.append(event.progress.message)
            if on_start is not None and event.progress.probe == PROBE and event.progress.message == "started":
                on_start.set()
        elif kind == "evidence_recorded":
            records.append(event.evidence_recorded.evidence)
        elif kind == "finished":
            finished = event.finished
    assert finished is not None, "the Evaluate stream ended without Finished"
    return finished, records, notes


async def test_two_replicas_share_traffic_and_survive_a_kill(launcher: Launcher, tmp_path: Path) -> None:
    a = launcher.emotion("emotion-a")
    b = launcher.emotion("emotion-b")
    ranker = launcher.ranker(
        tmp_path / "evidence.sqlite3", f"{a.address},{b.address}", dead_address(), extra=RANKER_FLAGS
    )
    await launcher.serving(a, b, ranker, timeout=120)

    async with grpc.aio.insecure_channel(ranker.address) as channel:
        stub = ranker_pb2_grpc.RankerServiceStub(channel)

        # 1. Both replicas get traffic: round_robin spreads the probe's calls over the two addresses.
        finished, records, _ = await evaluate(stub)
        assert (finished.probes_run, finished.probes_failed) == (1, 0), records
        served = {r.name: classify_ok(r) for r in (a, b)}
        assert sum(served.values()) == CLASSIFY_PER_ROUND, served
        assert min(served.values()) >= CLASSIFY_PER_ROUND // 4, f"traffic not balanced: {served}"

        # 2. kill -9 replica B in the middle of the probe's load: the round still passes without errors.
        started = asyncio.Event()
        round_two = asyncio.create_task(evaluate(stub, on_start=started))
        await asyncio.wait_for(started.wait(), 60)
        await asyncio.sleep(0.5 * LOAD_REQUESTS / LOAD_RATE)
        assert b.kill() == -9
        finished, records, _ = await round_two
        (record,) = records
        assert record.passed and record.unit == "seconds", record.detail
        assert '"errors":[]' in record.detail, record.detail
        assert classify_ok(a) - served["emotion-a"] >= CLASSIFY_PER_ROUND // 2

        # 3. With B gone, every call goes to A and none is lost.
        before = classify_ok(a)
        finished, records, notes = await evaluate(stub)
        assert (finished.probes_run, finished.probes_failed) == (1, 0), records
        assert any(f"emotion replicas not serving: {b.address}" in note for note in notes), notes
        assert classify_ok(a) - before == CLASSIFY_PER_ROUND
        # Retries hide B's loss from the probes; per-replica health makes it visible (no evidence: it says
        # nothing about the model).
        scrape = ranker.metrics()
        assert scrape.value("emoflux_ranker_upstream_replica_up", service="emotion", address=b.address) == 0
        assert scrape.value("emoflux_ranker_upstream_replica_up", service="emotion", address=a.address) == 1

        # 4. With no replica left the ranker keeps answering and records the failure as evidence.
        a.kill()
        finished, records, notes = await evaluate(stub)
        assert (finished.probes_run, finished.probes_failed) == (1, 1), notes
        assert records and all(r.unit == "unavailable" and not r.passed for r in records), records
        assert any("emotion service unavailable" in note for note in notes), notes
        failures = ranker.metrics().value("emoflux_ranker_probe_failures_total", probe=PROBE, reason="unavailable")
        assert failures == 1
        score = await stub.GetScore(ranker_pb2.GetScoreRequest(model_id=records[0].model_id), timeout=10)
        assert 0 <= score.score.score <= 100
        assert await health_status(ranker.address) == 1  # SERVING
