"""Decoding every supported input, the limits, and preprocessing against the real ViTImageProcessor."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile
from skimage import data as skdata
from transformers import ViTImageProcessor

from emotion_service.bundle import Preprocessing
from emotion_service.preprocess import (
    ImageLimits,
    check_request,
    decode_image,
    decode_rgb,
    raw_to_array,
    softmax,
    to_model_batch,
    to_model_input,
)
from servicekit.errors import InvalidInput

LIMITS = ImageLimits()


def encode(img: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


def gradient(width: int = 40, height: int = 30) -> np.ndarray:
    """An RGB image with distinct rows, columns and channels, so flips and rotations are visible."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // (width - 1), y * 255 // (height - 1), (x + y) % 256], axis=-1).astype(np.uint8)


# --- preprocessing vs transformers ---------------------------------------------------------------


@pytest.mark.parametrize("size", [224, 64])
def test_to_model_input_matches_vit_image_processor(size: int) -> None:
    processor = ViTImageProcessor(
        size={"height": size, "width": size}, resample=2, image_mean=[0.5] * 3, image_std=[0.5] * 3
    )
    prep = Preprocessing.from_processor_config(processor.to_dict())
    assert (prep.height, prep.width, prep.resample) == (size, size, "bilinear")
    rng = np.random.default_rng(0)
    images = [
        skdata.astronaut(),  # 512x512 downscale
        skdata.chelsea(),  # 300x451 non-square
        rng.integers(0, 256, (37, 91, 3), dtype=np.uint8),  # upscale
        rng.integers(0, 256, (640, 480, 3), dtype=np.uint8),  # noise: worst case for resampling
        rng.integers(0, 256, (size, size, 3), dtype=np.uint8),  # already the model size
        np.full((1, 2, 3), 200, dtype=np.uint8),
    ]
    for img in images:
        reference = processor(images=Image.fromarray(img), return_tensors="np")["pixel_values"][0]
        ours = to_model_input(img, prep)
        assert ours.shape == reference.shape == (3, size, size)
        assert ours.dtype == np.float32
        assert np.abs(ours - reference).max() <= 1e-3, img.shape


@pytest.mark.parametrize("size", [224, 64])
def test_decoded_picture_gives_exactly_the_array_input(size: int) -> None:
    """The serving path resizes the decoded PIL image directly: bit-identical to the array path the test above pins."""
    prep = Preprocessing(size, size, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 1 / 255)
    rng = np.random.default_rng(2)
    sources = [
        encode(Image.fromarray(skdata.astronaut()).resize((256, 256)), "JPEG", quality=90),
        encode(Image.fromarray(rng.integers(0, 256, (37, 91, 3), dtype=np.uint8)), "PNG"),
        encode(Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)), "PNG"),
        encode(Image.fromarray(gradient()).quantize(colors=16), "PNG"),
    ]
    for data in sources:
        picture = decode_rgb(data, index=0, limits=LIMITS)
        array = decode_image(data, index=0, limits=LIMITS)
        assert picture.mode == "RGB" and np.array_equal(np.asarray(picture), array)
        np.testing.assert_array_equal(to_model_input(picture, prep), to_model_input(array, prep))
    with pytest.raises(ValueError, match="RGB"):
        to_model_input(Image.new("L", (8, 8)), prep)


def test_preprocessing_uses_antialiased_resize_not_plain_bilinear() -> None:
    """A resize without antialias (OpenCV's INTER_LINEAR) differs a lot on fine detail: the test above must catch it."""
    import cv2

    prep = Preprocessing(224, 224, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 1 / 255)
    img = np.random.default_rng(1).integers(0, 256, (640, 480, 3), dtype=np.uint8)
    plain = cv2.resize(img, (224, 224), interpolation=cv2.INTER_LINEAR).transpose(2, 0, 1) / 127.5 - 1
    assert np.abs(to_model_input(img, prep) - plain).max() > 0.1


def test_preprocessing_from_processor_config_respects_disabled_steps() -> None:
    prep = Preprocessing.from_processor_config(
        {"size": {"height": 32, "width": 48}, "do_normalize": False, "do_rescale": False, "resample": 3}
    )
    assert prep == Preprocessing(32, 48, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), 1.0, "bicubic")
    img = np.full((32, 48, 3), 7, dtype=np.uint8)
    assert np.all(to_model_input(img, prep) == 7.0)
    with pytest.raises(ValueError, match="do_resize"):
        Preprocessing.from_processor_config({"do_resize": False})


def test_to_model_batch_stacks() -> None:
    prep = Preprocessing(16, 16, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 1 / 255)
    imgs = [np.zeros((10, 10, 3), np.uint8), np.full((20, 5, 3), 255, np.uint8)]
    batch = to_model_batch(imgs, prep)
    assert batch.shape == (2, 3, 16, 16)
    assert np.allclose(batch[0], -1.0) and np.allclose(batch[1], 1.0)


