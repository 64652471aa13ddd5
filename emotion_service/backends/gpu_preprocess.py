"""Decode and preprocess on the GPU: nvJPEG through torchvision, then resize and normalise as tensors.

On a GPU the CPU becomes the classifier's bottleneck: decoding and resizing an ordinary photo costs
milliseconds of CPU, more than the GPU's share of the model. :class:`GpuPreprocessor` decodes the JPEGs
nvJPEG takes in one batched ``torchvision.io.decode_jpeg(device="cuda")`` call, sends every other image
through the CPU decoder (:func:`emotion_service.preprocess.decode_image`, which also owns the error
messages), and resizes and normalises on the device, returning ``[N, 3, H, W]`` float32 on the device.

The decisions are plain functions tested on CPU: :func:`nvjpeg_route` (which bytes go to nvJPEG, from
the header alone) and :func:`resize_normalise` (the processor's antialiased bilinear resize, rounded to
8 bits as PIL does, then one affine per channel). torchvision is imported only when a GPU decoder is
built, so CPU installs never need it.

Parity with the CPU path: the resize matches PIL to at most one 8-bit level on a fraction of a percent
of pixels, and nvJPEG's IDCT and chroma upsampling differ from libjpeg's by a few levels; the GPU check
(tools/gpu_check.py) measures both against :func:`~emotion_service.preprocess.to_model_input` and the
classifier's probabilities.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from emotion_service.bundle import Preprocessing
from emotion_service.preprocess import ImageLimits, _check_pixels, decode_image
from servicekit.errors import InvalidInput

EXIF_ORIENTATION = 0x0112
# PIL modes of the JPEGs nvJPEG decodes to the same RGB as the CPU path (grey and YCbCr; not CMYK/YCCK).
NVJPEG_MODES: frozenset[str] = frozenset({"L", "RGB"})


@dataclass(frozen=True)
class Route:
    """Which decoder an image goes to, and why (reported by the GPU check)."""

    gpu: bool
    reason: str


def nvjpeg_route(data: bytes) -> Route:
    """Decide from the header alone whether nvJPEG decodes ``data`` exactly as the CPU path would.

    Only plain JPEG (not MPO) in grey or YCbCr, with no EXIF rotation (the CPU path applies it; the GPU
    decoder does not) goes to the GPU; everything else, including bytes PIL cannot open, takes the CPU
    path, which decodes or raises the usual InvalidInput.
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format != "JPEG":
                return Route(False, f"format {img.format}")
            if img.mode not in NVJPEG_MODES:
                return Route(False, f"JPEG mode {img.mode}")
            orientation = img.getexif().get(EXIF_ORIENTATION, 1)
            if orientation not in (0, 1):
                return Route(False, f"EXIF orientation {orientation}")
            return Route(True, "JPEG")
    except Exception:  # unknown or corrupt header: the CPU decoder reports it properly
        return Route(False, "not an image PIL opens")


