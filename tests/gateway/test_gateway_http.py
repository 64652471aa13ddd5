"""The gateway over real HTTP and real gRPC (canned answers): huggingface_hub works unchanged, errors map."""

from __future__ import annotations

import asyncio
import io

import aiohttp
import pytest
from huggingface_hub import InferenceClient
from huggingface_hub.errors import HfHubHTTPError
from PIL import Image

from gateway.component import GatewayComponent
from gateway.settings import GatewaySettings
from servicekit import errors
from tests.gateway.canned import LABELS, scores_for
from tests.gateway.conftest import CannedStack, png


async def test_image_classification_with_raw_bytes(canned: CannedStack) -> None:
    client = InferenceClient(model=f"{canned.url}/models/emotion")
    image = png((250, 10, 10))
    result = await asyncio.to_thread(client.image_classification, image)
    expected = sorted(zip(LABELS, scores_for(Image.open(io.BytesIO(image))), strict=True), key=lambda p: -p[1])[:5]
    assert [r.label for r in result] == [label for label, _ in expected]
    assert [r.score for r in result] == pytest.approx([s for _, s in expected], abs=1e-6)
    assert canned.servicers.last_classify is not None and canned.servicers.last_classify.images[0].data == image


async def test_image_classification_with_parameters_uses_base64_json(canned: CannedStack) -> None:
    client = InferenceClient(model=f"{canned.url}/models/emotion")
    result = await asyncio.to_thread(client.image_classification, png((10, 10, 10)), top_k=2)
    assert len(result) == 2 and result[0].score >= result[1].score
    assert result[0].label == "sad"  # low red share -> first label leads
    assert canned.servicers.last_classify is not None and canned.servicers.last_classify.top_k == 2
    with pytest.raises(HfHubHTTPError) as info:
        await asyncio.to_thread(client.image_classification, png(), function_to_apply="sigmoid")
    assert info.value.response.status_code == 400
    assert "function_to_apply" in str(info.value)


async def test_text_to_image_returns_the_image(canned: CannedStack) -> None:
    client = InferenceClient(model=f"{canned.url}/models/flux")
    image = await asyncio.to_thread(
        client.text_to_image,
        "a surprised face",
        height=32,
        width=48,
        num_inference_steps=3,
        guidance_scale=2.0,
        seed=7,
        negative_prompt="blurry",
    )
    assert image.size == (48, 32) and image.format == "PNG"
    sent = canned.servicers.last_generate
    assert sent is not None
    assert (sent.prompt, sent.negative_prompt, sent.num_inference_steps, sent.seed) == (
        "a surprised face",
        "blurry",
        3,
        7,
    )
    assert sent.guidance_scale == pytest.approx(2.0)
    assert sent.variant == ""


async def test_variant_path_and_jpeg_accept(canned: CannedStack) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{canned.url}/models/flux/tiny-flux", json={"inputs": "x"}, headers={"Accept": "image/jpeg"}
        ) as response:
            assert response.status == 200
            assert response.content_type == "image/jpeg"
            assert response.headers["X-Seed"] == "1234" and response.headers["X-Variant"] == "tiny-flux"
            assert Image.open(io.BytesIO(await response.read())).format == "JPEG"
        async with session.post(f"{canned.url}/models/flux/nope", json={"inputs": "x"}) as response:
            assert response.status == 404
            assert "variant" in (await response.json())["error"]


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
    status, message, _ = await _post_json_error(f"{url}/models/emotion", data=b"not an image")
    assert (status, message) == (400, "images[0].data: not a decodable image")
    status, message, _ = await _post_json_error(f"{url}/models/gpt", data=png())
    assert status == 404 and "not served here" in message and "emotion" in message
    status, message, _ = await _post_json_error(f"{url}/models/emotion", data=b"x" * (300 * 1024))
    assert status == 413
    status, message, _ = await _post_json_error(
        f"{url}/models/flux", json={"inputs": "x"}, headers={"Accept": "text/html"}
    )
    assert status == 406 and "Accept" in message
    status, message, _ = await _post_json_error(f"{url}/models/flux", json={"inputs": "x", "parameters": {"width": 40}})
    assert (status, message) == (400, "width, height: must be multiples of 16")
    async with aiohttp.ClientSession() as session, session.get(f"{url}/nothing-here") as response:
        assert response.status == 404 and "error" in await response.json()


async def test_request_id_travels_to_the_service_and_back(canned: CannedStack) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{canned.url}/models/emotion", data=png(), headers={"X-Request-Id": "req-42"}) as r:
            assert r.status == 200 and r.headers["X-Request-Id"] == "req-42"
        async with session.post(f"{canned.url}/models/emotion", data=png()) as r:
            generated = r.headers["X-Request-Id"]
    assert canned.servicers.seen_request_ids[-2:] == ["req-42", generated]
    assert len(generated) == 32


async def test_model_info_health_and_metrics(canned: CannedStack) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{canned.url}/models/emotion") as r:
            info = await r.json()
            assert info["pipeline_tag"] == "image-classification"
            assert info["model_info"]["labels"] == list(LABELS)
        async with session.get(f"{canned.url}/models/flux") as r:
            assert (await r.json())["variants"]["default_variant"] == "tiny-flux"
        async with session.get(f"{canned.url}/health") as r:
            assert r.status == 200
            assert set((await r.json())["upstreams"].values()) == {"SERVING"}
        await session.post(f"{canned.url}/models/emotion", data=png())
        async with session.get(f"{canned.url}/metrics") as r:
            text = await r.text()
    assert 'emoflux_gateway_http_requests_total{code="200",method="POST",route="/models/{model}"}' in text
    assert "emoflux_gateway_http_request_seconds_bucket" in text


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
            port=0, emotion_addresses=f"127.0.0.1:{unused_tcp_port}", classify_timeout_seconds=1.0, access_log=False
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
