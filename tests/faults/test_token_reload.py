"""SIGHUP re-reads the bearer-token file of a running ranker: a revoked token stops working, a new one starts."""

from __future__ import annotations

import signal
from pathlib import Path

import grpc
import pytest

from servicekit.auth import hash_token, new_token
from servicekit.channels import open_channel
from servicekit.pb.emoflux.ranker.v1 import ranker_pb2, ranker_pb2_grpc
from tests.e2e.procs import Launcher, dead_address, wait_until

RECORD = ranker_pb2.Evidence(
    model_id="emotion-tiny", capability="emotion-classification", probe="quality.review", value=0.5, passed=True
)


async def _submit(address: str, token: str) -> grpc.StatusCode:
    async with open_channel(address, retry=False, token=token) as channel:
        stub = ranker_pb2_grpc.RankerServiceStub(channel)
        try:
            await stub.SubmitEvidence(ranker_pb2.SubmitEvidenceRequest(evidence=[RECORD]), timeout=10)
        except grpc.aio.AioRpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


@pytest.mark.timeout(120)
async def test_sighup_rotates_tokens_without_a_restart(launcher: Launcher, tmp_path: Path) -> None:
    old, new = new_token(), new_token()
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(f"{hash_token(old)} importer write\n")
    ranker = launcher.ranker(
        tmp_path / "evidence.sqlite3", dead_address(), dead_address(), extra=["--auth-tokens-file", str(tokens)]
    )
    await launcher.serving(ranker)
    assert await _submit(ranker.address, old) == grpc.StatusCode.OK
    assert await _submit(ranker.address, new) == grpc.StatusCode.UNAUTHENTICATED

    tokens.write_text(f"{hash_token(new)} importer write\n")
    ranker.send(signal.SIGHUP)
    wait_until(lambda: "loaded 1 bearer token(s)" in ranker.log_text().split("SERVING", 1)[-1], 20, "token reload")
    assert await _submit(ranker.address, new) == grpc.StatusCode.OK
    assert await _submit(ranker.address, old) == grpc.StatusCode.UNAUTHENTICATED
    assert ranker.alive
