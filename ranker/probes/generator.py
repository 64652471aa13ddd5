"""Probes of a text-to-image variant (``emoflux.image.v1.ImageService``)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import grpc
import numpy as np
from PIL import Image

import synthfaces
from ranker.probes.base import (
    IMAGE,
    TEXT_TO_IMAGE,
    Measurement,
    NotApplicable,
    Probe,
    ProbeContext,
    Target,
    decode_image,
    png_bytes,
)
from servicekit.pb.emoflux.image.v1 import image_pb2

PROMPT = "a photo of a happy face"
REFERENCE_CAPABILITIES = {
    image_pb2.CAPABILITY_MULTI_REFERENCE: "multi-reference",
    image_pb2.CAPABILITY_IMAGE_EDITING: "image-editing",
    image_pb2.CAPABILITY_IMAGE_TO_IMAGE: "image-to-image",
}


def cheap_steps(variant: image_pb2.Variant, wanted: int = 2) -> int:
    """A small step count the variant accepts (keeps probes of large models affordable)."""
    limits = variant.limits
    low = max(1, limits.min_steps or 1)
    high = limits.max_steps or max(low, wanted)
    return int(min(max(wanted, low), high))


def other_size(variant: image_pb2.Variant) -> tuple[int, int]:
    """A valid (width, height) that differs from the variant's default, non-square where possible."""
    limits, defaults = variant.limits, variant.defaults
    m = max(1, limits.size_multiple or 16)
    width, height = defaults.width or limits.min_width or 64, defaults.height or limits.min_height or 64

    def shifted(value: int, low: int, high: int) -> int:
        for candidate in (value + m, value - m, value + 2 * m, value - 2 * m):
            if (not low or candidate >= low) and (not high or candidate <= high) and candidate > 0:
                return candidate
        return value

    new_width = shifted(width, limits.min_width, limits.max_width)
    if limits.max_pixels and new_width * height > limits.max_pixels:
        new_width = shifted(width - 2 * m, limits.min_width, limits.max_width)
    return new_width, height


def _request(target: Target, **fields: object) -> image_pb2.GenerateRequest:
    return image_pb2.GenerateRequest(variant=target.name, prompt=str(fields.pop("prompt", PROMPT)), **fields)  # type: ignore[arg-type]


async def resolution(ctx: ProbeContext, targets: Sequence[Target]) -> list[Measurement]:
    """A requested non-default width x height comes back exactly, in the response and in the pixels."""
    (target,) = targets
    variant: image_pb2.Variant = target.info
    width, height = other_size(variant)
    reply = await ctx.clients.image.generate(
        _request(target, width=width, height=height, num_inference_steps=cheap_steps(variant), seed=11)
    )
    problems: list[str] = []
    if len(reply.images) != 1:
        problems.append(f"{len(reply.images)} images for num_images 1")
    for image in reply.images:
        decoded = decode_image(image.data)
        if decoded.size != (width, height) or (image.width, image.height) != (width, height):
            problems.append(
                f"asked {width}x{height}, got fields {image.width}x{image.height} and pixels "
                f"{decoded.size[0]}x{decoded.size[1]}"
            )
    return [
        Measurement(
            "configurable-resolution",
            0.0 if problems else 1.0,
            "pass",
            not problems,
            {"requested": [width, height], "problems": problems},
        )
    ]


async def few_step_latency(ctx: ProbeContext, targets: Sequence[Target]) -> list[Measurement]:
    """A 4-step generation (schnell's setting) at the default size finishes within the bound."""
    (target,) = targets
    variant: image_pb2.Variant = target.info
    steps = cheap_steps(variant, 4)
    timings = []
    reply = None
    problems = []
    for seed in (21, 22):  # the best of two: the first may pay a one-off warm-up
        started = time.monotonic()
        reply = await ctx.clients.image.generate(_request(target, num_inference_steps=steps, seed=seed))
        timings.append(time.monotonic() - started)
        if len(reply.images) != 1:  # a fast reply without the image is not a generation
            problems.append(f"seed {seed}: {len(reply.images)} images for num_images 1")
    assert reply is not None
    best = min(timings)
    if reply.num_inference_steps != steps:
        problems.append(f"asked {steps} steps, response says {reply.num_inference_steps}")
    bound = ctx.settings.few_step_bound_seconds
    if best > bound:
        problems.append(f"{best:.2f} s over the {bound:.1f} s bound")
    return [
        Measurement(
            "few-step-generation",
            best,
            "seconds",
            not problems,
            {
                "steps": steps,
                "timings": [round(t, 4) for t in timings],
                "server_run_seconds": round(reply.timings.run_seconds, 4),
                "size": [variant.defaults.width, variant.defaults.height],
                "bound": bound,
                "problems": problems,
            },
        )
    ]


