"""One image from request bytes to model inputs: decode, find faces, crop, preprocess (a prep thread runs it)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from PIL import Image
from prometheus_client import Histogram

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
    tensors: tuple[np.ndarray, ...]


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