def test_softmax_is_stable_and_normalised() -> None:
    probs = softmax(np.array([[1000.0, 1000.0, -1000.0], [0.0, 1.0, 2.0]]))
    assert probs.dtype == np.float32
    assert np.allclose(probs.sum(-1), 1.0)
    assert np.allclose(probs[0], [0.5, 0.5, 0.0])
    assert probs[1].argmax() == 2


# --- decoding ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "exact"), [("PNG", True), ("BMP", True), ("WEBP", False), ("JPEG", False)])
def test_decode_formats(fmt: str, exact: bool) -> None:
    rgb = gradient()
    kwargs = {"lossless": True} if fmt == "WEBP" else {"quality": 95} if fmt == "JPEG" else {}
    out = decode_image(encode(Image.fromarray(rgb), fmt, **kwargs), index=0, limits=LIMITS)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    if exact or fmt == "WEBP":  # lossless WebP is exact too
        assert np.array_equal(out, rgb)
    else:
        assert np.abs(out.astype(int) - rgb).mean() < 4


def test_decode_gif_takes_the_first_frame() -> None:
    red = Image.new("RGB", (20, 10), (255, 0, 0))
    blue = Image.new("RGB", (20, 10), (0, 0, 255))
    data = encode(red, "GIF", save_all=True, append_images=[blue], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    out = decode_image(data, index=0, limits=LIMITS)
    assert out.shape == (10, 20, 3)
    assert tuple(out[5, 5]) == (255, 0, 0)


def test_decode_animated_webp_first_frame() -> None:
    frames = [Image.new("RGB", (16, 16), c) for c in ((0, 255, 0), (255, 0, 255))]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    out = decode_image(data, index=0, limits=LIMITS)
    assert tuple(out[8, 8]) == (0, 255, 0)


@pytest.mark.parametrize(
    ("orientation", "transform"),
    [
        (1, lambda a: a),
        (2, lambda a: a[:, ::-1]),
        (3, lambda a: a[::-1, ::-1]),
        (6, lambda a: np.rot90(a, k=-1)),  # rotate 90 degrees clockwise to display
        (8, lambda a: np.rot90(a, k=1)),
    ],
)
def test_decode_applies_exif_orientation(orientation: int, transform: object) -> None:
    rgb = gradient(40, 30)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(Image.fromarray(rgb), "PNG", exif=exif)
    out = decode_image(data, index=0, limits=LIMITS)
    expected = transform(rgb)  # type: ignore[operator]
    assert out.shape == expected.shape
    assert np.array_equal(out, expected)


def test_decode_exif_orientation_in_jpeg() -> None:
    rgb = gradient(64, 32)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = decode_image(encode(Image.fromarray(rgb), "JPEG", quality=95, exif=exif), index=0, limits=LIMITS)
    assert out.shape == (64, 32, 3)
    assert np.abs(out.astype(int) - np.rot90(rgb, k=-1)).mean() < 4


def test_decode_grayscale_palette_and_alpha() -> None:
    gray = np.arange(256, dtype=np.uint8).reshape(16, 16)
    out = decode_image(encode(Image.fromarray(gray, "L"), "PNG"), index=0, limits=LIMITS)
    assert np.array_equal(out, np.repeat(gray[..., None], 3, axis=-1))

    pal = Image.fromarray(gradient()).quantize(colors=16)
    assert pal.mode == "P"
    out = decode_image(encode(pal, "PNG"), index=0, limits=LIMITS)
    assert np.array_equal(out, np.asarray(pal.convert("RGB")))

    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:4, ..., 3] = 255  # top half opaque red, bottom half fully transparent red
    out = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"), index=0, limits=LIMITS)
    assert tuple(out[0, 0]) == (255, 0, 0)
    assert tuple(out[7, 7]) == (255, 0, 0)  # alpha dropped, as transformers' load_image and the contract say

    la = Image.fromarray(np.stack([gray, np.zeros_like(gray)], -1), "LA")
    assert np.array_equal(decode_image(encode(la, "PNG"), index=0, limits=LIMITS)[..., 1], gray)


