"""HTTP errors of the gateway and the ONE mapping from gRPC status codes to HTTP status codes.

Every error reaches the client as JSON ``{"error": "<message>"}``, the shape the Hugging Face Inference
API uses and ``huggingface_hub`` reads into its exception messages.
"""

from __future__ import annotations

import grpc

# As in grpc-gateway's mapping (the common convention for gRPC behind HTTP), with the codes clients act on:
# INVALID_ARGUMENT 400, NOT_FOUND 404, RESOURCE_EXHAUSTED 429, UNAVAILABLE 503, DEADLINE_EXCEEDED 504.
_HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}

# Statuses after which a client may simply try again later; they get a Retry-After header.
RETRYABLE_HTTP = frozenset({429, 503})


def http_status_for(code: grpc.StatusCode) -> int:
    """The HTTP status a gRPC status code is reported as."""
    return _HTTP_STATUS.get(code, 500)


class HttpError(Exception):
    """An error answered with ``status`` and the JSON body ``{"error": message}``."""

    def __init__(self, status: int, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


class BadRequest(HttpError):
    """The HTTP request is malformed; the message names the field and the rule it broke."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)


class NotAcceptable(HttpError):
    """The ``Accept`` header asks for a representation the endpoint cannot produce."""

    def __init__(self, message: str) -> None:
        super().__init__(406, message)


def from_rpc_error(error: grpc.aio.AioRpcError, service: str) -> HttpError:
    """Translate a failed gRPC call into the HTTP error the client sees."""
    code = error.code()
    details = error.details() or code.name.lower().replace("_", " ")
    if code == grpc.StatusCode.UNAVAILABLE:
        details = f"{service} unavailable: {details}"
    elif code == grpc.StatusCode.DEADLINE_EXCEEDED:
        details = f"{service} did not answer in time: {details}"
    return HttpError(http_status_for(code), details)
