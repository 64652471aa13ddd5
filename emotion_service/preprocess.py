"""Image decoding and the model's preprocessing, exactly as ``ViTImageProcessor`` does it.

Decoding turns an encoded image (JPEG, PNG, WebP, BMP, GIF) into uint8 RGB ``HxWx3``: the first frame
of an animation, EXIF orientation applied, grayscale / palette / CMYK / 16-bit converted, alpha dropped
(as ``transformers.image_utils.load_image``, which the Hugging Face pipelines use, does). The pixel
count is read from the header and checked *before* any pixel is decoded, so a decompression bomb costs
nothing. Every problem is an :class:`~servicekit.errors.InvalidInput` that names ``images[i]`` and the limit.

:func:`to_model_input` reproduces ``ViTImageProcessor`` (PIL backend): PIL ``Image.resize`` with the
processor's filter (bilinear, antialiased), then ``x * rescale_factor``, then ``(x - mean) / std``,
channels first. Resizing any other way (OpenCV, no antialias) shifts pixels by up to ~0.5 in normalised
units, so the tests pin this against the real processor.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from emotion_service.bundle import Preprocessing
from servicekit.errors import InvalidInput

# Only these decoders are reachable from client bytes; every extra format is extra attack surface.
# (PIL's JPEG opener also yields MPO, the multi-picture JPEG many cameras write.)
ACCEPTED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "BMP", "GIF")

_RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
}


@dataclass(frozen=True)
class ImageLimits:
    """Per-request input limits (each violation is an ``InvalidInput`` naming the limit)."""

    max_pixels: int = 40_000_000
    max_images: int = 64
    max_request_bytes: int = 32 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("max_pixels", "max_images", "max_request_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


def check_request(num_images: int, num_bytes: int, limits: ImageLimits) -> None:
    """Check a request's image count and total payload bytes against ``limits``."""
    if num_images < 1:
        raise InvalidInput("images: at least one image is required")
    if num_images > limits.max_images:
        raise InvalidInput(f"images: {num_images} images exceed the limit of max_images={limits.max_images}")
    if num_bytes > limits.max_request_bytes:
        raise InvalidInput(
            f"images: {num_bytes} bytes of image data exceed the limit of max_request_bytes={limits.max_request_bytes}"
        )


def _check_pixels(width: int, height: int, *, index: int, limits: ImageLimits) -> None:
    if width <= 0 or height <= 0:
        raise InvalidInput(f"images[{index}]: width and height must be > 0, got {width}x{height}")
    if width * height > limits.max_pixels:
        raise InvalidInput(
            f"images[{index}]: {width}x{height} = {width * height} pixels exceed the limit of "
            f"max_pixels={limits.max_pixels}"
        )


