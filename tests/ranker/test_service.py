"""RankerService over a real gRPC server on port 0: every RPC, its errors, streaming, metrics."""

from __future__ import annotations

import asyncio
import math
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc
import pytest
from google.protobuf import duration_pb2, timestamp_pb2
from prometheus_client import CollectorRegistry

from ranker.component import RankerComponent
from ranker.settings import RankerSettings
from servicekit.auth import hash_token, new_token
from servicekit.channels import open_channel
from servicekit.pb.emoflux.ranker.v1 import ranker_pb2, ranker_pb2_grpc
from servicekit.server import ServiceHost
from tests.ranker.conftest import StartFakes, dead_address

WRITER_TOKEN = new_token()

StartRanker = Callable[..., Awaitable[tuple[ServiceHost, ranker_pb2_grpc.RankerServiceStub]]]


@pytest.fixture
async def start_ranker(tmp_path: Path) -> AsyncIterator[StartRanker]:
    started: list[tuple[ServiceHost, grpc.aio.Channel]] = []

    tokens = tmp_path / "tokens.txt"
    tokens.write_text(f"{hash_token(WRITER_TOKEN)} ranker-tests admin\n")

    async def start(emotion: str, image: str) -> tuple[ServiceHost, ranker_pb2_grpc.RankerServiceStub]:
        settings = RankerSettings(
            port=0,
            metrics_port=0,
            access_log=False,
            db_path=tmp_path / "evidence.sqlite3",
            emotion_addresses=emotion,
            image_addresses=image,
            as_of="2026-11-26",
            bootstrap_samples=200,
            faces_per_label=2,
            load_requests=10,
            load_rate_per_second=40.0,
            rpc_timeout_seconds=5.0,
            probe_timeout_seconds=20.0,
            auth_tokens_file=tokens,
        )
        registry = CollectorRegistry()
        host = ServiceHost(settings, RankerComponent(settings, registry), registry)
        await host.start()
        await host.wait_ready(30)
        channel = open_channel(f"127.0.0.1:{host.port}", retry=False, token=WRITER_TOKEN)
        started.append((host, channel))
        return host, ranker_pb2_grpc.RankerServiceStub(channel)

    yield start
    for host, channel in started:
        await channel.close()
        await host.stop(grace=0)


