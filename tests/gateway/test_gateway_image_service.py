"""huggingface_hub text_to_image against the gateway in front of the REAL image service (tiny-flux).

The real emotion service sits behind the same gateway, so health, model info and metrics see both.
The embedded tiny-flux pipeline loads in seconds: these run in the default suite.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from huggingface_hub import InferenceClient
from huggingface_hub.errors import HfHubHTTPError
from PIL import Image

from gateway.component import GatewayComponent
from gateway.settings import GatewaySettings
from tests.gateway.services import OPEN_ACCESS, emotion_server, image_server, require_services

# One set of servers for the module: loading the models is most of the cost.
pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def url() -> AsyncIterator[str]:
    require_services("image_service", "emotion_service")
    async with image_server() as image, emotion_server() as emotion:
        settings = GatewaySettings(
            **OPEN_ACCESS,
            port=0,
            image_addresses=f"127.0.0.1:{image.port}",
            emotion_addresses=f"127.0.0.1:{emotion.port}",
            generate_timeout_seconds=120.0,
            access_log=False,
        )
        gateway = GatewayComponent(settings)
        await gateway.start()
        try:
            yield gateway.url
        finally:
            await gateway.stop()


async def test_text_to_image_honours_size_and_seed(url: str) -> None:
    client = InferenceClient(model=f"{url}/models/flux")
    image = await asyncio.to_thread(
        client.text_to_image, "a happy face", height=64, width=96, num_inference_steps=2, guidance_scale=3.0, seed=11
    )
    assert image.size == (96, 64)
    payload = {"inputs": "a happy face", "parameters": {"height": 64, "width": 64, "num_inference_steps": 2, "seed": 5}}
    async with aiohttp.ClientSession() as session:
        bodies = []
        for _ in range(2):
            async with session.post(f"{url}/models/flux", json=payload, headers={"Accept": "image/png"}) as r:
                assert r.status == 200 and r.content_type == "image/png"
                assert r.headers["X-Seed"] == "5" and r.headers["X-Variant"] == "tiny-flux"
                bodies.append(await r.read())
    assert bodies[0] == bodies[1], "same seed must give identical bytes"
    assert Image.open(io.BytesIO(bodies[0])).size == (64, 64)


async def test_generation_errors_come_from_the_service(url: str) -> None:
    client = InferenceClient(model=f"{url}/models/flux")
    with pytest.raises(HfHubHTTPError) as info:
        await asyncio.to_thread(client.text_to_image, "x", width=100, height=64, num_inference_steps=1)
    assert info.value.response.status_code == 400 and "width" in str(info.value)
    unknown = InferenceClient(model=f"{url}/models/flux/no-such-variant")
    with pytest.raises(HfHubHTTPError) as info:
        await asyncio.to_thread(unknown.text_to_image, "x", num_inference_steps=1)
    assert info.value.response.status_code == 404
    async with aiohttp.ClientSession() as session, session.get(f"{url}/models/flux") as r:
        variants = (await r.json())["variants"]
    tiny = next(v for v in variants["variants"] if v["name"] == "tiny-flux")
    negative = await asyncio.to_thread(
        _status, client, "x", negative_prompt="blurry", width=64, height=64, num_inference_steps=1
    )
    assert negative == (200 if "CAPABILITY_NEGATIVE_PROMPT" in tiny["capabilities"] else 400)


def _status(client: InferenceClient, prompt: str, **kwargs: object) -> int:
    try:
        client.text_to_image(prompt, **kwargs)  # type: ignore[arg-type]
    except HfHubHTTPError as exc:
        return int(exc.response.status_code)
    return 200


async def test_every_parameter_reaches_the_service(url: str) -> None:
    client = InferenceClient(model=f"{url}/models/flux")
    payload = {
        "inputs": "a surprised face",
        "parameters": {"height": 64, "width": 80, "num_inference_steps": 3, "guidance_scale": 2.0, "seed": 7},
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/models/flux", json=payload, headers={"Accept": "image/png"}) as r,
    ):
        assert r.status == 200 and r.content_type == "image/png"
        assert r.headers["X-Seed"] == "7" and r.headers["X-Variant"] == "tiny-flux"
        body = await r.read()
    image = Image.open(io.BytesIO(body))
    assert image.size == (80, 64) and image.format == "PNG"
    # The PNG's text chunks are written by the service from what it actually used.
    assert image.text["prompt"] == "a surprised face" and image.text["seed"] == "7" and image.text["steps"] == "3"
    assert image.text["guidance_scale"] == "2" and image.text["size"] == "80x64"
    same = await asyncio.to_thread(
        client.text_to_image, "a surprised face", height=64, width=80, num_inference_steps=3, guidance_scale=2.0, seed=7
    )
    assert same.tobytes() == image.convert(same.mode).tobytes()


async def test_variant_path_and_jpeg_accept(url: str) -> None:
    payload = {"inputs": "x", "parameters": {"width": 64, "height": 64, "num_inference_steps": 1}}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/models/flux/tiny-flux", json=payload, headers={"Accept": "image/jpeg"}) as r:
            assert r.status == 200 and r.content_type == "image/jpeg"
            assert r.headers["X-Variant"] == "tiny-flux" and r.headers["X-Seed"].isdigit()
            assert Image.open(io.BytesIO(await r.read())).format == "JPEG"
        async with session.post(f"{url}/models/flux/nope", json=payload) as r:
            assert r.status == 404 and "variant" in (await r.json())["error"]
        bad = {"inputs": "x", "parameters": {"width": 40}}
        async with session.post(f"{url}/models/flux", json=bad) as r:
            assert r.status == 400
            message = (await r.json())["error"]
    assert "width" in message and "16" in message, message


async def test_model_info_health_and_metrics(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/models/emotion") as r:
            info = await r.json()
        async with session.get(f"{url}/models/flux") as r:
            variants = (await r.json())["variants"]
        async with session.get(f"{url}/health") as r:
            assert r.status == 200
            assert set((await r.json())["upstreams"].values()) == {"SERVING"}
        async with session.get(f"{url}/metrics") as r:
            text = await r.text()
    assert info["pipeline_tag"] == "image-classification" and len(info["model_info"]["labels"]) == 7
    assert variants["default_variant"] == "tiny-flux"
    assert 'emoflux_gateway_http_requests_total{code="200",method="POST",route="/models/{model}"}' in text
    assert "emoflux_gateway_http_request_seconds_bucket" in text
