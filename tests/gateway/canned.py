"""A stand-in for the emotion and image services, for fault injection only.

It serves EmotionService and ImageService on a real gRPC server (servicekit's ServiceHost, real
interceptors) and can be told to fail every call with a given domain error (queue full, not ready,
deadline...) or to answer slowly: failures the real services do not produce on demand. It validates
nothing and computes nothing: what the services answer to real requests, including their refusals of
bad input, is tested against the real services (``test_gateway_emotion_service.py`` and
``test_gateway_image_service.py``).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Sequence

import grpc
from PIL import Image

from emotion_service.service import EmotionServicer
from image_service.service import ImageServicer
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2, emotion_pb2_grpc
from servicekit.pb.emoflux.image.v1 import image_pb2, image_pb2_grpc
from servicekit.server import ServicerRegistration

LABELS = ("sad", "disgust", "angry", "neutral", "fear", "surprise", "happy")
VARIANT = "tiny-flux"


def _canned_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 90, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


class CannedServicers(emotion_pb2_grpc.EmotionServiceServicer, image_pb2_grpc.ImageServiceServicer):
    """Both services with one fixed answer each; ``fail_with`` makes every call raise it, ``delay`` slows it."""

    def __init__(self) -> None:
        self.fail_with: Exception | None = None
        self.delay = 0.0
        self.seen_request_ids: list[str] = []

    async def _enter(self, context: grpc.aio.ServicerContext) -> None:
        metadata = dict(context.invocation_metadata() or ())
        self.seen_request_ids.append(str(metadata.get("x-request-id", "")))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_with is not None:
            raise self.fail_with

    async def Classify(
        self, request: emotion_pb2.ClassifyRequest, context: grpc.aio.ServicerContext
    ) -> emotion_pb2.ClassifyResponse:
        await self._enter(context)
        score = emotion_pb2.LabelScore(label=LABELS[0], score=1.0, label_id=0)
        face = emotion_pb2.Face(scores=[score], top_label=score.label, top_score=score.score)
        return emotion_pb2.ClassifyResponse(
            results=[emotion_pb2.ImageResult(index=i, faces=[face]) for i in range(len(request.images))],
            model="canned",
        )

    async def GetModelInfo(
        self, request: emotion_pb2.GetModelInfoRequest, context: grpc.aio.ServicerContext
    ) -> emotion_pb2.GetModelInfoResponse:
        await self._enter(context)
        return emotion_pb2.GetModelInfoResponse(model="canned", labels=LABELS)

    async def Generate(
        self, request: image_pb2.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> image_pb2.GenerateResponse:
        await self._enter(context)
        image = image_pb2.GeneratedImage(data=_canned_png(), width=16, height=16, format=image_pb2.OUTPUT_FORMAT_PNG)
        return image_pb2.GenerateResponse(images=[image], variant=VARIANT)

    async def ListVariants(
        self, request: image_pb2.ListVariantsRequest, context: grpc.aio.ServicerContext
    ) -> image_pb2.ListVariantsResponse:
        await self._enter(context)
        return image_pb2.ListVariantsResponse(
            variants=[image_pb2.Variant(name=VARIANT, loaded=True)], default_variant=VARIANT
        )

    async def GenerateStream(
        self, request: image_pb2.GenerateStreamRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[image_pb2.GenerateStreamResponse]:
        raise NotImplementedError("GenerateStream is not canned")
        yield  # pragma: no cover - makes this an async generator


class CannedComponent:
    """servicekit Component serving :class:`CannedServicers` for both services on one port."""

    name = "canned"

    def __init__(self) -> None:
        self.servicers = CannedServicers()

    def registrations(self) -> Sequence[ServicerRegistration]:
        return [
            ServicerRegistration(
                "emoflux.emotion.v1.EmotionService",
                emotion_pb2_grpc.add_EmotionServiceServicer_to_server,
                self.servicers,
                EmotionServicer.ACCESS,
            ),
            ServicerRegistration(
                "emoflux.image.v1.ImageService",
                image_pb2_grpc.add_ImageServiceServicer_to_server,
                self.servicers,
                ImageServicer.ACCESS,
            ),
        ]

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