def affine(prep: Preprocessing) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel ``(scale, shift)`` with ``(x * rescale - mean) / std == x * scale - shift``."""
    scale = np.asarray([prep.rescale_factor / s for s in prep.image_std], dtype=np.float32)
    shift = np.asarray([m / s for m, s in zip(prep.image_mean, prep.image_std, strict=True)], dtype=np.float32)
    return scale, shift


def resize_normalise(image: torch.Tensor, prep: Preprocessing) -> torch.Tensor:
    """uint8 ``[3, h, w]`` torch tensor (any device) -> float32 ``[3, H, W]`` like ``to_model_input``.

    Antialiased bilinear resize (PIL's filter for downscaling), rounded and clamped to 8 bits because
    PIL resizes in 8 bits, then the processor's rescale and normalisation as one affine per channel.
    """
    if image.dtype != torch.uint8 or image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"expected uint8 [3, h, w], got {image.dtype} {tuple(image.shape)}")
    if prep.resample != "bilinear":
        raise ValueError(f"GPU preprocessing implements the bilinear filter, the bundle asks {prep.resample!r}")
    pixels = image
    if tuple(image.shape[1:]) != (prep.height, prep.width):
        if image.device.type == "cpu":
            # torch's uint8 CPU kernel follows PIL's fixed-point arithmetic.
            pixels = F.interpolate(image[None], size=(prep.height, prep.width), mode="bilinear", antialias=True)[0]
        else:
            resized = F.interpolate(
                image[None].float(), size=(prep.height, prep.width), mode="bilinear", antialias=True
            )[0]
            pixels = resized.round_().clamp_(0, 255)
    scale, shift = affine(prep)
    s = torch.as_tensor(scale, device=image.device)[:, None, None]
    b = torch.as_tensor(shift, device=image.device)[:, None, None]
    return pixels.float() * s - b


JpegDecoder = Callable[[list[bytes], Any], list[Any]]
"""Decodes several JPEGs to uint8 ``[3, h, w]`` tensors on a device (torchvision's nvJPEG on GPUs)."""


def torchvision_decoder() -> JpegDecoder:
    """Batched ``torchvision.io.decode_jpeg`` (nvJPEG on a CUDA device); ImportError without torchvision."""
    from torchvision.io import ImageReadMode, decode_jpeg

    def decode(datas: list[bytes], device: Any) -> list[Any]:
        tensors = [torch.frombuffer(bytearray(d), dtype=torch.uint8) for d in datas]
        decoded = decode_jpeg(tensors, mode=ImageReadMode.RGB, device=device)
        return list(decoded)

    return decode


class GpuPreprocessor:
    """Encoded images -> float32 ``[N, 3, H, W]`` on ``device``: nvJPEG where it applies, the CPU path elsewhere."""

    def __init__(
        self,
        prep: Preprocessing,
        limits: ImageLimits,
        *,
        device: str = "cuda",
        decoder: JpegDecoder | None = None,
    ) -> None:
        self.prep = prep
        self.limits = limits
        self.device = torch.device(device)
        self._decode = decoder if decoder is not None else torchvision_decoder()
        self.routes: list[Route] = []

    def __call__(self, datas: Sequence[bytes]) -> Any:
        """Decode and preprocess ``datas`` in order; InvalidInput (from the CPU path) names ``images[i]``."""
        return self.run(datas).pixels

    def run(self, datas: Sequence[bytes]) -> DevicePixels:
        """Like calling the preprocessor, with each image's decoded size (the serving path reports it).

        The work is finished on the device before returning (a stream synchronisation), so the batch may be
        handed to another thread and another library's CUDA stream (ONNX Runtime's) without a race.
        """
        self.routes = [nvjpeg_route(d) for d in datas]
        on_gpu = [i for i, r in enumerate(self.routes) if r.gpu]
        images: dict[int, Any] = {}
        for i, route in enumerate(self.routes):
            if not route.gpu:
                rgb = decode_image(datas[i], index=i, limits=self.limits)
                images[i] = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).to(self.device)
        if on_gpu:
            for i in on_gpu:  # the header's pixel limit, as the CPU path checks it, before any decoding
                decode_image_header_check(datas[i], index=i, limits=self.limits)
            for i, tensor in zip(on_gpu, self._decode([datas[i] for i in on_gpu], self.device), strict=True):
                images[i] = tensor
        out = torch.empty((len(datas), 3, self.prep.height, self.prep.width), dtype=torch.float32, device=self.device)
        for i in range(len(datas)):
            out[i] = resize_normalise(images[i], self.prep)
        if self.device.type == "cuda":
            torch.cuda.current_stream(self.device).synchronize()
        sizes = tuple((int(images[i].shape[2]), int(images[i].shape[1])) for i in range(len(datas)))
        return DevicePixels(out, sizes, tuple(r.gpu for r in self.routes))


@dataclass(frozen=True)
class DevicePixels:
    """A preprocessed batch on the device, with each image's decoded ``(width, height)`` and decoder."""

    pixels: Any
    """float32 ``[N, 3, H, W]`` torch tensor on the preprocessor's device."""
    sizes: tuple[tuple[int, int], ...]
    on_gpu: tuple[bool, ...]
    """Per image: True when nvJPEG decoded it, False when it took the CPU decoder."""


def decode_image_header_check(data: bytes, *, index: int, limits: ImageLimits) -> None:
    """The CPU path's byte and pixel limits, from the header only (InvalidInput naming ``images[index]``)."""
    if len(data) > limits.max_request_bytes:
        raise InvalidInput(
            f"images[{index}]: {len(data)} bytes exceed the limit of max_request_bytes={limits.max_request_bytes}"
        )
    with Image.open(io.BytesIO(data)) as img:
        _check_pixels(img.size[0], img.size[1], index=index, limits=limits)
