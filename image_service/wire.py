"""``emoflux.image.v1`` messages <-> the image service's domain objects (nothing else).

The servicer in :mod:`image_service.service` calls these and the runtime. Unknown enum numbers become
names the validator refuses, so every check of a request stays in :mod:`image_service.validation`.
"""

from __future__ import annotations

from collections.abc import Sequence

from image_service.adapters import AdapterInfo
from image_service.jobs import (
    AdapterWeight,
    EncodedImage,
    GenerationResult,
    ImageFormat,
    ProgressEvent,
    Queued,
    Started,
    Step,
)
from image_service.validation import RequestOptions
from image_service.variants import Capability, VariantSpec, WeightsOrigin
from servicekit.pb.emoflux.image.v1 import image_pb2
from servicekit.wire import weights_origin_to_pb

_FORMAT_NAMES = {
    image_pb2.OUTPUT_FORMAT_UNSPECIFIED: "",
    image_pb2.OUTPUT_FORMAT_PNG: "png",
    image_pb2.OUTPUT_FORMAT_JPEG: "jpeg",
    image_pb2.OUTPUT_FORMAT_WEBP: "webp",
}
_FORMAT_PB = {
    ImageFormat.PNG: image_pb2.OUTPUT_FORMAT_PNG,
    ImageFormat.JPEG: image_pb2.OUTPUT_FORMAT_JPEG,
    ImageFormat.WEBP: image_pb2.OUTPUT_FORMAT_WEBP,
}
_CAPABILITY_PB = {
    Capability.TEXT_TO_IMAGE: image_pb2.CAPABILITY_TEXT_TO_IMAGE,
    Capability.IMAGE_EDITING: image_pb2.CAPABILITY_IMAGE_EDITING,
    Capability.MULTI_REFERENCE: image_pb2.CAPABILITY_MULTI_REFERENCE,
    Capability.GUIDANCE_DISTILLED: image_pb2.CAPABILITY_GUIDANCE_DISTILLED,
    Capability.FEW_STEP: image_pb2.CAPABILITY_FEW_STEP,
    Capability.IMAGE_TO_IMAGE: image_pb2.CAPABILITY_IMAGE_TO_IMAGE,
    Capability.NEGATIVE_PROMPT: image_pb2.CAPABILITY_NEGATIVE_PROMPT,
    Capability.INPAINTING: image_pb2.CAPABILITY_INPAINTING,
}


def options_from_pb(request: image_pb2.GenerateRequest) -> RequestOptions:
    """Domain options of a GenerateRequest (unknown enum values become names the validator refuses)."""
    fmt = _FORMAT_NAMES.get(request.output_format, f"unknown value {request.output_format}")
    return RequestOptions(
        variant=request.variant,
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        width=request.width,
        height=request.height,
        num_inference_steps=request.num_inference_steps,
        guidance_scale=request.guidance_scale if request.HasField("guidance_scale") else None,
        seed=request.seed if request.HasField("seed") else None,
        num_images=request.num_images,
        output_format=fmt,
        quality=request.quality,
        reference_images=tuple(request.reference_images),
        strength=request.strength if request.HasField("strength") else None,
        mask=request.mask,
        adapters=tuple((a.name, a.scale if a.HasField("scale") else None) for a in request.adapters),
    )


def adapter_weight_to_pb(adapter: AdapterWeight) -> image_pb2.AdapterWeight:
    """An applied adapter and its scale as protobuf."""
    return image_pb2.AdapterWeight(name=adapter.name, scale=adapter.scale)


def adapter_to_pb(info: AdapterInfo) -> image_pb2.Adapter:
    """A loaded adapter as ListVariants shows it."""
    return image_pb2.Adapter(
        name=info.name,
        base_variant=info.base_variant,
        rank=info.rank,
        layers=info.layers,
        sha256=info.sha256,
        source=str(info.path),
        description=info.description,
    )


def image_to_pb(image: EncodedImage) -> image_pb2.GeneratedImage:
    """One generated image as protobuf."""
    return image_pb2.GeneratedImage(
        data=image.data, width=image.width, height=image.height, seed=image.seed, format=_FORMAT_PB[image.format]
    )


def generate_response_to_pb(result: GenerationResult) -> image_pb2.GenerateResponse:
    """A finished generation as a GenerateResponse."""
    params = result.params
    t = result.timings
    return image_pb2.GenerateResponse(
        images=[image_to_pb(i) for i in result.images],
        variant=params.variant,
        backend=result.backend,
        weights_origin=weights_origin_to_pb(result.weights_origin, image_pb2.WeightsOrigin),
        num_inference_steps=params.num_inference_steps,
        guidance_scale=params.guidance_scale,
        prompt_truncated=params.prompt_truncated,
        prompt_tokens=params.prompt_tokens,
        batch_size=result.batch_size,
        timings=image_pb2.Timings(
            queue_seconds=t.queue_seconds,
            run_seconds=t.run_seconds,
            total_seconds=t.total_seconds,
            seconds_per_step=t.seconds_per_step,
        ),
        adapters=[adapter_weight_to_pb(a) for a in params.adapters],
    )


def variant_to_pb(
    spec: VariantSpec, *, backend: str, loaded: bool, adapters: Sequence[AdapterInfo] = ()
) -> image_pb2.Variant:
    """A variant's spec and state as protobuf."""
    d, lim = spec.defaults, spec.limits
    return image_pb2.Variant(
        name=spec.name,
        description=spec.description,
        pipeline_class=spec.pipeline_class,
        hub_id=spec.hub_id,
        license=spec.license,
        capabilities=[_CAPABILITY_PB[c] for c in spec.capabilities],
        defaults=image_pb2.VariantDefaults(
            width=d.width,
            height=d.height,
            num_inference_steps=d.num_inference_steps,
            guidance_scale=d.guidance_scale,
            max_sequence_length=d.max_sequence_length,
        ),
        limits=image_pb2.VariantLimits(
            min_width=lim.min_width,
            max_width=lim.max_width,
            min_height=lim.min_height,
            max_height=lim.max_height,
            size_multiple=lim.size_multiple,
            max_pixels=lim.max_pixels,
            min_steps=lim.min_steps,
            max_steps=lim.max_steps,
            min_guidance_scale=lim.min_guidance_scale,
            max_guidance_scale=lim.max_guidance_scale,
            max_images=lim.max_images,
            max_reference_images=lim.max_reference_images,
            max_prompt_tokens=lim.max_prompt_tokens,
        ),
        backend=backend,
        loaded=loaded,
        weights_origin=weights_origin_to_pb(spec.weights_origin.value, image_pb2.WeightsOrigin),
        random_weights=spec.weights_origin is WeightsOrigin.RANDOM,
        quality_domain=spec.quality_domain,
        adapters=[adapter_to_pb(a) for a in sorted(adapters, key=lambda a: a.name)],
    )


def stream_event_to_pb(event: ProgressEvent | GenerationResult) -> image_pb2.GenerateStreamResponse:
    """A progress event, or the finished generation, as one GenerateStream message."""
    Event = image_pb2.GenerateStreamResponse
    if isinstance(event, Queued):
        return Event(queued=Event.Queued(position=event.position))
    if isinstance(event, Started):
        return Event(started=Event.Started(batch_size=event.batch_size, total_steps=event.total_steps))
    if isinstance(event, Step):
        step = Event.Step(
            step=event.step, total_steps=event.total_steps, elapsed_seconds=event.elapsed_seconds, preview=event.preview
        )
        return Event(step=step)
    return Event(completed=Event.Completed(response=generate_response_to_pb(event)))