async def seed_determinism(ctx: ProbeContext, targets: Sequence[Target]) -> list[Measurement]:
    """The same seed gives the same pixels; another seed gives different pixels; seeds are echoed."""
    (target,) = targets
    steps = cheap_steps(target.info)
    first, again, other = replies = [
        await ctx.clients.image.generate(_request(target, num_inference_steps=steps, seed=seed))
        for seed in (1234, 1234, 1235)
    ]
    counts = [len(r.images) for r in replies]
    if counts != [1, 1, 1]:  # nothing to compare: no evidence of determinism
        return [
            Measurement(
                "text-to-image",
                255.0,
                "pixel-levels",
                False,
                {"problems": [f"{counts} images for three requests of num_images 1"]},
            )
        ]
    pixels = [np.asarray(decode_image(r.images[0].data), dtype=np.int16) for r in (first, again, other)]
    same = int(np.abs(pixels[0] - pixels[1]).max())
    different = float(np.abs(pixels[0] - pixels[2]).mean()) if pixels[0].shape == pixels[2].shape else 255.0
    problems = []
    if same > 0:
        problems.append(f"same seed differs by up to {same} levels")
    if different == 0.0:
        problems.append("a different seed gave the same image")
    echoed = [r.images[0].seed for r in (first, again, other)]
    if echoed != [1234, 1234, 1235]:
        problems.append(f"seeds echoed as {echoed}")
    return [
        Measurement(
            TEXT_TO_IMAGE,
            float(same),
            "pixel-levels",
            not problems,
            {"other_seed_mean_abs_diff": round(different, 3), "problems": problems},
        )
    ]


async def reference_images(ctx: ProbeContext, targets: Sequence[Target]) -> list[Measurement]:
    """Reference images are accepted where the variant claims them and refused (INVALID_ARGUMENT) elsewhere."""
    (target,) = targets
    variant: image_pb2.Variant = target.info
    claimed = [REFERENCE_CAPABILITIES[c] for c in variant.capabilities if c in REFERENCE_CAPABILITIES]
    most = variant.limits.max_reference_images
    steps = cheap_steps(variant)
    references = [png_bytes(synthfaces.render(label, 7_400_000 + label, size=64)) for label in range(2)]
    if claimed and most > 0:
        count = 1 if claimed == ["image-editing"] or claimed == ["image-to-image"] else min(2, most)
        try:
            reply = await ctx.clients.image.generate(
                _request(target, num_inference_steps=steps, seed=5, reference_images=references[:count])
            )
            ok = len(reply.images) == 1
            detail = {"claimed": claimed, "sent": count, "images": len(reply.images)}
        except grpc.aio.AioRpcError as error:
            ok = False
            detail = {"claimed": claimed, "sent": count, "error": f"{error.code().name}: {error.details()}"}
        return [Measurement(claimed[0], 1.0 if ok else 0.0, "pass", ok, detail)]
    try:
        request = _request(target, num_inference_steps=steps, seed=5, reference_images=references[:1])
        await ctx.clients.image.generate(request)
    except grpc.aio.AioRpcError as error:
        refused = error.code() == grpc.StatusCode.INVALID_ARGUMENT and "reference" in (error.details() or "")
        detail = {"claimed": [], "error": f"{error.code().name}: {error.details()}"}
        return [Measurement("reference-images", 1.0 if refused else 0.0, "pass", refused, detail)]
    return [
        Measurement(
            "reference-images",
            0.0,
            "pass",
            False,
            {"claimed": [], "problem": "a text-only variant accepted a reference"},
        )
    ]


