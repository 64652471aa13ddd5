"""Fuzzing the native APIs with hypothesis, for a fixed budget: no crash, no hang, still SERVING after.

Every call has a deadline (a hang fails the example as DEADLINE_EXCEEDED) and may only end OK or with a
documented client error; INTERNAL, UNKNOWN, UNAVAILABLE (a crash) or DEADLINE_EXCEEDED fail the run.
The budget is ``max_examples`` per test plus a wall-clock ``timeout``. The default run is short and
derandomized (the same examples every time); the ``slow`` runs draw ten times more, fresh each run.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicekit.pb.emoflux.emotion.v1 import emotion_pb2, emotion_pb2_grpc
from servicekit.pb.emoflux.image.v1 import image_pb2_grpc
from tests.e2e.procs import EMOTION_HEALTH, IMAGE_HEALTH, ServiceProcess, assert_healthy, launched
from tests.faults import hostile

CALL_DEADLINE = 20.0
CLIENT_ERRORS = {"INVALID_ARGUMENT", "NOT_FOUND", "RESOURCE_EXHAUSTED"}
# A known variant that is not loaded is FAILED_PRECONDITION (documented in image.proto).
GENERATE_ERRORS = CLIENT_ERRORS | {"FAILED_PRECONDITION"}
MAX_IMAGES = 4  # the hardened server's --max-images-per-request


def fuzz(
    call: Callable[..., Any], strategy: st.SearchStrategy[Any], *, examples: int, fixed: bool, allowed: set[str]
) -> Counter[str]:
    """Send ``examples`` drawn requests through ``call``; return the status codes seen, by name."""
    seen: Counter[str] = Counter()

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=fixed,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=strategy)
    def one(request: Any) -> None:
        detail = ""
        try:
            call(request, timeout=CALL_DEADLINE)
            code = "OK"
        except grpc.RpcError as error:
            code = error.code().name
            detail = error.details()
        seen[code] += 1
        assert code == "OK" or code in allowed, f"{code}: {detail} for {str(request)[:400]!r}"

    one()
    return seen


def report(what: str, seen: Counter[str]) -> None:
    print(f"\nfuzz {what}: {sum(seen.values())} calls, codes {dict(seen.most_common())}")


def classify_call(process: ServiceProcess) -> Callable[..., Any]:
    channel = grpc.insecure_channel(process.address)
    method: Callable[..., Any] = emotion_pb2_grpc.EmotionServiceStub(channel).Classify
    return method


@pytest.mark.timeout(120)
def test_fuzz_classify_requests(hardened_emotion: ServiceProcess) -> None:
    seen = fuzz(
        classify_call(hardened_emotion),
        hostile.classify_requests(MAX_IMAGES),
        examples=150,
        fixed=True,
        allowed=CLIENT_ERRORS,
    )
    report("ClassifyRequest", seen)
    assert seen["OK"] > 0 and seen["INVALID_ARGUMENT"] > 0
    assert_healthy(hardened_emotion, EMOTION_HEALTH)


@pytest.mark.timeout(120)
def test_fuzz_image_bytes(hardened_emotion: ServiceProcess) -> None:
    call = classify_call(hardened_emotion)
    seen = fuzz(call, hostile.image_classify_requests(), examples=150, fixed=True, allowed=CLIENT_ERRORS)
    report("image bytes", seen)
    assert seen["OK"] > 0 and seen["INVALID_ARGUMENT"] > 0
    assert_healthy(hardened_emotion, EMOTION_HEALTH)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_fuzz_classify_long(hardened_emotion: ServiceProcess) -> None:
    call = classify_call(hardened_emotion)
    for what, strategy in (
        ("ClassifyRequest (long)", hostile.classify_requests(MAX_IMAGES)),
        ("image bytes (long)", hostile.image_classify_requests()),
    ):
        seen = fuzz(call, strategy, examples=1500, fixed=False, allowed=CLIENT_ERRORS)
        report(what, seen)
    assert_healthy(hardened_emotion, EMOTION_HEALTH)


@pytest.fixture(scope="module")
def image_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """image_service (embedded tiny-flux) with a 1 MiB message limit."""
    log_dir: Path = tmp_path_factory.mktemp("image-fuzz")
    with launched(log_dir) as launcher:
        process = launcher.image("image-fuzz", ["--max-message-bytes", str(1024 * 1024)])
        asyncio.run(launcher.serving(process, timeout=300))
        yield process


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_fuzz_generate_requests(image_process: ServiceProcess) -> None:
    channel = grpc.insecure_channel(image_process.address)
    generate = image_pb2_grpc.ImageServiceStub(channel).Generate
    seen = fuzz(generate, hostile.generate_requests(), examples=300, fixed=False, allowed=GENERATE_ERRORS)
    report("GenerateRequest", seen)
    assert seen["OK"] > 0 and seen["INVALID_ARGUMENT"] > 0
    assert_healthy(image_process, IMAGE_HEALTH)


def test_seed_images_are_valid_where_the_service_says_so(hardened_emotion: ServiceProcess) -> None:
    """The unmutated seeds: every documented format classifies; TIFF (not documented) is refused."""
    call = classify_call(hardened_emotion)
    for data in hostile.seed_images():
        request = emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=data)])
        if data.startswith((b"II*\x00", b"MM\x00*")):
            with pytest.raises(grpc.RpcError) as refused:
                call(request, timeout=CALL_DEADLINE)
            assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        else:
            assert len(call(request, timeout=CALL_DEADLINE).results) == 1
