"""Client interceptors that add metadata to every call of a channel (bearer tokens, trace context).

grpc.aio files an interceptor under the first call kind it implements, so one interceptor per call kind is
made from one function that says what to add.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import grpc

Headers = Callable[[], Iterable[tuple[str, str]]]
"""Returns the metadata to add to the call being made (evaluated per call, in the caller's context)."""


class _AddMetadata:
    def __init__(self, headers: Headers) -> None:
        self._headers = headers

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        extra = tuple(self._headers())
        if not extra:
            return details
        metadata = grpc.aio.Metadata(*(details.metadata or ()), *extra)
        return grpc.aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        )


class _UnaryUnary(_AddMetadata, grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _UnaryStream(_AddMetadata, grpc.aio.UnaryStreamClientInterceptor):  # type: ignore[misc]
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _StreamUnary(_AddMetadata, grpc.aio.StreamUnaryClientInterceptor):  # type: ignore[misc]
    async def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(self._details(details), requests)


class _StreamStream(_AddMetadata, grpc.aio.StreamStreamClientInterceptor):  # type: ignore[misc]
    async def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(self._details(details), requests)


def metadata_interceptors(headers: Headers) -> list[Any]:
    """Client interceptors adding ``headers()`` to calls of every kind (unary and streaming, both ways)."""
    return [kind(headers) for kind in (_UnaryUnary, _UnaryStream, _StreamUnary, _StreamStream)]
