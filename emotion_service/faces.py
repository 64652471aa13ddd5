"""Face detection behind a small interface, and cropping with a margin.

Boxes are in source-image pixels. The default detector is OpenCV's frontal-face Haar cascade from
``opencv-python-headless<5`` (5.x ships no cascades). Any object with ``detect(rgb) -> list[Box]`` can
replace it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from servicekit.errors import FailedPrecondition

HAAR_FRONTAL_FACE = "haarcascade_frontalface_default.xml"


@dataclass(frozen=True)
class Box:
    """An axis-aligned face box in source-image pixels; ``confidence`` in [0, 1]."""

    x: int
    y: int
    width: int
    height: int
    confidence: float = 1.0


class FaceDetector(Protocol):
    """Finds faces in an RGB image; an empty list when there are none (not an error)."""

    def detect(self, rgb: np.ndarray) -> list[Box]:
        """Faces in uint8 RGB ``HxWx3``, boxes in its pixels."""
        ...


def haar_cascade_path(name: str = HAAR_FRONTAL_FACE) -> Path:
    """Where OpenCV keeps the bundled cascade ``name``.

    Raises:
        FailedPrecondition: this OpenCV ships no cascades (``opencv-python-headless>=5``).
    """
    data = getattr(cv2, "data", None)
    folder = getattr(data, "haarcascades", None)
    path = Path(folder) / name if folder else None
    if path is None or not path.is_file() or not hasattr(cv2, "CascadeClassifier"):
        raise FailedPrecondition(
            f"OpenCV {cv2.__version__} has no Haar cascade {name}; install opencv-python-headless<5"
        )
    return path


class HaarFaceDetector:
    """OpenCV Haar cascade face detector.

    ``cv2.CascadeClassifier`` must not be shared between threads, so each thread gets its own (loading
    one takes ~20 ms, once per thread). Images larger than ``max_side`` are shrunk for detection only (a
    40 MP photo would otherwise take seconds); boxes are scaled back to source pixels. The cascade gives no
    calibrated score, so ``confidence`` is 1.0.
    """

    def __init__(
        self,
        *,
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_size: int = 24,
        max_side: int = 1280,
        cascade: Path | None = None,
    ) -> None:
        if scale_factor <= 1.0:
            raise ValueError(f"scale_factor must be > 1, got {scale_factor}")
        if min_neighbors < 0:
            raise ValueError(f"min_neighbors must be >= 0, got {min_neighbors}")
        if min_size < 1 or max_side < 32:
            raise ValueError(f"min_size must be >= 1 and max_side >= 32, got {min_size} and {max_side}")
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size
        self.max_side = max_side
        self.cascade_path = cascade or haar_cascade_path()
        self._local = threading.local()
        self._classifier()  # fail at construction, not on the first request

    def _classifier(self) -> cv2.CascadeClassifier:
        classifier = getattr(self._local, "classifier", None)
        if classifier is None:
            classifier = cv2.CascadeClassifier(str(self.cascade_path))
            if classifier.empty():
                raise FailedPrecondition(f"could not load Haar cascade {self.cascade_path}")
            self._local.classifier = classifier
        return classifier

    def detect(self, rgb: np.ndarray) -> list[Box]:
        """Faces in uint8 RGB ``HxWx3``, largest first."""
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected uint8 HxWx3 RGB, got {rgb.dtype} {rgb.shape}")
        height, width = rgb.shape[:2]
        gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
        scale = min(1.0, self.max_side / max(height, width))
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        found = self._classifier().detectMultiScale(
            gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(max(1, round(self.min_size * scale)),) * 2,
        )
        boxes = []
        for x, y, w, h in np.asarray(found, dtype=np.int64).reshape(-1, 4):
            x0, y0 = round(x / scale), round(y / scale)
            x1, y1 = min(width, round((x + w) / scale)), min(height, round((y + h) / scale))
            boxes.append(Box(int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
        boxes.sort(key=lambda b: (-b.width * b.height, b.y, b.x))
        return boxes


class WholeImage:
    """A "detector" that returns the whole image as one face (FACE_MODE_WHOLE)."""

    def detect(self, rgb: np.ndarray) -> list[Box]:
        """One box covering ``rgb``."""
        return [Box(0, 0, int(rgb.shape[1]), int(rgb.shape[0]))]


def expand_box(box: Box, image_width: int, image_height: int, margin: float = 0.2) -> Box:
    """``box`` grown by ``margin`` of its width/height on each side, clipped to the image."""
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    dx, dy = round(box.width * margin), round(box.height * margin)
    x0, y0 = max(0, box.x - dx), max(0, box.y - dy)
    x1 = min(image_width, box.x + box.width + dx)
    y1 = min(image_height, box.y + box.height + dy)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"box {box} lies outside the {image_width}x{image_height} image")
    return Box(x0, y0, x1 - x0, y1 - y0, box.confidence)


def crop_face(rgb: np.ndarray, box: Box, margin: float = 0.2) -> np.ndarray:
    """The pixels of ``box`` grown by ``margin`` of its size on each side, clipped to the image (a view)."""
    grown = expand_box(box, int(rgb.shape[1]), int(rgb.shape[0]), margin)
    return rgb[grown.y : grown.y + grown.height, grown.x : grown.x + grown.width]
