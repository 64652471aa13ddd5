"""Gateway access: bearer tokens as the Hugging Face Inference API sends them, roles per route, per-client limits.

The gateway runs in front of the real emotion and image services (tiny models) on port 0; the Hugging Face
``InferenceClient(token=...)`` is used unchanged.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from huggingface_hub import InferenceClient
from huggingface_hub.errors import HfHubHTTPError
from PIL import Image

from gateway.access import ClientLimits
from gateway.component import GatewayComponent
from gateway.settings import GatewaySettings
from gateway.state import LIMITS_KEY
from servicekit.auth import hash_token, new_token
from tests.gateway.services import emotion_server, image_server, require_services

pytestmark = pytest.mark.asyncio(loop_scope="module")

READER, WRITER = new_token(), new_token()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 48), (180, 140, 120)).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class Stack:
    emotion: str
    image: str
    tokens: Path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    require_services("emotion_service", "image_service")
    tokens = tmp_path_factory.mktemp("gateway-auth") / "tokens.txt"
    tokens.write_text(f"{hash_token(READER)} dashboards read\n{hash_token(WRITER)} studio write\n")
    async with emotion_server() as emotion, image_server() as image:
        yield Stack(f"127.0.0.1:{emotion.port}", f"127.0.0.1:{image.port}", tokens)


async def _gateway(stack: Stack, **overrides: object) -> GatewayComponent:
    fields: dict[str, object] = {
        "port": 0,
        "emotion_addresses": stack.emotion,
        "image_addresses": stack.image,
        "auth_tokens_file": stack.tokens,
        "generate_timeout_seconds": 120.0,
        "access_log": False,
    }
    fields.update(overrides)
    gateway = GatewayComponent(GatewaySettings(**fields))  # type: ignore[arg-type]
    await gateway.start()
    return gateway


async def test_hf_client_with_a_token_works_unchanged_and_without_one_gets_401(stack: Stack) -> None:
    gateway = await _gateway(stack)
    try:
        with_token = InferenceClient(model=f"{gateway.url}/models/emotion", token=READER)
        labels = await asyncio.to_thread(with_token.image_classification, _png())
        assert labels and abs(sum(item.score for item in labels) - 1.0) < 0.05
        anonymous = InferenceClient(model=f"{gateway.url}/models/emotion", token=None)
        with pytest.raises(HfHubHTTPError) as info:
            await asyncio.to_thread(anonymous.image_classification, _png())
        assert info.value.response.status_code == 401
        assert info.value.response.headers["WWW-Authenticate"].startswith("Bearer")
        painter = InferenceClient(model=f"{gateway.url}/models/flux", token=WRITER)
        picture = await asyncio.to_thread(painter.text_to_image, "a happy face", height=64, width=64, seed=3)
        assert picture.size == (64, 64)
    finally:
        await gateway.stop()


async def test_roles_per_route_401_403_and_open_probes(stack: Stack) -> None:
    gateway = await _gateway(stack)
    generate = {"inputs": "a sad face", "parameters": {"height": 64, "width": 64, "num_inference_steps": 1}}
    try:
        async with aiohttp.ClientSession() as session:
            for path in ("/health", "/metrics"):
                async with session.get(gateway.url + path) as reply:
                    assert reply.status == 200, path
            async with session.get(f"{gateway.url}/models/emotion") as reply:
                assert reply.status == 401 and "bearer token" in (await reply.json())["error"]
            read = {"Authorization": f"Bearer {READER}"}
            async with session.get(f"{gateway.url}/models/emotion", headers=read) as reply:
                assert reply.status == 200
            async with session.post(f"{gateway.url}/models/flux", json=generate, headers=read) as reply:
                body = await reply.json()
                assert reply.status == 403 and "needs the write role" in body["error"] and "dashboards" in body["error"]
            for header in (f"Bearer {new_token()}", "Basic dXNlcjpwYXNz", "Bearer "):
                async with session.get(f"{gateway.url}/models/emotion", headers={"Authorization": header}) as reply:
                    assert reply.status == 401, header
            write = {"Authorization": f"Bearer {WRITER}", "Accept": "image/png"}
            async with session.post(f"{gateway.url}/models/flux", json=generate, headers=write) as reply:
                assert reply.status == 200 and reply.content_type == "image/png"
    finally:
        await gateway.stop()


async def test_rate_limit_answers_429_with_retry_after_per_token(stack: Stack) -> None:
    gateway = await _gateway(stack, rate_limit_per_second=0.5, rate_limit_burst=2)
    try:
        async with aiohttp.ClientSession() as session:
            statuses = []
            for _ in range(3):
                headers = {"Authorization": f"Bearer {READER}"}
                async with session.get(f"{gateway.url}/models/emotion", headers=headers) as reply:
                    statuses.append(reply.status)
                    retry_after = reply.headers.get("Retry-After")
            assert statuses == [200, 200, 429]
            assert retry_after is not None and 1 <= int(retry_after) <= 2
            # Another client's bucket is untouched.
            headers = {"Authorization": f"Bearer {WRITER}"}
            async with session.get(f"{gateway.url}/models/emotion", headers=headers) as reply:
                assert reply.status == 200
    finally:
        await gateway.stop()


async def test_concurrency_cap_refuses_the_extra_request_of_one_client_only(stack: Stack) -> None:
    gateway = await _gateway(stack, max_in_flight_per_client=1, rate_limit_per_second=0)
    slow = {"inputs": "a happy face", "parameters": {"height": 256, "width": 256, "num_inference_steps": 8}}
    try:
        async with aiohttp.ClientSession() as session:
            headers = {"Authorization": f"Bearer {WRITER}", "Accept": "image/png"}
            first = asyncio.create_task(session.post(f"{gateway.url}/models/flux", json=slow, headers=headers))
            limits: ClientLimits = gateway.app[LIMITS_KEY]
            for _ in range(500):
                if limits.in_flight("studio"):
                    break
                await asyncio.sleep(0.01)
            assert limits.in_flight("studio") == 1
            async with session.get(f"{gateway.url}/models/emotion", headers=headers) as reply:
                assert reply.status == 429 and reply.headers["Retry-After"] == "1"
                assert "concurrency limit" in (await reply.json())["error"]
            other = {"Authorization": f"Bearer {READER}"}
            async with session.get(f"{gateway.url}/models/emotion", headers=other) as reply:
                assert reply.status == 200
            reply = await first
            assert reply.status == 200
            reply.release()
        assert limits.in_flight("studio") == 0
    finally:
        await gateway.stop()
