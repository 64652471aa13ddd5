"""Images from request bytes to model inputs: decode, find faces, crop, preprocess (a prep thread runs it).

Two paths: per image on the CPU (PIL decode, face detection, PIL resize), or, when the model runs on a GPU
and ``--gpu-preprocess`` allows it, a whole request's encoded images at once on the GPU (nvJPEG decode and
tensor resize, :mod:`emotion_service.backends.gpu_preprocess`). Face detection needs the pixels on the
host, so only whole-image requests of encoded images take the GPU path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image
from prometheus_client import Counter, Histogram

from emotion_service.bundle import Preprocessing
from emotion_service.domain import ImageInput
from emotion_service.faces import Box, FaceDetector, crop_face
from emotion_service.preprocess import ImageLimits, decode_rgb, raw_to_array, to_model_input
from servicekit.errors import InvalidInput


@dataclass(frozen=True)
class PreparedImage:
    """An image's size, its faces and one model input per face."""

    index: int
    width: int
    height: int
    boxes: tuple[Box, ...]
    tensors: tuple[Any, ...]
    """One float32 ``[3, H, W]`` per face: numpy on the CPU path, a device tensor on the GPU path."""


DeviceBatch = Callable[[Sequence[bytes]], Any]
"""Encoded images -> a :class:`~emotion_service.backends.gpu_preprocess.DevicePixels` (the GPU path)."""


@dataclass(frozen=True)
class ImagePreparer:
    """Turns :class:`ImageInput` into :class:`PreparedImage` the way the loaded bundle needs."""

    preprocessing: Preprocessing
    limits: ImageLimits
    detector: FaceDetector
    face_margin: float
    max_faces: int
    seconds: Histogram
    """Observes each image's preparation time."""
    decoded: Counter | None = None
    """Counts images by decoder (``cpu``, ``nvjpeg``); labelled by ``decoder``."""
    on_device: DeviceBatch | None = None
    """The GPU path, when the plan enabled it."""

    def takes_device_path(self, images: Sequence[ImageInput], face_mode: str) -> bool:
        """True when ``images`` go to the GPU path: it is enabled, the mode is whole, every image is encoded."""
        return (
            self.on_device is not None
            and face_mode == "whole"
            and all(image.data is not None and image.raw is None for image in images)
        )

    def prepare_on_device(self, images: Sequence[ImageInput]) -> list[PreparedImage]:
        """Decode and preprocess all of ``images`` in one device batch (see :meth:`takes_device_path`)."""
        assert self.on_device is not None
        started = time.monotonic()
        batch = self.on_device([image.data or b"" for image in images])
        per_image = (time.monotonic() - started) / max(1, len(images))
        prepared = []
        for i, (width, height) in enumerate(batch.sizes):
            self.seconds.observe(per_image)
            if self.decoded is not None:
                self.decoded.labels("nvjpeg" if batch.on_gpu[i] else "cpu").inc()
            prepared.append(PreparedImage(i, width, height, (Box(0, 0, width, height, 1.0),), (batch.pixels[i],)))
        return prepared

    def prepare(self, image: ImageInput, index: int, face_mode: str) -> PreparedImage:
        """Decode ``image`` (``images[index]`` in messages), find its faces (``detect``) or take it whole."""
        started = time.monotonic()
        picture = self._decode(image, index)
        if isinstance(picture, Image.Image):
            width, height = picture.size
        else:
            height, width = int(picture.shape[0]), int(picture.shape[1])
        crops: list[np.ndarray | Image.Image]
        if face_mode == "detect":
            rgb = np.asarray(picture, dtype=np.uint8)
            boxes = tuple(self.detector.detect(rgb)[: self.max_faces])
            crops = [crop_face(rgb, box, self.face_margin) for box in boxes]
        else:
            # The whole decoded image goes to the resize as it is (no numpy round trip: the same pixels).
            boxes = (Box(0, 0, width, height, 1.0),)
            crops = [picture]
        tensors = tuple(to_model_input(crop, self.preprocessing) for crop in crops)
        self.seconds.observe(time.monotonic() - started)
        if self.decoded is not None:
            self.decoded.labels("cpu").inc()
        return PreparedImage(index, width, height, boxes, tensors)

    def warm_up(self) -> None:
        """Run the detector and the preprocessing once (the cascade loads lazily per thread)."""
        blank = np.full((64, 64, 3), 128, dtype=np.uint8)
        self.detector.detect(blank)
        to_model_input(blank, self.preprocessing)

    def _decode(self, image: ImageInput, index: int) -> np.ndarray | Image.Image:
        if image.data is not None and image.raw is not None:
            raise InvalidInput(f"images[{index}]: set exactly one of data and raw")
        if image.data is not None:
            return decode_rgb(image.data, index=index, limits=self.limits)
        if image.raw is not None:
            raw = image.raw
            return raw_to_array(raw.width, raw.height, raw.rgb, index=index, limits=self.limits)
        raise InvalidInput(f"images[{index}]: no source set (set data or raw)")
