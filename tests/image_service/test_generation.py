"""One pipeline run for a batch of jobs, in process (no server)."""

from __future__ import annotations

import numpy as np
import pytest

from image_service.generation import pipeline_kwargs, run_batch, seconds_per_step
from image_service.jobs import Job, ProgressEvent, Started, Step
from image_service.variants import GuidanceMode
from tests.image_service.conftest import make_job

# Batching changes matmul shapes, so float rounding may move a pixel by one level (never more here).
BATCH_TOLERANCE = 1


def collect() -> tuple[list[tuple[Job, ProgressEvent]], object]:
    events: list[tuple[Job, ProgressEvent]] = []
    return events, lambda job, event: events.append((job, event))


def test_images_have_the_requested_size_and_seeded_noise(tiny_loaded) -> None:
    events, notify = collect()
    job = make_job(tiny_loaded, prompt="a happy face", width=96, height=64, num_inference_steps=2, num_images=2)
    report = run_batch(tiny_loaded, [job], notify)
    assert report.outputs is not None and report.steps_run == 2
    (output,) = report.outputs
    assert [img.shape for img in output.images] == [(64, 96, 3), (64, 96, 3)]
    assert not np.array_equal(output.images[0], output.images[1])  # seeds 0 and 1
    kinds = [type(e).__name__ for _, e in events]
    assert kinds == ["Started", "Step", "Step"]
    assert [e.step for _, e in events if isinstance(e, Step)] == [1, 2]


def test_batched_images_equal_images_generated_alone(tiny_loaded) -> None:
    jobs = [make_job(tiny_loaded, prompt=p, seed=s, width=64, height=64, num_inference_steps=3)
            for p, s in (("a happy face", 1), ("a sad face", 2), ("an angry face", 3))]  # fmt: skip
    _, notify = collect()
    together = run_batch(tiny_loaded, jobs, notify).outputs
    assert together is not None and all(o.batch_requests == 3 for o in together)
    for job, output in zip(jobs, together, strict=True):
        alone = run_batch(
            tiny_loaded,
            [
                make_job(
                    tiny_loaded,
                    prompt=job.params.prompt,
                    seed=job.params.seed,
                    width=64,
                    height=64,
                    num_inference_steps=3,
                )
            ],
            notify,
        ).outputs
        assert alone is not None
        diff = np.abs(alone[0].images[0].astype(int) - output.images[0].astype(int)).max()
        assert diff <= BATCH_TOLERANCE


def test_same_seed_same_pixels(tiny_loaded) -> None:
    _, notify = collect()
    runs = [run_batch(tiny_loaded, [make_job(tiny_loaded, prompt="a face", seed=5, width=64, height=64,
                                             num_inference_steps=2)], notify).outputs for _ in range(2)]  # fmt: skip
    assert runs[0] is not None and runs[1] is not None
    assert np.array_equal(runs[0][0].images[0], runs[1][0].images[0])


def test_run_stops_at_the_next_step_when_every_job_is_cancelled(tiny_loaded) -> None:
    job = make_job(tiny_loaded, prompt="a face", width=64, height=64, num_inference_steps=50)

    def notify(event_job: Job, event: ProgressEvent) -> None:
        if isinstance(event, Step) and event.step == 3:
            event_job.cancelled.set()

    report = run_batch(tiny_loaded, [job], notify)
    assert report.interrupted and report.steps_run == 3 and report.total_steps == 50


def test_a_cancelled_job_does_not_stop_its_batch(tiny_loaded) -> None:
    keep = make_job(tiny_loaded, prompt="a face", width=64, height=64, num_inference_steps=5)
    leave = make_job(tiny_loaded, prompt="a face", seed=9, width=64, height=64, num_inference_steps=5)
    started: list[int] = []

    def notify(event_job: Job, event: ProgressEvent) -> None:
        if isinstance(event, Started):
            started.append(event.batch_size)
        if event_job is leave and isinstance(event, Step):
            leave.cancelled.set()

    report = run_batch(tiny_loaded, [keep, leave], notify)
    assert started == [2, 2] and not report.interrupted and report.steps_run == 5


def test_previews_are_small_pngs(tiny_loaded) -> None:
    job = make_job(tiny_loaded, prompt="a face", width=128, height=64, num_inference_steps=2)
    job.previews, job.preview_size = True, 32
    events, notify = collect()
    run_batch(tiny_loaded, [job], notify)
    previews = [e.preview for _, e in events if isinstance(e, Step)]
    assert len(previews) == 2 and all(p.startswith(b"\x89PNG") for p in previews)
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(previews[0])).size == (32, 16)


def test_pipeline_kwargs_per_image_generators_and_guidance(tiny_loaded) -> None:
    job = make_job(tiny_loaded, prompt="a face", seed=10, num_images=3, guidance_scale=2.0)
    kwargs = pipeline_kwargs(tiny_loaded.spec, [job])
    assert kwargs["prompt"] == ["a face"] * 3 and len(kwargs["generator"]) == 3
    assert [g.initial_seed() for g in kwargs["generator"]] == [10, 11, 12]
    if tiny_loaded.spec.guidance_mode is GuidanceMode.TRUE_CFG:
        assert kwargs["true_cfg_scale"] == 2.0 and kwargs["negative_prompt"] == [""] * 3
    else:
        assert kwargs["guidance_scale"] == 2.0 and "true_cfg_scale" not in kwargs


@pytest.mark.parametrize(("steps", "expected"), [([], 0.0), ([5.0], 5.0), ([9.0, 1.0, 3.0], 2.0)])
def test_seconds_per_step_leaves_out_step_one(steps: list[float], expected: float) -> None:
    assert seconds_per_step(steps) == expected


@pytest.mark.slow
def test_torch_compile_backend_matches_eager(tiny_source, tiny_loaded) -> None:
    import torch

    from image_service.backends import BackendKind, BackendOptions
    from image_service.pipeline import load_variant

    options = BackendOptions(
        kind=BackendKind.TORCH, device=torch.device("cpu"), dtype=torch.float32, torch_compile=True
    )
    compiled = load_variant(tiny_source, backend=options)
    assert compiled.backend == "torch-compile"
    _, notify = collect()
    got = run_batch(compiled, [make_job(compiled, prompt="a face", width=64, height=64, num_inference_steps=2)], notify)
    ref = run_batch(tiny_loaded, [make_job(tiny_loaded, prompt="a face", width=64, height=64, num_inference_steps=2)],
                    notify)  # fmt: skip
    assert got.outputs is not None and ref.outputs is not None
    assert np.abs(got.outputs[0].images[0].astype(int) - ref.outputs[0].images[0].astype(int)).max() <= 1
