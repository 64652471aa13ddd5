"""Image encoding of outputs (PNG with text chunks, JPEG, WebP) and decoding of reference images."""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping

import numpy as np
from PIL import Image, PngImagePlugin

from image_service.jobs import ImageFormat
from servicekit.errors import InvalidInput

# Reference images larger than this many pixels are refused before decoding (decompression bombs).
MAX_REFERENCE_PIXELS = 64 * 1024 * 1024


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float HxWx3 in [0, 1] to uint8, rounding like diffusers' ``numpy_to_pil``."""
    return np.asarray((np.clip(image, 0.0, 1.0) * 255).round(), dtype=np.uint8)


def encode_image(pixels: np.ndarray, fmt: ImageFormat, quality: int, text: Mapping[str, str]) -> bytes:
    """Encode uint8 HxWx3 ``pixels``; PNG carries ``text`` as tEXt/iTXt chunks.

    Encoding is deterministic: the same pixels and options give the same bytes.
    """
    image = Image.fromarray(pixels, mode="RGB")
    out = io.BytesIO()
    if fmt is ImageFormat.PNG:
        info = PngImagePlugin.PngInfo()
        for key, value in text.items():
            if value.isascii():
                info.add_text(key, value)
            else:
                info.add_itxt(key, value)  # UTF-8 text needs an iTXt chunk
        image.save(out, format="PNG", pnginfo=info)
    elif fmt is ImageFormat.JPEG:
        image.save(out, format="JPEG", quality=quality)
    else:
        image.save(out, format="WEBP", quality=quality, method=4)
    return out.getvalue()


def png_text(data: bytes) -> dict[str, str]:
    """The text chunks of a PNG (for tests and clients)."""
    with Image.open(io.BytesIO(data)) as image:
        return {str(k): str(v) for k, v in getattr(image, "text", {}).items()}


def decode_reference(data: bytes, index: int) -> Image.Image:
    """Decode reference image ``index`` to RGB (first frame of animations); InvalidInput if it cannot be."""
    field = f"reference_images[{index}]"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_REFERENCE_PIXELS:
                    raise InvalidInput(
                        f"{field}: {width}x{height} pixels exceeds the reference limit {MAX_REFERENCE_PIXELS}"
                    )
                image.seek(0)
                return image.convert("RGB")
    except InvalidInput:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidInput(f"{field}: cannot be decoded as an image ({exc.__class__.__name__})") from None
