"""The aiohttp application: Hugging Face Inference API routes forwarded to the gRPC services.

Routes:

* ``POST /models/{emotion model}``: image-classification (raw image bytes, or JSON with base64 ``inputs``).
* ``POST /models/{image model}[/{variant}]``: text-to-image (JSON), answers the encoded image.
* ``GET /models/{model}``: what the model is (the service's GetModelInfo / ListVariants as JSON).
* ``GET /health``: 200 when every upstream is SERVING, else 503; ``GET /metrics``: Prometheus text.
* ``GET /healthz``: the gateway's own health (its HTTP server answers), independent of the upstreams: the one
  probe the compose healthcheck and the Kubernetes readiness and liveness probes share.
* ``/v2/...``: the Open Inference Protocol (KServe v2 REST) for the emotion model, see :mod:`gateway.oip_routes`.

Every error is JSON ``{"error": "..."}`` with the HTTP status mapped from the gRPC code in
:mod:`gateway.errors`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from aiohttp import web
from google.protobuf.json_format import MessageToDict
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from gateway import oip_routes, wire
from gateway.access import ClientLimits, GatewayAccess, required_role, retry_after_header
from gateway.errors import RETRYABLE_HTTP, HttpError, from_rpc_error
from gateway.metrics import HttpMetrics
from gateway.settings import GatewaySettings
from gateway.state import (
    ACCESS_KEY,
    LIMITS_KEY,
    METRICS_KEY,
    REGISTRY_KEY,
    REQUEST_ID_KEY,
    SETTINGS_KEY,
    UPSTREAMS_KEY,
    grpc_metadata,
)
from gateway.upstream import Upstreams
from servicekit import tracing
from servicekit.auth import Role, TokenStore
from servicekit.metrics import standard_collectors
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2
from servicekit.pb.emoflux.image.v1 import image_pb2

log = logging.getLogger("emoflux.gateway")

REQUEST_ID_HEADER = "X-Request-Id"
# What "healthy" means for the gateway container, in compose and Kubernetes alike (deploy/validate.py checks it).
PROBE_PATH = "/healthz"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Target:
    """What a ``/models/...`` path names: the task, and for text-to-image the variant ("" = default)."""

    task: str
    variant: str = ""


def resolve_model(settings: GatewaySettings, path: str) -> Target:
    """Map the model part of ``/models/<path>`` to a service, or raise 404 naming the served models."""
    name, _, variant = path.strip("/").partition("/")
    if name in settings.emotion_models and not variant:
        return Target("image-classification")
    if name in settings.image_models:
        return Target("text-to-image", variant)
    served = ", ".join([*settings.emotion_models, *(f"{m}[/<variant>]" for m in settings.image_models)])
    raise HttpError(404, f"model '{path}' is not served here (served: {served})")


def _error_response(status: int, message: str, request_id: str, retry_after: float | None = None) -> web.Response:
    headers = {REQUEST_ID_HEADER: request_id}
    if status in RETRYABLE_HTTP:
        headers["Retry-After"] = retry_after_header(retry_after or 1.0)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="emoflux"'
    return web.json_response({"error": message}, status=status, headers=headers)


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id in and out, JSON errors, metrics and one access-log line per request."""
    metrics = request.app[METRICS_KEY]
    request_id = request.headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
    request[REQUEST_ID_KEY] = request_id
    route = _route_name(request)
    started = time.monotonic()
    metrics.in_flight.inc()
    try:
        try:
            with tracing.server_span(f"{request.method} {route}", request.headers) as span:
                response = await handler(request)
                if span is not None:
                    span.set_attribute("http.response.status_code", response.status)
            response.headers[REQUEST_ID_HEADER] = request_id
        except HttpError as exc:
            response = _error_response(exc.status, exc.message, request_id, exc.retry_after)
        except web.HTTPRequestEntityTooLarge as exc:
            # aiohttp's text names the limit and the size sent ("Maximum request body size N exceeded, ...").
            response = _error_response(exc.status, f"body: {exc.text}", request_id)
        except web.HTTPException as exc:
            # aiohttp's own answers (unknown route, wrong method) get the same JSON shape.
            response = _error_response(exc.status, exc.reason, request_id)
        except Exception:
            log.exception("unhandled error on %s %s (request %s)", request.method, request.path, request_id)
            response = _error_response(500, "internal error", request_id)
    finally:
        metrics.in_flight.dec()
    elapsed = time.monotonic() - started
    metrics.requests.labels(route, request.method, str(response.status)).inc()
    metrics.seconds.labels(route).observe(elapsed)
    if request.app[SETTINGS_KEY].access_log:
        log.info("%s %s %d %.3fs id=%s", request.method, request.path, response.status, elapsed, request_id)
    return response


