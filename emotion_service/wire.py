"""``emoflux.emotion.v1`` messages <-> the emotion service's domain objects (nothing else).

The servicer in :mod:`emotion_service.service` calls these and the runtime. Unknown enum numbers are
passed on as names the runtime refuses, so every check of a request stays in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emotion_service.backends import Backend
from emotion_service.bundle import Bundle
from emotion_service.domain import ClassifyOptions, ClassifyResult, ImageInput, RawPixels
from emotion_service.provenance import ServedProvenance
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2 as pb
from servicekit.wire import weights_origin_to_pb

if TYPE_CHECKING:
    from emotion_service.runtime import EmotionRuntime

_FACE_MODES = {pb.FACE_MODE_UNSPECIFIED: "whole", pb.FACE_MODE_WHOLE: "whole", pb.FACE_MODE_DETECT: "detect"}


# -- protobuf -> domain ----------------------------------------------------------------------------------
def images_from_pb(request: pb.ClassifyRequest) -> list[ImageInput]:
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


def options_from_pb(request: pb.ClassifyRequest) -> ClassifyOptions:
    """The request's options; an unknown face_mode number is passed on for the runtime to refuse."""
    mode = _FACE_MODES.get(request.face_mode, f"{request.face_mode} (not a FaceMode)")
    return ClassifyOptions(
        face_mode=mode, top_k=int(request.top_k), threshold=float(request.threshold), precision=request.precision
    )


# -- domain -> protobuf ----------------------------------------------------------------------------------
def classify_response_to_pb(result: ClassifyResult, bundle: Bundle, backend: Backend) -> pb.ClassifyResponse:
    """A ClassifyResponse saying what produced the scores (``backend`` ran the request)."""
    response = pb.ClassifyResponse(
        model=bundle.model_id,
        backend=backend.name,
        execution_provider=backend.execution_provider,
        precision=backend.precision,  # what really runs (differs from the key after an allowed fallback)
        weights_origin=weights_origin_to_pb(bundle.weights_origin, pb.WeightsOrigin),
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


def provenance_to_pb(served: ServedProvenance) -> pb.BundleProvenance:
    """Where the served file came from (read from the bundle manifest when the bundle was loaded)."""
    message = pb.BundleProvenance(
        source=served.source,
        sha256=served.sha256,
        exporter=served.exporter,
        opset=served.opset,
        parity_max_abs_diff=served.parity_max_abs_diff,
        library_versions=dict(served.library_versions),
    )
    if served.created_at is not None:
        message.created_at.FromDatetime(served.created_at)
    return message


def model_info_to_pb(runtime: EmotionRuntime) -> pb.GetModelInfoResponse:
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
        provenance=provenance_to_pb(bundle.provenance.served(precision, backend.name)),
        weights_origin=weights_origin_to_pb(bundle.weights_origin, pb.WeightsOrigin),
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
