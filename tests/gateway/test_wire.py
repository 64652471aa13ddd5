"""Pure request/response translation: request shapes, parameter validation, Accept negotiation."""

from __future__ import annotations

import base64
import json

import grpc
import pytest

from gateway import wire
from gateway.errors import BadRequest, NotAcceptable, http_status_for
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2
from servicekit.pb.emoflux.image.v1 import image_pb2

PNG_OUTPUT = wire.ImageOutput(image_pb2.OUTPUT_FORMAT_PNG, "image/png")


def _json(payload: object) -> bytes:
    return json.dumps(payload).encode()


def test_raw_bytes_without_content_type_are_the_image() -> None:
    call = wire.parse_classification(b"\x89PNG...", None, default_top_k=5)
    assert call == wire.ClassificationCall(image=b"\x89PNG...", top_k=5)
    # An image content type is just as raw.
    assert wire.parse_classification(b"abc", "image/jpeg", 3).image == b"abc"


def test_json_with_base64_and_parameters() -> None:
    body = _json(
        {"inputs": base64.b64encode(b"imagebytes").decode(), "parameters": {"top_k": 2, "function_to_apply": None}}
    )
    call = wire.parse_classification(body, "application/json; charset=utf-8", default_top_k=5)
    assert call == wire.ClassificationCall(image=b"imagebytes", top_k=2)
    request = wire.classify_request_to_pb(call)
    assert request.top_k == 2 and request.images[0].data == b"imagebytes"
    assert request.face_mode == emotion_pb2.FACE_MODE_WHOLE


def test_data_url_inputs_are_accepted() -> None:
    body = _json({"inputs": "data:image/png;base64," + base64.b64encode(b"xy").decode()})
    assert wire.parse_classification(body, "application/json", 5).image == b"xy"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "body: empty"),
        (b"{not json", "body: not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (_json({"parameters": {}}), "inputs: missing"),
        (_json({"inputs": "!!!not base64!!!"}), "inputs: not valid base64"),
        (_json({"inputs": "https://example.org/cat.png"}), "URLs are not fetched"),
        (_json({"inputs": 3}), "non-empty base64 string"),
        (_json({"inputs": "eHk=", "parameters": {"top_k": 0}}), "parameters.top_k: must be in [1,"),
        (_json({"inputs": "eHk=", "parameters": {"top_k": "3"}}), "parameters.top_k: expected an integer"),
        (_json({"inputs": "eHk=", "parameters": {"top_k": True}}), "parameters.top_k: expected an integer"),
        (_json({"inputs": "eHk=", "parameters": {"function_to_apply": "sigmoid"}}), "function_to_apply"),
        (_json({"inputs": "eHk=", "parameters": {"threshold": 0.5}}), "parameters.threshold: unknown parameter"),
        (_json({"inputs": "eHk=", "extra": 1}), "extra: unknown field"),
        (_json({"inputs": "eHk=", "parameters": [1]}), "parameters: expected a JSON object"),
    ],
)
def test_bad_classification_requests_name_the_field(body: bytes, fragment: str) -> None:
    with pytest.raises(BadRequest) as info:
        wire.parse_classification(body, "application/json", 5)
    assert fragment in info.value.message
    assert info.value.status == 400


def test_classification_output_keeps_service_order() -> None:
    face = emotion_pb2.Face(
        scores=[emotion_pb2.LabelScore(label="happy", score=0.75), emotion_pb2.LabelScore(label="sad", score=0.25)]
    )
    response = emotion_pb2.ClassifyResponse(results=[emotion_pb2.ImageResult(faces=[face])])
    assert wire.classification_from_pb(response) == [{"label": "happy", "score": 0.75}, {"label": "sad", "score": 0.25}]
    assert wire.classification_from_pb(emotion_pb2.ClassifyResponse()) == []


def test_text_to_image_request_maps_every_parameter() -> None:
    body = _json(
        {
            "inputs": "a happy face",
            "parameters": {
                "height": 128,
                "width": 256,
                "num_inference_steps": 4,
                "guidance_scale": 3.5,
                "seed": 2**63,
                "negative_prompt": "blurry",
                "scheduler": None,
            },
        }
    )
    request = wire.generate_request_to_pb(
        body, "tiny-flux", wire.ImageOutput(image_pb2.OUTPUT_FORMAT_JPEG, "image/jpeg")
    )
    assert (request.variant, request.prompt, request.negative_prompt) == ("tiny-flux", "a happy face", "blurry")
    assert (request.width, request.height, request.num_inference_steps, request.num_images) == (256, 128, 4, 1)
    assert request.HasField("guidance_scale") and request.guidance_scale == pytest.approx(3.5)
    assert request.HasField("seed") and request.seed == 2**63
    assert request.output_format == image_pb2.OUTPUT_FORMAT_JPEG


