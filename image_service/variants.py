"""The registry of FLUX variants: what each one is, its defaults, its limits and what it can do.

A :class:`VariantSpec` is pure data (no weights). The published variants are declared here once; the
embedded ``tiny-flux`` spec is derived from the pipeline directory it is loaded from (see
:func:`tiny_flux_spec`), because a trained tiny pipeline brings its own recommended settings.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

TINY_FLUX = "tiny-flux"
DEFAULT_VARIANT = TINY_FLUX
SIZE_MULTIPLE = 16  # VAE factor 8 times FLUX's 2x2 latent packing
FOUR_MEGAPIXELS = 4_000_000  # so 2048x2048 (4.19 M) is refused, 2048x1952 accepted
DEV_LICENSE = "flux-1-dev-non-commercial-license"
SYNTHETIC_DOMAIN = "synthetic expressive cartoon faces (synthfaces)"
INPAINT_PIPELINE = "FluxInpaintPipeline"  # built from an ordinary FLUX pipeline's components
FILL_PIPELINE = "FluxFillPipeline"  # FLUX.1 Fill: its own weights take the mask as an input


class Capability(enum.Enum):
    """Something a variant can do (mirrors ``emoflux.image.v1.Capability``)."""

    TEXT_TO_IMAGE = "text-to-image"
    IMAGE_EDITING = "image-editing"
    MULTI_REFERENCE = "multi-reference"
    GUIDANCE_DISTILLED = "guidance-distilled"
    FEW_STEP = "few-step"
    IMAGE_TO_IMAGE = "image-to-image"
    NEGATIVE_PROMPT = "negative-prompt"
    INPAINTING = "inpainting"


class WeightsOrigin(enum.Enum):
    """Where a variant's weights come from (mirrors ``emoflux.image.v1.WeightsOrigin``)."""

    RANDOM = "random"
    SYNTHETIC_TRAINED = "synthetic-trained"
    PRETRAINED = "pretrained"


class GuidanceMode(enum.Enum):
    """How ``guidance_scale`` reaches the model."""

    # Fed to the transformer's guidance embedding (FLUX.1-dev, Kontext): one pass per step.
    EMBEDDED = "embedded"
    # True classifier-free guidance against the negative prompt ("" by default): two passes per step
    # when the scale is above 1. Used by the trained tiny model, which has no guidance embedding.
    TRUE_CFG = "true-cfg"
    # Not used at all (FLUX.1-schnell; step-distilled FLUX.2 klein).
    NONE = "none"


@dataclass(frozen=True)
class VariantDefaults:
    """Values used when a request leaves an option unset."""

    width: int
    height: int
    num_inference_steps: int
    guidance_scale: float
    max_sequence_length: int


@dataclass(frozen=True)
class VariantLimits:
    """Inclusive bounds a request must respect."""

    min_width: int
    max_width: int
    min_height: int
    max_height: int
    max_pixels: int
    min_steps: int
    max_steps: int
    min_guidance_scale: float
    max_guidance_scale: float
    max_images: int
    max_reference_images: int
    max_prompt_tokens: int
    size_multiple: int = SIZE_MULTIPLE


@dataclass(frozen=True)
class VariantSpec:
    """Everything known about a variant before its weights are loaded."""

    name: str
    description: str
    pipeline_class: str
    transformer_class: str
    hub_id: str
    license: str
    capabilities: tuple[Capability, ...]
    defaults: VariantDefaults
    limits: VariantLimits
    guidance_mode: GuidanceMode
    weights_origin: WeightsOrigin = WeightsOrigin.PRETRAINED
    quality_domain: str = ""
    embedded: bool = False
    # The diffusers pipeline built from the loaded one's components for masked requests ("" = none).
    inpaint_pipeline_class: str = ""

    def supports(self, capability: Capability) -> bool:
        """Whether the variant lists ``capability``."""
        return capability in self.capabilities

    def with_max_images(self, max_images: int) -> VariantSpec:
        """The same spec with ``max_images`` capped (a server's batch size bounds images per request)."""
        return replace(self, limits=replace(self.limits, max_images=min(self.limits.max_images, max_images)))


