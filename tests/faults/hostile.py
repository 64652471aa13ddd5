"""Hypothesis strategies for hostile input: native request messages and image bytes, valid and not.

Image bytes come from two sources: arbitrary bytes, and small valid PNG/JPEG/GIF/BMP/WebP/TIFF files
mutated by flips, truncation, insertion, duplication and PNG header rewrites (the last makes pixel bombs
whose header claims a huge size). Request strategies cover every field of ClassifyRequest and
GenerateRequest with in-range values, edge values and garbage; valid generation requests stay small
(at most 256x256, 4 steps, 2 images) so that a fixed example budget also bounds the time.
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import lru_cache
from typing import Any

import numpy as np
from hypothesis import strategies as st
from PIL import Image

from servicekit.pb.emoflux.emotion.v1 import emotion_pb2
from servicekit.pb.emoflux.image.v1 import image_pb2

UINT32_EDGES = (0, 1, 2, 3, 64, 255, 256, 4096, 65535, 65536, 2**31 - 1, 2**32 - 1)
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")


def uint32s() -> st.SearchStrategy[int]:
    """Small values, edge values and anything in uint32."""
    return st.one_of(st.integers(0, 300), st.sampled_from(UINT32_EDGES), st.integers(0, 2**32 - 1))


@lru_cache(maxsize=1)
def seed_images() -> tuple[bytes, ...]:
    """Small valid files in every format (one is not accepted by the service: TIFF)."""
    rng = np.random.default_rng(7)
    out = []
    for fmt in FORMATS:
        for size in ((32, 32), (80, 60)):
            pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            buffer = io.BytesIO()
            Image.fromarray(pixels).save(buffer, format=fmt)
            out.append(buffer.getvalue())
    return tuple(out)


def one_of_files(files: tuple[bytes, ...] | list[bytes]) -> st.SearchStrategy[bytes]:
    """One of ``files``, drawn by index (a strategy over the bytes themselves has a huge repr)."""
    chosen = tuple(files)
    return st.integers(0, len(chosen) - 1).map(chosen.__getitem__)


def _png_with_size(data: bytes, width: int, height: int) -> bytes:
    """Rewrite the IHDR size of a PNG (and its CRC), keeping the payload."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) < 33:
        return data
    ihdr = bytearray(data[16:29])
    ihdr[0:8] = struct.pack(">II", width, height)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)))
    return data[:16] + bytes(ihdr) + crc + data[33:]


def _mutate(data: bytes, ops: list[tuple[str, int, int, bytes]]) -> bytes:
    buf = bytearray(data)
    for kind, position, size, payload in ops:
        if not buf:
            break
        at = position % len(buf)
        if kind == "flip":
            buf[at] ^= 1 << (size % 8)
        elif kind == "set":
            buf[at] = size % 256
        elif kind == "truncate":
            del buf[at:]
        elif kind == "insert":
            buf[at:at] = payload
        elif kind == "duplicate":
            buf[at:at] = buf[at : at + size]
        elif kind == "delete":
            del buf[at : at + size]
    return bytes(buf)


def mutated_images() -> st.SearchStrategy[bytes]:
    """A valid seed file with up to five mutations, or a PNG whose header lies about its size."""
    op = st.tuples(
        st.sampled_from(("flip", "set", "truncate", "insert", "duplicate", "delete")),
        st.integers(0, 2**16),
        st.integers(0, 512),
        st.binary(max_size=64),
    )
    mutated = st.builds(_mutate, one_of_files(seed_images()), st.lists(op, max_size=5))
    png_seeds = [s for s in seed_images() if s.startswith(b"\x89PNG")]
    bombs = st.builds(_png_with_size, one_of_files(png_seeds), uint32s(), uint32s())
    return st.one_of(mutated, bombs)