def test_text_to_image_defaults_leave_options_unset() -> None:
    request = wire.generate_request_to_pb(_json({"inputs": "x"}), "", PNG_OUTPUT)
    assert (request.width, request.height, request.num_inference_steps) == (0, 0, 0)
    assert not request.HasField("seed") and not request.HasField("guidance_scale")
    sized = wire.generate_request_to_pb(
        _json({"inputs": "x", "parameters": {"target_size": {"width": 64, "height": 32}}}), "", PNG_OUTPUT
    )
    assert (sized.width, sized.height) == (64, 32)


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"inputs": ""}, "inputs: the prompt must be a non-empty string"),
        ({"inputs": ["a"]}, "inputs: the prompt must be a non-empty string"),
        ({"inputs": "x", "parameters": {"width": -16}}, "parameters.width: must be in [1,"),
        ({"inputs": "x", "parameters": {"height": 2**32}}, "parameters.height: must be in [1,"),
        ({"inputs": "x", "parameters": {"seed": -1}}, "parameters.seed: must be in [0,"),
        ({"inputs": "x", "parameters": {"seed": 2**64}}, "parameters.seed: must be in [0,"),
        (
            {"inputs": "x", "parameters": {"guidance_scale": "high"}},
            "parameters.guidance_scale: expected a finite number",
        ),
        (
            {"inputs": "x", "parameters": {"num_inference_steps": 2.5}},
            "parameters.num_inference_steps: expected an integer",
        ),
        ({"inputs": "x", "parameters": {"negative_prompt": 1}}, "parameters.negative_prompt: expected a string"),
        ({"inputs": "x", "parameters": {"scheduler": "DDIM"}}, "parameters.scheduler: not supported"),
        ({"inputs": "x", "parameters": {"num_images": 2}}, "parameters.num_images: unknown parameter"),
        (
            {"inputs": "x", "parameters": {"width": 64, "target_size": {"width": 32, "height": 32}}},
            "target_size: disagrees",
        ),
    ],
)
def test_bad_text_to_image_requests_name_the_field(payload: object, fragment: str) -> None:
    with pytest.raises(BadRequest) as info:
        wire.generate_request_to_pb(_json(payload), "", PNG_OUTPUT)
    assert fragment in info.value.message


def test_nan_is_refused() -> None:
    with pytest.raises(BadRequest, match="NaN is not valid JSON"):
        wire.generate_request_to_pb(b'{"inputs": "x", "parameters": {"guidance_scale": NaN}}', "", PNG_OUTPUT)


@pytest.mark.parametrize(
    ("accept", "fmt", "content_type"),
    [
        (None, image_pb2.OUTPUT_FORMAT_PNG, "image/png"),
        ("image/png", image_pb2.OUTPUT_FORMAT_PNG, "image/png"),
        ("image/jpeg", image_pb2.OUTPUT_FORMAT_JPEG, "image/jpeg"),
        ("text/html, image/webp;q=0.9", image_pb2.OUTPUT_FORMAT_WEBP, "image/webp"),
        ("*/*", image_pb2.OUTPUT_FORMAT_PNG, "image/png"),
    ],
)
def test_accept_negotiation(accept: str | None, fmt: int, content_type: str) -> None:
    assert wire.choose_image_output(accept) == wire.ImageOutput(fmt, content_type)


def test_unproducible_accept_is_406() -> None:
    with pytest.raises(NotAcceptable) as info:
        wire.choose_image_output("application/json")
    assert info.value.status == 406


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 400),
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
        (grpc.StatusCode.FAILED_PRECONDITION, 400),
        (grpc.StatusCode.INTERNAL, 500),
        (grpc.StatusCode.UNIMPLEMENTED, 501),
    ],
)
def test_grpc_codes_map_to_http(code: grpc.StatusCode, status: int) -> None:
    assert http_status_for(code) == status
