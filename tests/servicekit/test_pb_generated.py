"""The generated stubs in ``servicekit.pb`` are current and carry the contract's required names."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import timestamp_pb2

from servicekit.pb.emoflux.emotion.v1 import emotion_pb2
from servicekit.pb.emoflux.image.v1 import image_pb2
from servicekit.pb.emoflux.ranker.v1 import ranker_pb2

REPO_ROOT = Path(__file__).resolve().parents[2]

REQUIRED_METHODS = {
    emotion_pb2: ("emoflux.emotion.v1.EmotionService", {"Classify", "ClassifyStream", "GetModelInfo"}),
    image_pb2: ("emoflux.image.v1.ImageService", {"Generate", "GenerateStream", "ListVariants"}),
    ranker_pb2: (
        "emoflux.ranker.v1.RankerService",
        {
            "ListModels",
            "GetModel",
            "GetScore",
            "Compare",
            "Leaderboard",
            "Evaluate",
            "SubmitEvidence",
            "AddModel",
            "RetractSource",
            "ExplainScore",
            "GetScoreHistory",
        },
    ),
}


def test_stubs_are_up_to_date_with_the_protos() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "gen_protos.py"), "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("module", list(REQUIRED_METHODS), ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_services_define_the_required_methods(module: object) -> None:
    full_name, methods = REQUIRED_METHODS[module]  # type: ignore[index]
    service = module.DESCRIPTOR.services_by_name[full_name.rsplit(".", 1)[-1]]  # type: ignore[attr-defined]
    assert service.full_name == full_name
    assert set(service.methods_by_name) == methods
    grpc_module = importlib.import_module(module.__name__ + "_grpc")  # type: ignore[attr-defined]
    assert hasattr(grpc_module, f"add_{service.name}Servicer_to_server")


def test_streaming_shapes() -> None:
    emotion = emotion_pb2.DESCRIPTOR.services_by_name["EmotionService"].methods_by_name["ClassifyStream"]
    assert (emotion.client_streaming, emotion.server_streaming) == (True, True)
    image = image_pb2.DESCRIPTOR.services_by_name["ImageService"].methods_by_name["GenerateStream"]
    assert (image.client_streaming, image.server_streaming) == (False, True)
    evaluate = ranker_pb2.DESCRIPTOR.services_by_name["RankerService"].methods_by_name["Evaluate"]
    assert (evaluate.client_streaming, evaluate.server_streaming) == (False, True)


def test_optional_fields_track_presence() -> None:
    request = image_pb2.GenerateRequest(prompt="a smiling face")
    assert not request.HasField("seed") and not request.HasField("guidance_scale")
    request.seed = 0  # zero is a real seed, distinguishable from "unset"
    parsed = image_pb2.GenerateRequest.FromString(request.SerializeToString())
    assert parsed.HasField("seed") and parsed.seed == 0


def test_stream_items_round_trip() -> None:
    item = emotion_pb2.ClassifyStreamResponse(
        request_id="frame-3", error=emotion_pb2.ClassifyStreamResponse.Error(code=3, message="images[0].data: bad")
    )
    parsed = emotion_pb2.ClassifyStreamResponse.FromString(item.SerializeToString())
    assert parsed.WhichOneof("outcome") == "error" and parsed.error.code == 3

    evidence = ranker_pb2.Evidence(
        model_id="flux-1-pro",
        capability="text-to-image",
        value=0.5,
        observed_at=timestamp_pb2.Timestamp(seconds=1_790_000_000),
        source=ranker_pb2.EVIDENCE_SOURCE_PROBE,
    )
    event = ranker_pb2.EvaluateResponse(
        evidence_recorded=ranker_pb2.EvaluateResponse.EvidenceRecorded(evidence=evidence)
    )
    assert ranker_pb2.EvaluateResponse.FromString(event.SerializeToString()) == event


@pytest.mark.skipif(not (REPO_ROOT / "node_modules" / ".bin" / "buf").exists(), reason="run `npm install` for buf")
def test_buf_lint_is_clean() -> None:
    buf = shutil.which("buf", path=str(REPO_ROOT / "node_modules" / ".bin"))
    assert buf is not None
    result = subprocess.run([buf, "lint"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
