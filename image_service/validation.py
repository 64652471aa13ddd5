"""Request validation: pure functions from raw options and a variant spec to :class:`GenerationParams`.

Every refusal is an :class:`~servicekit.errors.InvalidInput` whose message names the field and the limit.
Prompts longer than the variant's ``max_prompt_tokens`` are truncated, not refused (the response says so).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from image_service.jobs import SEED_MODULUS, GenerationParams, ImageFormat
from image_service.variants import Capability, VariantSpec
from servicekit.errors import InvalidInput

DEFAULT_QUALITY = 90
DEFAULT_PREVIEW_SIZE = 128
MAX_PREVIEW_SIZE = 512


@dataclass(frozen=True)
class RequestOptions:
    """A generation request as a client sent it (zero / None = "use the default")."""

    variant: str = ""
    prompt: str = ""
    negative_prompt: str = ""
    width: int = 0
    height: int = 0
    num_inference_steps: int = 0
    guidance_scale: float | None = None
    seed: int | None = None
    num_images: int = 0
    output_format: str = ""  # "", "png", "jpeg", "webp"; anything else is refused
    quality: int = 0
    reference_images: tuple[bytes, ...] = ()
    strength: float | None = None


def _fmt(value: float) -> str:
    return f"{value:g}"


def _size(name: str, value: int, default: int, lo: int, hi: int, multiple: int) -> int:
    if value == 0:
        return default
    allowed = f"a multiple of {multiple} in [{lo}, {hi}]"
    if value % multiple:
        raise InvalidInput(f"{name}: {value} is not a multiple of {multiple} (must be {allowed})")
    if not lo <= value <= hi:
        raise InvalidInput(f"{name}: {value} is out of range (must be {allowed})")
    return value


def resolve_format(name: str) -> ImageFormat:
    """Map an ``output_format`` option to an :class:`ImageFormat` ("" means PNG)."""
    if name == "":
        return ImageFormat.PNG
    try:
        return ImageFormat(name)
    except ValueError:
        allowed = ", ".join(f.value for f in ImageFormat)
        raise InvalidInput(f"output_format: {name!r} is not supported (must be one of {allowed})") from None


def validate(
    options: RequestOptions,
    spec: VariantSpec,
    count_tokens: Callable[[str], int],
    draw_seed: Callable[[], int],
) -> GenerationParams:
    """Check ``options`` against ``spec``'s limits and fill in defaults.

    ``count_tokens`` gives the main text encoder's token count of a prompt (special tokens included);
    ``draw_seed`` picks a seed for requests without one.
    """
    lim = spec.limits
    dft = spec.defaults
    prompt = options.prompt
    if not prompt.strip():
        raise InvalidInput("prompt: must not be empty")
    if options.negative_prompt and not spec.supports(Capability.NEGATIVE_PROMPT):
        raise InvalidInput(f"negative_prompt: variant {spec.name!r} does not support negative prompts (must be empty)")

    width = _size("width", options.width, dft.width, lim.min_width, lim.max_width, lim.size_multiple)
    height = _size("height", options.height, dft.height, lim.min_height, lim.max_height, lim.size_multiple)
    if width * height > lim.max_pixels:
        raise InvalidInput(
            f"width*height: {width}x{height} = {width * height} pixels exceeds max_pixels {lim.max_pixels}"
        )

    steps = options.num_inference_steps or dft.num_inference_steps
    if not lim.min_steps <= steps <= lim.max_steps:
        raise InvalidInput(
            f"num_inference_steps: {steps} is out of range (must be in [{lim.min_steps}, {lim.max_steps}])"
        )

    guidance = dft.guidance_scale if options.guidance_scale is None else float(options.guidance_scale)
    bounds = f"[{_fmt(lim.min_guidance_scale)}, {_fmt(lim.max_guidance_scale)}]"
    if not math.isfinite(guidance):
        raise InvalidInput(f"guidance_scale: {guidance} is not a finite number (must be in {bounds})")
    if not lim.min_guidance_scale <= guidance <= lim.max_guidance_scale:
        raise InvalidInput(f"guidance_scale: {_fmt(guidance)} is out of range (must be in {bounds})")

    num_images = options.num_images or 1
    if num_images > lim.max_images:
        raise InvalidInput(f"num_images: {num_images} exceeds max_images {lim.max_images}")

    output_format = resolve_format(options.output_format)
    if options.quality > 100:
        raise InvalidInput(f"quality: {options.quality} is out of range (must be in [1, 100], 0 for the default)")
    quality = options.quality or DEFAULT_QUALITY

    refs = options.reference_images
    if len(refs) > lim.max_reference_images:
        raise InvalidInput(
            f"reference_images: {len(refs)} given, variant {spec.name!r} accepts at most {lim.max_reference_images}"
        )
    for index, data in enumerate(refs):
        if not data:
            raise InvalidInput(f"reference_images[{index}]: empty (must be an encoded image)")
    if options.strength is not None:
        if not spec.supports(Capability.IMAGE_TO_IMAGE):
            raise InvalidInput(f"strength: variant {spec.name!r} has no image-to-image mode (leave strength unset)")
        if not (math.isfinite(options.strength) and 0.0 <= options.strength <= 1.0):
            raise InvalidInput(f"strength: {options.strength} is out of range (must be in [0, 1])")

    tokens = count_tokens(prompt)
    truncated = tokens > lim.max_prompt_tokens
    seed = draw_seed() if options.seed is None else options.seed
    if not 0 <= seed < SEED_MODULUS:
        raise InvalidInput(f"seed: {seed} is out of range (must be in [0, 2**64))")
    return GenerationParams(
        variant=spec.name,
        prompt=prompt,
        negative_prompt=options.negative_prompt,
        width=width,
        height=height,
        num_inference_steps=steps,
        guidance_scale=guidance,
        seed=seed,
        num_images=num_images,
        output_format=output_format,
        quality=quality,
        max_sequence_length=dft.max_sequence_length,
        prompt_tokens=min(tokens, lim.max_prompt_tokens),
        prompt_truncated=truncated,
        reference_count=len(refs),
    )


def validate_preview_size(size: int) -> int:
    """Resolve ``preview_size`` (0 means 128); refuse sizes over 512."""
    if size == 0:
        return DEFAULT_PREVIEW_SIZE
    if size > MAX_PREVIEW_SIZE:
        raise InvalidInput(f"preview_size: {size} exceeds the maximum {MAX_PREVIEW_SIZE}")
    return size
