"""Inpainting: the mask input, the inpainting pipeline built from a loaded one, and the final composite.

The inpainting pipeline (``FluxInpaintPipeline`` for ordinary FLUX weights, ``FluxFillPipeline`` for
FLUX.1 Fill) is built once per variant with ``from_pipe`` from the loaded pipeline's modules, so it
shares their weights, adapters and backend: nothing is loaded twice. The pipeline blends the kept
region in latent space (at 1/8 resolution, then through the VAE), which changes kept pixels by a
few levels and smears the mask edge; the result is therefore composited in pixel space with the same
binarised mask, so pixels outside the mask come back exactly as in the (resized) reference.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
from PIL import Image

from image_service.encoding import MAX_REFERENCE_PIXELS
from servicekit.errors import InvalidInput

MASK_THRESHOLD = 128  # diffusers binarises masks at 0.5; grey levels split here the same way


def denoising_steps(num_inference_steps: int, strength: float) -> int:
    """Steps an inpainting run actually takes: diffusers skips the first ``(1 - strength)`` share."""
    init = min(num_inference_steps * strength, num_inference_steps)
    return num_inference_steps - int(max(num_inference_steps - init, 0))


def decode_mask(data: bytes, reference_size: tuple[int, int]) -> Image.Image:
    """Decode the mask to a binary "L" image (255 = repaint); InvalidInput naming ``mask`` otherwise.

    The mask must have the reference image's size and at least one white pixel.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_REFERENCE_PIXELS:
                    raise InvalidInput(f"mask: {width}x{height} pixels exceeds the limit {MAX_REFERENCE_PIXELS}")
                image.seek(0)
                grey = image.convert("L")
    except InvalidInput:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidInput(f"mask: cannot be decoded as an image ({exc.__class__.__name__})") from None
    if grey.size != reference_size:
        raise InvalidInput(
            f"mask: {grey.size[0]}x{grey.size[1]} differs from reference_images[0] "
            f"{reference_size[0]}x{reference_size[1]} (must be the same size)"
        )
    binary = np.asarray(grey) >= MASK_THRESHOLD
    if not binary.any():
        raise InvalidInput("mask: has no white pixel (white marks the region to repaint)")
    return Image.fromarray(np.where(binary, 255, 0).astype(np.uint8), mode="L")


def fit_inputs(reference: Image.Image, mask: Image.Image, width: int, height: int) -> tuple[Image.Image, Image.Image]:
    """Reference and mask at the output size.

    The reference is resampled with Lanczos (as diffusers does), the mask by nearest neighbour so it
    stays binary.
    """
    size = (width, height)
    if reference.size != size:
        reference = reference.resize(size, Image.Resampling.LANCZOS)
    if mask.size != size:
        mask = mask.resize(size, Image.Resampling.NEAREST)
    return reference, mask


def composite(generated: np.ndarray, reference: Image.Image, mask: Image.Image) -> np.ndarray:
    """Generated uint8 pixels where the mask is white, the reference's pixels everywhere else."""
    keep = (np.asarray(mask) < MASK_THRESHOLD)[..., None]
    return np.where(keep, np.asarray(reference.convert("RGB")), generated).astype(np.uint8)


def inpaint_pipeline(loaded: Any) -> Any:
    """The variant's inpainting pipeline, built on first use from the loaded pipeline's modules."""
    if loaded.inpaint_pipe is None:
        from image_service.pipeline import pipeline_class

        cls = pipeline_class(loaded.spec.inpaint_pipeline_class)
        pipe = loaded.pipe
        if isinstance(pipe, cls):
            loaded.inpaint_pipe = pipe  # FLUX.1 Fill: the loaded pipeline already inpaints
        else:
            inpaint = cls.from_pipe(pipe)  # same module objects: no weights are loaded or copied
            inpaint.set_progress_bar_config(disable=True)
            loaded.inpaint_pipe = inpaint
    return loaded.inpaint_pipe
