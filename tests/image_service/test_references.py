"""Reference images end to end: FluxKontextPipeline built on the tiny components (random weights)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import grpc
import numpy as np
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

from image_service.sources import ensure_random_tiny
from servicekit.pb.emoflux.image.v1 import image_pb2
from tests.image_service.conftest import MODELS_DIR, Server, decode, running_server, server_settings

pytestmark = pytest.mark.asyncio(loop_scope="module")
KONTEXT = "flux.1-kontext-dev"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[Server]:
    # The tiny pipeline's components are exactly what FluxKontextPipeline takes, so the Kontext code path
    # (reference encoding, latent concatenation, size handling) runs for real with toy weights.
    tiny_dir = ensure_random_tiny(MODELS_DIR)
    settings = server_settings(load_variants=(KONTEXT,), variant_dir=(f"{KONTEXT}={tiny_dir}",), warmup=False)
    async with running_server(settings) as srv:
        yield srv


def encoded(color: tuple[int, int, int], fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 64), color).save(out, format=fmt)
    return out.getvalue()


def edit(**fields) -> image_pb2.GenerateRequest:
    fields.setdefault("prompt", "make the face happy")
    return image_pb2.GenerateRequest(variant=KONTEXT, width=256, height=256, num_inference_steps=2, seed=3, **fields)


async def test_reference_image_conditions_the_output(server: Server) -> None:
    red = await server.stub.Generate(edit(reference_images=[encoded((220, 20, 20))]))
    blue = await server.stub.Generate(edit(reference_images=[encoded((20, 20, 220), "JPEG")]))
    assert (red.images[0].width, red.images[0].height) == (256, 256)
    assert Image.open(io.BytesIO(red.images[0].data)).size == (256, 256)  # Kontext's 1 MP rescale is pinned
    assert np.abs(decode(red.images[0].data) - decode(blue.images[0].data)).max() > 0
    text_only = await server.stub.Generate(edit())
    assert text_only.images[0].data != red.images[0].data and text_only.variant == KONTEXT


async def test_reference_requests_run_alone(server: Server) -> None:
    replies = await asyncio.gather(
        *(server.stub.Generate(edit(reference_images=[encoded((10 * i, 100, 100))])) for i in range(2))
    )
    assert [r.batch_size for r in replies] == [1, 1]


@pytest.mark.parametrize(
    ("images", "message"),
    [
        ([b"definitely not an image"], "reference_images[0]: cannot be decoded"),
        ([encoded((1, 2, 3))[:40]], "reference_images[0]: cannot be decoded"),
        ([encoded((1, 2, 3)), encoded((3, 2, 1))], "reference_images: 2 given"),
        ([b""], "reference_images[0]: empty"),
    ],
)
async def test_bad_reference_images_are_invalid_argument(server: Server, images: list[bytes], message: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await server.stub.Generate(edit(reference_images=images))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and info.value.details().startswith(message)
    health = health_pb2_grpc.HealthStub(server.channel)
    status = (await health.Check(health_pb2.HealthCheckRequest(service=""))).status
    assert status == health_pb2.HealthCheckResponse.SERVING


async def test_a_variant_without_reference_modes_refuses_references(server: Server) -> None:
    # tiny-flux takes one reference image only to inpaint it (with a mask), never two.
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await server.stub.Generate(
            image_pb2.GenerateRequest(prompt="x", width=64, height=64, reference_images=[encoded((1, 1, 1))])
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details().startswith("reference_images:") and "only for inpainting" in info.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as two:
        await server.stub.Generate(
            image_pb2.GenerateRequest(prompt="x", width=64, height=64, reference_images=[encoded((1, 1, 1))] * 2)
        )
    assert two.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "accepts at most 1" in two.value.details()
