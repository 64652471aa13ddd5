"""GPU preprocessing on CPU: routing to nvJPEG, the tensor resize/normalise, order and fallback, the serving path.

torchvision (nvJPEG) cannot be installed here: the decoder handed to ``GpuPreprocessor`` is a stand-in for
``torchvision.io.decode_jpeg`` that decodes with PIL (the vendor boundary only); routing, the pixel-limit
check, the CPU fallback, ordering, resizing and normalisation are the module's own code.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skdata

from emotion_service.backends import run_stacked, stack_rows
from emotion_service.backends.gpu_preprocess import GpuPreprocessor, nvjpeg_route, resize_normalise
from emotion_service.backends.ort import IoBindingRunner, OrtBackend
from emotion_service.bundle import Bundle, Preprocessing, load_bundle
from emotion_service.preprocess import ImageLimits, decode_image, to_model_input
from emotion_service.runtime import DevicePreprocessorFactory
from servicekit.errors import InvalidInput
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2 as pb
from tests.emotion_service.serving import probabilities, raw_image, serve, settings_for

PREP = Preprocessing(64, 64, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 1 / 255)
LEVEL = PREP.rescale_factor / PREP.image_std[0]  # one 8-bit level in normalised units


def jpeg(rgb: np.ndarray, *, mode: str = "RGB", orientation: int | None = None, **save: Any) -> bytes:
    img = Image.fromarray(rgb).convert(mode)
    if orientation is not None:
        exif = img.getexif()
        exif[0x0112] = orientation
        save["exif"] = exif.tobytes()
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=90, **save)
    return out.getvalue()


def png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="PNG")
    return out.getvalue()


def test_routing_sends_only_what_nvjpeg_decodes_like_the_cpu_path() -> None:
    rgb = skdata.astronaut()[::4, ::4]
    assert nvjpeg_route(jpeg(rgb)).gpu
    assert nvjpeg_route(jpeg(rgb, progressive=True)).gpu
    assert nvjpeg_route(jpeg(rgb, mode="L")).gpu
    assert nvjpeg_route(jpeg(rgb, orientation=1)).gpu
    assert nvjpeg_route(jpeg(rgb, orientation=6)).reason == "EXIF orientation 6"
    assert nvjpeg_route(jpeg(rgb, mode="CMYK")).reason == "JPEG mode CMYK"
    assert nvjpeg_route(png(rgb)).reason == "format PNG"
    assert not nvjpeg_route(b"\xff\xd8\xff garbage").gpu


@pytest.mark.parametrize("shape", [(512, 512), (300, 451), (37, 91), (64, 64)])
def test_tensor_resize_matches_the_cpu_preprocessing(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    rgb = rng.integers(0, 256, (*shape, 3), dtype=np.uint8) if shape != (512, 512) else skdata.astronaut()
    reference = to_model_input(rgb, PREP)
    ours = resize_normalise(torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))), PREP).numpy()
    diff = np.abs(ours - reference)
    # PIL's 8-bit resize vs torch's: at most one level, on a small fraction of pixels.
    assert diff.max() <= LEVEL + 1e-6
    assert diff.mean() <= 1e-3  # normalised units
    assert (diff > 1e-5).mean() < 0.01


def test_resize_refuses_other_filters_and_layouts() -> None:
    with pytest.raises(ValueError, match="bilinear filter"):
        resize_normalise(
            torch.zeros((3, 8, 8), dtype=torch.uint8), Preprocessing(4, 4, (0,) * 3, (1,) * 3, 1, "bicubic")
        )
    with pytest.raises(ValueError, match=r"expected uint8 \[3, h, w\]"):
        resize_normalise(torch.zeros((8, 8, 3), dtype=torch.uint8), PREP)


def pil_stand_in(calls: list[int]) -> Any:
    """Stands in for torchvision's batched decode_jpeg: uint8 [3, h, w] per JPEG."""

    def decode(datas: list[bytes], device: Any) -> list[torch.Tensor]:
        calls.append(len(datas))
        return [
            torch.from_numpy(np.asarray(Image.open(io.BytesIO(d)).convert("RGB")).transpose(2, 0, 1).copy())
            for d in datas
        ]

    return decode


def test_mixed_batch_keeps_order_decodes_jpegs_in_one_call_and_falls_back() -> None:
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, (40 + 7 * i, 50, 3), dtype=np.uint8) for i in range(5)]
    datas = [
        jpeg(images[0]),
        png(images[1]),
        jpeg(images[2], orientation=3),
        jpeg(images[3]),
        jpeg(images[4], mode="L"),
    ]
    calls: list[int] = []
    pre = GpuPreprocessor(PREP, ImageLimits(), device="cpu", decoder=pil_stand_in(calls))
    out = pre(datas)
    assert calls == [3]  # one batched GPU decode for the three plain JPEGs
    assert [r.gpu for r in pre.routes] == [True, False, False, True, True]
    assert out.shape == (5, 3, 64, 64) and out.dtype == torch.float32
    limits = ImageLimits()
    for i, data in enumerate(datas):
        reference = to_model_input(decode_image(data, index=i, limits=limits), PREP)
        assert np.abs(out[i].numpy() - reference).max() <= LEVEL + 1e-6, i


