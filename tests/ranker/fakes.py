"""Protocol-level stand-ins for the emotion and image services, with faults that can be switched on.

They exist to show that each probe can FAIL (the real services cannot be made to misbehave on
purpose) and to test the ranker's plumbing quickly. The real services are exercised end to end in
``test_e2e.py``. The fake generator hides the prompted emotion in pixel (0, 0) and the fake
classifier reads it back, so a cross-model match has a known answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import grpc
import numpy as np
from PIL import Image

import synthfaces
from emotion_service.service import EmotionServicer
from image_service.service import ImageServicer
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2, emotion_pb2_grpc
from servicekit.pb.emoflux.image.v1 import image_pb2, image_pb2_grpc
from servicekit.server import ServicerRegistration

LABELS = list(synthfaces.LABELS)
ASTRONAUT_BOX = (180, 70, 90, 92)


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def mark(array: np.ndarray, label: int) -> np.ndarray:
    """Hide a label in pixel (0, 0)."""
    array = array.copy()
    array[0, 0] = (label * 30, 255 - label * 30, 123)
    return array


def read_mark(array: np.ndarray) -> int | None:
    r, g, b = (int(v) for v in array[0, 0])
    if b == 123 and r + g == 255 and r % 30 == 0 and r // 30 < len(LABELS):
        return r // 30
    return None


@dataclass
class EmotionFaults:
    """Switchable misbehaviour of the fake classifier."""

    reverse_order: bool = False
    scale_scores: float = 1.0
    int8_flip: bool = False
    delay: float = 0.0
    unreachable: bool = False
    no_faces_detected: bool = False
    halve_threshold: bool = False
    # Answer every Classify with OK and no results (metadata still echoed): what a broken server returns.
    empty_replies: bool = False
    weights_origin: int = emotion_pb2.WEIGHTS_ORIGIN_SYNTHETIC_TRAINED


class FakeEmotion(emotion_pb2_grpc.EmotionServiceServicer):  # type: ignore[misc]
    """EmotionService: pseudo-random scores from the pixels, or the hidden label when present."""

    def __init__(self, faults: EmotionFaults) -> None:
        self.faults = faults
        self.calls = 0

    def _model(self) -> str:
        if self.faults.weights_origin == emotion_pb2.WEIGHTS_ORIGIN_RANDOM:
            return "emoflux/tiny-vit-emotion-random"
        return "emoflux/tiny-vit-emotion-synthetic"

    async def GetModelInfo(
        self, request: object, context: grpc.aio.ServicerContext
    ) -> emotion_pb2.GetModelInfoResponse:
        if self.faults.unreachable:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "loading")
        return emotion_pb2.GetModelInfoResponse(
            model=self._model(),
            labels=LABELS,
            input_height=64,
            input_width=64,
            backend="fake",
            precisions=["fp32", "int8"],
            default_precision="fp32",
            weights_origin=self.faults.weights_origin,  # type: ignore[arg-type]
            random_weights=self.faults.weights_origin == emotion_pb2.WEIGHTS_ORIGIN_RANDOM,
            quality_domain="synthetic faces",
            limits=emotion_pb2.Limits(max_images_per_request=16, max_pixels_per_image=4_000_000),
        )

    def _scores(self, array: np.ndarray, precision: str) -> np.ndarray:
        label = read_mark(array)
        if label is not None:
            logits = np.full(len(LABELS), -4.0)
            logits[label] = 4.0
        else:
            seed = int.from_bytes(hashlib.sha256(array.tobytes()).digest()[:8], "little")
            logits = np.random.default_rng(seed).normal(size=len(LABELS)) * 2
        if precision == "int8" and self.faults.int8_flip:
            logits = -logits
        exp = np.exp(logits - logits.max())
        return exp / exp.sum() * self.faults.scale_scores

    async def Classify(
        self, request: emotion_pb2.ClassifyRequest, context: grpc.aio.ServicerContext
    ) -> emotion_pb2.ClassifyResponse:
        self.calls += 1
        if self.faults.delay:
            await asyncio.sleep(self.faults.delay)
        if len(request.images) > 16:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "images: more than 16")
        results = []
        for index, image in enumerate([] if self.faults.empty_replies else request.images):
            array = np.asarray(Image.open(io.BytesIO(image.data)).convert("RGB"))
            h, w = array.shape[:2]
            if request.face_mode == emotion_pb2.FACE_MODE_DETECT:
                boxes = [] if self.faults.no_faces_detected or w < 256 else [ASTRONAUT_BOX]
            else:
                boxes = [(0, 0, w, h)]
            threshold = request.threshold / 2 if self.faults.halve_threshold else request.threshold
            faces = []
            for x, y, bw, bh in boxes:
                scores = self._scores(
                    array[y : y + bh, x : x + bw] if boxes != [(0, 0, w, h)] else array, request.precision
                )
                order = sorted(range(len(LABELS)), key=lambda i: (-scores[i], i))
                kept = order[: request.top_k] if request.top_k else order
                faces.append(
                    emotion_pb2.Face(
                        box=emotion_pb2.Box(x=x, y=y, width=bw, height=bh),
                        scores=[
                            emotion_pb2.LabelScore(label=LABELS[i], score=float(scores[i]), label_id=i) for i in kept
                        ],
                        top_label=LABELS[order[0]],
                        top_score=float(scores[order[0]]),
                        labels_above_threshold=[LABELS[i] for i in order if threshold and scores[i] >= threshold],
                        detection_confidence=1.0,
                    )
                )
            results.append(emotion_pb2.ImageResult(index=index, width=w, height=h, faces=faces))
        if self.faults.reverse_order:
            results.reverse()
        return emotion_pb2.ClassifyResponse(
            results=results,
            model=self._model(),
            backend="fake",
            precision=request.precision or "fp32",
            weights_origin=self.faults.weights_origin,  # type: ignore[arg-type]
        )


@dataclass
class ImageFaults:
    """Switchable misbehaviour of the fake generator."""

    wrong_size: bool = False
    nondeterministic: bool = False
    accept_references: bool = False
    skip_a_step: bool = False
    wrong_emotion: bool = False
    delay: float = 0.0
    # Answer every Generate with OK and no images, accepting anything (settings still echoed).
    empty_replies: bool = False
    weights_origin: int = image_pb2.WEIGHTS_ORIGIN_SYNTHETIC_TRAINED


@dataclass
class FakeImage(image_pb2_grpc.ImageServiceServicer):  # type: ignore[misc]
    """ImageService: draws a synthetic face for the prompted emotion (label hidden in pixel 0, 0)."""

    faults: ImageFaults
    calls: int = 0
    _noise: int = field(default=0)

    def variant(self) -> image_pb2.Variant:
        return image_pb2.Variant(
            name="tiny-flux",
            description="fake",
            pipeline_class="FluxPipeline",
            capabilities=[image_pb2.CAPABILITY_TEXT_TO_IMAGE, image_pb2.CAPABILITY_INPAINTING],
            defaults=image_pb2.VariantDefaults(width=64, height=64, num_inference_steps=4, max_sequence_length=32),
            limits=image_pb2.VariantLimits(
                min_width=32,
                max_width=128,
                min_height=32,
                max_height=128,
                size_multiple=16,
                max_pixels=128 * 128,
                min_steps=1,
                max_steps=16,
                max_images=4,
                max_reference_images=0,
                max_prompt_tokens=32,
            ),
            backend="fake",
            loaded=True,
            weights_origin=self.faults.weights_origin,  # type: ignore[arg-type]
            random_weights=self.faults.weights_origin == image_pb2.WEIGHTS_ORIGIN_RANDOM,
        )

    async def ListVariants(self, request: object, context: grpc.aio.ServicerContext) -> image_pb2.ListVariantsResponse:
        return image_pb2.ListVariantsResponse(variants=[self.variant()], default_variant="tiny-flux")

    async def _validate(self, request: image_pb2.GenerateRequest, context: grpc.aio.ServicerContext) -> None:
        if self.faults.empty_replies:
            return
        if request.variant not in ("", "tiny-flux"):
            await context.abort(grpc.StatusCode.NOT_FOUND, f"variant: unknown {request.variant!r}")
        # Like tiny-flux: one reference image only as the picture an inpainting mask repaints.
        inpainting = bool(request.mask) and len(request.reference_images) == 1
        if request.reference_images and not inpainting and not self.faults.accept_references:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "reference_images: this variant takes 0")

    def _images(self, request: image_pb2.GenerateRequest) -> list[image_pb2.GeneratedImage]:
        if self.faults.empty_replies:
            return []
        width, height = request.width or 64, request.height or 64
        seed = request.seed if request.HasField("seed") else 42
        label = next((i for i, name in enumerate(LABELS) if name in request.prompt), 0)
        if self.faults.wrong_emotion:
            label = (label + 1) % len(LABELS)
        out = []
        for i in range(max(1, request.num_images)):
            face = np.asarray(synthfaces.render(label, int(seed + i), size=max(width, height)).convert("RGB"))
            face = face[:height, :width]
            if self.faults.nondeterministic:
                self._noise += 1
                face = face.copy()
                face[-1, -1] = (self._noise * 7) % 256
            size = (width + 16, height) if self.faults.wrong_size else (width, height)
            array = mark(np.asarray(Image.fromarray(face).resize(size)), label)
            if request.mask and request.reference_images:
                array = _inpainted(request.reference_images[0], request.mask, array)
            out.append(
                image_pb2.GeneratedImage(
                    data=_png(array),
                    width=width,
                    height=height,
                    seed=seed + i,
                    format=image_pb2.OUTPUT_FORMAT_PNG,
                )
            )
        return out

    def _response(self, request: image_pb2.GenerateRequest) -> image_pb2.GenerateResponse:
        steps = request.num_inference_steps or 4
        return image_pb2.GenerateResponse(
            images=self._images(request),
            variant="tiny-flux",
            backend="fake",
            weights_origin=self.faults.weights_origin,  # type: ignore[arg-type]
            num_inference_steps=steps,
            batch_size=1,
            timings=image_pb2.Timings(run_seconds=0.01, total_seconds=0.01),
        )

    async def Generate(
        self, request: image_pb2.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> image_pb2.GenerateResponse:
        self.calls += 1
        await self._validate(request, context)
        if self.faults.delay:
            await asyncio.sleep(self.faults.delay)
        return self._response(request)

    async def GenerateStream(
        self, request: image_pb2.GenerateStreamRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[image_pb2.GenerateStreamResponse]:
        await self._validate(request.request, context)
        steps = request.request.num_inference_steps or 4
        yield image_pb2.GenerateStreamResponse(queued=image_pb2.GenerateStreamResponse.Queued(position=0))
        yield image_pb2.GenerateStreamResponse(
            started=image_pb2.GenerateStreamResponse.Started(batch_size=1, total_steps=steps)
        )
        for step in range(1, steps + 1):
            if self.faults.skip_a_step and step == 2:
                continue
            yield image_pb2.GenerateStreamResponse(
                step=image_pb2.GenerateStreamResponse.Step(step=step, total_steps=steps, elapsed_seconds=0.01 * step)
            )
        yield image_pb2.GenerateStreamResponse(
            completed=image_pb2.GenerateStreamResponse.Completed(response=self._response(request.request))
        )


def _inpainted(reference: bytes, mask: bytes, drawn: np.ndarray) -> np.ndarray:
    """What an inpainting service answers: the reference outside the mask, the new drawing inside it."""
    ref = np.asarray(Image.open(io.BytesIO(reference)).convert("RGB"))
    keep = np.asarray(Image.open(io.BytesIO(mask)).convert("L")) < 128
    if ref.shape != drawn.shape or keep.shape != drawn.shape[:2]:
        return drawn
    return np.where(keep[..., None], ref, drawn)


class FakeComponent:
    """Serves a fake EmotionService and/or ImageService through servicekit's ServiceHost."""

    name = "fake"

    def __init__(self, emotion: FakeEmotion | None = None, image: FakeImage | None = None) -> None:
        self.emotion = emotion
        self.image = image

    def registrations(self) -> Sequence[ServicerRegistration]:
        out = []
        if self.emotion is not None:
            out.append(
                ServicerRegistration(
                    "emoflux.emotion.v1.EmotionService",
                    emotion_pb2_grpc.add_EmotionServiceServicer_to_server,
                    self.emotion,
                    EmotionServicer.ACCESS,
                )
            )
        if self.image is not None:
            out.append(
                ServicerRegistration(
                    "emoflux.image.v1.ImageService",
                    image_pb2_grpc.add_ImageServiceServicer_to_server,
                    self.image,
                    ImageServicer.ACCESS,
                )
            )
        return out

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
