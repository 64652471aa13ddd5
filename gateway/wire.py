"""Pure translation between Hugging Face Inference API requests/responses and the emoflux protos.

No I/O here: the HTTP layer hands over the body and headers, these functions validate them (errors name
the field and the rule, as :class:`gateway.errors.BadRequest`) and build the gRPC request, or turn the
gRPC response into what the Inference API returns.

Request shapes (those ``huggingface_hub`` 2.x sends to an endpoint URL):

* image-classification: the raw image bytes with no parameters; with parameters, JSON
  ``{"inputs": "<base64 image>", "parameters": {"top_k": int, "function_to_apply": str}}``.
  The answer is ``[{"label": str, "score": float}, ...]``, best first.
* text-to-image: JSON ``{"inputs": "<prompt>", "parameters": {"height", "width", "num_inference_steps",
  "guidance_scale", "seed", "negative_prompt", ...}}`` with ``Accept: image/png``; the answer is the
  encoded image itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any

from gateway.errors import BadRequest, NotAcceptable
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2
from servicekit.pb.emoflux.image.v1 import image_pb2

UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1

CLASSIFICATION_PARAMETERS = ("top_k", "function_to_apply")
TEXT_TO_IMAGE_PARAMETERS = (
    "height",
    "width",
    "num_inference_steps",
    "guidance_scale",
    "seed",
    "negative_prompt",
    "target_size",
    "scheduler",
)

# Accept media type -> (output format, Content-Type of the answer); the first match in Accept order wins.
_IMAGE_FORMATS: dict[str, tuple[int, str]] = {
    "image/png": (image_pb2.OUTPUT_FORMAT_PNG, "image/png"),
    "image/jpeg": (image_pb2.OUTPUT_FORMAT_JPEG, "image/jpeg"),
    "image/jpg": (image_pb2.OUTPUT_FORMAT_JPEG, "image/jpeg"),
    "image/webp": (image_pb2.OUTPUT_FORMAT_WEBP, "image/webp"),
    "image/*": (image_pb2.OUTPUT_FORMAT_PNG, "image/png"),
    "*/*": (image_pb2.OUTPUT_FORMAT_PNG, "image/png"),
}
_CONTENT_TYPES = {
    image_pb2.OUTPUT_FORMAT_PNG: "image/png",
    image_pb2.OUTPUT_FORMAT_JPEG: "image/jpeg",
    image_pb2.OUTPUT_FORMAT_WEBP: "image/webp",
}


@dataclass(frozen=True)
class ClassificationCall:
    """A validated image-classification request."""

    image: bytes
    top_k: int


@dataclass(frozen=True)
class ImageOutput:
    """The encoding a text-to-image answer is sent in."""

    output_format: int
    content_type: str


def media_type(content_type: str | None) -> str:
    """The bare, lower-case media type of a Content-Type/Accept entry (parameters such as charset dropped)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_json_object(body: bytes) -> dict[str, Any]:
    """Decode a JSON request body that must be an object."""
    try:
        # Strict JSON: NaN and Infinity are not JSON and must not slip into numeric parameters.
        value = json.loads(body, parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"body: not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise BadRequest(f"body: expected a JSON object, got {type(value).__name__}")
    return value


def _reject_constant(name: str) -> Any:
    raise BadRequest(f"body: {name} is not valid JSON")


def _parameters(payload: dict[str, Any], allowed: tuple[str, ...], task: str) -> dict[str, Any]:
    unknown_top = sorted(set(payload) - {"inputs", "parameters", "options"})
    if unknown_top:
        raise BadRequest(f"{unknown_top[0]}: unknown field (expected 'inputs' and optional 'parameters')")
    params = payload.get("parameters") or {}
    if not isinstance(params, dict):
        raise BadRequest(f"parameters: expected a JSON object, got {type(params).__name__}")
    # The client sends explicit nulls for options left unset; they mean "use the default".
    params = {k: v for k, v in params.items() if v is not None}
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise BadRequest(f"parameters.{unknown[0]}: unknown parameter for {task} (accepted: {', '.join(allowed)})")
    return params


def _integer(params: dict[str, Any], name: str, minimum: int, maximum: int) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"parameters.{name}: expected an integer, got {value!r}")
    if not minimum <= value <= maximum:
        raise BadRequest(f"parameters.{name}: must be in [{minimum}, {maximum}], got {value}")
    return value


def _number(params: dict[str, Any], name: str) -> float | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadRequest(f"parameters.{name}: expected a finite number, got {value!r}")
    return float(value)


def decode_base64_image(text: Any) -> bytes:
    """Decode ``inputs`` given as base64 (optionally a ``data:`` URL) into image bytes."""
    if not isinstance(text, str) or not text:
        raise BadRequest("inputs: expected the image as a non-empty base64 string")
    if text.startswith("data:"):
        _, _, text = text.partition(",")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        if text.startswith(("http://", "https://")):
            raise BadRequest("inputs: image URLs are not fetched; send the image bytes or base64") from exc
        raise BadRequest(f"inputs: not valid base64 ({exc})") from exc
    if not data:
        raise BadRequest("inputs: the decoded image is empty")
    return data


