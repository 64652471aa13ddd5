"""What the gateway's handlers share: the application and request keys, and the metadata sent upstream."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry

from gateway.access import ClientLimits, GatewayAccess
from gateway.metrics import HttpMetrics
from gateway.settings import GatewaySettings
from gateway.upstream import Upstreams

SETTINGS_KEY = web.AppKey("settings", GatewaySettings)
UPSTREAMS_KEY = web.AppKey("upstreams", Upstreams)
METRICS_KEY = web.AppKey("metrics", HttpMetrics)
REGISTRY_KEY = web.AppKey("registry", CollectorRegistry)
ACCESS_KEY = web.AppKey("access", GatewayAccess)
LIMITS_KEY = web.AppKey("limits", ClientLimits)
REQUEST_ID_KEY = web.RequestKey("request_id", str)


def grpc_metadata(request: web.Request) -> tuple[tuple[str, str], ...]:
    """The gRPC metadata of an upstream call made for ``request`` (its request id)."""
    return (("x-request-id", request[REQUEST_ID_KEY]),)
