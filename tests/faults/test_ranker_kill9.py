"""kill -9 of the ranker process loses no acknowledged evidence.

Clients submit tagged batches through SubmitEvidence while the ranker (a subprocess) is SIGKILLed.
A ranker restarted on the same SQLite file must hold every batch it acknowledged, and, because a
submission is all-or-nothing, no batch only in part. (tests/ranker/test_evidence.py kills a writer
of the store itself; this is the same property through the gRPC service and a whole process.)
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import grpc
import pytest

from ranker.evidence import EvidenceStore, Source
from servicekit.auth import hash_token, new_token
from servicekit.channels import open_channel
from servicekit.pb.emoflux.ranker.v1 import ranker_pb2, ranker_pb2_grpc
from tests.e2e.procs import Launcher, dead_address

MODEL = "emotion-tiny"
PER_BATCH = 25
WRITERS = 6
KILL_AFTER_ACKS = 30
WRITER_TOKEN = new_token()


def batch(writer: int, number: int) -> ranker_pb2.SubmitEvidenceRequest:
    """One tagged batch; every record's detail names its batch."""
    tag = f"w{writer}-b{number}"
    return ranker_pb2.SubmitEvidenceRequest(
        evidence=[
            ranker_pb2.Evidence(
                model_id=MODEL,
                capability="emotion-classification",
                probe="fault.kill9",
                value=float(i),
                unit="count",
                passed=True,
                detail=json.dumps({"batch": tag, "i": i}),
            )
            for i in range(PER_BATCH)
        ]
    )


async def submit_until_killed(address: str, kill: asyncio.Event) -> tuple[set[str], int]:
    """WRITERS concurrent clients submit batches back to back; returns (acknowledged tags, failed calls)."""
    acknowledged: set[str] = set()
    failed = 0

    async def writer(index: int, stub: ranker_pb2_grpc.RankerServiceStub) -> None:
        nonlocal failed
        number = 0
        while True:
            request = batch(index, number)
            try:
                reply = await stub.SubmitEvidence(request, timeout=10)
            except grpc.aio.AioRpcError as error:
                assert error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED), error
                failed += 1
                return
            assert reply.accepted == PER_BATCH
            acknowledged.add(json.loads(request.evidence[0].detail)["batch"])
            if len(acknowledged) >= KILL_AFTER_ACKS:
                kill.set()
            number += 1

    async with open_channel(address, retry=False, token=WRITER_TOKEN) as channel:
        stub = ranker_pb2_grpc.RankerServiceStub(channel)
        await asyncio.wait_for(asyncio.gather(*(writer(i, stub) for i in range(WRITERS))), 60)
    return acknowledged, failed


@pytest.mark.timeout(120)
async def test_kill_9_loses_no_acknowledged_evidence(launcher: Launcher, tmp_path: Path) -> None:
    db_path = tmp_path / "evidence.sqlite3"
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(f"{hash_token(WRITER_TOKEN)} kill9-writer write\n")
    auth = ["--auth-tokens-file", str(tokens)]
    first = launcher.ranker(db_path, dead_address(), dead_address(), name="ranker-1", extra=auth)
    await launcher.serving(first)

    kill = asyncio.Event()

    async def killer() -> int:
        await kill.wait()
        return await asyncio.to_thread(first.kill)

    kill_task = asyncio.create_task(killer())
    acknowledged, failed = await submit_until_killed(first.address, kill)
    assert await kill_task == -9
    assert len(acknowledged) >= KILL_AFTER_ACKS and failed == WRITERS

    second = launcher.restart(first, "ranker-2")
    await launcher.serving(second)
    async with grpc.aio.insecure_channel(second.address) as channel:
        card = await ranker_pb2_grpc.RankerServiceStub(channel).GetModel(
            ranker_pb2.GetModelRequest(model_id=MODEL), timeout=10
        )
    submitted = card.model.evidence_summary.submitted_count

    store = EvidenceStore(db_path)
    try:
        records = [r for r in store.records(MODEL) if r.source is Source.SUBMITTED]
    finally:
        store.close()
    per_batch = Counter(json.loads(r.detail)["batch"] for r in records)
    print(
        f"\nkill -9: {len(acknowledged)} batches acknowledged ({len(acknowledged) * PER_BATCH} records), "
        f"{failed} calls cut by the kill; after restart {len(per_batch)} batches / {len(records)} records stored"
    )
    assert acknowledged <= set(per_batch), sorted(acknowledged - set(per_batch))
    # All-or-nothing: a batch cut by the kill is either complete or absent.
    assert set(per_batch.values()) == {PER_BATCH}, per_batch
    # Only what was sent can be there: acknowledged batches plus at most one in flight per writer.
    assert len(per_batch) - len(acknowledged) <= WRITERS
    assert submitted == len(records)
