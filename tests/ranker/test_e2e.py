"""End to end: the real emotion and image services (subprocesses on free ports, embedded defaults),
the ranker in process, one evaluation round, scores, a comparison and the page; then ``make demo``'s
script as a user runs it."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from ranker.catalog import load_catalog
from ranker.component import RankerComponent
from ranker.demo import EMOTION_EXTRA, Service, wait_serving
from ranker.engine import Ranker
from ranker.evidence import EvidenceStore, Source
from ranker.report import build_report, write_report
from ranker.settings import RankerSettings
from servicekit.auth import hash_token, new_token
from servicekit.channels import open_channel
from servicekit.pb.emoflux.ranker.v1 import ranker_pb2, ranker_pb2_grpc
from servicekit.server import ServiceHost

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(
        any(importlib.util.find_spec(m) is None for m in ("emotion_service", "image_service")),
        reason="the emotion and image services are not in this checkout",
    ),
]
REPO = Path(__file__).resolve().parents[2]


def test_make_demo_script(tmp_path: Path) -> None:
    """Runs first, before the module's services start: the machine has two cores."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "ranker.demo", "--out", str(tmp_path / "report"), "--work", str(tmp_path / "work")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=290,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "== the two reference models ==" in out and "Verdict: FLUX.1 Pro scores higher at 58/100" in out
    assert "== the two models served here ==" in out and "MISSING" not in out
    # What the served models see: the astronaut's face, unseen synthetic faces, one generated face per emotion.
    assert "astronaut photo (512x512, a real face): 1 face(s) found" in out
    synthetic = re.search(r"synthetic faces \(unseen seeds\): (\d)/7", out)
    generated = re.search(r"generated faces .*: (\d)/7 classified as intended", out)
    assert synthetic and int(synthetic.group(1)) >= 5, out
    assert generated and int(generated.group(1)) >= 5, out
    assert (tmp_path / "report" / "generated_faces.png").is_file()
    assert (tmp_path / "report" / "report.md").is_file() and (tmp_path / "report" / "report.html").is_file()
    assert str(tmp_path / "report" / "report.html") in out
    ports = [int(m) for m in re.findall(r"^  \w+ +127\.0\.0\.1:(\d+)", out, flags=re.M)]
    assert len(ports) == 3
    for port in ports:  # the demo stopped everything it started
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still listening"


@pytest.fixture(scope="module")
def real_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, Service]]:
    log_dir = tmp_path_factory.mktemp("logs")
    emotion = Service("emotion", "emotion_service", "emoflux.emotion.v1.EmotionService", extra=list(EMOTION_EXTRA))
    image = Service("image", "image_service", "emoflux.image.v1.ImageService")
    try:
        for service in (emotion, image):
            service.start(log_dir)
        asyncio.run(wait_serving([emotion, image], timeout=240))
        for service in (emotion, image):
            assert not service.problem, f"{service.name}: {service.problem}\n{service.log_tail(20)}"
        yield emotion, image
    finally:
        for service in (emotion, image):
            service.stop()


EVALUATOR_TOKEN = new_token()


@pytest.fixture
async def ranker_stub(
    real_services: tuple[Service, Service], tmp_path: Path
) -> AsyncIterator[tuple[ranker_pb2_grpc.RankerServiceStub, Path]]:
    emotion, image = real_services
    db_path = tmp_path / "evidence.sqlite3"
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(f"{hash_token(EVALUATOR_TOKEN)} e2e-evaluator write\n")
    settings = RankerSettings(
        port=0,
        metrics_port=-1,
        access_log=False,
        db_path=db_path,
        emotion_addresses=emotion.address,
        image_addresses=image.address,
        faces_per_label=4,
        match_seeds_per_label=2,
        bootstrap_samples=300,
        probe_timeout_seconds=120.0,
        rpc_timeout_seconds=60.0,
        p99_bound_seconds=1.0,
        auth_tokens_file=tokens,
    )
    registry = CollectorRegistry()
    host = ServiceHost(settings, RankerComponent(settings, registry), registry)
    await host.start()
    await host.wait_ready(30)
    async with open_channel(f"127.0.0.1:{host.port}", retry=False, token=EVALUATOR_TOKEN) as channel:
        yield ranker_pb2_grpc.RankerServiceStub(channel), db_path
    await host.stop(grace=0)


async def test_round_with_all_three_services(
    ranker_stub: tuple[ranker_pb2_grpc.RankerServiceStub, Path], tmp_path: Path
) -> None:
    stub, db_path = ranker_stub
    request = ranker_pb2.EvaluateRequest(include_match=True)
    events = [e async for e in stub.Evaluate(request, timeout=280)]
    finished = events[-1].finished
    recorded = [e.evidence_recorded.evidence for e in events if e.WhichOneof("event") == "evidence_recorded"]
    evaluated = [s.model_id for s in finished.scores]
    assert finished.probes_skipped == 0 and finished.probes_run >= 10
    # Every record of the round says who started it and how (the caller's token, the Evaluate RPC).
    assert {(r.submitted_by, r.submitted_via) for r in recorded} == {("token:e2e-evaluator", "Evaluate")}
    assert len(evaluated) == 2, evaluated
    classifier = next(m for m in evaluated if m.startswith("emotion"))
    generator = next(m for m in evaluated if "flux" in m)
    assert all(r.unit != "unavailable" for r in recorded), "both services are up"

    by_probe = {(r.model_id, r.probe): r for r in recorded}
    # Contract conformance of the real services, whatever their weights.
    for model_id, probe in (
        (classifier, "classifier.scores-sum-to-one"),
        (classifier, "classifier.batch-order"),
        (classifier, "classifier.face-boxes"),
        (classifier, "classifier.int8-agreement"),
        (generator, "generator.resolution"),
        (generator, "generator.seed-determinism"),
        (generator, "generator.progress-stream"),
    ):
        record = by_probe[(model_id, probe)]
        assert record.passed, (probe, record.detail)
    match = [r for r in recorded if r.source == ranker_pb2.EVIDENCE_SOURCE_MATCH]
    assert {r.model_id for r in match} == {classifier, generator}
    random = {r.model_id: r.random_weights for r in recorded}
    catalog = load_catalog()
    for model_id, flagged in random.items():
        card = catalog.get(model_id)
        assert card is not None and flagged == card.weights.random, model_id

    compare = await stub.Compare(ranker_pb2.CompareRequest(model_a=classifier, model_b=generator), timeout=30)
    rows = {r.name: (r.value_a, r.value_b) for r in compare.rows}
    assert rows["Times Matched"] == ("1", "1")
    reference = await stub.Compare(
        ranker_pb2.CompareRequest(model_a="facial-emotions-image-detection", model_b="flux-1-pro"), timeout=30
    )
    assert reference.winner == "flux-1-pro"
    assert "facial_emotions_image_detection leads on ecosystem" in reference.verdict

    store = EvidenceStore(db_path)
    try:
        assert store.count(source=Source.MATCH) == 2
        local = Ranker(load_catalog(), store, as_of=dt.datetime.now(dt.UTC).date())
        md_path, html_path = write_report(
            build_report(local, [("facial-emotions-image-detection", "flux-1-pro"), (classifier, generator)]),
            tmp_path / "report",
        )
    finally:
        store.close()
    text = md_path.read_text()
    assert "match.emotion-agreement" in text and "generator.resolution" in text
    assert html_path.stat().st_size > 10_000
