"""Oversized and malformed messages are refused, and the server keeps serving.

Malformed bytes go through a raw generic method (no serializer), so they reach the server exactly as
written. The hardened server (see conftest) allows 1 MiB per message, 256 KiB of image bytes and 4
images per request.
"""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from servicekit.pb.emoflux.emotion.v1 import emotion_pb2, emotion_pb2_grpc
from tests.e2e.procs import EMOTION_HEALTH, ServiceProcess, assert_healthy
from tests.emotion_service.serving import png_header_bomb

CLASSIFY = "/emoflux.emotion.v1.EmotionService/Classify"
NOT_PROTOBUF = {
    "varint never ends": b"\xff" * 11,
    "length beyond the end": b"\x0a\x10abc",
    "string field not UTF-8": b"\x2a\x02\xff\xfe",
    "reserved wire type 7": b"\x0f",
    "nested image cut short": b"\x0a\x02\x0a\x80",
    "end-group without start": b"\x0c",
}


def raw_call(process: ServiceProcess, payload: bytes) -> grpc.StatusCode:
    with grpc.insecure_channel(process.address) as channel:
        method = channel.unary_unary(CLASSIFY)  # bytes in, bytes out: no client-side serialization
        try:
            method(payload, timeout=10)
        except grpc.RpcError as error:
            return error.code()
    return grpc.StatusCode.OK


def classify(process: ServiceProcess, request: emotion_pb2.ClassifyRequest) -> grpc.RpcError:
    with grpc.insecure_channel(process.address) as channel:
        stub = emotion_pb2_grpc.EmotionServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.Classify(request, timeout=10)
    return refused.value


def requests_seen(process: ServiceProcess) -> float:
    """Classify requests that reached the service's handler."""
    return process.metrics().value("emoflux_emotion_requests_total")


@pytest.mark.parametrize("name", list(NOT_PROTOBUF))
def test_bytes_that_are_not_protobuf_are_refused_before_the_handler(
    hardened_emotion: ServiceProcess, name: str
) -> None:
    before = requests_seen(hardened_emotion)
    code = raw_call(hardened_emotion, NOT_PROTOBUF[name])
    assert code is not grpc.StatusCode.OK
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert requests_seen(hardened_emotion) == before
    assert_healthy(hardened_emotion, EMOTION_HEALTH)


def test_bytes_that_are_not_protobuf_are_invalid_argument(hardened_emotion: ServiceProcess) -> None:
    for name, payload in NOT_PROTOBUF.items():
        assert raw_call(hardened_emotion, payload) is grpc.StatusCode.INVALID_ARGUMENT, name


def test_message_over_the_grpc_limit_is_resource_exhausted(hardened_emotion: ServiceProcess) -> None:
    request = emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=b"\0" * (2 * 1024 * 1024))])
    error = classify(hardened_emotion, request)
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "larger than max" in (error.details() or "")
    assert_healthy(hardened_emotion, EMOTION_HEALTH)


@pytest.mark.parametrize(
    ("request_message", "words"),
    [
        pytest.param(
            emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=b"\x89PNG" + b"\0" * 300_000)]),
            "max_request_bytes",
            id="image bytes over max_request_bytes",
        ),
        pytest.param(
            emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=png_header_bomb(60_000, 60_000))]),
            "pixels",
            id="PNG header claiming 3.6 gigapixels",
        ),
        pytest.param(
            emotion_pb2.ClassifyRequest(
                images=[emotion_pb2.Image(raw=emotion_pb2.RawImage(width=65_535, height=65_535, rgb=b"\0\0\0"))]
            ),
            "pixels",
            id="raw image claiming 4.3 gigapixels",
        ),
        pytest.param(
            emotion_pb2.ClassifyRequest(
                images=[
                    emotion_pb2.Image(
                        raw=emotion_pb2.RawImage(width=8, height=8, rgb=np.zeros(8 * 8 * 3 - 1, np.uint8).tobytes())
                    )
                ]
            ),
            "8x8x3",
            id="raw image one byte short",
        ),
        pytest.param(
            emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=b"GIF89a")] * 5),
            "max_images",
            id="five images over a limit of four",
        ),
        pytest.param(emotion_pb2.ClassifyRequest(), "at least one image", id="no images"),
    ],
)
def test_oversized_and_inconsistent_requests_name_the_limit(
    hardened_emotion: ServiceProcess, request_message: emotion_pb2.ClassifyRequest, words: str
) -> None:
    error = classify(hardened_emotion, request_message)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert words in (error.details() or ""), error.details()
    assert_healthy(hardened_emotion, EMOTION_HEALTH)


def test_unknown_method_is_unimplemented(hardened_emotion: ServiceProcess) -> None:
    with grpc.insecure_channel(hardened_emotion.address) as channel, pytest.raises(grpc.RpcError) as refused:
        channel.unary_unary("/emoflux.emotion.v1.EmotionService/Explode")(b"", timeout=10)
    assert refused.value.code() is grpc.StatusCode.UNIMPLEMENTED
