"""The gateway over real HTTP and real gRPC in front of a fault-injecting stand-in (tests/gateway/canned.py).

Every domain error a service can raise becomes the right HTTP status and JSON body, deadlines and client
disconnects reach the gRPC call, and the gateway's own refusals happen before any call. What the real
services answer is tested in test_gateway_emotion_service.py and test_gateway_image_service.py.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from huggingface_hub import InferenceClient
from huggingface_hub.errors import HfHubHTTPError

from gateway.component import GatewayComponent
from gateway.settings import GatewaySettings
from servicekit import errors
from tests.gateway.conftest import CannedStack, png
from tests.gateway.services import OPEN_ACCESS


async def _post_json_error(url: str, **kwargs: object) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.post(url, **kwargs) as response:  # type: ignore[arg-type]
        body = await response.json()
        assert set(body) == {"error"}, body
        return response.status, body["error"], dict(response.headers)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.InvalidInput("images[0]: 5000x5000 pixels exceeds max_pixels_per_image"), 400),
        (errors.NotFound("precision 'fp16' is not loaded"), 404),
        (errors.Overloaded("queue full (max_queue_size 64)"), 429),
        (errors.NotReady("model loading"), 503),
        (errors.DeadlineExceeded("deadline passed while queued"), 504),
        (errors.FailedPrecondition("variant not loaded"), 400),
    ],
)
async def test_grpc_errors_become_json_with_http_codes(canned: CannedStack, error: Exception, status: int) -> None:
    canned.servicers.fail_with = error
    got, message, headers = await _post_json_error(f"{canned.url}/models/emotion", data=png())
    assert got == status
    assert str(error) in message
    assert ("Retry-After" in headers) == (status in (429, 503))
    # huggingface_hub surfaces the same status and the server's message.
    client = InferenceClient(model=f"{canned.url}/models/flux")
    with pytest.raises(HfHubHTTPError) as info:
        await asyncio.to_thread(client.text_to_image, "x")
    assert info.value.response.status_code == status
    assert str(error) in str(info.value)


async def test_gateway_deadline_is_504(canned: CannedStack) -> None:
    canned.servicers.delay = 1.5  # the fixture's classify deadline is 1 s
    status, message, _ = await _post_json_error(f"{canned.url}/models/emotion", data=png())
    assert status == 504
    assert "did not answer in time" in message


async def test_request_errors_at_the_gateway(canned: CannedStack) -> None:
    url = canned.url
    assert (await _post_json_error(f"{url}/models/emotion", data=b""))[:2] == (
        400,
        "body: empty; send the image bytes or JSON {'inputs': '<base64>'}",
    )
    status, message, _ = await _post_json_error(f"{url}/models/gpt", data=png())
    assert status == 404 and "not served here" in message and "emotion" in message
    status, message, _ = await _post_json_error(f"{url}/models/emotion", data=b"x" * (300 * 1024))
    assert status == 413
    status, message, _ = await _post_json_error(
        f"{url}/models/flux", json={"inputs": "x"}, headers={"Accept": "text/html"}
    )
    assert status == 406 and "Accept" in message
    async with aiohttp.ClientSession() as session, session.get(f"{url}/nothing-here") as response:
        assert response.status == 404 and "error" in await response.json()
    assert canned.servicers.seen_request_ids == [], "refused at the gateway: no call reached a service"


async def test_request_id_travels_to_the_service_and_back(canned: CannedStack) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{canned.url}/models/emotion", data=png(), headers={"X-Request-Id": "req-42"}) as r:
            assert r.status == 200 and r.headers["X-Request-Id"] == "req-42"
        async with session.post(f"{canned.url}/models/emotion", data=png()) as r:
            generated = r.headers["X-Request-Id"]
    assert canned.servicers.seen_request_ids[-2:] == ["req-42", generated]
    assert len(generated) == 32


async def test_health_is_503_when_an_upstream_is_down(canned: CannedStack) -> None:
    await canned.host.stop(grace=0)
    async with aiohttp.ClientSession() as session, session.get(f"{canned.url}/health") as r:
        assert r.status == 503
        body = await r.json()
    assert body["status"] == "degraded"
    assert body["upstreams"]["emoflux.emotion.v1.EmotionService"] in ("UNAVAILABLE", "NOT_SERVING")
    status, message, headers = await _post_json_error(f"{canned.url}/models/emotion", data=png())
    assert status == 503 and message.startswith("emotion_service unavailable") and headers["Retry-After"] == "1"


async def test_client_disconnect_cancels_the_grpc_call(canned: CannedStack) -> None:
    canned.servicers.delay = 1.5
    async with aiohttp.ClientSession() as session:
        with pytest.raises(asyncio.TimeoutError):
            await session.post(f"{canned.url}/models/emotion", data=png(), timeout=aiohttp.ClientTimeout(total=0.3))
    # The server-side call is cancelled with the HTTP request, so it never completes.
    await asyncio.sleep(0.2)
    metrics = canned.host.registry.get_sample_value(
        "grpc_server_handled_total",
        {
            "grpc_service": "emoflux.emotion.v1.EmotionService",
            "grpc_method": "Classify",
            "grpc_type": "unary",
            "grpc_code": "CANCELLED",
        },
    )
    assert metrics == 1.0


async def test_unreachable_upstream_on_start_does_not_block(unused_tcp_port: int) -> None:
    gateway = GatewayComponent(
        GatewaySettings(
            **OPEN_ACCESS,
            port=0,
            emotion_addresses=f"127.0.0.1:{unused_tcp_port}",
            classify_timeout_seconds=1.0,
            access_log=False,
        )
    )
    await gateway.start()
    try:
        status, message, _ = await _post_json_error(f"{gateway.url}/models/emotion", data=png())
        assert status in (503, 504), message
    finally:
        await gateway.stop()


def test_settings_from_env() -> None:
    settings = GatewaySettings.load([], env={"GATEWAY_PORT": "9000", "GATEWAY_IMAGE_MODELS": "flux,black-forest-labs"})
    assert settings.port == 9000 and settings.image_models == ("flux", "black-forest-labs")
    with pytest.raises(SystemExit, match="share names"):
        GatewaySettings.load([], env={"GATEWAY_IMAGE_MODELS": "emotion"})
