"""Server interceptors: error mapping with request ids and access log, and per-RPC metrics.

Both wrap every handler kind (unary/streaming requests and responses) with one async context manager,
so the same code observes a unary call and a long-lived stream.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import grpc

from servicekit.errors import InvalidInput, NotReady, status_for
from servicekit.metrics import RpcMetrics

log = logging.getLogger("emoflux.access")

REQUEST_ID_HEADER = "x-request-id"
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_peer: contextvars.ContextVar[str | None] = contextvars.ContextVar("peer", default=None)

# Health and reflection keep answering during a drain so load balancers see NOT_SERVING, not errors.
_ALWAYS_ANSWERED = ("/grpc.health.v1.Health/", "/grpc.reflection.")

CallScope = Callable[[str, grpc.aio.ServicerContext], AbstractAsyncContextManager[None]]


def current_peer() -> str | None:
    """The transport address of the caller of the RPC being handled (``ipv4:1.2.3.4:5678``), or None."""
    return _peer.get()


def current_request_id() -> str:
    """The id of the RPC being handled by the current task ("-" outside an RPC)."""
    return _request_id.get()


def _split_method(full_method: str) -> tuple[str, str]:
    service, _, method = full_method.lstrip("/").partition("/")
    return service, method


def _rpc_type(handler: grpc.RpcMethodHandler) -> str:
    return {
        (False, False): "unary",
        (False, True): "server_stream",
        (True, False): "client_stream",
        (True, True): "bidi_stream",
    }[(bool(handler.request_streaming), bool(handler.response_streaming))]


class MalformedRequest:
    """Stands in for request bytes that did not parse, so the error mapper can answer INVALID_ARGUMENT."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """Wrap a request deserializer so a parse failure yields a :class:`MalformedRequest` instead of raising.

    gRPC answers a failing deserializer with UNKNOWN before any interceptor runs; this keeps the
    failure inside the call, where it becomes INVALID_ARGUMENT and is counted like any other error.
    """
    if deserializer is None:
        return None

    def parse(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception as exc:
            return MalformedRequest(f"{exc.__class__.__name__}: {exc}"[:200])

    return parse


def _reject_malformed(request: Any) -> None:
    if isinstance(request, MalformedRequest):
        raise InvalidInput(f"request: not a valid protobuf message for this method ({request.reason})")


async def _checked_stream(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for request in requests:
        _reject_malformed(request)
        yield request


def wrap_handler(
    handler: grpc.RpcMethodHandler, method: str, scope: CallScope, *, check_requests: bool = False
) -> grpc.RpcMethodHandler:
    """Return ``handler`` with every call running inside ``scope(method, context)``.

    With ``check_requests``, unparsable request messages are refused with INVALID_ARGUMENT inside the scope.
    """
    streaming_requests = bool(handler.request_streaming)
    deserializer = _tolerant(handler.request_deserializer) if check_requests else handler.request_deserializer

    def checked(request: Any) -> Any:
        if not check_requests:
            return request
        if streaming_requests:
            return _checked_stream(request)
        _reject_malformed(request)
        return request

    if handler.response_streaming:
        inner_stream: Callable[..., Any] = handler.unary_stream or handler.stream_stream

        async def streaming(request: Any, context: grpc.aio.ServicerContext) -> None:
            # A coroutine that writes, not an async generator that yields. When the client leaves, gRPC cancels
            # this task, so every scope and the servicer's own generator close here, in the call's task and
            # context, while the call is alive. An abandoned async generator would instead be closed later by
            # the event loop's finaliser, in another context, after gRPC freed the call (peer() then segfaults
            # and resetting a context variable raises).
            async with scope(method, context):
                responses = inner_stream(checked(request), context)
                if not hasattr(responses, "__aiter__"):  # an inner wrapper of this kind: it writes itself
                    await responses
                    return
                try:
                    async for item in responses:
                        await context.write(item)
                finally:
                    aclose = getattr(responses, "aclose", None)
                    if aclose is not None:
                        await aclose()

        factory = grpc.stream_stream_rpc_method_handler if streaming_requests else grpc.unary_stream_rpc_method_handler
        return factory(streaming, request_deserializer=deserializer, response_serializer=handler.response_serializer)

    inner_unary: Callable[..., Awaitable[Any]] = handler.unary_unary or handler.stream_unary

    async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        async with scope(method, context):
            return await inner_unary(checked(request), context)

    factory = grpc.stream_unary_rpc_method_handler if streaming_requests else grpc.unary_unary_rpc_method_handler
    return factory(unary, request_deserializer=deserializer, response_serializer=handler.response_serializer)


def _final_code(context: grpc.aio.ServicerContext, default: grpc.StatusCode) -> grpc.StatusCode:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    return default


class ErrorMappingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """The one place where exceptions become gRPC statuses; also assigns request ids and logs each RPC."""

    def __init__(self, *, access_log: bool = True) -> None:
        self._access_log = access_log
        self.draining = False

    def start_draining(self) -> None:
        """Answer new calls UNAVAILABLE (retryable) while the server drains; health and reflection still answer."""
        self.draining = True

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        """Wrap the handler so its exceptions are mapped and the call is logged."""
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        incoming = dict(handler_call_details.invocation_metadata or ())
        supplied = incoming.get(REQUEST_ID_HEADER)
        method = handler_call_details.method
        scope = self._scope_factory(supplied, refuse=self.draining and not method.startswith(_ALWAYS_ANSWERED))
        return wrap_handler(handler, method, scope, check_requests=True)

    def _scope_factory(self, supplied_id: str | bytes | None, *, refuse: bool = False) -> CallScope:
        @asynccontextmanager
        async def scope(method: str, context: grpc.aio.ServicerContext) -> AsyncIterator[None]:
            request_id = supplied_id.decode() if isinstance(supplied_id, bytes) else supplied_id
            request_id = (request_id or uuid.uuid4().hex[:16])[:64]
            token = _request_id.set(request_id)
            trailer = ((REQUEST_ID_HEADER, request_id),)
            context.set_trailing_metadata(trailer)
            peer = context.peer()  # read while the call is surely alive (on a freed call it dereferences null)
            peer_token = _peer.set(peer)
            started = time.monotonic()
            code = grpc.StatusCode.OK
            message = ""
            try:
                if refuse:
                    raise NotReady("server is shutting down; retry on another replica")
                yield
                code = _final_code(context, grpc.StatusCode.OK)
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED
                raise
            except grpc.aio.AbortError:
                code = _final_code(context, grpc.StatusCode.UNKNOWN)
                raise
            except Exception as exc:  # the mapping point: everything else becomes a status
                code, message = status_for(exc)
                if code is grpc.StatusCode.INTERNAL:
                    log.exception("unhandled error in %s (request %s)", method, request_id)
                await context.abort(code, message, trailing_metadata=trailer)
            finally:
                if self._access_log:
                    log.info(
                        "rpc method=%s code=%s duration_ms=%.1f request_id=%s peer=%s%s",
                        method,
                        code.name,
                        (time.monotonic() - started) * 1000,
                        request_id,
                        peer,
                        f" error={message!r}" if message else "",
                    )
                _request_id.reset(token)
                _peer.reset(peer_token)

        return scope


class MetricsInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Counts RPCs by final status code and times them (install outermost to see mapped codes)."""

    def __init__(self, metrics: RpcMetrics) -> None:
        self._metrics = metrics

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        """Wrap the handler so the call is counted and timed."""
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        rpc_type = _rpc_type(handler)
        metrics = self._metrics

        @asynccontextmanager
        async def scope(method: str, context: grpc.aio.ServicerContext) -> AsyncIterator[None]:
            service, name = _split_method(method)
            metrics.started.labels(service, name, rpc_type).inc()
            metrics.in_flight.labels(service).inc()
            started = time.monotonic()
            code = grpc.StatusCode.UNKNOWN
            try:
                yield
                code = _final_code(context, grpc.StatusCode.OK)
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED
                raise
            except BaseException:
                code = _final_code(context, grpc.StatusCode.UNKNOWN)
                raise
            finally:
                metrics.in_flight.labels(service).dec()
                metrics.handled.labels(service, name, rpc_type, code.name).inc()
                metrics.handling_seconds.labels(service, name, rpc_type).observe(time.monotonic() - started)

        return wrap_handler(handler, handler_call_details.method, scope)
