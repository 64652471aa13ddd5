"""huggingface_hub against the gateway in front of the REAL emotion service (tiny bundle)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import aiohttp
import grpc
import pytest
import pytest_asyncio
from huggingface_hub import InferenceClient
from huggingface_hub.errors import HfHubHTTPError
from PIL import Image

from gateway.component import GatewayComponent
from gateway.settings import GatewaySettings
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2, emotion_pb2_grpc
from tests.gateway.services import OPEN_ACCESS, emotion_server, require_services

# One set of servers for the module: loading the models is most of the cost.
pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack() -> AsyncIterator[tuple[GatewayComponent, str]]:
    require_services("emotion_service")
    async with emotion_server() as emotion:
        address = f"127.0.0.1:{emotion.port}"
        gateway = GatewayComponent(GatewaySettings(**OPEN_ACCESS, port=0, emotion_addresses=address, access_log=False))
        await gateway.start()
        try:
            yield gateway, address
        finally:
            await gateway.stop()


def _png(color: tuple[int, int, int] = (180, 120, 90)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), color).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_classification_matches_the_native_api(stack: tuple[GatewayComponent, str]) -> None:
    gateway, address = stack
    image = _png()
    client = InferenceClient(model=f"{gateway.url}/models/emotion")
    top5 = await asyncio.to_thread(client.image_classification, image)
    every = await asyncio.to_thread(client.image_classification, image, top_k=7)
    async with grpc.aio.insecure_channel(address) as channel:
        stub = emotion_pb2_grpc.EmotionServiceStub(channel)
        native = await stub.Classify(emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=image)]), timeout=30)
        info = await stub.GetModelInfo(emotion_pb2.GetModelInfoRequest(), timeout=30)
    expected = [(s.label, s.score) for s in native.results[0].faces[0].scores]
    assert len(top5) == 5 and len(every) == len(info.labels) == 7
    assert [(r.label, r.score) for r in every] == [(label, pytest.approx(score, abs=1e-6)) for label, score in expected]
    assert [r.label for r in top5] == [label for label, _ in expected[:5]]
    assert sum(r.score for r in every) == pytest.approx(1.0, abs=1e-4)
    assert {r.label for r in every} == set(info.labels)


async def test_bad_image_is_a_400_with_the_service_message(stack: tuple[GatewayComponent, str]) -> None:
    client = InferenceClient(model=f"{stack[0].url}/models/emotion")
    with pytest.raises(HfHubHTTPError) as info:
        await asyncio.to_thread(client.image_classification, b"this is not an image")
    assert info.value.response.status_code == 400
    assert "images[0]" in str(info.value)


async def test_model_info_and_degraded_health(stack: tuple[GatewayComponent, str]) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{stack[0].url}/models/emotion") as r:
            info = await r.json()
        # No image_service behind this gateway: health names it and answers 503.
        async with session.get(f"{stack[0].url}/health") as r:
            assert r.status == 503
            upstreams = (await r.json())["upstreams"]
    assert len(info["model_info"]["labels"]) == 7
    assert upstreams["emoflux.emotion.v1.EmotionService"] == "SERVING"
    assert upstreams["emoflux.image.v1.ImageService"] != "SERVING"


async def test_parameters_travel_as_base64_json(stack: tuple[GatewayComponent, str]) -> None:
    gateway, address = stack
    image = _png((40, 200, 90))
    client = InferenceClient(model=f"{gateway.url}/models/emotion")
    top2 = await asyncio.to_thread(client.image_classification, image, top_k=2)
    async with grpc.aio.insecure_channel(address) as channel:
        stub = emotion_pb2_grpc.EmotionServiceStub(channel)
        native = await stub.Classify(
            emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=image)], top_k=2), timeout=30
        )
    assert [(r.label, r.score) for r in top2] == [
        (s.label, pytest.approx(s.score, abs=1e-6)) for s in native.results[0].faces[0].scores
    ]
    assert len(top2) == 2 and top2[0].score >= top2[1].score
    with pytest.raises(HfHubHTTPError) as info:
        await asyncio.to_thread(client.image_classification, image, function_to_apply="sigmoid")
    assert info.value.response.status_code == 400 and "function_to_apply" in str(info.value)
