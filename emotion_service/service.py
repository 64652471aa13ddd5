"""The native ``emoflux.emotion.v1.EmotionService``: protobuf <-> runtime objects, nothing else.

Errors are domain exceptions raised by the runtime; servicekit's interceptor maps them to status codes.
On ClassifyStream a failing item becomes that item's ``error`` and the stream carries on.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from emotion_service.bundle import Bundle
from emotion_service.runtime import (
    ClassifyOptions,
    ClassifyResult,
    EmotionRuntime,
    ImageInput,
    RawPixels,
    deadline_from,
)
from emotion_service.streaming import answer_concurrently
from servicekit.errors import InvalidInput, status_for
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2 as pb
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2_grpc as pb_grpc

log = logging.getLogger("emoflux.emotion.service")

SERVICE_NAME = "emoflux.emotion.v1.EmotionService"
MAX_STREAM_REQUEST_ID_BYTES = 128

_FACE_MODES = {pb.FACE_MODE_UNSPECIFIED: "whole", pb.FACE_MODE_WHOLE: "whole", pb.FACE_MODE_DETECT: "detect"}
WEIGHTS_ORIGINS = {
    "random": pb.WEIGHTS_ORIGIN_RANDOM,
    "synthetic-trained": pb.WEIGHTS_ORIGIN_SYNTHETIC_TRAINED,
    "pretrained": pb.WEIGHTS_ORIGIN_PRETRAINED,
}


# -- protobuf -> domain ----------------------------------------------------------------------------------
def images_from(request: pb.ClassifyRequest) -> list[ImageInput]:
    """The request's images as runtime inputs (an image with no source stays empty; the runtime refuses it)."""
    images = []
    for image in request.images:
        source = image.WhichOneof("source")
        if source == "data":
            images.append(ImageInput(data=image.data))
        elif source == "raw":
            images.append(ImageInput(raw=RawPixels(image.raw.width, image.raw.height, image.raw.rgb)))
        else:
            images.append(ImageInput())
    return images


def options_from(request: pb.ClassifyRequest) -> ClassifyOptions:
    """The request's options; an unknown face_mode number is passed on for the runtime to refuse."""
    mode = _FACE_MODES.get(request.face_mode, f"{request.face_mode} (not a FaceMode)")
    return ClassifyOptions(
        face_mode=mode, top_k=int(request.top_k), threshold=float(request.threshold), precision=request.precision
    )


# -- domain -> protobuf ----------------------------------------------------------------------------------
def classify_response(result: ClassifyResult, runtime: EmotionRuntime) -> pb.ClassifyResponse:
    """A ClassifyResponse saying what produced the scores."""
    bundle = runtime.bundle
    backend = runtime.backends[result.precision]
    response = pb.ClassifyResponse(
        model=bundle.model_id,
        backend=backend.name,
        execution_provider=backend.execution_provider,
        precision=result.precision,
        weights_origin=WEIGHTS_ORIGINS.get(bundle.weights_origin, pb.WEIGHTS_ORIGIN_UNSPECIFIED),
        timings=pb.Timings(
            queue_seconds=result.timings.queue_seconds,
            compute_seconds=result.timings.compute_seconds,
            total_seconds=result.timings.total_seconds,
        ),
    )
    for image in result.images:
        out = response.results.add(index=image.index, width=image.width, height=image.height)
        for face in image.faces:
            box = face.box
            out.faces.add(
                box=pb.Box(x=box.x, y=box.y, width=box.width, height=box.height),
                scores=[pb.LabelScore(label=s.label, score=s.score, label_id=s.label_id) for s in face.scores],
                top_label=face.top.label,
                top_score=face.top.score,
                labels_above_threshold=list(face.labels_above_threshold),
                detection_confidence=box.confidence,
            )
    return response


def _timestamp(value: Any) -> Timestamp | None:
    if isinstance(value, int | float):
        stamp = Timestamp()
        stamp.FromDatetime(datetime.fromtimestamp(float(value), UTC))
        return stamp
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        stamp = Timestamp()
        stamp.FromDatetime(parsed)
        return stamp
    return None


def _parity(manifest: dict[str, Any], precision: str) -> float:
    """The recorded max |logit diff| against PyTorch of the served precision (-1 when not measured)."""
    parity = manifest.get("parity", {})
    entry = parity.get(precision) if isinstance(parity, dict) else None
    if isinstance(entry, dict):
        entry = entry.get("max_abs_logit_diff")
    return float(entry) if isinstance(entry, int | float) and math.isfinite(entry) else -1.0


def source_name(source: Any) -> str:
    """The manifest's source as one string: ``builtin:<name>``, a hub id (``@commit``) or a local directory."""
    if isinstance(source, str):
        return source
    if not isinstance(source, dict):
        return ""
    kind = source.get("kind")
    if kind == "embedded":
        return f"builtin:{source.get('name') or source.get('spec')}"
    if kind == "hub":
        repo = str(source.get("repo_id") or source.get("spec") or "")
        return f"{repo}@{source['commit']}" if source.get("commit") else repo
    return str(source.get("path") or source.get("spec") or "")


def exporter_name(manifest: dict[str, Any]) -> str:
    """The tool that wrote the ONNX files, e.g. ``torch.onnx.export(dynamo) torch 2.13.0``."""
    exporter = manifest.get("exporter", "")
    if not isinstance(exporter, dict):
        return str(exporter)
    name = str(exporter.get("name", ""))
    if exporter.get("dynamo"):
        name += "(dynamo)"
    versions = manifest.get("versions", {})
    torch_version = versions.get("torch") if isinstance(versions, dict) else None
    return f"{name} torch {torch_version}" if torch_version else name


