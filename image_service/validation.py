"""Request validation: pure functions from raw options and a variant spec to :class:`GenerationParams`.

Every refusal is an :class:`~servicekit.errors.InvalidInput` whose message names the field and the limit.
Prompts longer than the variant's ``max_prompt_tokens`` are truncated, not refused (the response says so).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass

from image_service.inpainting import denoising_steps
from image_service.jobs import SEED_MODULUS, AdapterWeight, GenerationParams, ImageFormat
from image_service.variants import Capability, VariantSpec
from servicekit.errors import InvalidInput

DEFAULT_QUALITY = 90
DEFAULT_PREVIEW_SIZE = 128
MAX_PREVIEW_SIZE = 512
MAX_ADAPTER_SCALE = 8.0
DEFAULT_INPAINT_STRENGTH = 1.0
# Capabilities that use reference images without a mask.
REFERENCE_CAPABILITIES = (Capability.IMAGE_EDITING, Capability.MULTI_REFERENCE, Capability.IMAGE_TO_IMAGE)


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
    mask: bytes = b""
    adapters: tuple[tuple[str, float | None], ...] = ()  # (name, scale); None = 1.0


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


def validate_mask(options: RequestOptions, spec: VariantSpec) -> None:
    """Check how a mask and reference images go together (decoding and sizes are checked later)."""
    refs = len(options.reference_images)
    if options.mask:
        if not spec.supports(Capability.INPAINTING):
            raise InvalidInput(f"mask: variant {spec.name!r} has no inpainting (leave mask empty)")
        if refs != 1:
            raise InvalidInput(f"mask: needs exactly one reference image to inpaint, got {refs} reference_images")
        return
    if not spec.supports(Capability.TEXT_TO_IMAGE) and spec.supports(Capability.INPAINTING):
        raise InvalidInput(f"mask: variant {spec.name!r} only inpaints (must be set, with one reference image)")
    if refs and spec.supports(Capability.INPAINTING) and not any(spec.supports(c) for c in REFERENCE_CAPABILITIES):
        raise InvalidInput(
            f"reference_images: variant {spec.name!r} uses a reference image only for inpainting (set mask)"
        )


def validate_adapters(
    adapters: tuple[tuple[str, float | None], ...], spec: VariantSpec, known: Collection[str]
) -> tuple[AdapterWeight, ...]:
    """Resolve requested adapters (unset scale = 1.0); refuse unknown names, repeats and bad scales."""
    resolved: list[AdapterWeight] = []
    seen: set[str] = set()
    for index, (name, scale) in enumerate(adapters):
        if name not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise InvalidInput(
                f"adapters[{index}].name: {name!r} is not an adapter of variant {spec.name!r} (loaded: {listed})"
            )
        if name in seen:
            raise InvalidInput(f"adapters[{index}].name: {name!r} is named twice (each adapter at most once)")
        seen.add(name)
        value = 1.0 if scale is None else float(scale)
        if not (math.isfinite(value) and -MAX_ADAPTER_SCALE <= value <= MAX_ADAPTER_SCALE):
            raise InvalidInput(
                f"adapters[{index}].scale: {value} is out of range (must be in "
                f"[{-MAX_ADAPTER_SCALE:g}, {MAX_ADAPTER_SCALE:g}])"
            )
        resolved.append(AdapterWeight(name, value))
    return tuple(resolved)


def validate(
    options: RequestOptions,
    spec: VariantSpec,
    count_tokens: Callable[[str], int],
    draw_seed: Callable[[], int],
    adapter_names: Collection[str] = (),
) -> GenerationParams:
    """Check ``options`` against ``spec``'s limits and fill in defaults.

    ``count_tokens`` gives the main text encoder's token count of a prompt (special tokens included);
    ``draw_seed`` picks a seed for requests without one; ``adapter_names`` are the variant's loaded
    LoRA adapters.
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
    validate_mask(options, spec)
    masked = bool(options.mask)
    strength = options.strength
    if strength is not None:
        if not (spec.supports(Capability.IMAGE_TO_IMAGE) or masked):
            raise InvalidInput(
                f"strength: variant {spec.name!r} has no image-to-image mode and no mask was given "
                "(leave strength unset)"
            )
        if not (math.isfinite(strength) and 0.0 <= strength <= 1.0):
            raise InvalidInput(f"strength: {strength} is out of range (must be in [0, 1])")
    elif masked:
        strength = DEFAULT_INPAINT_STRENGTH
    if masked and strength is not None and denoising_steps(steps, strength) < 1:
        raise InvalidInput(
            f"strength: {strength:g} with {steps} steps leaves no denoising step "
            "(strength * num_inference_steps must be at least 1)"
        )
    adapters = validate_adapters(options.adapters, spec, adapter_names)

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
        masked=masked,
        strength=strength,
        adapters=adapters,
    )


def validate_preview_size(size: int) -> int:
    """Resolve ``preview_size`` (0 means 128); refuse sizes over 512."""
    if size == 0:
        return DEFAULT_PREVIEW_SIZE
    if size > MAX_PREVIEW_SIZE:
        raise InvalidInput(f"preview_size: {size} exceeds the maximum {MAX_PREVIEW_SIZE}")
    return size
