"""The onnx backend end to end: the exported tiny transformer on ONNX Runtime (CPU EP) inside a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest
import pytest_asyncio

from image_service.encoding import encode_image
from image_service.generation import run_batch
from image_service.jobs import ImageFormat
from servicekit.pb.emoflux.image.v1 import image_pb2
from tests.image_service.conftest import Server, decode, make_job, running_server, server_settings

pytestmark = pytest.mark.asyncio(loop_scope="module")
# Documented tolerance: ONNX Runtime vs PyTorch images differ by at most 1 level of 255 per channel
# (the export's float parity is ~3e-6; a value on a rounding boundary can flip).
ONNX_TOLERANCE = 1


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def onnx_server() -> AsyncIterator[Server]:
    async with running_server(server_settings(backend="onnx")) as srv:
        yield srv


def torch_pixels(tiny_loaded, **options) -> list[np.ndarray]:
    job = make_job(tiny_loaded, **options)
    report = run_batch(tiny_loaded, [job], lambda _j, _e: None)
    assert report.outputs is not None
    # Through PNG like the server, so both sides are compared as decoded images.
    return [decode(encode_image(p, ImageFormat.PNG, 90, {})) for p in report.outputs[0].images]


@pytest.mark.parametrize("size", [64, 256])
async def test_onnx_images_match_torch(onnx_server: Server, tiny_loaded, size: int) -> None:
    options = {"prompt": "a surprised face", "seed": 21, "width": size, "height": size, "num_inference_steps": 3}
    reply = await onnx_server.stub.Generate(image_pb2.GenerateRequest(num_images=3, **options))
    assert reply.backend == "onnxruntime-cpu" and len(reply.images) == 3
    expected = torch_pixels(tiny_loaded, num_images=3, **options)
    for image, reference in zip(reply.images, expected, strict=True):
        got = decode(image.data)
        assert got.shape == (size, size, 3)
        assert np.abs(got - reference).max() <= ONNX_TOLERANCE


async def test_onnx_same_seed_same_bytes_and_streams(onnx_server: Server) -> None:
    req = image_pb2.GenerateRequest(prompt="a fearful face", seed=5, width=64, height=64, num_inference_steps=3)
    first = await onnx_server.stub.Generate(req)
    again = await onnx_server.stub.Generate(req)
    assert first.images[0].data == again.images[0].data
    kinds = [e.WhichOneof("event") async for e in onnx_server.stub.GenerateStream(
        image_pb2.GenerateStreamRequest(request=req))]  # fmt: skip
    assert kinds.count("step") == 3 and kinds[-1] == "completed"
    variants = await onnx_server.stub.ListVariants(image_pb2.ListVariantsRequest())
    tiny = next(v for v in variants.variants if v.name == "tiny-flux")
    assert tiny.backend == "onnxruntime-cpu" and tiny.loaded