def parse_classification(body: bytes, content_type: str | None, default_top_k: int) -> ClassificationCall:
    """Validate an image-classification request: raw image bytes, or JSON with base64 ``inputs``."""
    if not body:
        raise BadRequest("body: empty; send the image bytes or JSON {'inputs': '<base64>'}")
    if media_type(content_type) != "application/json":
        return ClassificationCall(image=body, top_k=default_top_k)
    payload = parse_json_object(body)
    if "inputs" not in payload:
        raise BadRequest("inputs: missing (the base64-encoded image)")
    params = _parameters(payload, CLASSIFICATION_PARAMETERS, "image-classification")
    function = params.get("function_to_apply", "softmax")
    if function != "softmax":
        # The service returns softmax probabilities; raw logits are not part of its answer.
        raise BadRequest(
            "parameters.function_to_apply: only 'softmax' is supported (the model returns softmax scores), "
            f"got {function!r}"
        )
    top_k = _integer(params, "top_k", 1, UINT32_MAX)
    return ClassificationCall(
        image=decode_base64_image(payload["inputs"]), top_k=default_top_k if top_k is None else top_k
    )


def classify_request_to_pb(call: ClassificationCall) -> emotion_pb2.ClassifyRequest:
    """The native request: the whole image as one face, ``top_k`` labels."""
    return emotion_pb2.ClassifyRequest(
        images=[emotion_pb2.Image(data=call.image)],
        face_mode=emotion_pb2.FACE_MODE_WHOLE,
        top_k=call.top_k,
    )


def classification_from_pb(response: emotion_pb2.ClassifyResponse) -> list[dict[str, Any]]:
    """``[{"label", "score"}]`` of the single image's face, best first."""
    if not response.results or not response.results[0].faces:
        return []
    return [{"label": s.label, "score": float(s.score)} for s in response.results[0].faces[0].scores]


def choose_image_output(accept: str | None) -> ImageOutput:
    """Pick the image encoding from the ``Accept`` header (PNG when absent or a wildcard)."""
    if not accept or not accept.strip():
        return ImageOutput(image_pb2.OUTPUT_FORMAT_PNG, "image/png")
    offered = [media_type(part) for part in accept.split(",")]
    for media in offered:
        if media in _IMAGE_FORMATS:
            fmt, content_type = _IMAGE_FORMATS[media]
            return ImageOutput(fmt, content_type)
    raise NotAcceptable(f"Accept: cannot produce {accept!r}; text-to-image answers image/png, image/jpeg or image/webp")


def _size(params: dict[str, Any]) -> tuple[int | None, int | None]:
    width = _integer(params, "width", 1, UINT32_MAX)
    height = _integer(params, "height", 1, UINT32_MAX)
    target = params.get("target_size")
    if target is None:
        return width, height
    if not isinstance(target, dict) or set(target) - {"width", "height"}:
        raise BadRequest("parameters.target_size: expected {'width': int, 'height': int}")
    target_width = _integer(target, "width", 1, UINT32_MAX)
    target_height = _integer(target, "height", 1, UINT32_MAX)
    if (width is not None and target_width not in (None, width)) or (
        height is not None and target_height not in (None, height)
    ):
        raise BadRequest("parameters.target_size: disagrees with parameters.width/height")
    return width if width is not None else target_width, height if height is not None else target_height


def generate_request_to_pb(body: bytes, variant: str, output: ImageOutput) -> image_pb2.GenerateRequest:
    """Validate a text-to-image request and build the native GenerateRequest (one image)."""
    if not body:
        raise BadRequest("body: empty; send JSON {'inputs': '<prompt>', 'parameters': {...}}")
    payload = parse_json_object(body)
    prompt = payload.get("inputs")
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadRequest("inputs: the prompt must be a non-empty string")
    params = _parameters(payload, TEXT_TO_IMAGE_PARAMETERS, "text-to-image")
    if "scheduler" in params:
        raise BadRequest("parameters.scheduler: not supported; each FLUX variant uses its own flow-matching scheduler")
    negative = params.get("negative_prompt", "")
    if not isinstance(negative, str):
        raise BadRequest(f"parameters.negative_prompt: expected a string, got {negative!r}")
    width, height = _size(params)
    request = image_pb2.GenerateRequest(
        variant=variant,
        prompt=prompt,
        negative_prompt=negative,
        width=width or 0,
        height=height or 0,
        num_inference_steps=_integer(params, "num_inference_steps", 1, UINT32_MAX) or 0,
        num_images=1,
        output_format=output.output_format,  # type: ignore[arg-type]
    )
    guidance = _number(params, "guidance_scale")
    if guidance is not None:
        request.guidance_scale = guidance
    seed = _integer(params, "seed", 0, UINT64_MAX)
    if seed is not None:
        request.seed = seed
    return request


def content_type_from_pb(image: image_pb2.GeneratedImage) -> str:
    """The Content-Type of a generated image."""
    return _CONTENT_TYPES.get(image.format, "application/octet-stream")
