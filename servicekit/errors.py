"""Domain errors and the ONE mapping from errors to gRPC status codes.

Service code raises these; :mod:`servicekit.interceptors` turns them into statuses. Messages are meant
for clients: they name the field and the limit that was violated.
"""

from __future__ import annotations

import asyncio

import grpc


class ServiceError(Exception):
    """Base of every error a service reports to its clients."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL


class InvalidInput(ServiceError):
    """The request is malformed or breaks a documented limit."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(ServiceError):
    """A named model, variant or resource does not exist."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(ServiceError):
    """A resource the request would create exists already."""

    code = grpc.StatusCode.ALREADY_EXISTS


class Overloaded(ServiceError):
    """A bounded queue or limit is full; the client should back off and retry."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class NotReady(ServiceError):
    """The service is starting, draining or its upstream is unreachable."""

    code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(ServiceError):
    """The request's deadline passed before its work was done."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class Cancelled(ServiceError):
    """The work was cancelled (client went away or asked to stop)."""

    code = grpc.StatusCode.CANCELLED


class FailedPrecondition(ServiceError):
    """The request is valid but cannot run in the current configuration."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class Unauthenticated(ServiceError):
    """The caller presented no usable credentials for a method that needs them."""

    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(ServiceError):
    """The caller is known but its role does not allow the method."""

    code = grpc.StatusCode.PERMISSION_DENIED


def status_for(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """Map any exception to the status code and message a client should see."""
    if isinstance(exc, ServiceError):
        return exc.code, str(exc) or exc.__class__.__name__
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded"
    if isinstance(exc, asyncio.CancelledError):
        return grpc.StatusCode.CANCELLED, "cancelled"
    if isinstance(exc, NotImplementedError):
        return grpc.StatusCode.UNIMPLEMENTED, str(exc) or "not implemented"
    return grpc.StatusCode.INTERNAL, f"internal error ({exc.__class__.__name__})"