def _real_limits(
    *, max_steps: int, guidance: tuple[float, float], max_refs: int, max_tokens: int, min_steps: int = 1
) -> VariantLimits:
    return VariantLimits(
        min_width=256,
        max_width=2048,
        min_height=256,
        max_height=2048,
        max_pixels=FOUR_MEGAPIXELS,
        min_steps=min_steps,
        max_steps=max_steps,
        min_guidance_scale=guidance[0],
        max_guidance_scale=guidance[1],
        max_images=4,
        max_reference_images=max_refs,
        max_prompt_tokens=max_tokens,
    )


PUBLISHED_VARIANTS: tuple[VariantSpec, ...] = (
    VariantSpec(
        name="flux.1-schnell",
        description=(
            "FLUX.1 [schnell]: 12B rectified-flow transformer distilled for 1-4 steps; guidance is not "
            "used (must be 0). Prompts over 256 T5 tokens are truncated."
        ),
        pipeline_class="FluxPipeline",
        transformer_class="FluxTransformer2DModel",
        hub_id="black-forest-labs/FLUX.1-schnell",
        license="apache-2.0",
        capabilities=(Capability.TEXT_TO_IMAGE, Capability.FEW_STEP, Capability.INPAINTING),
        defaults=VariantDefaults(1024, 1024, 4, 0.0, 256),
        limits=_real_limits(max_steps=16, guidance=(0.0, 0.0), max_refs=1, max_tokens=256),
        guidance_mode=GuidanceMode.NONE,
        inpaint_pipeline_class=INPAINT_PIPELINE,
    ),
    VariantSpec(
        name="flux.1-dev",
        description=(
            "FLUX.1 [dev]: 12B guidance-distilled rectified-flow transformer; guidance is an embedded "
            "input (one pass per step). Non-commercial license. Prompts over 512 T5 tokens are truncated."
        ),
        pipeline_class="FluxPipeline",
        transformer_class="FluxTransformer2DModel",
        hub_id="black-forest-labs/FLUX.1-dev",
        license=DEV_LICENSE,
        capabilities=(Capability.TEXT_TO_IMAGE, Capability.GUIDANCE_DISTILLED, Capability.INPAINTING),
        defaults=VariantDefaults(1024, 1024, 28, 3.5, 512),
        limits=_real_limits(max_steps=100, guidance=(0.0, 20.0), max_refs=1, max_tokens=512),
        guidance_mode=GuidanceMode.EMBEDDED,
        inpaint_pipeline_class=INPAINT_PIPELINE,
    ),
    VariantSpec(
        name="flux.1-fill-dev",
        description=(
            "FLUX.1 Fill [dev]: repaints the white region of a mask in one reference image (inpainting and "
            "outpainting); the mask and the masked image are inputs of the transformer. Guidance-distilled; "
            "non-commercial license. Every request needs a mask and one reference image."
        ),
        pipeline_class=FILL_PIPELINE,
        transformer_class="FluxTransformer2DModel",
        hub_id="black-forest-labs/FLUX.1-Fill-dev",
        license=DEV_LICENSE,
        capabilities=(Capability.INPAINTING, Capability.GUIDANCE_DISTILLED),
        defaults=VariantDefaults(1024, 1024, 50, 30.0, 512),
        limits=_real_limits(max_steps=100, guidance=(0.0, 100.0), max_refs=1, max_tokens=512),
        guidance_mode=GuidanceMode.EMBEDDED,
        inpaint_pipeline_class=FILL_PIPELINE,
    ),
    VariantSpec(
        name="flux.1-kontext-dev",
        description=(
            "FLUX.1 Kontext [dev]: edits one reference image as the prompt instructs (text-only generation "
            "also works). Guidance-distilled; non-commercial license."
        ),
        pipeline_class="FluxKontextPipeline",
        transformer_class="FluxTransformer2DModel",
        hub_id="black-forest-labs/FLUX.1-Kontext-dev",
        license=DEV_LICENSE,
        capabilities=(Capability.TEXT_TO_IMAGE, Capability.IMAGE_EDITING, Capability.GUIDANCE_DISTILLED),
        defaults=VariantDefaults(1024, 1024, 28, 2.5, 512),
        limits=_real_limits(max_steps=100, guidance=(0.0, 20.0), max_refs=1, max_tokens=512),
        guidance_mode=GuidanceMode.EMBEDDED,
    ),
    VariantSpec(
        name="flux.2-klein-4b",
        description=(
            "FLUX.2 [klein] 4B: step-distilled FLUX.2 transformer with a Qwen3 text encoder; generates from "
            "text and conditions on up to 4 reference images at once. Apache-2.0."
        ),
        pipeline_class="Flux2KleinPipeline",
        transformer_class="Flux2Transformer2DModel",
        hub_id="black-forest-labs/FLUX.2-klein-4B",
        license="apache-2.0",
        capabilities=(Capability.TEXT_TO_IMAGE, Capability.MULTI_REFERENCE, Capability.FEW_STEP),
        defaults=VariantDefaults(1024, 1024, 4, 1.0, 512),
        limits=_real_limits(max_steps=50, guidance=(0.0, 10.0), max_refs=4, max_tokens=512),
        guidance_mode=GuidanceMode.NONE,
    ),
)

