"""The ImageService servicer: converters (:mod:`image_service.wire`) around the runtime, which does the work."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import ClassVar

import grpc

from image_service.runtime import GenerationRuntime
from image_service.validation import validate_preview_size
from image_service.variants import known_names
from image_service.wire import generate_response_to_pb, options_from_pb, stream_event_to_pb, variant_to_pb
from servicekit.auth import AccessPolicy, Role
from servicekit.pb.emoflux.image.v1 import image_pb2, image_pb2_grpc
from servicekit.rpc import call_deadline, in_band_error

log = logging.getLogger("emoflux.image.service")

SERVICE_NAME = "emoflux.image.v1.ImageService"


class ImageServicer(image_pb2_grpc.ImageServiceServicer):  # type: ignore[misc]
    """Implements emoflux.image.v1.ImageService on a :class:`GenerationRuntime`."""

    ACCESS: ClassVar[AccessPolicy] = {"Generate": Role.READ, "GenerateStream": Role.READ, "ListVariants": Role.READ}

    def __init__(self, runtime: GenerationRuntime, default_variant: str, configured_backend: str) -> None:
        self.runtime = runtime
        self.default_variant = default_variant
        self.configured_backend = configured_backend

    async def Generate(
        self, request: image_pb2.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> image_pb2.GenerateResponse:
        """Validate, queue, wait, return the images."""
        job = await self.runtime.prepare(options_from_pb(request), self.default_variant)
        result = await self.runtime.generate(job, call_deadline(context))
        return generate_response_to_pb(result)

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
        # prepare() took the queue room before decoding: a full queue was the RPC status, like validation errors.
        reservation = job.reservation or self.runtime.reserve(job)
        Event = image_pb2.GenerateStreamResponse
        events = self.runtime.stream(job, call_deadline(context), reservation)
        try:
            async for event in events:
                yield stream_event_to_pb(event)
        except Exception as exc:  # after the first event, failures travel as an Error event
            code, message = in_band_error(exc, log, "generation")
            yield Event(error=Event.Error(code=code.value[0], message=message))
        finally:
            await events.aclose()
            reservation.release()  # held until here when the stream ended before the job was queued

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
