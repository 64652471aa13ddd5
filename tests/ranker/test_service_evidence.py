"""AddModel, GetScore as of a date, ExplainScore, RetractSource, GetScoreHistory over a real gRPC server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc
import pytest
from prometheus_client import CollectorRegistry

from ranker.component import RankerComponent
from ranker.settings import RankerSettings
from servicekit.auth import hash_token, new_token
from servicekit.channels import open_channel
from servicekit.pb.emoflux.ranker.v1 import ranker_pb2, ranker_pb2_grpc
from servicekit.server import ServiceHost
from tests.ranker.conftest import dead_address

HUB = Path(__file__).resolve().parent / "data" / "hub"
Start = Callable[..., Awaitable[tuple[RankerComponent, ranker_pb2_grpc.RankerServiceStub]]]


ADMIN_TOKEN = new_token()


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Start]:
    started: list[tuple[ServiceHost, grpc.aio.Channel]] = []
    # AddModel needs write, RetractSource admin: the operator of these tests holds admin.
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(f"{hash_token(ADMIN_TOKEN)} ranker-operator admin\n")

    async def run(**overrides: object) -> tuple[RankerComponent, ranker_pb2_grpc.RankerServiceStub]:
        fields: dict[str, object] = {
            "port": 0,
            "metrics_port": -1,
            "access_log": False,
            "db_path": tmp_path / "evidence.sqlite3",
            "catalog_dir": tmp_path / "catalog",
            "emotion_addresses": dead_address(),
            "image_addresses": dead_address(),
            "as_of": "2026-11-26",
            "bootstrap_samples": 100,
            "rpc_timeout_seconds": 2.0,
            "auth_tokens_file": tokens,
        }
        settings = RankerSettings(**{**fields, **overrides})  # type: ignore[arg-type]
        (tmp_path / "catalog").mkdir(exist_ok=True)
        if not any((tmp_path / "catalog").iterdir()):
            from ranker.catalog import BUNDLED_DIR

            for card in BUNDLED_DIR.glob("*.yaml"):
                (tmp_path / "catalog" / card.name).write_text(card.read_text())
        registry = CollectorRegistry()
        component = RankerComponent(settings, registry)
        host = ServiceHost(settings, component, registry)
        await host.start()
        await host.wait_ready(30)
        channel = open_channel(f"127.0.0.1:{host.port}", retry=False, token=ADMIN_TOKEN)
        started.append((host, channel))
        return component, ranker_pb2_grpc.RankerServiceStub(channel)

    yield run
    for host, channel in started:
        await channel.close()
        await host.stop(grace=0)


async def _error(call: Awaitable[object]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value


async def test_add_model_from_a_snapshot_then_score_explain_and_retract(start: Start) -> None:
    _, stub = await start()
    snapshot = (HUB / "stabilityai--sdxl-turbo.json").read_text()
    added = await stub.AddModel(
        ranker_pb2.AddModelRequest(hub_id="stabilityai/sdxl-turbo", model_info_json=snapshot), timeout=30
    )
    assert added.model.id == "sdxl-turbo" and added.evidence_imported == 4
    assert added.model.evidence_summary.imported_count == 4 and added.model.artifact_type == "text-to-image"
    assert "sdxl-turbo" in [m.id for m in (await stub.ListModels(ranker_pb2.ListModelsRequest(), timeout=10)).models]
    explained = await stub.ExplainScore(ranker_pb2.ExplainScoreRequest(model_id="sdxl-turbo", limit=3), timeout=10)
    assert len(explained.influences) == 3
    assert explained.influences[0].evidence.source == ranker_pb2.EVIDENCE_SOURCE_IMPORTED
    assert explained.influences[0].evidence.source_ref == "huggingface:stabilityai/sdxl-turbo"
    before = explained.score.score
    retracted = await stub.RetractSource(
        ranker_pb2.RetractSourceRequest(source_ref="huggingface:stabilityai/sdxl-turbo", reason="test"), timeout=10
    )
    assert retracted.records == 4
    after = (await stub.GetScore(ranker_pb2.GetScoreRequest(model_id="sdxl-turbo"), timeout=10)).score
    assert after.score != before and next(c for c in after.components if c.name == "adoption").from_prior

    cases = [
        (stub.AddModel(ranker_pb2.AddModelRequest(hub_id="no-slash"), timeout=10), "INVALID_ARGUMENT", "hub_id"),
        (
            stub.AddModel(ranker_pb2.AddModelRequest(hub_id="stabilityai/sdxl-turbo", model_info_json=snapshot)),
            "ALREADY_EXISTS",
            "already in the catalog",
        ),
        (
            stub.AddModel(ranker_pb2.AddModelRequest(hub_id="a/b", model_info_json="{nope")),
            "INVALID_ARGUMENT",
            "model_info_json: not JSON",
        ),
        (
            stub.AddModel(ranker_pb2.AddModelRequest(hub_id="a/b", model_id="Bad Id", model_info_json=snapshot)),
            "INVALID_ARGUMENT",
            "model_id",
        ),
        (stub.RetractSource(ranker_pb2.RetractSourceRequest(source_ref="x:y")), "NOT_FOUND", "source_ref"),
        (stub.RetractSource(ranker_pb2.RetractSourceRequest()), "INVALID_ARGUMENT", "source_ref"),
        (
            stub.ExplainScore(ranker_pb2.ExplainScoreRequest(model_id="flux-1-pro", limit=101)),
            "INVALID_ARGUMENT",
            "limit",
        ),
        (stub.GetScore(ranker_pb2.GetScoreRequest(model_id="flux-1-pro", as_of="26/11")), "INVALID_ARGUMENT", "as_of"),
        (
            stub.GetScore(ranker_pb2.GetScoreRequest(model_id="flux-1-pro", as_of="2999-01-01")),
            "INVALID_ARGUMENT",
            "future",
        ),
        (stub.GetScoreHistory(ranker_pb2.GetScoreHistoryRequest(model_id="nope")), "NOT_FOUND", "model_id"),
    ]
    for call, code, text in cases:
        error = await _error(call)
        assert (error.code().name, text in (error.details() or "")) == (code, True), error.details()


async def test_add_model_without_a_snapshot_and_no_hub_is_a_failed_precondition(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    # The hub client points at a loopback port nothing listens on (no test ever reaches the real hub).
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", f"http://{dead_address()}")
    _, stub = await start()
    error = await _error(stub.AddModel(ranker_pb2.AddModelRequest(hub_id="someone/model"), timeout=30))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and "model_info_json" in (error.details() or "")


async def test_score_as_of_a_date_over_the_wire(start: Start) -> None:
    _, stub = await start()
    now = (await stub.GetScore(ranker_pb2.GetScoreRequest(model_id="flux-1-pro"), timeout=10)).score
    then = (
        await stub.GetScore(ranker_pb2.GetScoreRequest(model_id="flux-1-pro", as_of="2026-11-26"), timeout=10)
    ).score
    assert round(then.score) == 58 and then.score == pytest.approx(now.score)
    early = await stub.GetScore(ranker_pb2.GetScoreRequest(model_id="flux-1-pro", as_of="2024-01-01"), timeout=10)
    assert all(c.from_prior for c in early.score.components if c.name != "freshness")


async def test_the_schedule_re_evaluates_and_keeps_every_score(start: Start) -> None:
    component, stub = await start(reevaluate_interval_seconds=0.05, evaluate_deadline_seconds=5.0)
    assert component.scheduler is not None
    for _ in range(600):
        if len(component.scheduler.runs) >= 2 and component.ranker.store.history("tiny-flux"):
            break
        await asyncio.sleep(0.05)
    history = (await stub.GetScoreHistory(ranker_pb2.GetScoreHistoryRequest(model_id="tiny-flux"), timeout=10)).scores
    assert len(history) >= 1 and all(h.model_id == "tiny-flux" for h in history)
    assert [h.updated_at.ToDatetime() for h in history] == sorted(h.updated_at.ToDatetime() for h in history)
    # The services are down: the rounds stored "unavailable" records, never a score change from them.
    assert json.loads(component.ranker.store.records("tiny-flux")[0].detail)["error"]


async def test_submitted_evidence_with_a_source_can_be_retracted(start: Start) -> None:
    _, stub = await start()

    def evidence(value: float, ref: str) -> ranker_pb2.Evidence:
        return ranker_pb2.Evidence(
            model_id="tiny-flux",
            capability="model",
            probe="quality.review",
            value=value,
            unit="fraction",
            source_ref=ref,
        )

    accepted = await stub.SubmitEvidence(
        ranker_pb2.SubmitEvidenceRequest(evidence=[evidence(1.0, "review:batch-7"), evidence(0.9, "review:batch-7")]),
        timeout=10,
    )
    assert accepted.accepted == 2
    score = (await stub.GetScore(ranker_pb2.GetScoreRequest(model_id="tiny-flux"), timeout=10)).score
    assert next(c for c in score.components if c.name == "quality").evidence_count == 2
    assert (await stub.RetractSource(ranker_pb2.RetractSourceRequest(source_ref="review:batch-7"))).records == 2
    score = (await stub.GetScore(ranker_pb2.GetScoreRequest(model_id="tiny-flux"), timeout=10)).score
    assert next(c for c in score.components if c.name == "quality").from_prior
    error = await _error(
        stub.SubmitEvidence(ranker_pb2.SubmitEvidenceRequest(evidence=[evidence(1.0, "x" * 201)]), timeout=10)
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "evidence[0].source_ref: 201 bytes, at most 200" in (error.details() or "")