TINY_LIMITS = VariantLimits(
    min_width=64,
    max_width=512,
    min_height=64,
    max_height=512,
    max_pixels=512 * 384,  # 512x512 is refused: keeps CPU runs short
    min_steps=1,
    max_steps=500,
    min_guidance_scale=0.0,
    max_guidance_scale=20.0,
    max_images=8,
    max_reference_images=1,  # the image to inpaint (with a mask)
    max_prompt_tokens=64,
)
TINY_DEFAULTS = VariantDefaults(
    width=256, height=256, num_inference_steps=4, guidance_scale=3.5, max_sequence_length=64
)
TRAINING_MANIFEST = "training_manifest.json"


def _first(mapping: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in mapping and mapping[key] is not None:
            return mapping[key]
    return None


def read_recommended(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Pick the recommended inference settings out of a training manifest.

    The settings may sit at the top level or under ``recommended_inference`` / ``recommended`` /
    ``inference`` / ``defaults``; sizes may be given as ``width``/``height``, ``size`` or ``resolution``;
    ``true_cfg_scale`` is kept apart from ``guidance_scale``. Missing values stay absent.
    """
    section: Mapping[str, Any] = manifest
    for key in ("recommended_inference", "recommended", "inference", "defaults"):
        if isinstance(manifest.get(key), Mapping):
            section = manifest[key]
            break
    found: dict[str, Any] = {}
    steps = _first(section, "num_inference_steps", "steps")
    guidance = _first(section, "guidance_scale", "guidance")
    true_cfg = _first(section, "true_cfg_scale", "cfg_scale")
    size = _first(section, "size", "resolution", "image_size")
    width = _first(section, "width") or size
    height = _first(section, "height") or size
    seq = _first(section, "max_sequence_length") or _first(manifest, "max_sequence_length")
    if steps is not None:
        found["num_inference_steps"] = int(steps)
    if guidance is not None:
        found["guidance_scale"] = float(guidance)
    if true_cfg is not None:
        found["true_cfg_scale"] = float(true_cfg)
    if width is not None:
        found["width"] = int(width[0] if isinstance(width, list | tuple) else width)
    if height is not None:
        found["height"] = int(height[1] if isinstance(height, list | tuple) else height)
    if seq is not None:
        found["max_sequence_length"] = int(seq)
    return found


def image_tokens(width: int, height: int) -> int:
    """Packed latent tokens of a ``width`` x ``height`` image (VAE factor 8, 2x2 packing)."""
    return (width // SIZE_MULTIPLE) * (height // SIZE_MULTIPLE)


def _snap(value: int, lo: int, hi: int) -> int:
    """Clamp to [lo, hi] and round down to a multiple of 16."""
    return max(lo, min(hi, value - value % SIZE_MULTIPLE))


def tiny_flux_spec(pipeline_dir: Path, weights_origin: WeightsOrigin) -> VariantSpec:
    """The ``tiny-flux`` spec for the pipeline saved in ``pipeline_dir``.

    Guidance reaches the model through its guidance embedding when the transformer has one, and as
    true classifier-free guidance otherwise (the trained model learnt an unconditional branch by
    prompt dropout). A training manifest, when present, supplies the recommended defaults.
    """
    transformer_cfg = json.loads((pipeline_dir / "transformer" / "config.json").read_text())
    embedded_guidance = bool(transformer_cfg.get("guidance_embeds", False))
    recommended: dict[str, Any] = {}
    manifest_path = pipeline_dir / TRAINING_MANIFEST
    if manifest_path.is_file():
        recommended = read_recommended(json.loads(manifest_path.read_text()))
    mode = GuidanceMode.EMBEDDED if embedded_guidance else GuidanceMode.TRUE_CFG
    return build_tiny_spec(mode, recommended, weights_origin)


def build_tiny_spec(
    guidance_mode: GuidanceMode = GuidanceMode.EMBEDDED,
    recommended: Mapping[str, Any] | None = None,
    weights_origin: WeightsOrigin = WeightsOrigin.RANDOM,
) -> VariantSpec:
    """The ``tiny-flux`` spec from its guidance mode and recommended settings (clamped to the limits)."""
    recommended = recommended or {}
    lim = TINY_LIMITS
    defaults = TINY_DEFAULTS
    # Without a guidance embedding the scale is the true-CFG scale.
    key = (
        "true_cfg_scale"
        if guidance_mode is GuidanceMode.TRUE_CFG and "true_cfg_scale" in recommended
        else "guidance_scale"
    )
    guidance = float(recommended.get(key, defaults.guidance_scale))
    if not math.isfinite(guidance):
        guidance = defaults.guidance_scale
    seq = int(recommended.get("max_sequence_length", defaults.max_sequence_length))
    steps = int(recommended.get("num_inference_steps", defaults.num_inference_steps))
    defaults = VariantDefaults(
        width=_snap(int(recommended.get("width", defaults.width)), lim.min_width, lim.max_width),
        height=_snap(int(recommended.get("height", defaults.height)), lim.min_height, lim.max_height),
        num_inference_steps=min(lim.max_steps, max(lim.min_steps, steps)),
        guidance_scale=min(lim.max_guidance_scale, max(lim.min_guidance_scale, guidance)),
        max_sequence_length=seq,
    )
    capabilities = [Capability.TEXT_TO_IMAGE, Capability.INPAINTING]
    if guidance_mode is GuidanceMode.TRUE_CFG:
        capabilities.append(Capability.NEGATIVE_PROMPT)
    else:
        capabilities.append(Capability.GUIDANCE_DISTILLED)
    trained = weights_origin is WeightsOrigin.SYNTHETIC_TRAINED
    description = (
        "Embedded tiny FLUX-shaped pipeline (CLIP + T5 + FluxTransformer2DModel + AutoencoderKL at toy "
        "sizes, in-code word-level tokenizers). "
        + (
            "Trained by this project on synthetic expressive faces: it draws cartoon faces showing the "
            "prompted emotion; quality holds only on that domain."
            if trained
            else "Random weights: images are noise-like; for plumbing and speed tests only."
        )
        + f" Prompts over {seq} tokens are truncated."
    )
    return VariantSpec(
        name=TINY_FLUX,
        description=description,
        pipeline_class="FluxPipeline",
        transformer_class="FluxTransformer2DModel",
        hub_id="",
        license="apache-2.0",
        capabilities=tuple(capabilities),
        defaults=defaults,
        limits=replace(lim, max_prompt_tokens=seq),
        guidance_mode=guidance_mode,
        weights_origin=weights_origin,
        quality_domain=SYNTHETIC_DOMAIN if trained else "",
        embedded=True,
        inpaint_pipeline_class=INPAINT_PIPELINE,
    )


def published_variant(name: str) -> VariantSpec | None:
    """The published variant called ``name``, or None."""
    return next((v for v in PUBLISHED_VARIANTS if v.name == name), None)


def known_names() -> list[str]:
    """Names of every variant this code knows, sorted."""
    return sorted([TINY_FLUX, *(v.name for v in PUBLISHED_VARIANTS)])