def _names_generator(request: web.Request) -> bool:
    model = request.match_info.get("model")
    if model is None or not request.path.startswith("/models/"):
        return False
    name = model.strip("/").partition("/")[0]
    return name in request.app[SETTINGS_KEY].image_models


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate, authorise and rate-limit the caller before any work (inside :func:`observe`)."""
    required = required_role(request.method, request.path, _names_generator(request))
    if required is None:
        return await handler(request)
    access = request.app[ACCESS_KEY]
    identity = access.identify(request.headers.get("Authorization"), request.remote or "")
    access.authorize(identity, required, f"{request.method} {request.path}")
    with request.app[LIMITS_KEY].admit(identity.name):
        return await handler(request)


async def post_model(request: web.Request) -> web.StreamResponse:
    """Run the task of the named model on the request body."""
    settings = request.app[SETTINGS_KEY]
    target = resolve_model(settings, request.match_info["model"])
    if target.task == "image-classification":
        return await _classify(request, settings)
    return await _generate(request, settings, target.variant)


async def _classify(request: web.Request, settings: GatewaySettings) -> web.Response:
    call = wire.parse_classification(await request.read(), request.headers.get("Content-Type"), settings.default_top_k)
    try:
        response: emotion_pb2.ClassifyResponse = await request.app[UPSTREAMS_KEY].emotion.Classify(
            wire.classify_request_to_pb(call),
            timeout=settings.classify_timeout_seconds,
            metadata=grpc_metadata(request),
        )
    except grpc.aio.AioRpcError as exc:
        raise from_rpc_error(exc, "emotion_service") from exc
    headers = {
        "X-Model": response.model,
        "X-Backend": response.backend,
        "X-Precision": response.precision,
        "X-Weights-Origin": emotion_pb2.WeightsOrigin.Name(response.weights_origin),
        "X-Compute-Time": f"{response.timings.total_seconds:.6f}",
    }
    return web.json_response(wire.classification_from_pb(response), headers=headers)


async def _generate(request: web.Request, settings: GatewaySettings, variant: str) -> web.Response:
    output = wire.choose_image_output(request.headers.get("Accept"))
    generate = wire.generate_request_to_pb(await request.read(), variant, output)
    try:
        response: image_pb2.GenerateResponse = await request.app[UPSTREAMS_KEY].image.Generate(
            generate, timeout=settings.generate_timeout_seconds, metadata=grpc_metadata(request)
        )
    except grpc.aio.AioRpcError as exc:
        raise from_rpc_error(exc, "image_service") from exc
    if not response.images:
        raise HttpError(502, "image_service answered without an image")
    image = response.images[0]
    headers = {
        "X-Variant": response.variant,
        "X-Backend": response.backend,
        "X-Seed": str(image.seed),
        "X-Weights-Origin": image_pb2.WeightsOrigin.Name(response.weights_origin),
        "X-Compute-Time": f"{response.timings.total_seconds:.6f}",
    }
    return web.Response(body=image.data, content_type=wire.content_type_from_pb(image), headers=headers)


async def get_model(request: web.Request) -> web.Response:
    """Describe the named model from its service (GetModelInfo or ListVariants)."""
    settings = request.app[SETTINGS_KEY]
    name = request.match_info["model"]
    target = resolve_model(settings, name)
    upstreams = request.app[UPSTREAMS_KEY]
    info: dict[str, Any] = {"id": name, "pipeline_tag": target.task}
    try:
        if target.task == "image-classification":
            model_info = await upstreams.emotion.GetModelInfo(
                emotion_pb2.GetModelInfoRequest(), timeout=settings.classify_timeout_seconds
            )
            info["model_info"] = MessageToDict(model_info, preserving_proto_field_name=True)
        else:
            variants = await upstreams.image.ListVariants(
                image_pb2.ListVariantsRequest(), timeout=settings.classify_timeout_seconds
            )
            names = [v.name for v in variants.variants]
            if target.variant and target.variant not in names:
                raise HttpError(404, f"variant '{target.variant}' not found (variants: {', '.join(names)})")
            info["variants"] = MessageToDict(variants, preserving_proto_field_name=True)
    except grpc.aio.AioRpcError as exc:
        service = "emotion_service" if target.task == "image-classification" else "image_service"
        raise from_rpc_error(exc, service) from exc
    return web.json_response(info)


async def health(request: web.Request) -> web.Response:
    """200 with each upstream's status when all are SERVING, else 503 with the same body."""
    statuses = await request.app[UPSTREAMS_KEY].health()
    ok = all(status == "SERVING" for status in statuses.values())
    return web.json_response({"status": "ok" if ok else "degraded", "upstreams": statuses}, status=200 if ok else 503)


async def healthz(request: web.Request) -> web.Response:
    """200 while the gateway serves HTTP; an upstream outage is answered per request (503), not here."""
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    """The gateway's Prometheus metrics, in the format the scraper asks for (text or OpenMetrics)."""
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return web.Response(body=encoder(request.app[REGISTRY_KEY]), headers={"Content-Type": content_type})


def create_app(settings: GatewaySettings, registry: CollectorRegistry | None = None) -> web.Application:
    """Build the application; the upstream channels open on startup and close on cleanup."""
    app = web.Application(middlewares=[observe, guard], client_max_size=settings.max_body_bytes)
    registry = registry if registry is not None else CollectorRegistry()
    app[SETTINGS_KEY] = settings
    if settings.auth_mode == "off":
        log.warning("GATEWAY AUTHORISATION IS OFF (--auth-mode off): anyone who reaches it may generate images")
    app[ACCESS_KEY] = GatewayAccess(
        enforce=settings.auth_mode == "enforce",
        tokens=TokenStore(settings.auth_tokens_file),
        anonymous_role=Role.parse(settings.auth_anonymous_role),
    )
    app[LIMITS_KEY] = ClientLimits(
        settings.rate_limit_per_second, settings.rate_limit_burst, settings.max_in_flight_per_client
    )
    app[REGISTRY_KEY] = registry
    app[METRICS_KEY] = HttpMetrics(registry)
    standard_collectors(registry)
    app.router.add_post("/models/{model:.+}", post_model)
    app.router.add_get("/models/{model:.+}", get_model)
    app.router.add_get("/health", health)
    app.router.add_get(PROBE_PATH, healthz)
    app.router.add_get("/metrics", metrics)
    oip_routes.add_routes(app)

    async def upstream_context(app: web.Application) -> Any:
        # Channels belong to the running event loop, so they are opened here rather than in create_app.
        app[UPSTREAMS_KEY] = Upstreams(settings)
        yield
        await app[UPSTREAMS_KEY].close()

    app.cleanup_ctx.append(upstream_context)
    return app