def image_bytes() -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, mutated valid files, or valid files as they are."""
    return st.one_of(st.binary(max_size=2048), mutated_images(), one_of_files(seed_images()))


def raw_images() -> st.SearchStrategy[emotion_pb2.RawImage]:
    """RawImage with matching sizes (random pixels) or sizes that lie about the buffer."""

    def exact(width: int, height: int, seed: int) -> emotion_pb2.RawImage:
        pixels = np.random.default_rng(seed).integers(0, 256, width * height * 3, dtype=np.uint8)
        return emotion_pb2.RawImage(width=width, height=height, rgb=pixels.tobytes())

    matching = st.builds(exact, st.integers(1, 64), st.integers(1, 64), st.integers(0, 2**16))
    lying = st.builds(emotion_pb2.RawImage, width=uint32s(), height=uint32s(), rgb=st.binary(max_size=1024))
    return st.one_of(matching, lying)


def images() -> st.SearchStrategy[emotion_pb2.Image]:
    """An Image with encoded data, raw pixels, or no source at all."""
    return st.one_of(
        st.builds(lambda data: emotion_pb2.Image(data=data), image_bytes()),
        st.builds(lambda raw: emotion_pb2.Image(raw=raw), raw_images()),
        st.just(emotion_pb2.Image()),
    )


def precisions() -> st.SearchStrategy[str]:
    """Loaded, unloaded (fp16), unknown and arbitrary precision names."""
    loaded = st.sampled_from(("", "fp32", "int8"))
    return st.one_of(loaded, st.sampled_from(("fp16", "FP32", "bf16", " fp32", "fp32\x00")), st.text(max_size=12))


def decodable_images() -> st.SearchStrategy[emotion_pb2.Image]:
    """An Image the service can decode (a seed in a documented format), so that the options decide."""
    accepted = [s for s in seed_images() if not s.startswith((b"II*\x00", b"MM\x00*"))]
    return st.builds(lambda data: emotion_pb2.Image(data=data), one_of_files(accepted))


def classify_requests(max_images: int) -> st.SearchStrategy[emotion_pb2.ClassifyRequest]:
    """Every ClassifyRequest field: 0 to ``max_images`` + 2 images, any face mode, top_k, threshold, precision.

    Half the image lists hold only decodable images, so that the options, not the pixels, decide the outcome.
    """
    image_lists = st.one_of(
        st.lists(decodable_images(), min_size=1, max_size=max_images), st.lists(images(), max_size=max_images + 2)
    )
    return st.builds(
        emotion_pb2.ClassifyRequest,
        images=image_lists,
        face_mode=st.one_of(st.sampled_from((0, 1, 2)), st.integers(-(2**31), 2**31 - 1)),
        top_k=uint32s(),
        threshold=st.one_of(st.floats(0, 1, width=32), st.floats(width=32)),
        precision=precisions(),
    )


def image_classify_requests() -> st.SearchStrategy[emotion_pb2.ClassifyRequest]:
    """One hostile encoded image per request, whole-image or face detection."""
    return st.builds(
        lambda data, mode: emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=data)], face_mode=mode),
        image_bytes(),
        st.sampled_from((emotion_pb2.FACE_MODE_WHOLE, emotion_pb2.FACE_MODE_DETECT)),
    )


def _generate(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[image_pb2.GenerateRequest]:
    """GenerateRequest from one strategy per field; optional fields are left unset when drawn as None."""

    def build(**values: Any) -> image_pb2.GenerateRequest:
        optional = {k: values.pop(k) for k in ("guidance_scale", "seed", "strength")}
        request = image_pb2.GenerateRequest(**values)
        for name, value in optional.items():
            if value is not None:
                setattr(request, name, value)
        return request

    return st.builds(build, **fields)


def generate_requests() -> st.SearchStrategy[image_pb2.GenerateRequest]:
    """Every GenerateRequest field, half the time in range and half the time anything.

    In-range requests stay cheap: at most 128x128 (or the 256x256 default), 4 steps, 2 images. Hostile
    ones may name huge sizes or step counts; the service must refuse those before running anything.
    """
    valid = _generate(
        {
            "variant": st.sampled_from(("", "tiny-flux")),
            "prompt": st.one_of(
                st.sampled_from(("a happy face", "a surprised face")), st.text(min_size=1, max_size=200)
            ),
            "negative_prompt": st.just(""),
            "width": st.sampled_from((0, 64, 96, 128)),
            "height": st.sampled_from((0, 64, 96, 128)),
            "num_inference_steps": st.integers(0, 3),
            "guidance_scale": st.one_of(st.none(), st.floats(0, 20, width=32)),
            "seed": st.one_of(st.none(), st.integers(0, 2**64 - 1)),
            "num_images": st.integers(0, 2),
            "output_format": st.integers(0, 3),
            "quality": st.integers(0, 100),
            "reference_images": st.just([]),
            "strength": st.none(),
        }
    )
    sizes = st.one_of(st.sampled_from((0, 64, 96, 128)), st.integers(0, 63), st.integers(513, 2**32 - 1))
    hostile = _generate(
        {
            "variant": st.one_of(
                st.sampled_from(("", "tiny-flux", "flux-1-dev", "FLUX", "../etc")), st.text(max_size=10)
            ),
            "prompt": st.one_of(st.sampled_from(("", " ", "a happy face")), st.text(max_size=300)),
            "negative_prompt": st.one_of(st.just(""), st.text(max_size=20)),
            "width": sizes,
            "height": sizes,
            "num_inference_steps": st.one_of(st.integers(0, 3), st.integers(501, 2**32 - 1)),
            "guidance_scale": st.one_of(st.none(), st.floats(width=32)),
            "seed": st.one_of(st.none(), st.integers(0, 2**64 - 1)),
            "num_images": st.one_of(st.integers(0, 2), st.integers(9, 2**32 - 1)),
            "output_format": st.one_of(st.integers(0, 3), st.integers(4, 2**31 - 1)),
            "quality": st.one_of(st.integers(0, 101), st.integers(0, 2**32 - 1)),
            "reference_images": st.lists(image_bytes(), max_size=2),
            "strength": st.one_of(st.none(), st.floats(width=32)),
        }
    )
    return st.one_of(valid, hostile)
