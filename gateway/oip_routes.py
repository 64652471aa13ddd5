"""HTTP routes of the Open Inference Protocol (KServe v2 REST) for the emotion model.

Each handler translates with :mod:`gateway.oip` and makes one call to the emotion service's KServe v2
gRPC servicer, which owns the protocol's rules (model names, versions, datatypes, shapes, limits);
its status codes become HTTP statuses through :func:`gateway.errors.from_rpc_error` and every error is
the OIP body ``{"error": "..."}``.

* ``GET /v2`` (server metadata), ``GET /v2/health/live``, ``GET /v2/health/ready``
* ``GET /v2/models/{model}[/versions/{version}]`` (metadata), ``.../ready``, ``.../config``, ``.../stats``
* ``GET /v2/models/stats`` (every model's statistics)
* ``POST /v2/models/{model}[/versions/{version}]/infer`` (JSON tensors or binary tensor data)

Liveness and readiness answer 200 when true and 400 when false, as the protocol asks ("4xx means false").
"""

from __future__ import annotations

from typing import Any

import grpc
from aiohttp import web

from gateway import oip
from gateway.errors import from_rpc_error
from gateway.state import SETTINGS_KEY, UPSTREAMS_KEY, grpc_metadata
from servicekit.pb.inference import grpc_service_pb2 as kpb

SERVICE = "emotion_service"
# The REST face adds Triton's binary tensor data extension to what the gRPC server lists.
HTTP_EXTENSIONS = ("binary_tensor_data",)


def _model(request: web.Request) -> tuple[str, str]:
    return request.match_info["model"], request.match_info.get("version", "")


async def _call(request: web.Request, method: str, message: Any, timeout: float | None = None) -> Any:
    settings = request.app[SETTINGS_KEY]
    stub = request.app[UPSTREAMS_KEY].inference
    deadline = settings.classify_timeout_seconds if timeout is None else min(timeout, settings.classify_timeout_seconds)
    try:
        return await getattr(stub, method)(message, timeout=deadline, metadata=grpc_metadata(request))
    except grpc.aio.AioRpcError as exc:
        raise from_rpc_error(exc, SERVICE) from exc


def _flag(value: bool, key: str) -> web.Response:
    return web.json_response({key: value}, status=200 if value else 400)


async def server_metadata(request: web.Request) -> web.Response:
    """Server name, version and extensions."""
    response = await _call(request, "ServerMetadata", kpb.ServerMetadataRequest())
    body = oip.message_to_json(response)
    body["extensions"] = [*body.get("extensions", []), *HTTP_EXTENSIONS]
    return web.json_response(body)


async def server_live(request: web.Request) -> web.Response:
    """200 when the emotion service is live."""
    response = await _call(request, "ServerLive", kpb.ServerLiveRequest())
    return _flag(response.live, "live")


async def server_ready(request: web.Request) -> web.Response:
    """200 when the emotion service is ready (model loaded and warm), 400 while it is not."""
    response = await _call(request, "ServerReady", kpb.ServerReadyRequest())
    return _flag(response.ready, "ready")


async def model_metadata(request: web.Request) -> web.Response:
    """Name, versions, platform, inputs and outputs of the model."""
    name, version = _model(request)
    response = await _call(request, "ModelMetadata", kpb.ModelMetadataRequest(name=name, version=version))
    return web.json_response(oip.message_to_json(response))


async def model_ready(request: web.Request) -> web.Response:
    """200 when the model is ready, 400 while it is not."""
    name, version = _model(request)
    response = await _call(request, "ModelReady", kpb.ModelReadyRequest(name=name, version=version))
    return _flag(response.ready, "ready")


async def model_config(request: web.Request) -> web.Response:
    """The model configuration in Triton's format (the object tritonclient and perf_analyzer read)."""
    name, version = _model(request)
    response = await _call(request, "ModelConfig", kpb.ModelConfigRequest(name=name, version=version))
    return web.json_response(oip.message_to_json(response.config))


async def model_stats(request: web.Request) -> web.Response:
    """Cumulative inference statistics of the model, or of every model under ``/v2/models/stats``."""
    name, version = request.match_info.get("model", ""), request.match_info.get("version", "")
    response = await _call(request, "ModelStatistics", kpb.ModelStatisticsRequest(name=name, version=version))
    return web.json_response(oip.message_to_json(response))


async def infer(request: web.Request) -> web.Response:
    """Run one inference: JSON tensors or Triton binary tensor data in, the same out."""
    name, version = _model(request)
    payload, binary = oip.split_body(await request.read(), request.headers.get(oip.HEADER_LENGTH))
    call = oip.infer_request(payload, binary, name, version)
    response = await _call(request, "ModelInfer", call.request, call.timeout_seconds)
    answer = oip.infer_answer(response, call)
    if answer.header_length is None:
        return web.Response(body=answer.body, content_type="application/json")
    return web.Response(
        body=answer.body,
        content_type="application/octet-stream",
        headers={oip.HEADER_LENGTH: str(answer.header_length)},
    )


def add_routes(app: web.Application) -> None:
    """Register the OIP routes on ``app``."""
    router = app.router
    router.add_get("/v2", server_metadata)
    router.add_get("/v2/health/live", server_live)
    router.add_get("/v2/health/ready", server_ready)
    router.add_get("/v2/models/stats", model_stats)
    for base in ("/v2/models/{model}", "/v2/models/{model}/versions/{version}"):
        router.add_get(base, model_metadata)
        router.add_get(f"{base}/ready", model_ready)
        router.add_get(f"{base}/config", model_config)
        router.add_get(f"{base}/stats", model_stats)
        router.add_post(f"{base}/infer", infer)
