"""A test-only component serving EmotionService and ImageService with canned, input-derived answers.

It lets the gateway's HTTP contract and its error mapping be exercised on a real gRPC server (servicekit's
ServiceHost, real interceptors) with failures that real models rarely produce on demand (queue full,
not ready, deadline). The real services are exercised by ``test_gateway_services.py``.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Sequence

import grpc
from PIL import Image, UnidentifiedImageError

from emotion_service.service import EmotionService
from image_service.service import ImageServicer
from servicekit import errors
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2, emotion_pb2_grpc
from servicekit.pb.emoflux.image.v1 import image_pb2, image_pb2_grpc
from servicekit.server import ServicerRegistration

LABELS = ("sad", "disgust", "angry", "neutral", "fear", "surprise", "happy")
VARIANT = "tiny-flux"
_FORMATS = {
    image_pb2.OUTPUT_FORMAT_UNSPECIFIED: ("PNG", image_pb2.OUTPUT_FORMAT_PNG),
    image_pb2.OUTPUT_FORMAT_PNG: ("PNG", image_pb2.OUTPUT_FORMAT_PNG),
    image_pb2.OUTPUT_FORMAT_JPEG: ("JPEG", image_pb2.OUTPUT_FORMAT_JPEG),
    image_pb2.OUTPUT_FORMAT_WEBP: ("WEBP", image_pb2.OUTPUT_FORMAT_WEBP),
}


def scores_for(image: Image.Image) -> list[float]:
    """Deterministic scores that depend on the pixels: the red share decides the leading label."""
    red, green, blue = (float(c) for c in image.convert("RGB").resize((1, 1)).getpixel((0, 0)))  # type: ignore[union-attr]
    lead = int(red * len(LABELS) / 256)
    raw = [1.0 + (4.0 if i == lead else 0.0) + (green + blue) / 1000.0 * i for i in range(len(LABELS))]
    total = sum(raw)
    return [r / total for r in raw]


class CannedServicers(emotion_pb2_grpc.EmotionServiceServicer, image_pb2_grpc.ImageServiceServicer):
    """Both services; ``fail_with`` makes every call raise that error, ``delay`` makes it slow."""

    def __init__(self) -> None:
        self.fail_with: Exception | None = None
        self.delay = 0.0
        self.seen_request_ids: list[str] = []
        self.last_generate: image_pb2.GenerateRequest | None = None
        self.last_classify: emotion_pb2.ClassifyRequest | None = None

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
        self.last_classify = request
        results = []
        for index, item in enumerate(request.images):
            try:
                image = Image.open(io.BytesIO(item.data))
                image.load()
            except (UnidentifiedImageError, OSError) as exc:
                raise errors.InvalidInput(f"images[{index}].data: not a decodable image") from exc
            scores = sorted(
                (
                    emotion_pb2.LabelScore(label=label, score=s, label_id=i)
                    for i, (label, s) in enumerate(zip(LABELS, scores_for(image), strict=True))
                ),
                key=lambda s: -s.score,
            )
            if request.top_k:
                scores = scores[: request.top_k]
            face = emotion_pb2.Face(
                box=emotion_pb2.Box(x=0, y=0, width=image.width, height=image.height),
                scores=scores,
                top_label=scores[0].label,
                top_score=scores[0].score,
                detection_confidence=1.0,
            )
            results.append(emotion_pb2.ImageResult(index=index, width=image.width, height=image.height, faces=[face]))
        return emotion_pb2.ClassifyResponse(
            results=results,
            model="canned",
            backend="canned",
            precision="fp32",
            weights_origin=emotion_pb2.WEIGHTS_ORIGIN_RANDOM,
        )

    async def GetModelInfo(
        self, request: emotion_pb2.GetModelInfoRequest, context: grpc.aio.ServicerContext
    ) -> emotion_pb2.GetModelInfoResponse:
        await self._enter(context)
        return emotion_pb2.GetModelInfoResponse(model="canned", labels=LABELS, input_height=64, input_width=64)

    async def Generate(
        self, request: image_pb2.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> image_pb2.GenerateResponse:
        await self._enter(context)
        self.last_generate = request
        if request.variant not in ("", VARIANT):
            raise errors.NotFound(f"variant: '{request.variant}' is not a variant of this server")
        if not request.prompt:
            raise errors.InvalidInput("prompt: must not be empty")
        width, height = request.width or 64, request.height or 64
        if width % 16 or height % 16:
            raise errors.InvalidInput("width, height: must be multiples of 16")
        seed = request.seed if request.HasField("seed") else 1234
        pil_format, fmt = _FORMATS[request.output_format]
        buffer = io.BytesIO()
        Image.new("RGB", (width, height), (seed % 256, len(request.prompt) % 256, 0)).save(buffer, format=pil_format)
        return image_pb2.GenerateResponse(
            images=[
                image_pb2.GeneratedImage(data=buffer.getvalue(), width=width, height=height, seed=seed, format=fmt)
            ],
            variant=VARIANT,
            backend="canned",
            weights_origin=image_pb2.WEIGHTS_ORIGIN_RANDOM,
            num_inference_steps=request.num_inference_steps or 4,
            batch_size=1,
        )

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
                EmotionService.ACCESS,
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
