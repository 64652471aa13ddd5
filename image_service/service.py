"""The ImageService servicer: protobuf <-> domain objects, nothing else (the runtime does the work)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence

import grpc

from image_service.adapters import AdapterInfo
from image_service.jobs import AdapterWeight, EncodedImage, GenerationResult, ImageFormat, Queued, Started, Step
from image_service.runtime import GenerationRuntime
from image_service.validation import RequestOptions, validate_preview_size
from image_service.variants import Capability, VariantSpec, WeightsOrigin, known_names
from servicekit.errors import ServiceError, status_for
from servicekit.pb.emoflux.image.v1 import image_pb2, image_pb2_grpc

log = logging.getLogger("emoflux.image.service")

SERVICE_NAME = "emoflux.image.v1.ImageService"

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
_ORIGIN_PB = {
    WeightsOrigin.RANDOM.value: image_pb2.WEIGHTS_ORIGIN_RANDOM,
    WeightsOrigin.SYNTHETIC_TRAINED.value: image_pb2.WEIGHTS_ORIGIN_SYNTHETIC_TRAINED,
    WeightsOrigin.PRETRAINED.value: image_pb2.WEIGHTS_ORIGIN_PRETRAINED,
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


def response_to_pb(result: GenerationResult) -> image_pb2.GenerateResponse:
    """A finished generation as a GenerateResponse."""
    params = result.params
    t = result.timings
    return image_pb2.GenerateResponse(
        images=[image_to_pb(i) for i in result.images],
        variant=params.variant,
        backend=result.backend,
        weights_origin=_ORIGIN_PB[result.weights_origin],
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
        weights_origin=_ORIGIN_PB[spec.weights_origin.value],
        random_weights=spec.weights_origin is WeightsOrigin.RANDOM,
        quality_domain=spec.quality_domain,
        adapters=[adapter_to_pb(a) for a in sorted(adapters, key=lambda a: a.name)],
    )


def _deadline(context: grpc.aio.ServicerContext) -> float | None:
    remaining = context.time_remaining()
    return None if remaining is None else time.monotonic() + max(0.0, remaining)


class ImageServicer(image_pb2_grpc.ImageServiceServicer):  # type: ignore[misc]
    """Implements emoflux.image.v1.ImageService on a :class:`GenerationRuntime`."""

    def __init__(self, runtime: GenerationRuntime, default_variant: str, configured_backend: str) -> None:
        self.runtime = runtime
        self.default_variant = default_variant
        self.configured_backend = configured_backend

    async def Generate(
        self, request: image_pb2.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> image_pb2.GenerateResponse:
        """Validate, queue, wait, return the images."""
        job = await self.runtime.prepare(options_from_pb(request), self.default_variant)
        result = await self.runtime.generate(job, _deadline(context))
        return response_to_pb(result)

    async def GenerateStream(
        self, request: image_pb2.GenerateStreamRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[image_pb2.GenerateStreamResponse]:
        """Validate (errors as status), then stream Queued / Started / Step events and one terminal event."""
        preview_size = validate_preview_size(request.preview_size)
        job = await self.runtime.prepare(
            options_from_pb(request.request),
            self.default_variant,
            stream=True,
            previews=request.previews,
            preview_size=preview_size,
        )
        self.runtime.check_capacity(job)  # a full queue is the RPC status, like validation errors
        Event = image_pb2.GenerateStreamResponse
        events = self.runtime.stream(job, _deadline(context))
        try:
            async for event in events:
                if isinstance(event, Queued):
                    yield Event(queued=Event.Queued(position=event.position))
                elif isinstance(event, Started):
                    yield Event(started=Event.Started(batch_size=event.batch_size, total_steps=event.total_steps))
                elif isinstance(event, Step):
                    yield Event(
                        step=Event.Step(
                            step=event.step,
                            total_steps=event.total_steps,
                            elapsed_seconds=event.elapsed_seconds,
                            preview=event.preview,
                        )
                    )
                else:
                    yield Event(completed=Event.Completed(response=response_to_pb(event)))
        except Exception as exc:  # after the first event, failures travel as an Error event
            code, message = status_for(exc)
            if not isinstance(exc, ServiceError):
                log.exception("generation failed")
            yield Event(error=Event.Error(code=code.value[0], message=message))
        finally:
            await events.aclose()

    async def ListVariants(
        self, request: image_pb2.ListVariantsRequest, context: grpc.aio.ServicerContext
    ) -> image_pb2.ListVariantsResponse:
        """Every known variant (loaded or not), sorted by name, and the default."""
        variants = []
        for name in sorted(set(known_names()) | set(self.runtime.specs)):
            spec = self.runtime.spec(name)
            loaded = self.runtime.variants.get(name)
            backend = loaded.backend if loaded else self.configured_backend
            adapters = list(loaded.adapters.values()) if loaded else []
            variants.append(variant_to_pb(spec, backend=backend, loaded=loaded is not None, adapters=adapters))
        return image_pb2.ListVariantsResponse(variants=variants, default_variant=self.default_variant)
