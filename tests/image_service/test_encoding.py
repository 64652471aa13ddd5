import io

import numpy as np
import pytest
from PIL import Image

from image_service.encoding import decode_reference, encode_image, png_text, to_uint8
from image_service.jobs import ImageFormat
from servicekit.errors import InvalidInput


def pixels(seed: int = 0, size: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    smooth = rng.random((size // 8, size // 8, 3))
    return to_uint8(np.kron(smooth, np.ones((8, 8, 1))))


def test_to_uint8_rounds_and_clips() -> None:
    out = to_uint8(np.array([[[-0.5, 0.5, 1.5]]], dtype=np.float32))
    assert out.dtype == np.uint8 and out.tolist() == [[[0, 128, 255]]]


def test_png_carries_text_chunks_and_is_deterministic() -> None:
    text = {"prompt": "a happy face ☺", "seed": "7", "steps": "4", "variant": "tiny-flux"}
    first = encode_image(pixels(), ImageFormat.PNG, 90, text)
    assert first == encode_image(pixels(), ImageFormat.PNG, 90, text)
    assert png_text(first) == text
    decoded = np.asarray(Image.open(io.BytesIO(first)))
    assert np.array_equal(decoded, pixels())  # lossless


@pytest.mark.parametrize(("fmt", "pil_format"), [(ImageFormat.JPEG, "JPEG"), (ImageFormat.WEBP, "WEBP")])
def test_lossy_formats_honour_quality(fmt: ImageFormat, pil_format: str) -> None:
    low = encode_image(pixels(1, 128), fmt, 10, {})
    high = encode_image(pixels(1, 128), fmt, 95, {})
    assert Image.open(io.BytesIO(low)).format == pil_format
    assert len(low) < len(high)


def test_reference_images_decode_to_rgb() -> None:
    buf = io.BytesIO()
    Image.new("L", (40, 30), 128).save(buf, format="GIF")
    image = decode_reference(buf.getvalue(), 0)
    assert image.mode == "RGB" and image.size == (40, 30)


@pytest.mark.parametrize("data", [b"not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20])
def test_corrupt_reference_images_are_invalid_input(data: bytes) -> None:
    with pytest.raises(InvalidInput, match=r"reference_images\[2\]: cannot be decoded"):
        decode_reference(data, 2)


def test_truncated_reference_image_is_invalid_input() -> None:
    buf = io.BytesIO()
    Image.fromarray(pixels(2, 128)).save(buf, format="PNG")
    with pytest.raises(InvalidInput, match=r"reference_images\[0\]"):
        decode_reference(buf.getvalue()[: len(buf.getvalue()) // 2], 0)