def test_decode_cmyk_jpeg() -> None:
    rgb = gradient()
    cmyk = Image.fromarray(rgb).convert("CMYK")
    data = encode(cmyk, "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    out = decode_image(data, index=0, limits=LIMITS)
    assert out.shape == rgb.shape
    assert np.abs(out.astype(int) - rgb).mean() < 6


def test_decode_16_bit_png_scales_instead_of_clipping() -> None:
    values = np.array([[0, 257 * 64, 257 * 128, 65535]], dtype=np.uint16).repeat(4, axis=0)
    img = Image.fromarray(values)
    data = encode(img, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    out = decode_image(data, index=0, limits=LIMITS)
    assert out.shape == (4, 4, 3)
    assert list(out[0, :, 0]) == [0, 64, 128, 255]


def test_decode_16_bit_rgb_png() -> None:
    # A 48-bit RGB PNG written by hand (PIL cannot write one); PIL reads it as 8-bit RGB.
    rgb16 = (gradient(8, 4).astype(np.uint16) * 257).astype(">u2")
    raw = b"".join(b"\x00" + row.tobytes() for row in rgb16)
    data = _png(8, 4, bit_depth=16, color_type=2, idat=zlib.compress(raw))
    out = decode_image(data, index=0, limits=LIMITS)
    assert np.array_equal(out, gradient(8, 4))


# --- limits and bad input ------------------------------------------------------------------------


def _png(width: int, height: int, *, bit_depth: int = 8, color_type: int = 2, idat: bytes) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    # The header claims 8000 x 8000 (192 MB of RGB); the data holds one row. Decoding would allocate the whole
    # image and then fail as truncated; the refusal names max_pixels instead, and Pillow's decoder never runs.
    bomb = _png(8000, 8000, idat=zlib.compress(b"\x00" * (1 + 8000 * 3)))
    loads: list[str] = []
    real_load = ImageFile.ImageFile.load

    def counting_load(self: ImageFile.ImageFile) -> object:
        loads.append(self.format or "?")
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    with pytest.raises(InvalidInput, match=r"images\[2\]: 8000x8000 = 64000000 pixels .*max_pixels=40000000"):
        decode_image(bomb, index=2, limits=LIMITS)
    assert loads == [], "the pixel data was decoded before the size check"
    small = _png(2, 1, idat=zlib.compress(b"\x00" + b"\x10" * 6))
    assert decode_image(small, index=0, limits=LIMITS).shape == (1, 2, 3)
    assert loads and set(loads) == {"PNG"}, "the spy must see a real decode, or the check above proves nothing"


def test_giant_header_is_refused() -> None:
    # 30000 x 30000 is beyond PIL's own hard limit: refused at the header as well, naming the limit.
    bomb = _png(30_000, 30_000, idat=zlib.compress(b"\x00" * (1 + 30_000 * 3)))
    with pytest.raises(InvalidInput, match=r"images\[4\].*too many pixels.*max_pixels=40000000"):
        decode_image(bomb, index=4, limits=LIMITS)


def test_pixel_limit_is_configurable() -> None:
    data = encode(Image.new("RGB", (20, 20)), "PNG")
    assert decode_image(data, index=0, limits=ImageLimits(max_pixels=400)).shape == (20, 20, 3)
    with pytest.raises(InvalidInput, match=r"images\[1\].*max_pixels=399"):
        decode_image(data, index=1, limits=ImageLimits(max_pixels=399))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "empty"),
        (b"not an image at all" * 10, "not a decodable image"),
        (np.random.default_rng(0).bytes(5000), "not a decodable image"),
    ],
)
def test_garbage_is_refused(payload: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=rf"images\[3\].*{message}"):
        decode_image(payload, index=3, limits=LIMITS)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_images_are_refused(fmt: str) -> None:
    data = encode(Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)), fmt)
    with pytest.raises(InvalidInput, match=r"images\[5\]"):
        decode_image(data[: len(data) // 2], index=5, limits=LIMITS)


def test_corrupt_body_is_refused() -> None:
    data = bytearray(encode(Image.fromarray(gradient()), "PNG"))
    data[60:80] = b"\xff" * 20  # inside the IDAT chunk: CRC and zlib stream broken
    with pytest.raises(InvalidInput, match=r"images\[0\]"):
        decode_image(bytes(data), index=0, limits=LIMITS)


def test_unsupported_format_is_refused() -> None:
    data = encode(Image.fromarray(gradient()), "TIFF")
    with pytest.raises(InvalidInput, match=r"images\[0\].*accepted formats: JPEG"):
        decode_image(data, index=0, limits=LIMITS)


def test_image_bytes_limit() -> None:
    data = encode(Image.fromarray(gradient()), "PNG")
    with pytest.raises(InvalidInput, match=r"images\[0\].*max_request_bytes=100"):
        decode_image(data, index=0, limits=ImageLimits(max_request_bytes=100))


def test_raw_rgb8() -> None:
    rgb = gradient(5, 3)
    out = raw_to_array(5, 3, rgb.tobytes(), index=0, limits=LIMITS)
    assert np.array_equal(out, rgb)
    with pytest.raises(InvalidInput, match=r"images\[1\].*44 bytes.*5x3x3 needs exactly 45"):
        raw_to_array(5, 3, rgb.tobytes()[:-1], index=1, limits=LIMITS)
    with pytest.raises(InvalidInput, match=r"images\[2\].*> 0"):
        raw_to_array(0, 3, b"", index=2, limits=LIMITS)
    with pytest.raises(InvalidInput, match=r"images\[3\].*> 0"):
        raw_to_array(4, -1, b"", index=3, limits=LIMITS)
    with pytest.raises(InvalidInput, match=r"images\[4\].*max_pixels=10"):
        raw_to_array(5, 3, rgb.tobytes(), index=4, limits=ImageLimits(max_pixels=10))


def test_request_limits() -> None:
    limits = ImageLimits(max_images=2, max_request_bytes=1000)
    check_request(2, 1000, limits)
    with pytest.raises(InvalidInput, match="max_images=2"):
        check_request(3, 10, limits)
    with pytest.raises(InvalidInput, match="max_request_bytes=1000"):
        check_request(1, 1001, limits)
    with pytest.raises(InvalidInput, match="at least one"):
        check_request(0, 0, limits)