def provenance(bundle: Bundle, precision: str, backend_name: str) -> pb.BundleProvenance:
    """Where the served file came from, read from the bundle manifest."""
    manifest = bundle.manifest
    torch = backend_name == "torch"
    onnx = manifest.get("onnx", {})
    relative = onnx.get(precision) if isinstance(onnx, dict) else None
    if torch and bundle.hf_dir is not None:
        # The torch backend serves the safetensors weights of the Hugging Face directory, not an ONNX file.
        relative = f"{bundle.hf_dir.name}/model.safetensors"
    files = manifest.get("files", {})
    entry = files.get(relative, {}) if isinstance(files, dict) and relative else {}
    sha256 = str(entry.get("sha256", "")) if isinstance(entry, dict) else ""
    versions = manifest.get("versions", {})
    message = pb.BundleProvenance(
        source=source_name(manifest.get("source")),
        sha256=sha256,
        exporter=exporter_name(manifest),
        opset=0 if torch else int(manifest.get("opset", 0) or 0),
        parity_max_abs_diff=-1.0 if torch else _parity(manifest, precision),
        library_versions={str(k): str(v) for k, v in versions.items()} if isinstance(versions, dict) else {},
    )
    created = _timestamp(manifest.get("created_at"))
    if created is not None:
        message.created_at.CopyFrom(created)
    return message


def model_info(runtime: EmotionRuntime) -> pb.GetModelInfoResponse:
    """Everything a client needs to know about the served model."""
    bundle = runtime.bundle
    settings = runtime.settings
    precision = runtime.default_precision
    backend = runtime.backends[precision]
    prep = bundle.preprocessing
    return pb.GetModelInfoResponse(
        model=bundle.model_id,
        labels=list(bundle.labels),
        input_height=prep.height,
        input_width=prep.width,
        preprocessing=pb.Preprocessing(
            resize_method=prep.resample,
            image_mean=list(prep.image_mean),
            image_std=list(prep.image_std),
            rescale_factor=prep.rescale_factor,
        ),
        backend=backend.name,
        execution_providers=list(backend.providers),
        precisions=list(runtime.precisions),
        default_precision=precision,
        provenance=provenance(bundle, precision, backend.name),
        weights_origin=WEIGHTS_ORIGINS.get(bundle.weights_origin, pb.WEIGHTS_ORIGIN_UNSPECIFIED),
        random_weights=bundle.random_weights,
        quality_domain=bundle.quality_domain or "",
        limits=pb.Limits(
            max_images_per_request=settings.max_images_per_request,
            max_pixels_per_image=settings.max_pixels_per_image,
            max_request_bytes=min(settings.max_request_bytes, settings.max_message_bytes),
        ),
        batching=pb.Batching(
            max_batch_size=settings.max_batch_size,
            max_queue_delay_seconds=settings.effective_queue_delay_s,
            max_queue_size=settings.max_queue_size,
        ),
    )


class EmotionService(pb_grpc.EmotionServiceServicer):  # type: ignore[misc]
    """Classify, ClassifyStream and GetModelInfo on top of :class:`EmotionRuntime`."""

    def __init__(self, runtime: EmotionRuntime) -> None:
        self.runtime = runtime

    async def Classify(self, request: pb.ClassifyRequest, context: grpc.aio.ServicerContext) -> pb.ClassifyResponse:
        """Classify the faces in the request's images."""
        runtime = self.runtime
        with runtime.observe("native"):
            result = await runtime.classify(
                images_from(request), options_from(request), deadline=deadline_from(context.time_remaining())
            )
        return classify_response(result, runtime)

    async def _stream_item(
        self, item: pb.ClassifyStreamRequest, context: grpc.aio.ServicerContext
    ) -> pb.ClassifyStreamResponse:
        runtime = self.runtime
        try:
            with runtime.observe("stream"):
                if len(item.request_id.encode()) > MAX_STREAM_REQUEST_ID_BYTES:
                    raise InvalidInput(
                        f"request_id: {len(item.request_id.encode())} bytes, over the limit of "
                        f"{MAX_STREAM_REQUEST_ID_BYTES}"
                    )
                request = item.request
                result = await runtime.classify(
                    images_from(request), options_from(request), deadline=deadline_from(context.time_remaining())
                )
            return pb.ClassifyStreamResponse(request_id=item.request_id, response=classify_response(result, runtime))
        except Exception as exc:  # one item's failure is reported in-band; the stream goes on
            code, message = status_for(exc)
            if code is grpc.StatusCode.INTERNAL:
                log.exception("stream item %r failed", item.request_id)
            error = pb.ClassifyStreamResponse.Error(code=code.value[0], message=message)
            return pb.ClassifyStreamResponse(request_id=item.request_id, error=error)

    async def ClassifyStream(
        self, request_iterator: AsyncIterator[pb.ClassifyStreamRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ClassifyStreamResponse]:
        """Classify stream items concurrently; answer each as soon as it is ready (matched by request_id)."""
        stream = answer_concurrently(
            request_iterator,
            lambda item: self._stream_item(item, context),
            max_outstanding=self.runtime.settings.max_queue_size,
        )
        async for response in stream:
            yield response

    async def GetModelInfo(
        self, request: pb.GetModelInfoRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetModelInfoResponse:
        """Describe the loaded model, its provenance, limits and batching."""
        return model_info(self.runtime)
