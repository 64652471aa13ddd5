"""The serving runtime: images -> faces -> one shared dynamic batcher per precision -> scores.

Both APIs (the native EmotionService and KServe v2) call this class; it holds no protobuf and is where
requests are validated (:mod:`emotion_service.domain` holds the checks).

* Decoding, face detection and preprocessing (:mod:`emotion_service.prepare`) run on a thread pool; with
  the model on a GPU, a whole-image request's JPEGs are decoded and preprocessed there as one batch.
* Faces from ALL concurrent requests share one :class:`~servicekit.batching.DynamicBatcher` per loaded
  precision; the batch function stacks them and runs the backend on an inference thread.
* The batcher owns time in the queue: it enforces the request's deadline (work whose client gave up
  is dropped before compute) and measures each face's queue wait.
* Results come back per face, in request order, with the softmax over the bundle's labels.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from emotion_service.backends import Backend, run_stacked, stack_rows
from emotion_service.bundle import Bundle, default_bundle_dir, load_bundle
from emotion_service.domain import (
    ClassifyOptions,
    ClassifyResult,
    FaceItem,
    FaceScores,
    ImageInput,
    ImageResult,
    TensorResult,
    check_precision,
    check_tensor_shape,
    face_result,
    request_timings,
    validate_options,
)
from emotion_service.faces import FaceDetector, HaarFaceDetector
from emotion_service.loading import (
    BackendFactory,
    load_backends,
    model_info_labels,
    plan_preprocessing,
    settings_backend_factory,
)
from emotion_service.metrics import EmotionMetrics
from emotion_service.prepare import DeviceBatch, ImagePreparer
from emotion_service.preprocess import ImageLimits, check_request, softmax
from emotion_service.settings import EmotionSettings
from emotion_service.statistics import InferenceStats
from servicekit import tracing
from servicekit.auth import current_client
from servicekit.batching import BatchPolicy, DynamicBatcher
from servicekit.errors import NotReady
from servicekit.priority import lower_thread_priority

log = logging.getLogger("emoflux.emotion")

FaceBatcher = DynamicBatcher[FaceItem, FaceScores]
DevicePreprocessorFactory = Callable[[Bundle, ImageLimits, str], DeviceBatch]
"""Builds the GPU path for a bundle, its limits and a torch device (default: nvJPEG, :class:`GpuPreprocessor`)."""


def gpu_preprocessor(bundle: Bundle, limits: ImageLimits, device: str) -> DeviceBatch:
    """The default GPU path: torchvision's nvJPEG and tensor preprocessing on ``device``."""
    from emotion_service.backends.gpu_preprocess import GpuPreprocessor

    return GpuPreprocessor(bundle.preprocessing, limits, device=device).run


