"""The native ``emoflux.emotion.v1.EmotionService``: converters (:mod:`emotion_service.wire`) around the runtime.

Errors are domain exceptions raised by the runtime; servicekit's interceptor maps them to status codes.
On ClassifyStream a failing item becomes that item's ``error`` and the stream carries on.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import ClassVar

import grpc

from emotion_service.domain import ClassifyResult
from emotion_service.runtime import EmotionRuntime
from emotion_service.streaming import answer_concurrently
from emotion_service.wire import classify_response_to_pb, images_from_pb, model_info_to_pb, options_from_pb
from servicekit.auth import AccessPolicy, Role
from servicekit.errors import InvalidInput
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2 as pb
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2_grpc as pb_grpc
from servicekit.rpc import call_deadline, in_band_error

log = logging.getLogger("emoflux.emotion.service")

SERVICE_NAME = "emoflux.emotion.v1.EmotionService"
MAX_STREAM_REQUEST_ID_BYTES = 128


class EmotionServicer(pb_grpc.EmotionServiceServicer):  # type: ignore[misc]
    """Classify, ClassifyStream and GetModelInfo on top of :class:`EmotionRuntime`."""

    ACCESS: ClassVar[AccessPolicy] = {"Classify": Role.READ, "ClassifyStream": Role.READ, "GetModelInfo": Role.READ}

    def __init__(self, runtime: EmotionRuntime) -> None:
        self.runtime = runtime

    def _response(self, result: ClassifyResult) -> pb.ClassifyResponse:
        return classify_response_to_pb(result, self.runtime.bundle, self.runtime.backends[result.precision])

    async def Classify(self, request: pb.ClassifyRequest, context: grpc.aio.ServicerContext) -> pb.ClassifyResponse:
        """Classify the faces in the request's images."""
        runtime = self.runtime
        with runtime.observe("native"):
            result = await runtime.classify(
                images_from_pb(request), options_from_pb(request), deadline=call_deadline(context)
            )
        return self._response(result)

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
                    images_from_pb(request), options_from_pb(request), deadline=call_deadline(context)
                )
            return pb.ClassifyStreamResponse(request_id=item.request_id, response=self._response(result))
        except Exception as exc:  # one item's failure is reported in-band; the stream goes on
            code, message = in_band_error(exc, log, f"stream item {item.request_id!r}")
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
        return model_info_to_pb(self.runtime)
