"""Distributed tracing with OpenTelemetry: W3C ``traceparent`` over gRPC metadata and HTTP headers.

Off by default, and then free: no interceptor is installed and :func:`span` is a ``nullcontext``, so the
request path pays nothing. ``--trace-exporter otlp`` (an OTLP/gRPC collector at ``--trace-otlp-endpoint``)
or ``console`` (one JSON span per line on stdout) turns it on for a process. When on:

* every served RPC is a SERVER span named ``<service>/<method>``, the child of the caller's ``traceparent``;
* every client call made through :func:`servicekit.channels.open_channel` carries the current context;
* services add their own spans with :func:`span` (queue wait, batch execution, decode, denoising steps),
  so one ranker evaluation or one gateway request is one trace across processes.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from servicekit.interceptors import BoundHook, MethodInfo

log = logging.getLogger("emoflux.tracing")

_provider: TracerProvider | None = None
TRACER_NAME = "emoflux"


def enabled() -> bool:
    """Whether this process records spans."""
    return _provider is not None


def use_provider(provider: TracerProvider | None) -> None:
    """Record spans with ``provider`` from now on (None turns tracing off); tests pass an in-memory one."""
    global _provider
    _provider = provider


def service_name(settings: Any) -> str:
    """``emoflux-<service>`` from a settings class's environment prefix (``EMOTION_`` -> ``emoflux-emotion``)."""
    return f"emoflux-{type(settings).env_prefix.rstrip('_').lower()}"


def configure(service_name: str, exporter: str, otlp_endpoint: str) -> TracerProvider | None:
    """Set up tracing for a process from its settings; ``exporter`` is ``none``, ``otlp`` or ``console``."""
    if exporter == "none":
        use_provider(None)
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if exporter == "console":
        # One line per span so logs stay greppable; synchronous so a span is written when it ends.
        console = ConsoleSpanExporter(formatter=lambda s: s.to_json(indent=None) + "\n")
        provider.add_span_processor(SimpleSpanProcessor(console))
    elif exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    else:
        raise ValueError(f"unknown trace exporter {exporter!r}: expected none, otlp or console")
    use_provider(provider)
    log.info("tracing on: %s exporter", exporter)
    return provider


def add_exporter(provider: TracerProvider, exporter: SpanExporter) -> None:
    """Also send ``provider``'s spans to ``exporter`` as they end (tests use an in-memory exporter)."""
    provider.add_span_processor(SimpleSpanProcessor(exporter))


def tracer() -> trace.Tracer:
    """The project's tracer on the configured provider (a no-op tracer when tracing is off)."""
    if _provider is None:
        return trace.NoOpTracer()
    return _provider.get_tracer(TRACER_NAME)


@contextlib.contextmanager
def span(name: str, attributes: Mapping[str, Any] | None = None) -> Iterator[trace.Span | None]:
    """A span around the ``with`` body as a child of the current one; nothing at all when tracing is off."""
    if _provider is None:
        yield None
        return
    with tracer().start_as_current_span(name, attributes=dict(attributes or {})) as current:
        yield current


def record_span(name: str, start_ns: int, end_ns: int, attributes: Mapping[str, Any] | None = None) -> None:
    """Record a span that already happened (e.g. time spent in a queue, measured by its owner)."""
    if _provider is None:
        return
    recorded = tracer().start_span(name, start_time=start_ns, attributes=dict(attributes or {}))
    recorded.end(end_time=end_ns)


def record_batch_spans(prefix: str, queue_seconds: float, run_seconds: float, attributes: Mapping[str, Any]) -> None:
    """A ``<prefix>.queue_wait`` then a ``<prefix>.batch`` span ending now, for a request the batcher served.

    The batcher owns those clocks (one task runs every caller's batch), so each caller records its share
    afterwards as children of its own request span.
    """
    if _provider is None:
        return
    end = time.time_ns()
    run_start = end - int(run_seconds * 1e9)
    record_span(f"{prefix}.queue_wait", run_start - int(queue_seconds * 1e9), run_start)
    record_span(f"{prefix}.batch", run_start, end, attributes)


def inject(carrier: dict[str, str]) -> dict[str, str]:
    """Write the current context (``traceparent``/``tracestate``) into ``carrier``; returns it."""
    if _provider is not None:
        propagate.inject(carrier)
    return carrier


@contextlib.contextmanager
def server_span(name: str, headers: Mapping[str, str]) -> Iterator[trace.Span | None]:
    """A SERVER span for one incoming call, the child of the ``traceparent`` in ``headers`` (if any)."""
    if _provider is None:
        yield None
        return
    parent = propagate.extract(carrier=dict(headers))
    token = otel_context.attach(parent)
    try:
        with tracer().start_as_current_span(name, kind=SpanKind.SERVER) as current:
            yield current
    finally:
        otel_context.detach(token)


class TracingHook:
    """One SERVER span per RPC, continuing the caller's trace; the final status code goes on the span."""

    def bind(self, method: MethodInfo) -> BoundHook:
        """The span name is the method's full name."""
        return _MethodSpan(method.full_name.lstrip("/"))


class _MethodSpan:
    def __init__(self, name: str) -> None:
        self._name = name

    def enter(self, context: grpc.aio.ServicerContext) -> tuple[contextlib.AbstractContextManager[Any], Any]:
        headers = {key: value for key, value in (context.invocation_metadata() or ()) if isinstance(value, str)}
        scope = server_span(self._name, headers)
        current = scope.__enter__()
        if current is not None:
            current.set_attribute("rpc.system", "grpc")
        return scope, current

    def exit(
        self,
        state: tuple[contextlib.AbstractContextManager[Any], Any],
        code: grpc.StatusCode,
        error: BaseException | None,
    ) -> None:
        scope, current = state
        if current is not None:
            if code is not grpc.StatusCode.OK:
                reason = f"{code.name}: {error.__class__.__name__}" if error is not None else code.name
                current.set_status(Status(StatusCode.ERROR, reason))
            current.set_attribute("rpc.grpc.status_code", code.value[0])
        scope.__exit__(None, None, None)
