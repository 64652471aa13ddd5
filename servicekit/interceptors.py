"""The server's one interceptor: every call's request id, error mapping, access log, drain, and hooks.

:class:`CallInterceptor` wraps each method's handler once (the wrapped handler is cached per method) and
runs every call of every handler kind (unary or streaming requests and responses) through one coroutine:

* **outer hooks** (metrics, tracing) see the call from its start to its final status code;
* the **error mapping** turns exceptions into statuses (the one place; :func:`servicekit.errors.status_for`),
  gives the call its request id (supplied in ``x-request-id`` or made up) and logs it;
* **inner hooks** (authorisation) run inside the mapping, so what they raise becomes a status.

A hook is bound once per method (:meth:`CallHook.bind`: label children, policies and span names are
looked up then) and called with plain ``enter``/``exit`` functions, not context managers: the request path
is the cost of every call, and a refused call should cost almost nothing.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import grpc

from servicekit.errors import InvalidInput, NotReady, status_for
from servicekit.metrics import RpcMetrics

log = logging.getLogger("emoflux.access")

REQUEST_ID_HEADER = "x-request-id"
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_peer: contextvars.ContextVar[str | None] = contextvars.ContextVar("peer", default=None)

# Health and reflection keep answering during a drain so load balancers see NOT_SERVING, not errors.
_ALWAYS_ANSWERED = ("/grpc.health.v1.Health/", "/grpc.reflection.")


@dataclass(frozen=True)
class MethodInfo:
    """A served method, as hooks bind to it."""

    full_name: str
    """``/package.Service/Method``."""
    service: str
    name: str
    rpc_type: str
    """``unary``, ``server_stream``, ``client_stream`` or ``bidi_stream``."""


class BoundHook(Protocol):
    """A hook bound to one method: called around each of its calls."""

    def enter(self, context: grpc.aio.ServicerContext) -> Any:
        """Before the handler; returns the state :meth:`exit` gets. Inner hooks may raise a servicekit error."""
        ...

    def exit(self, state: Any, code: grpc.StatusCode, error: BaseException | None) -> None:
        """After the call, with its final status code and the exception that ended it (None on success)."""
        ...


class CallHook(Protocol):
    """One concern run around calls (metrics, tracing, authorisation), bound once per method."""

    def bind(self, method: MethodInfo) -> BoundHook | None:
        """What to run around the calls of ``method``, or None when nothing is."""
        ...


def current_peer() -> str | None:
    """The transport address of the caller of the RPC being handled (``ipv4:1.2.3.4:5678``), or None."""
    return _peer.get()


def current_request_id() -> str:
    """The id of the RPC being handled by the current task ("-" outside an RPC)."""
    return _request_id.get()


def _split_method(full_method: str) -> tuple[str, str]:
    service, _, method = full_method.lstrip("/").partition("/")
    return service, method


def _new_request_id() -> str:
    # Unique enough to find a call in the logs; not a secret (no system call per request, unlike uuid4).
    return f"{random.getrandbits(64):016x}"


def _supplied_request_id(context: grpc.aio.ServicerContext) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == REQUEST_ID_HEADER:
            supplied = value.decode(errors="replace") if isinstance(value, bytes) else value
            return supplied[:64] or None
    return None


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


def _final_code(context: grpc.aio.ServicerContext, default: grpc.StatusCode) -> grpc.StatusCode:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    return default


class CallInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """The one server interceptor: request ids, error mapping, access log, drain refusal, and the hooks.

    Args:
        outer: hooks that see every call whole, outermost first (tracing, then metrics).
        inner: hooks inside the error mapping, in order (authorisation): what they raise becomes a status.
        access_log: log one line per call (method, code, duration, request id, peer).
    """

    def __init__(
        self, *, outer: Sequence[CallHook] = (), inner: Sequence[CallHook] = (), access_log: bool = True
    ) -> None:
        self._outer = tuple(outer)
        self._inner = tuple(inner)
        self._access_log = access_log
        self.draining = False
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def start_draining(self) -> None:
        """Answer new calls UNAVAILABLE (retryable) while the server drains; health and reflection still answer."""
        self.draining = True

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        """The method's handler, wrapped (once per method: the wrapper is cached with the handler it wraps)."""
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = self._wrap(handler, method)
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _wrap(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        service, name = _split_method(method)
        info = MethodInfo(method, service, name, _rpc_type(handler))
        outer = tuple(bound for hook in self._outer if (bound := hook.bind(info)) is not None)
        inner = tuple(bound for hook in self._inner if (bound := hook.bind(info)) is not None)
        run = self._runner(info, outer, inner)
        streaming_requests = bool(handler.request_streaming)
        deserializer = _tolerant(handler.request_deserializer)

        def checked(request: Any) -> Any:
            if streaming_requests:
                return _checked_stream(request)
            _reject_malformed(request)
            return request

        if handler.response_streaming:
            inner_stream: Callable[..., Any] = handler.unary_stream or handler.stream_stream

            async def write_all(request: Any, context: grpc.aio.ServicerContext) -> None:
                # A coroutine that writes, not an async generator that yields. When the client leaves, gRPC
                # cancels this task, so the servicer's own generator closes here, in the call's task and context,
                # while the call is alive. An abandoned async generator would instead be closed later by the event
                # loop's finaliser, in another context, after gRPC freed the call (peer() then segfaults and
                # resetting a context variable raises).
                responses = inner_stream(checked(request), context)
                if not hasattr(responses, "__aiter__"):  # a coroutine handler that writes with context.write
                    await responses
                    return
                try:
                    async for item in responses:
                        await context.write(item)
                finally:
                    aclose = getattr(responses, "aclose", None)
                    if aclose is not None:
                        await aclose()

            async def streaming(request: Any, context: grpc.aio.ServicerContext) -> None:
                await run(write_all, request, context)

            factory = (
                grpc.stream_stream_rpc_method_handler if streaming_requests else grpc.unary_stream_rpc_method_handler
            )
            return factory(
                streaming, request_deserializer=deserializer, response_serializer=handler.response_serializer
            )

        inner_unary: Callable[..., Awaitable[Any]] = handler.unary_unary or handler.stream_unary

        async def call_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            return await inner_unary(checked(request), context)

        async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            return await run(call_unary, request, context)

        factory = grpc.stream_unary_rpc_method_handler if streaming_requests else grpc.unary_unary_rpc_method_handler
        return factory(unary, request_deserializer=deserializer, response_serializer=handler.response_serializer)

    def _runner(
        self, info: MethodInfo, outer: tuple[BoundHook, ...], inner: tuple[BoundHook, ...]
    ) -> Callable[[Callable[..., Awaitable[Any]], Any, grpc.aio.ServicerContext], Awaitable[Any]]:
        method = info.full_name
        always_answered = method.startswith(_ALWAYS_ANSWERED)

        async def run(body: Callable[..., Awaitable[Any]], request: Any, context: grpc.aio.ServicerContext) -> Any:
            outer_states = [hook.enter(context) for hook in outer]
            request_id = _supplied_request_id(context) or _new_request_id()
            request_id_token = _request_id.set(request_id)
            context.set_trailing_metadata(((REQUEST_ID_HEADER, request_id),))
            peer = context.peer()  # read while the call is surely alive (on a freed call it dereferences null)
            peer_token = _peer.set(peer)
            started = time.monotonic()
            code = grpc.StatusCode.OK
            error: BaseException | None = None
            message = ""
            inner_states: list[tuple[BoundHook, Any]] = []
            try:
                if self.draining and not always_answered:
                    raise NotReady("server is shutting down; retry on another replica")
                for hook in inner:
                    inner_states.append((hook, hook.enter(context)))
                result = await body(request, context)
                code = _final_code(context, grpc.StatusCode.OK)
                return result
            except asyncio.CancelledError as exc:
                code, error = grpc.StatusCode.CANCELLED, exc
                raise
            except grpc.aio.AbortError as exc:  # the handler aborted the call itself
                code, error = _final_code(context, grpc.StatusCode.UNKNOWN), exc
                raise
            except Exception as exc:  # the mapping point: everything else becomes a status
                code, message = status_for(exc)
                error = exc
                if code is grpc.StatusCode.INTERNAL:
                    log.exception("unhandled error in %s (request %s)", method, request_id)
                # abort sends the status alone (a trailers-only response): a client's retry policy may then send
                # the call again, as for a drain's UNAVAILABLE. A status set on the context and returned would
                # follow response headers, which commit the call and make it unretryable.
                await context.abort(code, message)
            finally:
                for hook, state in reversed(inner_states):
                    hook.exit(state, code, error)
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
                _request_id.reset(request_id_token)
                _peer.reset(peer_token)
                for hook, state in zip(reversed(outer), reversed(outer_states), strict=True):
                    hook.exit(state, code, error)

        return run


class MetricsHook:
    """Counts calls by final status code and times them (``grpc_server_*``); an outer hook."""

    def __init__(self, metrics: RpcMetrics) -> None:
        self._metrics = metrics

    def bind(self, method: MethodInfo) -> BoundHook:
        """The method's label children, looked up once."""
        return _MethodMetrics(self._metrics, method)


class _MethodMetrics:
    def __init__(self, metrics: RpcMetrics, method: MethodInfo) -> None:
        labels = (method.service, method.name, method.rpc_type)
        self._started = metrics.started.labels(*labels)
        self._in_flight = metrics.in_flight.labels(method.service)
        self._seconds = metrics.handling_seconds.labels(*labels)
        self._handled = metrics.handled
        self._labels = labels
        self._by_code: dict[grpc.StatusCode, Any] = {}

    def enter(self, context: grpc.aio.ServicerContext) -> float:
        self._started.inc()
        self._in_flight.inc()
        return time.monotonic()

    def exit(self, state: float, code: grpc.StatusCode, error: BaseException | None) -> None:
        self._in_flight.dec()
        handled = self._by_code.get(code)
        if handled is None:
            handled = self._by_code[code] = self._handled.labels(*self._labels, code.name)
        handled.inc()
        self._seconds.observe(time.monotonic() - state)