async def progress_stream(ctx: ProbeContext, targets: Sequence[Target]) -> list[Measurement]:
    """GenerateStream sends Queued*, one Started, Step 1..n in order, then exactly one Completed."""
    (target,) = targets
    steps = cheap_steps(target.info, 3)
    request = image_pb2.GenerateStreamRequest(request=_request(target, num_inference_steps=steps, seed=3))
    kinds: list[str] = []
    step_numbers: list[int] = []
    elapsed: list[float] = []
    problems: list[str] = []
    started_total = None
    completed_images = 0
    async for event in ctx.clients.image.generate_stream(request):
        kind = event.WhichOneof("event") or "none"
        kinds.append(kind)
        if kind == "started":
            started_total = event.started.total_steps
        elif kind == "step":
            step_numbers.append(event.step.step)
            elapsed.append(event.step.elapsed_seconds)
        elif kind == "completed":
            completed_images = len(event.completed.response.images)
        elif kind == "error":
            problems.append(f"error event {event.error.code}: {event.error.message}")
    body = [k for k in kinds if k != "queued"]
    if "started" in kinds and "queued" in kinds[kinds.index("started") :]:
        problems.append("a Queued event after Started")
    if body[:1] != ["started"] or kinds.count("started") != 1:
        problems.append(f"expected one Started first, got {body[:3]}")
    if started_total != steps:
        problems.append(f"Started.total_steps {started_total}, asked {steps}")
    if step_numbers != list(range(1, steps + 1)):
        problems.append(f"steps {step_numbers}, expected 1..{steps}")
    if elapsed != sorted(elapsed):
        problems.append("elapsed_seconds decreases")
    if kinds[-1:] != ["completed"] or kinds.count("completed") != 1 or completed_images != 1:
        problems.append(f"expected exactly one Completed last with 1 image, got {kinds[-2:]}")
    return [
        Measurement(
            "progress-streaming",
            float(len(step_numbers)),
            "steps",
            not problems,
            {"events": kinds, "problems": problems},
        )
    ]


INPAINT_PROMPT = "a photo of a sad face"
INPAINT_OUTSIDE_TOLERANCE = 1  # pixel levels of 255 outside the mask (JPEG-free PNG round trip: exact)
INPAINT_MIN_CHANGE = 2.0  # mean pixel levels the masked region must move


async def inpainting(ctx: ProbeContext, targets: Sequence[Target]) -> list[Measurement]:
    """A masked request repaints the mask's box and returns every other pixel as in the reference."""
    (target,) = targets
    variant: image_pb2.Variant = target.info
    if image_pb2.CAPABILITY_INPAINTING not in variant.capabilities:
        raise NotApplicable(f"{target.name} does not claim CAPABILITY_INPAINTING")
    width, height = variant.defaults.width or 64, variant.defaults.height or 64
    reference = synthfaces.render("happy", 7_500_000, size=max(width, height)).resize((width, height))
    mask = np.zeros((height, width), np.uint8)
    mask[height // 2 : height * 7 // 8, width // 4 : width * 3 // 4] = 255  # the mouth region
    reply = await ctx.clients.image.generate(
        _request(
            target,
            prompt=INPAINT_PROMPT,
            num_inference_steps=cheap_steps(variant, 4),
            seed=9,
            reference_images=[png_bytes(reference)],
            mask=png_bytes(Image.fromarray(mask)),
        )
    )
    problems: list[str] = []
    out = np.asarray(decode_image(reply.images[0].data), dtype=np.int16) if reply.images else None
    ref = np.asarray(reference.convert("RGB"), dtype=np.int16)
    outside, changed = 255.0, 0.0
    if out is None or out.shape != ref.shape:
        problems.append(f"expected one {width}x{height} image, got {None if out is None else out.shape}")
    else:
        diff = np.abs(out - ref).max(axis=-1)
        outside = float(diff[mask == 0].max())
        changed = float(diff[mask == 255].mean())
        if outside > INPAINT_OUTSIDE_TOLERANCE:
            problems.append(f"pixels outside the mask moved by up to {outside:.0f} levels")
        if changed < INPAINT_MIN_CHANGE:
            problems.append(f"the masked region changed by only {changed:.2f} levels on average")
    return [
        Measurement(
            "inpainting",
            outside,
            "pixel-levels",
            not problems,
            {"size": [width, height], "inside_mean_change": round(changed, 3), "problems": problems},
        )
    ]


PROBES: tuple[Probe, ...] = (
    Probe(
        "generator.resolution",
        IMAGE,
        "configurable-resolution",
        "conformance",
        "a non-default width x height is honoured exactly",
        resolution,
    ),
    Probe(
        "generator.few-step-latency",
        IMAGE,
        "few-step-generation",
        "performance",
        "a 4-step generation at the default size within the bound",
        few_step_latency,
    ),
    Probe(
        "generator.seed-determinism",
        IMAGE,
        TEXT_TO_IMAGE,
        "conformance",
        "same seed → same pixels; another seed → different pixels",
        seed_determinism,
    ),
    Probe(
        "generator.reference-images",
        IMAGE,
        "reference-images",
        "conformance",
        "reference images accepted where claimed, refused elsewhere",
        reference_images,
    ),
    Probe(
        "generator.inpainting",
        IMAGE,
        "inpainting",
        "conformance",
        "a masked request repaints the mask and keeps every other pixel",
        inpainting,
    ),
    Probe(
        "generator.progress-stream",
        IMAGE,
        "progress-streaming",
        "conformance",
        "Started, Step 1..n, Completed in order",
        progress_stream,
    ),
)