def _sixteen_bit_to_l(img: Image.Image) -> Image.Image:
    """16/32-bit integer or float grayscale -> 8-bit ``L`` by scaling, not clipping (PIL's ``convert`` clips)."""
    arr = np.asarray(img)
    if img.mode == "F":
        scaled = np.clip(arr, 0.0, 1.0) * 255.0 if float(np.nanmax(arr, initial=0.0)) <= 1.0 else np.clip(arr, 0, 255)
    else:
        # "I;16*" and "I" (PIL's container for 16-bit PNG/TIFF gray): full scale is 65535.
        scaled = np.clip(arr.astype(np.float64) / 257.0, 0.0, 255.0)
    return Image.fromarray(np.rint(np.nan_to_num(scaled)).astype(np.uint8), mode="L")


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode -> ``RGB`` as ``transformers.image_utils.load_image`` does (``convert("RGB")``: alpha dropped).

    The one deliberate difference: 16-bit and float grayscale are scaled to 8 bits, where PIL's conversion
    would clip every value above 255 to white.
    """
    if img.mode == "RGB":
        return img
    if img.mode in ("I", "F") or img.mode.startswith("I;16"):
        img = _sixteen_bit_to_l(img)
    return img.convert("RGB")


def decode_image(data: bytes, *, index: int, limits: ImageLimits) -> np.ndarray:
    """Decode encoded image bytes to uint8 RGB ``HxWx3`` with its EXIF orientation applied.

    Raises:
        InvalidInput: empty, unknown format, too many pixels (checked before decoding), truncated or corrupt.
    """
    array = np.asarray(decode_rgb(data, index=index, limits=limits), dtype=np.uint8)
    if array.ndim != 3 or array.shape[2] != 3:
        raise InvalidInput(f"images[{index}]: decoded to unexpected shape {array.shape}")
    return array


def decode_rgb(data: bytes, *, index: int, limits: ImageLimits) -> Image.Image:
    """:func:`decode_image` as an ``RGB`` PIL image: what :func:`to_model_input` resizes, without a numpy round trip.

    Raises:
        InvalidInput: as :func:`decode_image`.
    """
    if not data:
        raise InvalidInput(f"images[{index}]: empty image data")
    if len(data) > limits.max_request_bytes:
        raise InvalidInput(
            f"images[{index}]: {len(data)} bytes exceed the limit of max_request_bytes={limits.max_request_bytes}"
        )
    try:
        # Image.open reads only the header. PIL raises its own DecompressionBombError far above our limit;
        # the explicit check below is what enforces max_pixels.
        img = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError as exc:  # far beyond any sane limit: PIL refuses at the header too
        raise InvalidInput(
            f"images[{index}]: the header declares too many pixels ({exc}); limit max_pixels={limits.max_pixels}"
        ) from exc
    except Exception as exc:  # PIL raises many types for unknown or mangled headers
        raise InvalidInput(
            f"images[{index}]: not a decodable image (accepted formats: {', '.join(ACCEPTED_FORMATS)})"
        ) from exc
    with img:
        width, height = img.size
        _check_pixels(width, height, index=index, limits=limits)
        try:
            img.seek(0)  # first frame of GIF / animated WebP
            img.load()
            oriented = ImageOps.exif_transpose(img)
            rgb = _to_rgb(oriented)
        except InvalidInput:
            raise
        except Exception as exc:  # truncated data, bad chunks, decoder errors of any kind
            raise InvalidInput(f"images[{index}]: corrupt or truncated {img.format} image ({exc})") from exc
    return rgb


def raw_to_array(width: int, height: int, rgb: bytes, *, index: int, limits: ImageLimits) -> np.ndarray:
    """View packed RGB8 bytes (row-major, no padding, ``width*height*3`` long) as uint8 ``HxWx3``.

    Raises:
        InvalidInput: a size <= 0, too many pixels, or a byte length that is not ``width*height*3``.
    """
    _check_pixels(width, height, index=index, limits=limits)
    expected = width * height * 3
    if len(rgb) != expected:
        raise InvalidInput(
            f"images[{index}]: raw RGB8 data is {len(rgb)} bytes; {width}x{height}x3 needs exactly {expected}"
        )
    return np.frombuffer(rgb, dtype=np.uint8).reshape(height, width, 3)


def to_model_input(image: np.ndarray | Image.Image, prep: Preprocessing) -> np.ndarray:
    """uint8 RGB ``HxWx3`` (or an ``RGB`` PIL image) -> float32 ``[3, height, width]``: resized, rescaled, normalised.

    A PIL image is resized as it is: the same pixels as its array, without converting there and back.
    """
    if isinstance(image, Image.Image):
        if image.mode != "RGB":
            raise ValueError(f"expected an RGB image, got mode {image.mode}")
        picture = image
    else:
        rgb = image
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
            raise ValueError(f"expected uint8 HxWx3 RGB, got {rgb.dtype} {rgb.shape}")
        if rgb.shape[0] == prep.height and rgb.shape[1] == prep.width:
            return _normalise(rgb, prep)
        picture = Image.fromarray(np.ascontiguousarray(rgb), mode="RGB")
    if picture.size != (prep.width, prep.height):
        picture = picture.resize((prep.width, prep.height), resample=_RESAMPLE[prep.resample])
    return _normalise(np.asarray(picture), prep)


def _normalise(rgb: np.ndarray, prep: Preprocessing) -> np.ndarray:
    """uint8 RGB ``HxWx3`` at the model's size -> float32 ``[3, H, W]`` rescaled and normalised."""
    # One fused affine per channel: (x * r - m) / s == x * (r / s) - m / s.
    scale = np.asarray([prep.rescale_factor / s for s in prep.image_std], dtype=np.float32)
    shift = np.asarray([m / s for m, s in zip(prep.image_mean, prep.image_std, strict=True)], dtype=np.float32)
    chw = rgb.transpose(2, 0, 1).astype(np.float32)
    out: np.ndarray = chw * scale[:, None, None] - shift[:, None, None]
    return out


def to_model_batch(images: Sequence[np.ndarray], prep: Preprocessing) -> np.ndarray:
    """Several uint8 RGB images -> float32 ``[N, 3, height, width]``."""
    batch = np.empty((len(images), 3, prep.height, prep.width), dtype=np.float32)
    for i, image in enumerate(images):
        batch[i] = to_model_input(image, prep)
    return batch


def softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable softmax over the last axis (float32)."""
    x = np.asarray(logits, dtype=np.float32)
    shifted = x - x.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out
