"""One pipeline run for a batch of compatible jobs (runs on the pipeline's executor thread).

All images of all jobs go through ONE pipeline call: prompts are repeated per image and each image gets
its own ``torch.Generator`` seeded with its seed, so an image does not depend on what it was batched
with. Between denoising steps the step callback reports progress, renders previews, and interrupts
the run when every job of the batch has been cancelled.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image

from image_service.adapters import activate
from image_service.encoding import to_uint8
from image_service.inpainting import composite, denoising_steps, fit_inputs, inpaint_pipeline
from image_service.jobs import Job, ProgressEvent, RunOutput, Started, Step
from image_service.pipeline import LoadedVariant
from image_service.variants import Capability, GuidanceMode, VariantSpec

Notify = Callable[[Job, ProgressEvent], None]


@dataclass
class RunReport:
    """What happened in one run: per-job outputs (None when interrupted) and step timings."""

    outputs: list[RunOutput] | None
    steps_run: int
    total_steps: int
    step_seconds: list[float] = field(default_factory=list)
    run_seconds: float = 0.0

    @property
    def interrupted(self) -> bool:
        """Whether the run stopped before its last step because every job was cancelled."""
        return self.outputs is None


def seconds_per_step(step_seconds: list[float]) -> float:
    """Mean step time; step 1 also carries text encoding, so it counts only when it is the only step."""
    timed = step_seconds[1:] or step_seconds
    return sum(timed) / len(timed) if timed else 0.0


def pipeline_kwargs(spec: VariantSpec, jobs: list[Job]) -> dict[str, Any]:
    """The keyword arguments of the pipeline call for ``jobs`` (which share one run key)."""
    first = jobs[0].params
    prompts: list[str] = []
    negatives: list[str] = []
    generators: list[torch.Generator] = []
    for job in jobs:
        for seed in job.params.seeds():
            prompts.append(job.params.prompt)
            negatives.append(job.params.negative_prompt)
            # CPU generators: the same seed gives the same noise on every device.
            generators.append(torch.Generator("cpu").manual_seed(seed))
    kwargs: dict[str, Any] = {
        "prompt": prompts,
        "width": first.width,
        "height": first.height,
        "num_inference_steps": first.num_inference_steps,
        "generator": generators,
        "output_type": "np",
        "max_sequence_length": first.max_sequence_length,
    }
    mode = spec.guidance_mode
    if mode is GuidanceMode.EMBEDDED:
        kwargs["guidance_scale"] = first.guidance_scale
    elif mode is GuidanceMode.TRUE_CFG:
        kwargs["guidance_scale"] = 1.0
        if first.guidance_scale > 1.0:
            kwargs["true_cfg_scale"] = first.guidance_scale
            kwargs["negative_prompt"] = negatives
    else:
        kwargs["guidance_scale"] = first.guidance_scale
    if spec.pipeline_class == "FluxKontextPipeline":
        # Kontext rescales the output to max_area (1 MP by default) keeping the aspect: pin the requested size.
        kwargs["max_area"] = first.width * first.height
    references = jobs[0].references
    if jobs[0].mask is not None:
        # Inpainting: reference and mask at the output size, so the final composite uses the same pixels.
        image, mask = fit_inputs(references[0], jobs[0].mask, first.width, first.height)
        kwargs.update(image=image, mask_image=mask, strength=first.strength)
        if spec.inpaint_pipeline_class == "FluxFillPipeline":
            kwargs.pop("true_cfg_scale", None)  # Fill has no negative-prompt branch
            kwargs.pop("negative_prompt", None)
    elif references:
        # Jobs with references never share a run (see Job.batch_key).
        editing = spec.supports(Capability.IMAGE_EDITING)
        kwargs["image"] = references[0] if editing else list(references)
    return kwargs


def decode_preview(pipe: Any, latents: torch.Tensor, width: int, height: int, size: int) -> bytes:
    """PNG (longest side ``size``) of packed FLUX.1 ``latents`` (1 x tokens x channels) through the VAE."""
    if not hasattr(pipe, "_unpack_latents") or latents.ndim != 3:
        return b""
    with torch.no_grad():
        unpacked = pipe._unpack_latents(latents, height, width, pipe.vae_scale_factor)
        unpacked = unpacked / pipe.vae.config.scaling_factor + pipe.vae.config.shift_factor
        decoded = pipe.vae.decode(unpacked.to(pipe.vae.dtype), return_dict=False)[0]
        array = pipe.image_processor.postprocess(decoded, output_type="np")[0]
    image = Image.fromarray(to_uint8(array))
    image.thumbnail((size, size), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def run_batch(loaded: LoadedVariant, jobs: list[Job], notify: Notify) -> RunReport:
    """Generate every image of ``jobs`` in one pipeline call; ``notify`` receives progress events."""
    first = jobs[0].params
    total = first.num_inference_steps
    if jobs[0].mask is not None and first.strength is not None:
        total = denoising_steps(total, first.strength)  # strength < 1 skips the first steps
    offsets: list[int] = []
    count = 0
    for job in jobs:
        offsets.append(count)
        count += job.params.num_images
    masked = jobs[0].mask is not None
    pipe = inpaint_pipeline(loaded) if masked else loaded.pipe
    activate(loaded, first.adapters)  # the inpainting pipeline shares the transformer, so adapters too
    started = time.monotonic()
    marks = {"last": started}
    step_seconds: list[float] = []
    for job in jobs:
        notify(job, Started(batch_size=len(jobs), total_steps=total))

    def on_step_end(pipeline: Any, index: int, _timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        now = time.monotonic()
        step_seconds.append(now - marks["last"])
        live = [(job, offset) for job, offset in zip(jobs, offsets, strict=True) if not job.cancelled.is_set()]
        for job, offset in live:
            preview = b""
            if job.previews:
                latents = tensors["latents"][offset : offset + 1]
                preview = decode_preview(pipeline, latents, first.width, first.height, job.preview_size)
            notify(job, Step(step=index + 1, total_steps=total, elapsed_seconds=now - started, preview=preview))
        if all(job.cancelled.is_set() for job in jobs):
            pipeline._interrupt = True  # diffusers skips the remaining steps
        marks["last"] = time.monotonic()  # callback work (previews) is not step time
        return {}

    kwargs = pipeline_kwargs(loaded.spec, jobs)
    with torch.inference_mode():
        images = pipe(**kwargs, callback_on_step_end=on_step_end, callback_on_step_end_tensor_inputs=["latents"]).images
    run_seconds = time.monotonic() - started
    report = RunReport(outputs=None, steps_run=len(step_seconds), total_steps=total, step_seconds=step_seconds,
                       run_seconds=run_seconds)  # fmt: skip
    if getattr(pipe, "_interrupt", False) or len(step_seconds) < total:
        return report
    pixels = to_uint8(np.asarray(images))
    if masked:
        # Jobs with a mask run alone; keep every unmasked pixel exactly as in the reference.
        pixels = np.stack([composite(p, kwargs["image"], kwargs["mask_image"]) for p in pixels])
    per_step = seconds_per_step(step_seconds)
    report.outputs = [
        RunOutput(
            images=[pixels[offset + i] for i in range(job.params.num_images)],
            batch_requests=len(jobs),
            run_seconds=run_seconds,
            seconds_per_step=per_step,
            started=started,
        )
        for job, offset in zip(jobs, offsets, strict=True)
    ]
    return report