async def _error(call: Awaitable[object]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value


async def test_models_scores_and_their_errors(start_ranker: StartRanker) -> None:
    _, stub = await start_ranker(dead_address(), dead_address())
    models = (await stub.ListModels(ranker_pb2.ListModelsRequest(), timeout=10)).models
    ids = [m.id for m in models]
    assert ids == sorted(ids) and {"facial-emotions-image-detection", "flux-1-pro", "tiny-flux"} <= set(ids)
    classifiers = (
        await stub.ListModels(ranker_pb2.ListModelsRequest(artifact_type="image-classifier"), timeout=10)
    ).models
    assert {m.artifact_type for m in classifiers} == {"image-classifier"}
    error = await _error(stub.ListModels(ranker_pb2.ListModelsRequest(artifact_type="video"), timeout=10))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "artifact_type" in (error.details() or "")

    card = (await stub.GetModel(ranker_pb2.GetModelRequest(model_id="flux-1-pro"), timeout=10)).model
    assert len(card.capabilities) == 13 and all(c.provenance.source for c in card.capabilities)
    assert card.evidence_summary.catalog_count == 8 and card.pricing == "Free"
    tiny = (await stub.GetModel(ranker_pb2.GetModelRequest(model_id="tiny-flux-random"), timeout=10)).model
    assert tiny.random_weights and tiny.weights_origin == ranker_pb2.WEIGHTS_ORIGIN_RANDOM

    for model_id, code in (
        ("nope", grpc.StatusCode.NOT_FOUND),
        ("Bad Id", grpc.StatusCode.INVALID_ARGUMENT),
        ("", grpc.StatusCode.INVALID_ARGUMENT),
    ):
        error = await _error(stub.GetModel(ranker_pb2.GetModelRequest(model_id=model_id), timeout=10))
        assert error.code() == code and "model_id" in (error.details() or "")
        error = await _error(stub.GetScore(ranker_pb2.GetScoreRequest(model_id=model_id), timeout=10))
        assert error.code() == code

    score = (await stub.GetScore(ranker_pb2.GetScoreRequest(model_id="flux-1-pro"), timeout=10)).score
    assert round(score.score) == 58 and score.low <= score.score <= score.high
    assert [c.name for c in score.components] == ["adoption", "quality", "ecosystem", "match_graph", "freshness"]
    assert math.isclose(sum(c.weight for c in score.components), 1.0)
    assert score.components[3].from_prior and not score.components[0].from_prior


async def test_compare_reproduces_the_reference_page(start_ranker: StartRanker) -> None:
    _, stub = await start_ranker(dead_address(), dead_address())
    reply = await stub.Compare(
        ranker_pb2.CompareRequest(model_a="facial-emotions-image-detection", model_b="flux-1-pro"), timeout=10
    )
    rows = {r.name: (r.value_a, r.value_b, r.leader) for r in reply.rows}
    assert [r.name for r in reply.rows][:9] == [
        "Type",
        "Score",
        "Adoption",
        "Quality",
        "Ecosystem",
        "Match Graph",
        "Pricing",
        "Capabilities",
        "Times Matched",
    ]
    assert rows["Score"] == ("47/100", "58/100", ranker_pb2.LEADER_B)
    assert rows["Capabilities"][:2] == ("5 decomposed", "13 decomposed")
    assert rows["Times Matched"][:2] == ("0", "0") and rows["Pricing"][:2] == ("Free", "Free")
    assert rows["Ecosystem"][2] == ranker_pb2.LEADER_A and rows["Quality"][2] == ranker_pb2.LEADER_B
    assert rows["Match Graph"][2] == ranker_pb2.LEADER_NONE
    assert reply.winner == "flux-1-pro"
    assert reply.verdict == (
        "FLUX.1 Pro scores higher at 58/100 vs facial_emotions_image_detection at 47/100. "
        "facial_emotions_image_detection leads on ecosystem, while FLUX.1 Pro is stronger on adoption and quality."
    )
    error = await _error(
        stub.Compare(ranker_pb2.CompareRequest(model_a="flux-1-pro", model_b="flux-1-pro"), timeout=10)
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "model_b" in (error.details() or "")
    error = await _error(stub.Compare(ranker_pb2.CompareRequest(model_a="flux-1-pro", model_b="nope"), timeout=10))
    assert error.code() == grpc.StatusCode.NOT_FOUND and "model_b: unknown model 'nope'" in (error.details() or "")


async def test_leaderboard_orders_by_score(start_ranker: StartRanker) -> None:
    _, stub = await start_ranker(dead_address(), dead_address())
    entries = (await stub.Leaderboard(ranker_pb2.LeaderboardRequest(), timeout=10)).entries
    scores = [e.score for e in entries]
    assert scores == sorted(scores, reverse=True) and entries[0].rank == 1
    assert all(e.low <= e.score <= e.high for e in entries)
    top2 = (
        await stub.Leaderboard(ranker_pb2.LeaderboardRequest(artifact_type="text-to-image", limit=2), timeout=10)
    ).entries
    assert len(top2) == 2 and top2[0].model_id == "flux-1-pro"


def _evidence(**fields: object) -> ranker_pb2.Evidence:
    base: dict[str, object] = {
        "model_id": "emotion-tiny",
        "capability": "batch-inference",
        "probe": "external.check",
        "value": 1.0,
        "unit": "pass",
        "passed": True,
    }
    base.update(fields)
    return ranker_pb2.Evidence(**base)  # type: ignore[arg-type]


async def test_submit_evidence_validates_and_is_all_or_nothing(start_ranker: StartRanker) -> None:
    host, stub = await start_ranker(dead_address(), dead_address())
    cases = [
        ([_evidence(), _evidence(model_id="foo")], "evidence[1].model_id: unknown model 'foo'"),
        ([_evidence(value=float("nan"))], "evidence[0].value: not finite"),
        ([_evidence(), _evidence(), _evidence(capability="")], "evidence[2].capability: must not be empty"),
        ([_evidence(probe="adoption.downloads", value=3.0)], "evidence[0].value: 3 outside [0, 1]"),
        ([_evidence(detail="x" * 5000)], "evidence[0].detail: 5000 bytes"),
        ([_evidence(observed_at=timestamp_pb2.Timestamp(seconds=4_000_000_000))], "evidence[0].observed_at"),
        ([], "evidence: at least one record"),
        ([_evidence()] * 1001, "at most 1000 records"),
    ]
    for records, message in cases:
        error = await _error(stub.SubmitEvidence(ranker_pb2.SubmitEvidenceRequest(evidence=records), timeout=10))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert message in (error.details() or ""), error.details()
    before = (await stub.GetModel(ranker_pb2.GetModelRequest(model_id="emotion-tiny"), timeout=10)).model
    assert before.evidence_summary.submitted_count == 0, "failed submissions stored nothing"
    old = (await stub.GetScore(ranker_pb2.GetScoreRequest(model_id="emotion-tiny"), timeout=10)).score.score
    reply = await stub.SubmitEvidence(
        ranker_pb2.SubmitEvidenceRequest(evidence=[_evidence(), _evidence(probe="quality.review", value=0.9)]),
        timeout=10,
    )
    assert reply.accepted == 2
    after = (await stub.GetModel(ranker_pb2.GetModelRequest(model_id="emotion-tiny"), timeout=10)).model
    assert after.evidence_summary.submitted_count == 2
    # Each record says who stored it and how: the caller's token identity and the RPC.
    stored = [r for r in host.component.ranker.store.records("emotion-tiny") if r.submitted_via]  # type: ignore[attr-defined]
    assert {(r.submitted_by, r.submitted_via) for r in stored} == {("token:ranker-tests", "SubmitEvidence")}
    assert len(stored) == 2 and all(r.submitted_at is not None for r in stored)
    new = (await stub.GetScore(ranker_pb2.GetScoreRequest(model_id="emotion-tiny"), timeout=10)).score.score
    assert new > old


async def test_anonymous_and_read_only_callers_cannot_write_evidence(start_ranker: StartRanker, tmp_path: Path) -> None:
    host, _ = await start_ranker(dead_address(), dead_address())
    address = f"127.0.0.1:{host.port}"
    request = ranker_pb2.SubmitEvidenceRequest(evidence=[_evidence()])
    async with open_channel(address, retry=False) as anonymous:
        stub = ranker_pb2_grpc.RankerServiceStub(anonymous)
        error = await _error(stub.SubmitEvidence(request, timeout=10))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "SubmitEvidence needs the write role" in (error.details() or "")
        error = await _error(_events(stub, model_ids=["emotion-tiny"]))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        # Reads stay open, and the refused write stored nothing.
        card = (await stub.GetModel(ranker_pb2.GetModelRequest(model_id="emotion-tiny"), timeout=10)).model
        assert card.evidence_summary.submitted_count == 0


async def _events(stub: ranker_pb2_grpc.RankerServiceStub, **fields: object) -> list[ranker_pb2.EvaluateResponse]:
    return [e async for e in stub.Evaluate(ranker_pb2.EvaluateRequest(**fields), timeout=120)]  # type: ignore[arg-type]


async def test_evaluate_streams_progress_evidence_and_one_finish(
    start_ranker: StartRanker, start_fakes: StartFakes
) -> None:
    fakes = await start_fakes()
    address = f"127.0.0.1:{fakes.port}"
    host, stub = await start_ranker(address, address)
    events = await _events(stub, include_match=True)
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds[-1] == "finished" and kinds.count("finished") == 1
    finished = events[-1].finished
    recorded = [e.evidence_recorded.evidence for e in events if e.WhichOneof("event") == "evidence_recorded"]
    assert finished.evidence_recorded == len(recorded) > 0
    assert finished.probes_run == 15 and finished.probes_skipped == 0  # 8 classifier + 6 generator + 1 match
    assert [s.model_id for s in finished.scores] == ["emotion-tiny", "tiny-flux"]
    progress = [e.progress for e in events if e.WhichOneof("event") == "progress"]
    assert progress[-1].done == progress[-1].total == 15
    assert {r.source for r in recorded} == {ranker_pb2.EVIDENCE_SOURCE_PROBE, ranker_pb2.EVIDENCE_SOURCE_MATCH}
    assert all(r.service_version.startswith(("emotion_service", "image_service")) for r in recorded)

    card = (await stub.GetModel(ranker_pb2.GetModelRequest(model_id="tiny-flux"), timeout=10)).model
    assert card.served_variants == ["image:tiny-flux"] and card.evidence_summary.match_count == 1
    assert any(c.probed for c in card.capabilities)
    compare = await stub.Compare(ranker_pb2.CompareRequest(model_a="emotion-tiny", model_b="tiny-flux"), timeout=10)
    rows = {r.name: (r.value_a, r.value_b) for r in compare.rows}
    assert rows["Times Matched"] == ("1", "1")
    assert "(prior)" not in rows["Match Graph"][0]

    text = await asyncio.to_thread(_scrape, host.metrics_port)
    assert 'emoflux_ranker_model_score{model_id="flux-1-pro"}' in text
    assert 'emoflux_ranker_model_component{component="match_graph",model_id="tiny-flux"}' in text
    assert "emoflux_ranker_probe_runs_total" in text and "emoflux_ranker_probe_duration_seconds_bucket" in text
    assert 'emoflux_ranker_evidence_records_total{source="match"} 2.0' in text
    assert "emoflux_ranker_model_info{" in text


async def test_evaluate_with_services_down_records_unavailable_evidence(start_ranker: StartRanker) -> None:
    _, stub = await start_ranker(dead_address(), dead_address())
    events = await _events(stub, include_match=True, deadline=duration_pb2.Duration(seconds=60))
    finished = events[-1].finished
    recorded = [e.evidence_recorded.evidence for e in events if e.WhichOneof("event") == "evidence_recorded"]
    assert finished.probes_run > 0 and finished.probes_failed == finished.probes_run
    assert recorded and all(r.unit == "unavailable" and not r.passed for r in recorded)
    assert {r.model_id for r in recorded} == {"emotion-tiny", "tiny-flux"}
    messages = [e.progress.message for e in events if e.WhichOneof("event") == "progress"]
    assert any("emotion service unavailable" in m for m in messages)
    compare = await stub.Compare(ranker_pb2.CompareRequest(model_a="emotion-tiny", model_b="tiny-flux"), timeout=10)
    assert {r.name: (r.value_a, r.value_b) for r in compare.rows}["Times Matched"] == ("0", "0"), "no match ran"
    # Unavailability is not evidence about the model: its score does not move.
    score = (await stub.GetScore(ranker_pb2.GetScoreRequest(model_id="emotion-tiny"), timeout=10)).score
    assert all(c.evidence_count == 0 for c in score.components if c.name != "freshness")


async def test_evaluate_request_errors(start_ranker: StartRanker, start_fakes: StartFakes) -> None:
    fakes = await start_fakes()
    address = f"127.0.0.1:{fakes.port}"
    _, stub = await start_ranker(address, address)
    cases = [
        ({"model_ids": ["flux-1-pro"]}, grpc.StatusCode.FAILED_PRECONDITION, "not served here"),
        ({"model_ids": ["flux-1-dev"]}, grpc.StatusCode.FAILED_PRECONDITION, "it serves tiny-flux"),
        ({"model_ids": ["nope"]}, grpc.StatusCode.NOT_FOUND, "model_ids[0]: unknown model"),
        ({"model_ids": ["Bad"]}, grpc.StatusCode.INVALID_ARGUMENT, "model_ids[0]"),
        ({"probes": ["classifier.telepathy"]}, grpc.StatusCode.INVALID_ARGUMENT, "probes[0]: unknown probe"),
        ({"deadline": duration_pb2.Duration(seconds=-1)}, grpc.StatusCode.INVALID_ARGUMENT, "deadline"),
    ]
    for fields, code, message in cases:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await _events(stub, **fields)
        assert info.value.code() == code and message in (info.value.details() or ""), info.value.details()


async def test_evaluate_selected_probes_and_deadline(start_ranker: StartRanker, start_fakes: StartFakes) -> None:
    fakes = await start_fakes()
    address = f"127.0.0.1:{fakes.port}"
    _, stub = await start_ranker(address, address)
    events = await _events(stub, model_ids=["emotion-tiny"], probes=["classifier.batch-order"])
    assert events[-1].finished.probes_run == 1 and events[-1].finished.evidence_recorded == 1
    events = await _events(stub, deadline=duration_pb2.Duration(nanos=0), include_match=True)
    finished = events[-1].finished
    assert finished.probes_run == 0 and finished.probes_skipped == 15 and finished.evidence_recorded == 0


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


async def test_one_evaluation_is_one_trace_through_the_probes_and_the_services(
    start_ranker: StartRanker, start_fakes: StartFakes
) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind

    from servicekit import tracing

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    tracing.add_exporter(provider, exporter)
    tracing.use_provider(provider)  # before the servers and the ranker's channels exist
    try:
        fakes = await start_fakes()
        address = f"127.0.0.1:{fakes.port}"
        _, stub = await start_ranker(address, address)
        await _events(stub, model_ids=["emotion-tiny"], probes=["classifier.scores-sum-to-one"])
    finally:
        tracing.use_provider(None)
    finished = exporter.get_finished_spans()
    (evaluate,) = [s for s in finished if s.name == "emoflux.ranker.v1.RankerService/Evaluate"]
    probes = [s for s in finished if s.name.startswith("probe ")]
    assert probes and all(p.context.trace_id == evaluate.context.trace_id for p in probes)
    upstream = [s for s in finished if s.kind is SpanKind.SERVER and not s.name.startswith("emoflux.ranker")]
    assert upstream and all(s.context.trace_id == evaluate.context.trace_id for s in upstream)
    # Discovery (GetModelInfo, ListVariants) belongs to the round; the probe's own calls to the probe.
    probe_ids = {p.context.span_id for p in probes}
    classify = [s for s in upstream if s.name.endswith("/Classify")]
    assert classify and all(s.parent is not None and s.parent.span_id in probe_ids for s in classify)