class EmotionRuntime:
    """Owns the bundle, the backends, the image preparer, the thread pools and the batchers."""

    def __init__(
        self,
        settings: EmotionSettings,
        metrics: EmotionMetrics,
        *,
        backend_factory: BackendFactory | None = None,
        detector: FaceDetector | None = None,
        device_preprocessor: tuple[str, DevicePreprocessorFactory] | None = None,
    ) -> None:
        """Create the runtime; :meth:`load` loads the model.

        Args:
            settings: the service's settings.
            metrics: where the runtime's metrics go.
            backend_factory: builds each precision's backend (default: from the settings).
            detector: the face detector (default: the Haar cascade the settings describe).
            device_preprocessor: ``(torch device, factory)`` forces the GPU path on that device whatever
                ``--gpu-preprocess`` plans (the GPU check; tests run it on the CPU device).
        """
        self.settings = settings
        self.metrics = metrics
        self.stats = InferenceStats()
        self.limits = ImageLimits(
            max_pixels=settings.max_pixels_per_image,
            max_images=settings.max_images_per_request,
            max_request_bytes=settings.max_request_bytes,
        )
        self._backend_factory = backend_factory or settings_backend_factory(settings)
        self._detector = detector
        self._device_preprocessor = device_preprocessor
        self.preprocess_device = "cpu"
        self._bundle: Bundle | None = None
        self._preparer: ImagePreparer | None = None
        self.backends: dict[str, Backend] = {}
        self.batchers: dict[str, FaceBatcher] = {}
        # Decoding and inference threads yield to the event loop under saturation (--compute-nice). The model is
        # loaded on a prep thread, so the pools its runtime starts (ONNX Runtime's with the session, torch's at
        # the warm-up's first operator) inherit that thread's niceness: Linux threads start with their creator's.
        niced = functools.partial(lower_thread_priority, settings.compute_nice)
        self._prep_pool = ThreadPoolExecutor(
            settings.prep_workers, thread_name_prefix="emotion-prep", initializer=niced
        )
        self._infer_pool = ThreadPoolExecutor(
            settings.concurrent_batches, thread_name_prefix="emotion-infer", initializer=niced
        )
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

    def _load_blocking(self) -> None:
        s = self.settings
        started = time.monotonic()
        bundle = load_bundle(self.bundle_dir)
        detector = self._detector or HaarFaceDetector(
            scale_factor=s.face_scale_factor, min_neighbors=s.face_min_neighbors, min_size=s.face_min_size
        )
        backends = load_backends(bundle, s, self._backend_factory)
        on_device: DeviceBatch | None = None
        device: str | None
        factory: DevicePreprocessorFactory
        if self._device_preprocessor is not None:
            device, factory = self._device_preprocessor
        else:
            device, factory = plan_preprocessing(s, backends[s.resolved_default_precision]).device, gpu_preprocessor
        if device is not None:
            on_device = factory(bundle, self.limits, device)
            self.preprocess_device = device
        preparer = ImagePreparer(
            bundle.preprocessing,
            self.limits,
            detector,
            s.face_margin,
            s.face_max_faces,
            self.metrics.preprocess_seconds,
            self.metrics.decoded_images,
            on_device,
        )
        preparer.warm_up()
        self._bundle, self.backends, self._preparer = bundle, backends, preparer
        log.info("model ready in %.2f s", time.monotonic() - started)

    async def load(self) -> None:
        """Load the bundle and backends, warm them up, start the batchers (blocking parts on a thread)."""
        await asyncio.get_running_loop().run_in_executor(self._prep_pool, self._load_blocking)
        s = self.settings
        policy = BatchPolicy(
            max_batch_size=s.max_batch_size,
            max_queue_delay_s=s.effective_queue_delay_s,
            max_queue_size=s.max_queue_size,
            preferred_batch_sizes=s.preferred_batch_sizes if s.batching else (),
            max_concurrent_batches=s.concurrent_batches,
            work_conserving=s.work_conserving or not s.batching,
            max_queue_per_client=s.max_queue_per_client,
        )
        for precision, backend in self.backends.items():
            batcher: FaceBatcher = DynamicBatcher(
                self._batch_function(backend),
                policy,
                name=precision,
                executor=self._infer_pool,
                batch_key=lambda item: item.group,
                observer=self.metrics.batcher,
                timed=True,
                client_of=current_client,
            )
            batcher.start()
            self.batchers[precision] = batcher
        self.metrics.set_model_info(model_info_labels(self.bundle, self.backends, s, self.preprocess_device))
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
    def _batch_function(self, backend: Backend) -> Callable[[list[FaceItem], list[float]], list[FaceScores]]:
        num_labels = self.bundle.num_labels

        def run_batch(items: list[FaceItem], waits: list[float]) -> list[FaceScores]:
            started = time.monotonic()
            pixels = stack_rows([item.pixels for item in items])
            stacked = time.monotonic()
            logits = np.asarray(run_stacked(backend, pixels), dtype=np.float32)
            ran = time.monotonic()
            if logits.shape != (len(items), num_labels):  # a backend bug must not hand out mixed rows
                raise RuntimeError(
                    f"backend returned logits of shape {logits.shape}, expected {(len(items), num_labels)}"
                )
            with np.errstate(invalid="ignore", over="ignore"):  # non-finite KServe input stays in its own row
                probabilities = softmax(logits)
            finished = time.monotonic()
            self.stats.record_batch(waits, stacked - started, ran - stacked, finished - ran)
            batch_id = next(self._batch_ids)
            compute = finished - started
            return [
                FaceScores(logits[i], probabilities[i], waits[i], compute, batch_id, len(items))
                for i in range(len(items))
            ]

        return run_batch

    # -- requests ------------------------------------------------------------------------------------
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

    def _batcher(self, precision: str) -> tuple[str, FaceBatcher]:
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
        assert self._preparer is not None  # set by load(), before ready
        prepare = self._preparer.prepare
        loop = asyncio.get_running_loop()
        # Refuse before working: room for one face per image is taken before anything is decoded, so a full
        # queue answers at once; the faces actually found replace it when they are queued.
        reservation = batcher.reserve(len(images))
        try:
            with tracing.span("emotion.prepare", {"images": len(images), "face_mode": options.face_mode}):
                if self._preparer.takes_device_path(images, options.face_mode):
                    prepared = await loop.run_in_executor(self._prep_pool, self._preparer.prepare_on_device, images)
                else:
                    prepared = await asyncio.gather(
                        *(
                            loop.run_in_executor(self._prep_pool, prepare, image, i, options.face_mode)
                            for i, image in enumerate(images)
                        )
                    )
            group = self._group()
            items = [FaceItem(t, group) for p in prepared for t in p.tensors]
            scores = await batcher.submit_many(items, deadline=deadline, reservation=reservation)
        finally:
            reservation.release()  # a no-op once submitted
        _trace_batch(scores)
        labels = self.bundle.labels
        faces = iter(scores)
        results = tuple(
            ImageResult(
                p.index,
                p.width,
                p.height,
                tuple(face_result(box, next(faces).probabilities, labels, options) for box in p.boxes),
            )
            for p in prepared
        )
        for result in results:
            self.metrics.faces_per_image.observe(len(result.faces))
        self.metrics.images.inc(len(results))
        return ClassifyResult(results, precision, request_timings(scores, started))

    async def infer_tensor(
        self, pixels: np.ndarray, *, precision: str = "", deadline: float | None = None
    ) -> TensorResult:
        """Run preprocessed float32 ``[N, 3, H, W]`` rows through the same batcher (the KServe path)."""
        started = time.monotonic()
        self._require_ready()
        check_precision(precision, self.precisions)
        prep = self.bundle.preprocessing
        check_tensor_shape(pixels.shape, (3, prep.height, prep.width), self.settings.max_batch_size)
        chosen, batcher = self._batcher(precision)
        group = self._group()
        items = [FaceItem(np.ascontiguousarray(row, dtype=np.float32), group) for row in pixels]
        scores = await batcher.submit_many(items, deadline=deadline)
        _trace_batch(scores)
        return TensorResult(
            probabilities=np.stack([s.probabilities for s in scores]),
            logits=np.stack([s.logits for s in scores]),
            precision=self.backends[chosen].precision,  # what really runs (see allow_provider_fallback)
            timings=request_timings(scores, started),
        )


def _trace_batch(scores: Sequence[FaceScores]) -> None:
    """The request's time in the queue and in its (slowest) batch, as spans of the request's trace."""
    if scores and tracing.enabled():
        slowest = max(scores, key=lambda s: s.queue_seconds + s.compute_seconds)
        attributes = {"batch.size": slowest.batch_size, "batch.id": slowest.batch_id, "faces": len(scores)}
        tracing.record_batch_spans("emotion", slowest.queue_seconds, slowest.compute_seconds, attributes)
