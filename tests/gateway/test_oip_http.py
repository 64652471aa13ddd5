"""Open Inference Protocol over HTTP: tritonclient.http against the gateway in front of the REAL emotion service.

The answers must be those of the KServe v2 gRPC path (tritonclient.grpc straight to the service), and every
malformed request must be a 4xx with the OIP error body ``{"error": "..."}``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import numpy as np
import pytest
import pytest_asyncio
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from gateway.component import GatewayComponent
from gateway.settings import GatewaySettings
from tests.gateway.services import OPEN_ACCESS, emotion_server, require_services

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

MAX_BODY = 2 * 1024 * 1024


@dataclass
class Stack:
    gateway: GatewayComponent
    grpc_address: str

    @property
    def http_address(self) -> str:
        return f"127.0.0.1:{self.gateway.port}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack() -> AsyncIterator[Stack]:
    require_services("emotion_service")
    async with emotion_server() as emotion:
        address = f"127.0.0.1:{emotion.port}"
        gateway = GatewayComponent(
            GatewaySettings(**OPEN_ACCESS, port=0, emotion_addresses=address, access_log=False, max_body_bytes=MAX_BODY)
        )
        await gateway.start()
        try:
            yield Stack(gateway, address)
        finally:
            await gateway.stop()


def _pixels(rows: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1, (rows, 3, 64, 64)).astype(np.float32)


def _http_infer(address: str, pixels: np.ndarray, binary: bool) -> tuple[np.ndarray, dict[str, object]]:
    client = httpclient.InferenceServerClient(address)
    try:
        tensor = httpclient.InferInput("pixel_values", list(pixels.shape), "FP32")
        tensor.set_data_from_numpy(pixels, binary_data=binary)
        output = httpclient.InferRequestedOutput("probabilities", binary_data=binary)
        result = client.infer("emotion", [tensor], outputs=[output], request_id="req-7")
        return result.as_numpy("probabilities"), result.get_response()
    finally:
        client.close()


def _grpc_infer(address: str, pixels: np.ndarray) -> np.ndarray:
    client = grpcclient.InferenceServerClient(address)
    try:
        tensor = grpcclient.InferInput("pixel_values", list(pixels.shape), "FP32")
        tensor.set_data_from_numpy(pixels)
        return client.infer("emotion", [tensor]).as_numpy("probabilities")
    finally:
        client.close()


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
async def test_tritonclient_http_infers_what_the_grpc_path_answers(stack: Stack, binary: bool) -> None:
    pixels = _pixels(3, seed=1)
    over_http, response = await asyncio.to_thread(_http_infer, stack.http_address, pixels, binary)
    over_grpc = await asyncio.to_thread(_grpc_infer, stack.grpc_address, pixels)
    assert over_http.shape == over_grpc.shape == (3, 7)
    np.testing.assert_allclose(over_http, over_grpc, atol=1e-6)
    np.testing.assert_allclose(over_http.sum(axis=1), 1.0, atol=1e-4)
    assert response["id"] == "req-7" and response["model_name"] == "emotion"
    assert response["parameters"] == {"precision": "fp32"}
    (output,) = response["outputs"]  # type: ignore[attr-defined]
    if binary:  # Triton's binary tensor data extension: the tensor follows the JSON header
        assert output["parameters"] == {"binary_data_size": 3 * 7 * 4} and "data" not in output
    else:
        assert len(output["data"]) == 3 * 7 and "parameters" not in output


def _metadata(address: str) -> dict[str, object]:
    client = httpclient.InferenceServerClient(address)
    try:
        return {
            "live": client.is_server_live(),
            "ready": client.is_server_ready(),
            "model_ready": client.is_model_ready("emotion"),
            "version_ready": client.is_model_ready("emotion", "1"),
            "other_ready": client.is_model_ready("nope"),
            "server": client.get_server_metadata(),
            "model": client.get_model_metadata("emotion"),
            "versioned": client.get_model_metadata("emotion", "1"),
            "config": client.get_model_config("emotion"),
        }
    finally:
        client.close()


async def test_tritonclient_http_reads_health_metadata_and_config(stack: Stack) -> None:
    seen = await asyncio.to_thread(_metadata, stack.http_address)
    assert seen["live"] is seen["ready"] is seen["model_ready"] is seen["version_ready"] is True
    assert seen["other_ready"] is False
    server = seen["server"]
    assert isinstance(server, dict) and server["name"] == "emoflux-emotion"
    assert {"statistics", "model_configuration", "binary_tensor_data"} <= set(server["extensions"])
    model = seen["model"]
    assert model == seen["versioned"]
    assert isinstance(model, dict) and model["versions"] == ["1"]
    assert model["inputs"] == [{"name": "pixel_values", "datatype": "FP32", "shape": [-1, 3, 64, 64]}]
    assert model["outputs"] == [{"name": "probabilities", "datatype": "FP32", "shape": [-1, 7]}]
    config = seen["config"]
    assert isinstance(config, dict) and config["name"] == "emotion"
    assert config["max_batch_size"] == 16  # settings_for's max_batch_size, as numbers (not int64 strings)
    assert config["input"][0]["dims"] == [3, 64, 64] and config["input"][0]["data_type"] == "TYPE_FP32"
    assert config["output"][0]["dims"] == [7]


def _statistics(address: str, pixels: np.ndarray) -> tuple[dict[str, object], dict[str, object], dict[str, object]]:
    client = httpclient.InferenceServerClient(address)
    try:
        before = client.get_inference_statistics("emotion")
        tensor = httpclient.InferInput("pixel_values", list(pixels.shape), "FP32")
        tensor.set_data_from_numpy(pixels)
        client.infer("emotion", [tensor])
        after = client.get_inference_statistics("emotion")
        every = client.get_inference_statistics()
        return before, after, every
    finally:
        client.close()


async def test_tritonclient_http_reads_statistics_that_count_its_requests(stack: Stack) -> None:
    before, after, every = await asyncio.to_thread(_statistics, stack.http_address, _pixels(2, seed=2))
    (b,), (a,) = before["model_stats"], after["model_stats"]  # type: ignore[misc]
    assert a["inference_count"] - b["inference_count"] == 2
    assert a["inference_stats"]["success"]["count"] == b["inference_stats"]["success"]["count"] + 1
    assert isinstance(a["inference_stats"]["success"]["ns"], int) and a["inference_stats"]["success"]["ns"] > 0
    assert [m["name"] for m in every["model_stats"]] == ["emotion"]  # type: ignore[index]


async def _post(stack: Stack, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, object]:
    url = f"{stack.gateway.url}{path}"
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers or {}) as response:
        return response.status, await response.json(content_type=None)


def _json_request(shape: list[int], data: object, datatype: str = "FP32", name: str = "pixel_values") -> bytes:
    return json.dumps({"inputs": [{"name": name, "shape": shape, "datatype": datatype, "data": data}]}).encode()


ROW = [0.0] * (3 * 64 * 64)


@pytest.mark.parametrize(
    ("body", "headers", "status", "fragment"),
    [
        (b"{not json", None, 400, "not valid JSON"),
        (b"[1, 2]", None, 400, "expected a JSON object"),
        (json.dumps({"inputs": []}).encode(), None, 400, "inputs"),
        (_json_request([1, 3, 32, 32], [0.0] * (3 * 32 * 32)), None, 400, "shape [1, 3, 32, 32]"),
        (_json_request([1, 3, 64, 64], [0] * (3 * 64 * 64), datatype="INT32"), None, 400, "datatype 'INT32'"),
        (_json_request([1, 3, 64, 64], [0.0] * 10), None, 400, "inputs[0].data: 10 values"),
        (_json_request([1, 3, 64, 64], ["a"] * (3 * 64 * 64)), None, 400, "must be numbers"),
        (_json_request([1, 3, 64, 64], ROW, datatype="FP8"), None, 400, "inputs[0].datatype"),
        (_json_request([1, 3, 64, 64], ROW, name="image"), None, 400, "unknown input 'image'"),
        (_json_request([1, 3, 64, 64], ROW), {"Inference-Header-Content-Length": "999999"}, 400, "outside the body"),
        (
            json.dumps(
                {"inputs": [{"name": "pixel_values", "shape": [1, 3, 64, 64], "datatype": "FP32",
                             "parameters": {"binary_data_size": 12}}]}
            ).encode() + b"\0" * 12,
            {"Inference-Header-Content-Length": None},
            400,
            "raw_input_contents[0]: 12 bytes",
        ),
        (
            json.dumps(
                {"inputs": [{"name": "pixel_values", "shape": [1, 3, 64, 64], "datatype": "FP32", "data": ROW}]}
            ).encode() + b"\0" * 8,
            {"Inference-Header-Content-Length": None},
            400,
            "8 bytes after the JSON header",
        ),
    ],
    ids=[
        "bad-json", "not-object", "no-inputs", "wrong-shape", "wrong-datatype", "short-data", "non-numbers",
        "unknown-datatype", "unknown-input", "header-length-beyond-body", "binary-size-mismatch", "unclaimed-binary",
    ],
)  # fmt: skip
async def test_bad_infer_requests_are_4xx_with_the_oip_error_body(
    stack: Stack, body: bytes, headers: dict[str, str | None] | None, status: int, fragment: str
) -> None:
    sent: dict[str, str] = {}
    for key, value in (headers or {}).items():
        # None: the JSON header's own length (the binary tail follows it).
        sent[key] = value if value is not None else str(body.index(b"\0"))
    code, answer = await _post(stack, "/v2/models/emotion/infer", body, sent)
    assert code == status, answer
    assert isinstance(answer, dict) and set(answer) == {"error"}
    assert fragment in answer["error"]


async def test_unknown_model_and_version_are_404(stack: Stack) -> None:
    code, answer = await _post(stack, "/v2/models/nope/infer", _json_request([1, 3, 64, 64], ROW))
    assert code == 404 and "'nope' is not served" in answer["error"]  # type: ignore[index]
    url = f"{stack.gateway.url}/v2/models/emotion/versions/9"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 404
        assert "no version '9'" in (await response.json())["error"]


async def test_oversized_body_is_413_naming_the_limit(stack: Stack) -> None:
    rows = MAX_BODY // (3 * 64 * 64 * 4) + 1
    header = json.dumps(
        {"inputs": [{"name": "pixel_values", "shape": [rows, 3, 64, 64], "datatype": "FP32",
                     "parameters": {"binary_data_size": rows * 3 * 64 * 64 * 4}}]}
    ).encode()  # fmt: skip
    body = header + _pixels(rows).tobytes()
    headers = {"Inference-Header-Content-Length": str(len(header))}
    code, answer = await _post(stack, "/v2/models/emotion/infer", body, headers)
    assert code == 413
    assert isinstance(answer, dict) and str(MAX_BODY) in answer["error"]


def _too_large_batch(address: str) -> str:
    client = httpclient.InferenceServerClient(address)
    try:
        tensor = httpclient.InferInput("pixel_values", [17, 3, 64, 64], "FP32")
        tensor.set_data_from_numpy(_pixels(17))
        with pytest.raises(InferenceServerException) as info:
            client.infer("emotion", [tensor])
        return str(info.value)
    finally:
        client.close()


async def test_tritonclient_sees_the_service_limit_as_an_error(stack: Stack) -> None:
    message = await asyncio.to_thread(_too_large_batch, stack.http_address)
    assert "exceeds max_batch_size 16" in message


def _is_live(address: str) -> bool:
    client = httpclient.InferenceServerClient(address)
    try:
        return bool(client.is_server_live())
    finally:
        client.close()


async def test_an_unreachable_emotion_service_is_503_and_not_live() -> None:
    gateway = GatewayComponent(
        GatewaySettings(**OPEN_ACCESS, port=0, emotion_addresses="127.0.0.1:1", access_log=False)
    )
    await gateway.start()
    try:
        live = await asyncio.to_thread(_is_live, f"127.0.0.1:{gateway.port}")
        async with aiohttp.ClientSession() as session, session.get(f"{gateway.url}/v2/health/ready") as response:
            status, answer = response.status, await response.json()
    finally:
        await gateway.stop()
    assert live is False
    assert status == 503 and answer["error"].startswith("emotion_service unavailable")
