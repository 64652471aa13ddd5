"""The serving runtime: images -> faces -> one shared dynamic batcher per precision -> scores.

Both APIs (the native EmotionService and KServe v2) call this module; it holds no protobuf.

* Decoding, face detection and preprocessing run on a thread pool, never on the event loop.
* Preprocessed faces from ALL concurrent requests share one :class:`~servicekit.batching.DynamicBatcher`
  per loaded precision; the batch function stacks them and runs the backend on an inference thread.
* A request's deadline is handed to the batcher, so work whose client gave up is dropped before compute;
  a cancelled request cancels its queued items the same way.
* Results come back per face, in request order, with the softmax over the bundle's labels.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from emotion_service.backends import Backend, create_backend
from emotion_service.bundle import PRECISIONS, Bundle, default_bundle_dir, load_bundle
from emotion_service.faces import Box, FaceDetector, HaarFaceDetector, crop_face
from emotion_service.metrics import EmotionMetrics
from emotion_service.preprocess import (
    ImageLimits,
    check_request,
    decode_rgb,
    raw_to_array,
    softmax,
    to_model_input,
)
from emotion_service.settings import EmotionSettings
from servicekit.batching import BatchPolicy, DynamicBatcher
from servicekit.errors import InvalidInput, NotFound, NotReady

log = logging.getLogger("emoflux.emotion")

BackendFactory = Callable[[Bundle, str], Backend]
"""Builds the backend of one precision for a bundle (the default uses the settings' backend and device)."""

FACE_MODES = ("whole", "detect")


# -- domain inputs ---------------------------------------------------------------------------------------
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
    """Per-request options (validated by :meth:`EmotionRuntime.classify`)."""

    face_mode: str = "whole"
    top_k: int = 0
    threshold: float = 0.0
    precision: str = ""


# -- domain outputs --------------------------------------------------------------------------------------
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
    """One preprocessed face waiting for the model."""

    pixels: np.ndarray
    """float32 ``[3, H, W]``."""
    enqueued: float
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


@dataclass
class _Duration:
    count: int = 0
    ns: int = 0

    def add(self, seconds: float, count: int = 1) -> None:
        self.count += count
        self.ns += int(seconds * 1e9)


@dataclass
class StatsSnapshot:
    """Cumulative statistics of the model (every API), in the shape of KServe ModelStatistics."""

    last_inference_ms: int
    inference_count: int
    execution_count: int
    success: tuple[int, int]
    fail: tuple[int, int]
    queue: tuple[int, int]
    compute_input: tuple[int, int]
    compute_infer: tuple[int, int]
    compute_output: tuple[int, int]
    batches: dict[int, tuple[tuple[int, int], tuple[int, int], tuple[int, int]]]
    """batch size -> (compute_input, compute_infer, compute_output), each (count, ns)."""


@dataclass
class InferenceStats:
    """Thread-safe accumulators (batches are recorded on inference threads).

    Per item (face or tensor row): queue wait and its batch's input/infer/output durations. Per
    request: success or failure with its end-to-end duration. Per executed batch size: durations.
    """

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last_inference_ms: int = 0
    _inference_count: int = 0
    _execution_count: int = 0
    _success: _Duration = field(default_factory=_Duration)
    _fail: _Duration = field(default_factory=_Duration)
    _queue: _Duration = field(default_factory=_Duration)
    _input: _Duration = field(default_factory=_Duration)
    _infer: _Duration = field(default_factory=_Duration)
    _output: _Duration = field(default_factory=_Duration)
    _batches: dict[int, tuple[_Duration, _Duration, _Duration]] = field(default_factory=dict)

    def record_batch(self, waits: Sequence[float], input_s: float, infer_s: float, output_s: float) -> None:
        """One executed batch of ``len(waits)`` items."""
        size = len(waits)
        with self._lock:
            self._execution_count += 1
            self._inference_count += size
            self._last_inference_ms = int(time.time() * 1000)
            for wait in waits:
                self._queue.add(wait)
            self._input.add(input_s * size, size)
            self._infer.add(infer_s * size, size)
            self._output.add(output_s * size, size)
            per_size = self._batches.setdefault(size, (_Duration(), _Duration(), _Duration()))
            per_size[0].add(input_s)
            per_size[1].add(infer_s)
            per_size[2].add(output_s)

    def record_request(self, ok: bool, seconds: float) -> None:
        """One finished request."""
        with self._lock:
            (self._success if ok else self._fail).add(seconds)

    def snapshot(self) -> StatsSnapshot:
        """A consistent copy of every counter."""

        def pair(d: _Duration) -> tuple[int, int]:
            return (d.count, d.ns)

        with self._lock:
            return StatsSnapshot(
                last_inference_ms=self._last_inference_ms,
                inference_count=self._inference_count,
                execution_count=self._execution_count,
                success=pair(self._success),
                fail=pair(self._fail),
                queue=pair(self._queue),
                compute_input=pair(self._input),
                compute_infer=pair(self._infer),
                compute_output=pair(self._output),
                batches={s: (pair(a), pair(b), pair(c)) for s, (a, b, c) in sorted(self._batches.items())},
            )


# -- pure helpers ----------------------------------------------------------------------------------------
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


def deadline_from(time_remaining: float | None) -> float | None:
    """A ``time.monotonic()`` deadline from gRPC's ``context.time_remaining()`` (None: no deadline)."""
    if time_remaining is None or not math.isfinite(time_remaining):
        return None
    return time.monotonic() + max(0.0, time_remaining)


@dataclass(frozen=True)
class _Prepared:
    index: int
    width: int
    height: int
    boxes: tuple[Box, ...]
    tensors: tuple[np.ndarray, ...]


class EmotionRuntime:
    """Owns the bundle, the backends, the face detector, the thread pools and the batchers."""

    def __init__(
        self,
        settings: EmotionSettings,
        metrics: EmotionMetrics,
        *,
        backend_factory: BackendFactory | None = None,
        detector: FaceDetector | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.stats = InferenceStats()
        self.limits = ImageLimits(
            max_pixels=settings.max_pixels_per_image,
            max_images=settings.max_images_per_request,
            max_request_bytes=settings.max_request_bytes,
        )
        self._backend_factory = backend_factory or self._default_backend
        self._detector: FaceDetector | None = detector
        self._bundle: Bundle | None = None
        self.backends: dict[str, Backend] = {}
        self.batchers: dict[str, DynamicBatcher[FaceItem, FaceScores]] = {}
        self._prep_pool = ThreadPoolExecutor(settings.prep_workers, thread_name_prefix="emotion-prep")
        self._infer_pool = ThreadPoolExecutor(settings.concurrent_batches, thread_name_prefix="emotion-infer")
        self._batch_ids = itertools.count()
        self._ready = False
        self._closing = False

    # -- life cycle ----------------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """True once the model is loaded and warmed up, until shutdown starts."""
        return self._ready and not self._closing

    @property
    def bundle(self) -> Bundle:
        """The loaded bundle (NotReady before :meth:`load`)."""
        if self._bundle is None:
            raise NotReady("the model is still loading")
        return self._bundle

    @property
    def default_precision(self) -> str:
        """Precision used when a request names none."""
        return self.settings.resolved_default_precision

    @property
    def precisions(self) -> tuple[str, ...]:
        """Loaded precisions, in the order of the settings."""
        return tuple(self.backends)

    @property
    def bundle_dir(self) -> Path:
        """The bundle directory the settings point at."""
        return self.settings.bundle if self.settings.bundle is not None else default_bundle_dir()

    def _default_backend(self, bundle: Bundle, precision: str) -> Backend:
        s = self.settings
        return create_backend(
            bundle, kind=s.backend, device=s.device, precision=precision, threads=s.threads, spinning=s.spinning
        )

    def _load_blocking(self) -> None:
        s = self.settings
        started = time.monotonic()
        bundle = load_bundle(self.bundle_dir)
        if self._detector is None:
            self._detector = HaarFaceDetector(
                scale_factor=s.face_scale_factor, min_neighbors=s.face_min_neighbors, min_size=s.face_min_size
            )
        backends: dict[str, Backend] = {}
        warm_sizes = sorted({*s.warmup_batch_sizes, s.max_batch_size})
        for precision in s.precisions:
            backend = self._backend_factory(bundle, precision)
            seconds = backend.warmup(warm_sizes)
            log.info(
                "loaded %s %s on %s (%s), warm-up %s in %.2f s",
                bundle.model_id,
                precision,
                backend.name,
                backend.execution_provider,
                warm_sizes,
                seconds,
            )
            backends[precision] = backend
        # Warm the decode/detect/preprocess path too (the cascade loads lazily per thread).
        blank = np.full((64, 64, 3), 128, dtype=np.uint8)
        self._detector.detect(blank)
        to_model_input(blank, bundle.preprocessing)
        self._bundle = bundle
        self.backends = backends
        log.info("model ready in %.2f s", time.monotonic() - started)

    async def load(self) -> None:
        """Load the bundle and backends, warm them up, start the batchers (blocking parts on a thread)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._prep_pool, self._load_blocking)
        s = self.settings
        policy = BatchPolicy(
            max_batch_size=s.max_batch_size,
            max_queue_delay_s=s.effective_queue_delay_s,
            max_queue_size=s.max_queue_size,
            preferred_batch_sizes=s.preferred_batch_sizes if s.batching else (),
            max_concurrent_batches=s.concurrent_batches,
            work_conserving=s.work_conserving or not s.batching,
        )
        for precision, backend in self.backends.items():
            batcher: DynamicBatcher[FaceItem, FaceScores] = DynamicBatcher(
                self._batch_function(backend),
                policy,
                name=precision,
                executor=self._infer_pool,
                batch_key=lambda item: item.group,
                observer=self.metrics.batcher,
            )
            batcher.start()
            self.batchers[precision] = batcher
        bundle = self.bundle
        default = self.backends[self.default_precision]
        self.metrics.set_model_info(
            {
                "model": bundle.model_id,
                "backend": default.name,
                "execution_provider": default.execution_provider,
                "precisions": ",".join(self.precisions),
                "default_precision": self.default_precision,
                "weights_origin": bundle.weights_origin,
                "labels": ",".join(bundle.labels),
                "input": f"{bundle.preprocessing.height}x{bundle.preprocessing.width}",
                "batching": str(s.batching).lower(),
                "max_batch_size": str(s.max_batch_size),
            }
        )
        self._ready = True

    async def close(self) -> None:
        """Stop admitting, finish queued batches, release the thread pools."""
        self._closing = True
        await asyncio.gather(*(b.close(drain=True) for b in self.batchers.values()))
        self._prep_pool.shutdown(wait=False, cancel_futures=True)
        self._infer_pool.shutdown(wait=False, cancel_futures=True)

    def _require_ready(self) -> None:
        if self._closing:
            raise NotReady("the server is shutting down")
        if not self._ready:
            raise NotReady("the model is still loading")

    # -- batch execution (inference thread) -----------------------------------------------------------
    def _batch_function(self, backend: Backend) -> Callable[[list[FaceItem]], list[FaceScores]]:
        num_labels = self.bundle.num_labels

        def run_batch(items: list[FaceItem]) -> list[FaceScores]:
            started = time.monotonic()
            pixels = np.stack([item.pixels for item in items])
            stacked = time.monotonic()
            logits = np.asarray(backend.run(pixels), dtype=np.float32)
            ran = time.monotonic()
            if logits.shape != (len(items), num_labels):
                raise RuntimeError(
                    f"backend returned logits of shape {logits.shape}, expected {(len(items), num_labels)}"
                )
            with np.errstate(invalid="ignore", over="ignore"):  # non-finite KServe input stays in its own row
                probabilities = softmax(logits)
            finished = time.monotonic()
            compute = finished - started
            waits = [started - item.enqueued for item in items]
            self.stats.record_batch(waits, stacked - started, ran - stacked, finished - ran)
            batch_id = next(self._batch_ids)
            return [
                FaceScores(logits[i], probabilities[i], waits[i], compute, batch_id, len(items))
                for i in range(len(items))
            ]

        return run_batch

    # -- request observation ---------------------------------------------------------------------------
    @contextmanager
    def observe(self, api: str) -> Iterator[None]:
        """Count a request in the metrics (by API, failures by reason) and in the model statistics."""
        started = time.monotonic()
        ok = False
        try:
            with self.metrics.track(api):
                yield
            ok = True
        finally:
            self.stats.record_request(ok, time.monotonic() - started)

    # -- classification ------------------------------------------------------------------------------
    def _prepare_image(self, image: ImageInput, index: int, face_mode: str) -> _Prepared:
        """Decode, find faces and preprocess one image (runs on a prep thread)."""
        started = time.monotonic()
        if image.data is not None and image.raw is not None:
            raise InvalidInput(f"images[{index}]: set exactly one of data and raw")
        picture: np.ndarray | Image.Image
        if image.data is not None:
            picture = decode_rgb(image.data, index=index, limits=self.limits)
            width, height = picture.size
        elif image.raw is not None:
            raw = image.raw
            picture = raw_to_array(raw.width, raw.height, raw.rgb, index=index, limits=self.limits)
            height, width = int(picture.shape[0]), int(picture.shape[1])
        else:
            raise InvalidInput(f"images[{index}]: no source set (set data or raw)")
        prep = self.bundle.preprocessing
        crops: list[np.ndarray | Image.Image]
        if face_mode == "detect":
            assert self._detector is not None
            rgb = np.asarray(picture, dtype=np.uint8)
            boxes = tuple(self._detector.detect(rgb)[: self.settings.face_max_faces])
            crops = [crop_face(rgb, box, self.settings.face_margin) for box in boxes]
        else:
            # The whole decoded image goes to the resize as it is (no numpy round trip: the same pixels).
            boxes = (Box(0, 0, width, height, 1.0),)
            crops = [picture]
        tensors = tuple(to_model_input(crop, prep) for crop in crops)
        self.metrics.preprocess_seconds.observe(time.monotonic() - started)
        return _Prepared(index, width, height, boxes, tensors)

    def _batcher(self, precision: str) -> tuple[str, DynamicBatcher[FaceItem, FaceScores]]:
        chosen = precision or self.default_precision
        return chosen, self.batchers[chosen]

    def _group(self) -> Hashable:
        # With batching off, a fresh object per request keeps its faces out of everyone else's batches.
        return None if self.settings.batching else object()

    async def classify(
        self, images: Sequence[ImageInput], options: ClassifyOptions, *, deadline: float | None = None
    ) -> ClassifyResult:
        """Classify the faces of ``images``; ``deadline`` is a ``time.monotonic()`` instant."""
        started = time.monotonic()
        self._require_ready()
        validate_options(options, self.precisions)
        check_request(len(images), sum(image.nbytes for image in images), self.limits)
        precision, batcher = self._batcher(options.precision)
        labels = self.bundle.labels
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(None if deadline is None else max(0.0, deadline - time.monotonic())):
            prepared = await asyncio.gather(
                *(
                    loop.run_in_executor(self._prep_pool, self._prepare_image, image, index, options.face_mode)
                    for index, image in enumerate(images)
                )
            )
            group = self._group()
            now = time.monotonic()
            items = [FaceItem(t, now, group) for p in prepared for t in p.tensors]
            scores = await batcher.submit_many(items, deadline=deadline)
        results: list[ImageResult] = []
        position = 0
        for p in prepared:
            faces = []
            for box in p.boxes:
                probabilities = scores[position].probabilities
                position += 1
                faces.append(
                    FaceResult(
                        box=box,
                        scores=ranked_scores(probabilities, labels, options.top_k),
                        labels_above_threshold=labels_above(probabilities, labels, options.threshold),
                        probabilities=probabilities,
                    )
                )
            self.metrics.faces_per_image.observe(len(faces))
            results.append(ImageResult(p.index, p.width, p.height, tuple(faces)))
        self.metrics.images.inc(len(results))
        return ClassifyResult(tuple(results), precision, request_timings(scores, started))

    async def infer_tensor(
        self, pixels: np.ndarray, *, precision: str = "", deadline: float | None = None
    ) -> TensorResult:
        """Run preprocessed float32 ``[N, 3, H, W]`` rows through the same batcher (the KServe path)."""
        started = time.monotonic()
        self._require_ready()
        check_precision(precision, self.precisions)
        chosen, batcher = self._batcher(precision)
        prep = self.bundle.preprocessing
        expected = (3, prep.height, prep.width)
        if pixels.ndim != 4 or tuple(pixels.shape[1:]) != expected or pixels.shape[0] < 1:
            raise InvalidInput(
                f"pixel_values: shape {list(pixels.shape)} does not match [-1, {', '.join(map(str, expected))}]"
            )
        group = self._group()
        now = time.monotonic()
        items = [FaceItem(np.ascontiguousarray(row, dtype=np.float32), now, group) for row in pixels]
        scores = await batcher.submit_many(items, deadline=deadline)
        return TensorResult(
            probabilities=np.stack([s.probabilities for s in scores]),
            logits=np.stack([s.logits for s in scores]),
            precision=chosen,
            timings=request_timings(scores, started),
        )