def test_limits_and_bad_bytes_are_the_cpu_paths_errors() -> None:
    calls: list[int] = []
    big = jpeg(np.zeros((80, 80, 3), np.uint8))
    pre = GpuPreprocessor(PREP, ImageLimits(max_pixels=1000), device="cpu", decoder=pil_stand_in(calls))
    with pytest.raises(InvalidInput, match=r"images\[1\]: 80x80 = 6400 pixels exceed the limit of max_pixels=1000"):
        pre([jpeg(np.zeros((10, 10, 3), np.uint8)), big])
    with pytest.raises(InvalidInput, match=r"images\[0\]: not a decodable image"):
        pre([b"not an image"])
    assert calls == []  # nothing reached the GPU decoder


# -- the serving path: a real server whose whole-image JPEGs take the GPU path (on the CPU device here) --------
def stand_in_factory(calls: list[int]) -> DevicePreprocessorFactory:
    """The runtime's GPU path with only nvJPEG replaced (``GpuPreprocessor`` on the CPU device)."""

    def build(bundle: Bundle, limits: ImageLimits, device: str) -> Any:
        return GpuPreprocessor(bundle.preprocessing, limits, device=device, decoder=pil_stand_in(calls)).run

    return build


async def test_server_sends_whole_image_jpegs_through_the_device_path_with_cpu_parity(tiny_bundle: Path) -> None:
    rng = np.random.default_rng(8)
    pictures = [rng.integers(0, 256, (48 + 9 * i, 64 + 5 * i, 3), dtype=np.uint8) for i in range(4)]
    jpegs = [jpeg(p) for p in pictures]
    settings = settings_for(tiny_bundle, precisions=("fp32",))
    calls: list[int] = []
    async with serve(settings) as cpu, serve(settings, device_preprocessor=("cpu", stand_in_factory(calls))) as dev:
        labels = dev.component.runtime.bundle.labels
        request = pb.ClassifyRequest(images=[pb.Image(data=d) for d in jpegs])
        reference = await cpu.stub.Classify(request, timeout=10)
        ours = await dev.stub.Classify(request, timeout=10)
        assert calls == [4]  # one batched decode for the request's four JPEGs
        assert dev.metric("emoflux_emotion_decoded_images_total", {"decoder": "nvjpeg"}) == 4
        for want, got, picture in zip(reference.results, ours.results, pictures, strict=True):
            assert (got.width, got.height) == (picture.shape[1], picture.shape[0])
            p_dev, p_cpu = probabilities(got.faces[0], labels), probabilities(want.faces[0], labels)
            # Pixels differ by one 8-bit level on under 1 % of them (see the resize test); the scores barely move.
            assert np.abs(p_dev - p_cpu).max() < 1e-2
            assert p_dev.argmax() == p_cpu.argmax()

        # Not for the device path: a PNG in the request (CPU decode inside the device batch), face detection,
        # raw pixels. Each still answers like the CPU server.
        mixed = pb.ClassifyRequest(images=[pb.Image(data=jpegs[0]), pb.Image(data=png(pictures[1]))])
        got_mixed = await dev.stub.Classify(mixed, timeout=10)
        assert calls == [4, 1]
        assert dev.metric("emoflux_emotion_decoded_images_total", {"decoder": "cpu"}) == 1
        assert got_mixed.results[1].width == pictures[1].shape[1]
        detect = pb.ClassifyRequest(images=[pb.Image(data=jpegs[0])], face_mode=pb.FACE_MODE_DETECT)
        await dev.stub.Classify(detect, timeout=10)
        await dev.stub.Classify(pb.ClassifyRequest(images=[raw_image(pictures[2])]), timeout=10)
        assert calls == [4, 1]
        assert dev.metric("emoflux_emotion_decoded_images_total", {"decoder": "cpu"}) == 3

        # Errors are the CPU path's, naming the image.
        bad = pb.ClassifyRequest(images=[pb.Image(data=jpegs[0]), pb.Image(data=b"\xff\xd8\xff not a jpeg")])
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await dev.stub.Classify(bad, timeout=10)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "images[1]" in (caught.value.details() or "")


def test_device_rows_and_host_rows_share_a_batch() -> None:
    rows = [np.full((3, 2, 2), 1.0, np.float32), torch.full((3, 2, 2), 2.0), np.full((3, 2, 2), 3.0, np.float32)]
    batch = stack_rows(rows)
    assert isinstance(batch, torch.Tensor) and batch.shape == (3, 3, 2, 2)
    assert batch[:, 0, 0, 0].tolist() == [1.0, 2.0, 3.0]
    host = stack_rows([rows[0], rows[2]])
    assert isinstance(host, np.ndarray) and host.shape == (2, 3, 2, 2)


def test_io_binding_binds_a_tensor_in_place(tiny_bundle: Path) -> None:
    import onnxruntime as ort

    bundle = load_bundle(tiny_bundle)
    session = ort.InferenceSession(str(bundle.onnx_files["fp32"]), providers=["CPUExecutionProvider"])
    runner = IoBindingRunner(session, session.get_inputs()[0].name, session.get_outputs()[0].name, "cpu")
    pixels = np.random.default_rng(2).standard_normal((3, 3, 64, 64), dtype=np.float32)
    expected = session.run(None, {session.get_inputs()[0].name: pixels})[0]
    np.testing.assert_allclose(runner.run_tensor(torch.from_numpy(pixels)), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="contiguous float32"):
        runner.run_tensor(torch.from_numpy(pixels).double())
    backend = OrtBackend(bundle, device="cpu")  # CPU provider: the tensor is viewed as numpy
    np.testing.assert_allclose(backend.run_device(torch.from_numpy(pixels)), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(run_stacked(backend, torch.from_numpy(pixels)), expected, rtol=1e-5, atol=1e-5)
