"""The emotion service's domain objects and the pure functions over them (no I/O, no protobuf).

Inputs (:class:`ImageInput`, :class:`ClassifyOptions`) are what both APIs hand the runtime; results
(:class:`ClassifyResult`, :class:`TensorResult`) are what it hands back; :class:`FaceItem` and
:class:`FaceScores` are what travels through the batcher. :func:`validate_options` is the one check of
a request's options; :func:`check_precision` the one check of a requested precision.
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from emotion_service.bundle import PRECISIONS
from emotion_service.faces import Box
from servicekit.errors import InvalidInput, NotFound

FACE_MODES = ("whole", "detect")


# -- inputs ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RawPixels:
    """Decoded 8-bit RGB pixels, row-major, ``width * height * 3`` bytes."""

    width: int
    height: int
    rgb: bytes


@dataclass(frozen=True)
class ImageInput:
    """One input image: encoded bytes or raw pixels (exactly one must be set)."""

    data: bytes | None = None
    raw: RawPixels | None = None

    @property
    def nbytes(self) -> int:
        """Bytes of image payload carried."""
        if self.data is not None:
            return len(self.data)
        return len(self.raw.rgb) if self.raw is not None else 0


@dataclass(frozen=True)
class ClassifyOptions:
    """Per-request options (checked by :func:`validate_options`)."""

    face_mode: str = "whole"
    top_k: int = 0
    threshold: float = 0.0
    precision: str = ""


# -- outputs ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LabelScore:
    """The score of one label."""

    label: str
    score: float
    label_id: int


@dataclass(frozen=True)
class FaceResult:
    """The expression scores of one face."""

    box: Box
    scores: tuple[LabelScore, ...]
    labels_above_threshold: tuple[str, ...]
    probabilities: np.ndarray
    """Softmax over all labels, in the bundle's label order."""

    @property
    def top(self) -> LabelScore:
        """The best label."""
        return self.scores[0]


@dataclass(frozen=True)
class ImageResult:
    """Faces found in one image."""

    index: int
    width: int
    height: int
    faces: tuple[FaceResult, ...]


@dataclass(frozen=True)
class Timings:
    """Server-side time spent on one request, in seconds."""

    queue_seconds: float
    compute_seconds: float
    total_seconds: float


@dataclass(frozen=True)
class ClassifyResult:
    """The answer to one classification request, with what produced it."""

    images: tuple[ImageResult, ...]
    precision: str
    timings: Timings


@dataclass(frozen=True)
class TensorResult:
    """The answer to one tensor inference (KServe) request."""

    probabilities: np.ndarray
    """float32 ``[N, num_labels]``."""
    logits: np.ndarray
    precision: str
    timings: Timings


# -- batcher items ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class FaceItem:
    """One preprocessed face waiting for the model (the batcher times its wait)."""

    pixels: Any
    """float32 ``[3, H, W]``: numpy, or a torch tensor on the GPU (the GPU preprocessing path)."""
    group: Hashable = None
    """Batch key: None shares batches with everyone; a per-request object keeps a request's batch private."""


@dataclass(frozen=True)
class FaceScores:
    """The model's output for one face, with the batch it ran in."""

    logits: np.ndarray
    probabilities: np.ndarray
    queue_seconds: float
    compute_seconds: float
    batch_id: int
    batch_size: int


# -- pure functions --------------------------------------------------------------------------------------
def ranked_scores(probabilities: np.ndarray, labels: Sequence[str], top_k: int) -> tuple[LabelScore, ...]:
    """Label scores by descending score (ties by ascending label id), the best ``top_k`` (0 = all)."""
    order = sorted(range(len(labels)), key=lambda i: (-float(probabilities[i]), i))
    if top_k > 0:
        order = order[:top_k]
    return tuple(LabelScore(labels[i], float(probabilities[i]), i) for i in order)


def labels_above(probabilities: np.ndarray, labels: Sequence[str], threshold: float) -> tuple[str, ...]:
    """Labels whose score is >= ``threshold``, by descending score; none when the threshold is 0."""
    if threshold <= 0:
        return ()
    return tuple(s.label for s in ranked_scores(probabilities, labels, 0) if s.score >= threshold)


def face_result(box: Box, probabilities: np.ndarray, labels: Sequence[str], options: ClassifyOptions) -> FaceResult:
    """One face's scores as the request's ``top_k`` and ``threshold`` ask for them."""
    return FaceResult(
        box=box,
        scores=ranked_scores(probabilities, labels, options.top_k),
        labels_above_threshold=labels_above(probabilities, labels, options.threshold),
        probabilities=probabilities,
    )


def request_timings(scores: Sequence[FaceScores], started: float) -> Timings:
    """Longest queue wait of the request's faces, compute of the distinct batches they ran in, total time."""
    queue = max((s.queue_seconds for s in scores), default=0.0)
    compute = sum({s.batch_id: s.compute_seconds for s in scores}.values())
    return Timings(queue, compute, time.monotonic() - started)


def validate_options(options: ClassifyOptions, loaded: Sequence[str]) -> None:
    """Check a request's options against the contract and the loaded precisions."""
    if options.face_mode not in FACE_MODES:
        raise InvalidInput(f"face_mode: unknown value {options.face_mode}; use FACE_MODE_WHOLE or FACE_MODE_DETECT")
    if options.top_k < 0:
        raise InvalidInput(f"top_k must be >= 0, got {options.top_k}")
    if not (math.isfinite(options.threshold) and 0.0 <= options.threshold <= 1.0):
        raise InvalidInput(f"threshold must lie in [0, 1], got {options.threshold}")
    check_precision(options.precision, loaded)


def check_precision(precision: str, loaded: Sequence[str]) -> None:
    """An unknown precision name is invalid; a known one that is not loaded is not found."""
    if not precision:
        return
    if precision not in PRECISIONS:
        raise InvalidInput(f"precision: {precision!r} is not one of {', '.join(PRECISIONS)} (or empty)")
    if precision not in loaded:
        raise NotFound(f"precision {precision!r} is not loaded on this server; loaded: {', '.join(loaded)}")


def check_tensor_shape(shape: Sequence[int], input_shape: tuple[int, int, int], max_batch_size: int) -> None:
    """The one check of a tensor request's shape: ``[N, 3, H, W]`` with ``1 <= N <= max_batch_size``."""
    dims = ", ".join(str(d) for d in input_shape)
    if len(shape) != 4 or tuple(shape[1:]) != input_shape or shape[0] < 1:
        raise InvalidInput(f"pixel_values: shape {list(shape)} does not match [-1, {dims}]")
    if shape[0] > max_batch_size:
        raise InvalidInput(f"pixel_values: batch size {shape[0]} exceeds max_batch_size {max_batch_size}")
