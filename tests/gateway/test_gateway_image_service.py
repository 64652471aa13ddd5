"""huggingface_hub text_to_image against the gateway in front of the REAL image service (tiny-flux).

Slow: loading the pipeline takes 10-40 s on 2 shared cores.
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
from tests.gateway.services import image_server, require_services

# One set of servers for the module: loading the models is most of the cost.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def url() -> AsyncIterator[str]:
    require_services("image_service")
    async with image_server() as image:
        settings = GatewaySettings(
            port=0, image_addresses=f"127.0.0.1:{image.port}", generate_timeout_seconds=120.0, access_log=False
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
