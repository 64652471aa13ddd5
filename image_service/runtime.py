"""The generation runtime: a bounded queue of jobs, batched pipeline runs, progress and cancellation.

The queue is servicekit's :class:`DynamicBatcher`: its batch key is the run key (variant, size, steps,
guidance, sequence length), its item size is a request's image count, and ``max_concurrent_batches=1``
keeps one pipeline run at a time on the device. Runs execute on a dedicated executor thread; progress
crosses back to the event loop with ``loop.call_soon_threadsafe``. A caller that leaves (cancelled RPC,
expired deadline) has its job flagged, and a run whose jobs have all left stops at the next step.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import time
from collections.abc import AsyncGenerator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from image_service.adapters import can_apply_adapters, check_combination, refuse_backend
from image_service.encoding import decode_reference, encode_image
from image_service.generation import RunReport, run_batch
from image_service.inpainting import decode_mask
from image_service.jobs import (
    EncodedImage,
    GenerationParams,
    GenerationResult,
    Job,
    ProgressEvent,
    Queued,
    RunOutput,
    Timings,
)
from image_service.metrics import ImageMetrics
from image_service.pipeline import LoadedVariant
from image_service.validation import RequestOptions, validate
from image_service.variants import VariantSpec
from servicekit import tracing
from servicekit.auth import current_client
from servicekit.batching import BatchPolicy, DynamicBatcher, Reservation
from servicekit.errors import Cancelled, DeadlineExceeded, FailedPrecondition, NotFound, NotReady
from servicekit.priority import lower_thread_priority

log = logging.getLogger("emoflux.image.runtime")

SEED_LIMIT = 1 << 53  # drawn seeds stay exact in JSON and JavaScript numbers


def draw_seed() -> int:
    """A fresh random seed for a request that did not give one."""
    return secrets.randbelow(SEED_LIMIT)


class GenerationRuntime:
    """Validates requests into jobs, queues them, runs batches and returns encoded images."""

    def __init__(
        self,
        policy: BatchPolicy,
        metrics: ImageMetrics,
        specs: dict[str, VariantSpec],
        *,
        pipeline_executor: Executor | None = None,
        compute_nice: int = 0,
    ) -> None:
        self.metrics = metrics
        self.specs = dict(specs)
        self.variants: dict[str, LoadedVariant] = {}
        self.max_images = policy.max_batch_size
        # The pipeline thread loads, warms and runs the models; the torch threads it starts inherit its niceness.
        self._executor = pipeline_executor or ThreadPoolExecutor(
            1, thread_name_prefix="pipeline", initializer=functools.partial(lower_thread_priority, compute_nice)
        )
        self._owns_executor = pipeline_executor is None
        self.ready = False  # set once the configured variants are loaded and warmed up
        self.batcher: DynamicBatcher[Job, RunOutput] = DynamicBatcher(
            self._run,
            policy,
            name="generation",
            batch_key=Job.batch_key,
            item_size=image_count,
            observer=metrics.queue,
            client_of=current_client,
        )

    # -- variants ----------------------------------------------------------------------------------
    def add_variant(self, loaded: LoadedVariant) -> None:
        """Make a loaded variant available to requests."""
        self.variants[loaded.spec.name] = loaded
        self.specs[loaded.spec.name] = loaded.spec
        self.metrics.loaded.labels(loaded.spec.name, loaded.backend, loaded.spec.weights_origin.value).set(1)

    def spec(self, name: str) -> VariantSpec:
        """The spec of ``name`` with ``max_images`` capped by the batch size; NotFound if unknown."""
        spec = self.specs.get(name)
        if spec is None:
            raise NotFound(f"variant {name!r} is not a variant of this server; known: {', '.join(sorted(self.specs))}")
        return spec.with_max_images(self.max_images)

    def loaded(self, name: str) -> LoadedVariant:
        """The loaded variant ``name``; NotFound if unknown, FailedPrecondition if known but not loaded."""
        self.spec(name)
        loaded = self.variants.get(name)
        if loaded is None:
            raise FailedPrecondition(f"variant {name!r} is known but not loaded on this server")
        return loaded

    @property
    def executor(self) -> Executor:
        """The pipeline thread (loading and warm-up run there too)."""
        return self._executor

    # -- requests ----------------------------------------------------------------------------------
    async def prepare(
        self,
        options: RequestOptions,
        default_variant: str,
        *,
        stream: bool = False,
        previews: bool = False,
        preview_size: int = 128,
    ) -> Job:
        """Validate ``options`` into a job (references decoded off the loop); raises the domain errors."""
        name = options.variant or default_variant
        spec = self.spec(name)
        if not self.ready:
            raise NotReady("the image service is still loading its variants")
        loaded = self.loaded(name)
        if options.adapters and not can_apply_adapters(loaded.backend):
            raise refuse_backend(loaded.backend)
        params = validate(options, spec, loaded.count_tokens, draw_seed, loaded.adapters)
        check_combination(loaded.backend, params.adapters)
        # Refuse before working: a full queue answers at once, before any reference image is decoded.
        reservation = self.batcher.reserve(params.num_images)
        try:
            references = []
            mask = None
            if options.reference_images:
                references = await asyncio.to_thread(decode_references, options.reference_images)
            if options.mask:
                mask = await asyncio.to_thread(decode_mask, options.mask, references[0].size)
        except BaseException:
            reservation.release()
            raise
        return Job(
            params=params,
            references=references,
            mask=mask,
            previews=previews,
            preview_size=preview_size,
            events=asyncio.Queue() if stream else None,
            reservation=reservation,
        )

    async def generate(
        self, job: Job, deadline: float | None = None, reservation: Reservation | None = None
    ) -> GenerationResult:
        """Queue ``job``, wait for its run, encode its images. ``deadline`` is a ``time.monotonic()`` instant.

        ``reservation`` (from :meth:`reserve`) is queue room taken earlier; without one, a full queue
        raises Overloaded here.
        """
        if reservation is None:
            reservation = job.reservation or self.reserve(job)
        # Admission happens in this same step (no await before it), so the queue's length is the position.
        job.deliver(Queued(position=len(self.batcher.queued())))
        finished = False
        try:
            output = await self.batcher.submit(job, deadline=deadline, reservation=reservation)
            finished = True
        except DeadlineExceeded:
            self._count_cancel(job, "deadline")
            raise
        except asyncio.CancelledError:
            # gRPC cancels the handler when the deadline passes, which may come before the batcher's timer.
            expired = deadline is not None and time.monotonic() >= deadline - 0.05
            self._count_cancel(job, "deadline" if expired else "cancelled")
            raise
        finally:
            reservation.release()  # a no-op once submitted
            if not finished:
                job.cancelled.set()  # a running batch stops when all its jobs are flagged
                self._announce_positions()
        tracing.record_batch_spans(
            "image",
            max(0.0, output.started - job.received),
            output.run_seconds,
            {
                "batch.requests": output.batch_requests,
                "denoising.steps": job.params.num_inference_steps,
                "denoising.seconds_per_step": output.seconds_per_step,
                "variant": job.params.variant,
            },
        )
        with tracing.span("image.encode", {"images": job.params.num_images}):
            images = await asyncio.to_thread(encode_outputs, job.params, output, self.variants[job.params.variant])
        loaded = self.variants[job.params.variant]
        self.metrics.images.labels(loaded.spec.name, loaded.backend).inc(len(images))
        now = time.monotonic()
        return GenerationResult(
            params=job.params,
            images=images,
            backend=loaded.backend,
            weights_origin=loaded.spec.weights_origin.value,
            batch_size=output.batch_requests,
            timings=Timings(
                queue_seconds=max(0.0, output.started - job.received),
                run_seconds=output.run_seconds,
                total_seconds=now - job.received,
                seconds_per_step=output.seconds_per_step,
            ),
        )

    async def stream(
        self, job: Job, deadline: float | None = None, reservation: Reservation | None = None
    ) -> AsyncGenerator[ProgressEvent | GenerationResult, None]:
        """Yield ``job``'s progress events, then its result (errors are raised after the events).

        Take a :meth:`reserve` first when a full queue must be reported before any event.
        """
        assert job.events is not None, "prepare(stream=True) first"
        events = job.events
        task = asyncio.create_task(self.generate(job, deadline, reservation))
        getter: asyncio.Task[ProgressEvent] | None = None
        try:
            while True:
                getter = asyncio.create_task(events.get())
                await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    yield getter.result()
                    continue
                getter.cancel()
                # Progress is posted before the run's result, so everything is queued by now.
                while not events.empty():
                    yield events.get_nowait()
                yield task.result()
                return
        finally:
            if getter is not None and not getter.done():
                getter.cancel()
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    def reserve(self, job: Job) -> Reservation:
        """Hold queue room for ``job``'s images now (Overloaded when the queue is full); see :meth:`generate`."""
        return self.batcher.reserve(job.params.num_images)

    # -- batches -----------------------------------------------------------------------------------
    async def _run(self, jobs: list[Job]) -> Sequence[RunOutput]:
        for job in jobs:
            job.run_started = time.monotonic()
        self._announce_positions()
        loaded = self.variants[jobs[0].params.variant]
        loop = asyncio.get_running_loop()

        def notify(job: Job, event: ProgressEvent) -> None:
            loop.call_soon_threadsafe(job.deliver, event)

        labels = (loaded.spec.name, loaded.backend)
        self.metrics.runs.labels(*labels).inc()
        self.metrics.requests_per_run.labels(loaded.spec.name).observe(len(jobs))
        report: RunReport = await loop.run_in_executor(self._executor, run_batch, loaded, jobs, notify)
        self.metrics.run_seconds.labels(*labels).observe(report.run_seconds)
        self.metrics.steps.labels(*labels).inc(report.steps_run)
        for seconds in report.step_seconds[1:]:
            self.metrics.step_seconds.labels(*labels).observe(seconds)
        if report.outputs is None:
            self.metrics.interrupted_runs.labels(*labels).inc()
            log.info("run of %d request(s) stopped after %d/%d steps: all cancelled", len(jobs), report.steps_run,
                     report.total_steps)  # fmt: skip
            raise Cancelled(f"run stopped after {report.steps_run}/{report.total_steps} steps: all requests left")
        return report.outputs

    def _announce_positions(self) -> None:
        """Tell every queued job its position (the job skips a repeat of what it was last told)."""
        for position, waiting in enumerate(self.batcher.queued()):
            waiting.deliver(Queued(position=position))

    def _count_cancel(self, job: Job, reason: str) -> None:
        stage = "queued" if job.run_started is None else "running"
        self.metrics.cancellations.labels(job.params.variant, stage, reason).inc()

    async def close(self) -> None:
        """Stop admitting, cancel queued work, wait for the running batch, release the thread."""
        await self.batcher.close(drain=False)
        if self._owns_executor and isinstance(self._executor, ThreadPoolExecutor):
            self._executor.shutdown(wait=True, cancel_futures=True)


def decode_references(images: tuple[bytes, ...]) -> list[Any]:
    """Decode every reference image (InvalidInput naming the first that fails)."""
    return [decode_reference(data, index) for index, data in enumerate(images)]


def image_count(job: Job) -> int:
    """A job's size in the queue: its number of images."""
    return job.params.num_images


def encode_outputs(params: GenerationParams, output: RunOutput, loaded: LoadedVariant) -> list[EncodedImage]:
    """Encode a job's images; PNGs carry prompt, seed, steps, guidance, size, variant, backend and weights."""
    encoded = []
    for pixels, seed in zip(output.images, params.seeds(), strict=True):
        text = {
            "prompt": params.prompt,
            "seed": str(seed),
            "steps": str(params.num_inference_steps),
            "guidance_scale": f"{params.guidance_scale:g}",
            "size": f"{params.width}x{params.height}",
            "variant": params.variant,
            "backend": loaded.backend,
            "weights": loaded.spec.weights_origin.value,
            "software": "emoflux image_service",
        }
        if params.negative_prompt:
            text["negative_prompt"] = params.negative_prompt
        if params.adapters:
            text["adapters"] = ",".join(a.label() for a in params.adapters)
        if params.masked:
            text["inpainted"] = f"strength {params.strength:g}"
        data = encode_image(pixels, params.output_format, params.quality, text)
        encoded.append(EncodedImage(data, params.width, params.height, seed, params.output_format))
    return encoded
